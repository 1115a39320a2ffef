//! `roster export` and `roster import …`: the whole directory as JSON lines, and users in
//! bulk.

use super::read_json_lines;
use super::{finish_import, open_database, open_for_command, open_input, operator_error};
use crate::config::{self, Argon2Settings, DatabaseArgs, KeyFile, Settings};
use anyhow::{Context, Result};
use clap::Subcommand;
use roster_domain::audit::CLI_ACTOR;
use roster_service::{Caller, Record, Service};
use std::io::Write;

/// Writes every record of the database, one JSON object a line, to standard output.
pub async fn export(db: DatabaseArgs) -> Result<()> {
    let (store, service) = open_for_command(&db, roster_service::Settings::default()).await?;
    let (records, mut received) = tokio::sync::mpsc::channel::<Record>(1024);
    let exporting = tokio::spawn({
        let service: Service = service.clone();
        async move { service.export_all(&Caller::operator(), records).await }
    });
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut written = Ok(());
    while let Some(record) = received.recv().await {
        let line = serde_json::to_string(&record).context("serializing a record")?;
        if let Err(e) = writeln!(out, "{line}") {
            written = Err(e);
            break;
        }
    }
    drop(received);
    let flushed = written.and_then(|()| out.flush());
    let exported = exporting.await.context("the export stopped")?;
    store.close().await;
    match flushed {
        // The reader went away (`| head`): not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        Err(e) => return Err(e).context("writing the export"),
        Ok(()) => {}
    }
    let count = exported.map_err(operator_error)?;
    eprintln!("roster: exported {count} records");
    Ok(())
}

/// Loads an export into an empty database, all or nothing. Unlike the other admin commands
/// it may create the database (or, on PostgreSQL, its tables): filling a new one is its job.
pub async fn import_all(db: DatabaseArgs, file: std::path::PathBuf) -> Result<()> {
    // The export's secrets stay sealed with the key of the server it came from: that key
    // must come with it (and, for an embedded database, is written to roster.key beside it).
    let configured = db.file_settings()?;
    let url = configured.database_url();
    let found = config::secret_key(configured.secret_key.as_ref(), &url, KeyFile::Existing)?;
    let secret_key = found
        .as_ref()
        .map(|(hex, _)| roster_service::SecretKey::from_hex(hex))
        .transpose()
        .map_err(operator_error)
        .context("the secret key")?;
    let reader = open_input(&file).await?;
    let settings = roster_service::Settings {
        secret_key,
        ..roster_service::Settings::default()
    };
    let (store, service) = open_database(&db, settings, true).await?;
    let (lines_rx, reading) = read_json_lines::<Record>(reader);
    let imported = service.import_all(&Caller::operator(), lines_rx).await;
    if imported.is_ok() {
        if let Err(e) = service.check_secret_key().await {
            store.close().await;
            return Err(operator_error(e)).context(
                "imported, but the server will not start until it has the export's secret key",
            );
        }
        if let Some((hex, None)) = &found {
            if let Some(path) = config::key_file_for(&url).filter(|p| !p.exists()) {
                config::write_key_file(&path, hex)?;
                eprintln!("roster: wrote the secret key to {}", path.display());
            }
        }
    }
    finish_import(imported, reading, store).await
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import users from a JSON Lines file (one CreateUser body per line; `-` reads standard
    /// input). Each line is validated exactly like CreateUser; prints {"imported": N}.
    Users {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The JSON Lines file.
        file: std::path::PathBuf,
        #[command(flatten)]
        argon2: Argon2Settings,
    },
    /// Load a whole directory written by `roster export` (`-` reads standard input) into an
    /// empty database, all or nothing; creates the database if needed. Prints {"imported": N}.
    All {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The export (JSON lines).
        file: std::path::PathBuf,
    },
}

pub async fn import(command: ImportCommand) -> Result<()> {
    match command {
        ImportCommand::Users { db, file, argon2 } => import_users(db, file, argon2).await,
        ImportCommand::All { db, file } => import_all(db, file).await,
    }
}

async fn import_users(
    db: DatabaseArgs,
    file: std::path::PathBuf,
    argon2: Argon2Settings,
) -> Result<()> {
    let reader = open_input(&file).await?;
    let flags = Settings {
        argon2,
        ..Default::default()
    };
    let settings = roster_service::Settings {
        argon2: db.settings(flags)?.argon2(),
        ..Default::default()
    };
    let (store, service) = open_for_command(&db, settings).await?;
    let (lines_rx, reading) = read_json_lines(reader);
    let imported = service.import_users(CLI_ACTOR, lines_rx).await;
    finish_import(imported, reading, store).await
}
