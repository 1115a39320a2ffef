//! `roster export` and `roster import all`: the whole directory as JSON lines.

use crate::config::DatabaseArgs;
use crate::operator_error;
use anyhow::{Context, Result};
use roster_service::{Caller, Record, Service};
use std::io::Write;

/// Writes every record of the database, one JSON object a line, to standard output.
pub async fn export(db: DatabaseArgs) -> Result<()> {
    let (store, service) =
        crate::open_for_command(&db, roster_service::Settings::default()).await?;
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
    let reader = crate::open_input(&file).await?;
    let (store, service) =
        crate::open_database(&db, roster_service::Settings::default(), true).await?;
    let (lines_rx, reading) = crate::read_json_lines::<Record>(reader);
    let imported = service.import_all(&Caller::operator(), lines_rx).await;
    crate::finish_import(imported, reading, store).await
}
