//! The commands of `roster`, one file per command group, and what they share: opening the
//! database an admin command names, reading input files, printing answers.

pub mod admin;
pub mod app;
pub mod audit;
pub mod docs;
pub mod fixtures;
pub mod keys;
pub mod maintenance;
pub mod messages;
pub mod serve;
pub mod transfer;

use crate::config::{self, redact_url, DatabaseArgs};
use anyhow::{Context, Result};
use roster_service::Service;
use std::io::Write;

/// Opens the database an admin command names (flag, variable or TOML file) and the
/// service over it, saying on standard error which database it is. It must exist: only
/// `roster serve` creates one. The caller closes the store when done.
pub(crate) async fn open_for_command(
    db: &DatabaseArgs,
    settings: roster_service::Settings,
) -> Result<(std::sync::Arc<dyn roster_store::Store>, Service)> {
    open_database(db, settings, false).await
}

/// `open_for_command`, or with `create` the one admin command that fills a new database.
pub(crate) async fn open_database(
    db: &DatabaseArgs,
    settings: roster_service::Settings,
    create: bool,
) -> Result<(std::sync::Arc<dyn roster_store::Store>, Service)> {
    let url = db.file_settings()?.database_url();
    eprintln!("roster: database {}", config::describe_database(&url));
    let options = roster_store::PgStoreOptions::default();
    let opened = if create {
        roster_store::open(&url, options).await
    } else {
        roster_store::open_existing(&url, options).await
    };
    let store = opened
        .map_err(operator_error)
        .with_context(|| format!("opening database {}", redact_url(&url)))?;
    let service = Service::new(store.clone(), settings).map_err(operator_error)?;
    Ok((store, service))
}

/// A service or store error as the operator reads it: what exactly went wrong, also for
/// server-side errors whose detail the API keeps from clients (the operator holds the
/// database anyway), and the catalog code.
pub(crate) fn operator_error(e: roster_domain::Error) -> anyhow::Error {
    let code = e.kind().code();
    match e.detail() {
        // "Invalid parameter." and "Request body is not valid." add nothing to the detail
        // (and a command has no request body); server-side messages ("Internal server
        // error.") hide what the operator needs.
        Some(detail)
            if e.is_server_side()
                || matches!(
                    e.kind(),
                    roster_domain::ErrorKind::InvalidParameter
                        | roster_domain::ErrorKind::MalformedBody
                ) =>
        {
            anyhow::anyhow!("{detail} ({code})")
        }
        _ => anyhow::anyhow!("{} ({code})", e.client_message()),
    }
}

/// Prints `value` as one line of JSON. A reader that went away (`roster … | head`) is not
/// an error.
pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string(value).context("serializing the answer")?;
    print_text(&text)
}

pub(crate) fn print_text(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("writing to standard output")
        }
        _ => Ok(()),
    }
}

/// Parsed lines of a JSON-lines file, each with its number.
pub(crate) type Lines<T> = tokio::sync::mpsc::Receiver<(u64, roster_domain::Result<T>)>;

/// A file to read, or standard input for `-`.
pub(crate) async fn open_input(
    file: &std::path::Path,
) -> Result<Box<dyn tokio::io::AsyncRead + Unpin + Send>> {
    if file.as_os_str() == "-" {
        return Ok(Box::new(tokio::io::stdin()));
    }
    let opened = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    Ok(Box::new(opened))
}

/// Reads JSON lines in a task of its own and sends each non-blank one, parsed, with its line
/// number; a line that does not parse is sent as the catalog's `PARAM.0002`, for the import to
/// name. The task ends with the file, or when the import stops listening.
pub(crate) fn read_json_lines<T: serde::de::DeserializeOwned + Send + 'static>(
    reader: Box<dyn tokio::io::AsyncRead + Unpin + Send>,
) -> (Lines<T>, tokio::task::JoinHandle<Result<()>>) {
    use tokio::io::AsyncBufReadExt;
    let (lines_tx, lines_rx) = tokio::sync::mpsc::channel(4096);
    let reading = tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(reader).lines();
        let mut number = 0u64;
        while let Some(line) = lines
            .next_line()
            .await
            .with_context(|| format!("reading line {}", number + 1))?
        {
            number += 1;
            if line.trim().is_empty() {
                continue;
            }
            let parsed = serde_json::from_str(&line).map_err(|e| {
                roster_domain::Error::with_detail(
                    roster_domain::ErrorKind::MalformedBody,
                    e.to_string(),
                )
            });
            if lines_tx.send((number, parsed)).await.is_err() {
                break;
            }
        }
        Ok(())
    });
    (lines_rx, reading)
}

/// The end of an import: the file read through, the store closed, `{"imported": N}`.
pub(crate) async fn finish_import(
    imported: roster_domain::Result<u64>,
    reading: tokio::task::JoinHandle<Result<()>>,
    store: std::sync::Arc<dyn roster_store::Store>,
) -> Result<()> {
    let read = reading.await.context("reading the file")?;
    store.close().await;
    read?;
    let imported = imported
        .map_err(operator_error)
        .context("nothing imported")?;
    print_json(&serde_json::json!({ "imported": imported }))
}
