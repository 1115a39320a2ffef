//! `roster messages …`: the messages Roster sent (SMS codes) — the `log` sender's mailbox.

use super::{open_for_command, operator_error, print_json};
use crate::config::DatabaseArgs;
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum MessagesCommand {
    /// List the messages sent, newest first; prints {"messages": [...]} as
    /// GET /roster/v1/messages does (each with its text, so the code in it).
    List {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Only messages to this number (any spelling of its digits).
        #[arg(long)]
        mobile: Option<String>,
        /// Most messages to list, 1 to 1000.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

pub async fn run(command: MessagesCommand) -> Result<()> {
    match command {
        MessagesCommand::List { db, mobile, limit } => {
            let (store, service) =
                open_for_command(&db, roster_service::Settings::default()).await?;
            let listed = service.messages(mobile.as_deref(), Some(limit)).await;
            store.close().await;
            let messages = listed.map_err(operator_error)?;
            print_json(&serde_json::json!({ "messages": messages }))
        }
    }
}
