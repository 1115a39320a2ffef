//! `roster backup` and `roster reindex`: upkeep of the database itself.

use super::{open_for_command, operator_error, print_json};
use crate::config::{self, DatabaseArgs};
use anyhow::Result;

pub async fn backup(db: DatabaseArgs, file: std::path::PathBuf) -> Result<()> {
    let url = db.file_settings()?.database_url();
    eprintln!("roster: database {}", config::describe_database(&url));
    let bytes = roster_store::backup(&url, &file)
        .await
        .map_err(operator_error)?;
    print_json(&serde_json::json!({ "backup": file, "bytes": bytes }))
}

pub async fn reindex(db: DatabaseArgs) -> Result<()> {
    let (store, service) = open_for_command(&db, roster_service::Settings::default()).await?;
    let found = service.reindex().await;
    store.close().await;
    let found = found.map_err(operator_error)?;
    print_json(&serde_json::json!({ "disagreements": found }))
}
