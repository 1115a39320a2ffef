//! `roster admin …`: who may use the web console (`/console`) and as what.

use super::{open_for_command, operator_error, print_json};
use crate::config::DatabaseArgs;
use anyhow::Result;
use clap::Subcommand;
use roster_domain::console::ConsoleRole;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Give a user a console role: admin (everything), helpdesk (users: unlock, reset
    /// password, enable/disable, sessions) or auditor (read everything, change nothing). The
    /// user signs in at /console with their own password. Replaces a role held before.
    /// Prints {"user_name", "role"}.
    Grant {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The user's user name.
        user_name: String,
        #[arg(long, value_parser = ["admin", "helpdesk", "auditor"])]
        role: String,
    },
    /// Take a user's console role away; what they signed in with ends at once, on every
    /// node. Prints {"user_name", "role": null}.
    Revoke {
        #[command(flatten)]
        db: DatabaseArgs,
        user_name: String,
    },
    /// List who holds a console role: {"people": [{"user_name", "name", "role"}]}.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

pub async fn run(command: AdminCommand) -> Result<()> {
    let operator = roster_service::Caller::operator();
    let settings = roster_service::Settings::default();
    match command {
        AdminCommand::Grant {
            db,
            user_name,
            role,
        } => {
            let role = ConsoleRole::parse(&role).map_err(operator_error)?;
            let (store, service) = open_for_command(&db, settings).await?;
            let granted = service
                .grant_console_role(&operator, &user_name, role)
                .await;
            store.close().await;
            let user = granted.map_err(operator_error)?;
            print_json(&serde_json::json!({ "user_name": user.user_name, "role": role.code() }))
        }
        AdminCommand::Revoke { db, user_name } => {
            let (store, service) = open_for_command(&db, settings).await?;
            let revoked = service.revoke_console_role(&operator, &user_name).await;
            store.close().await;
            let user = revoked.map_err(operator_error)?;
            print_json(&serde_json::json!({ "user_name": user.user_name, "role": null }))
        }
        AdminCommand::List { db } => {
            let (store, service) = open_for_command(&db, settings).await?;
            let listed = service.console_people(&operator).await;
            store.close().await;
            let people: Vec<serde_json::Value> = listed
                .map_err(operator_error)?
                .into_iter()
                .map(|(user, role)| {
                    serde_json::json!({
                        "user_name": user.user_name,
                        "name": user.name,
                        "role": role.code(),
                    })
                })
                .collect();
            print_json(&serde_json::json!({ "people": people }))
        }
    }
}
