//! `roster audit …`: the audit log.

use super::{open_for_command, operator_error, print_json};
use crate::config::{DatabaseArgs, Settings};
use anyhow::{Context, Result};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Delete audit records older than the retention period now (the server does it every
    /// 10 minutes); prints {"deleted": N}.
    Trim {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Days records are kept; 0 keeps them for ever. Default: the configuration's
        /// audit_retention_days, else 400.
        #[arg(long, env = "ROSTER_AUDIT_RETENTION_DAYS")]
        retention_days: Option<u64>,
    },
    /// List audit records, newest first; prints {"total", "records"} as the API does.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Only records of this actor (a client id; refused tokens: client@address).
        #[arg(long)]
        actor: Option<String>,
        /// Only records of this operation (e.g. CreateUser, SignIn).
        #[arg(long)]
        operation: Option<String>,
        /// Only records about this entity id.
        #[arg(long)]
        target_id: Option<String>,
        /// From this time (inclusive): yyyy-MM-dd HH:mm:ss.SSS UTC, RFC 3339 or epoch ms.
        #[arg(long)]
        from: Option<String>,
        /// Before this time (exclusive).
        #[arg(long)]
        to: Option<String>,
        /// Page number, from 0.
        #[arg(long, default_value_t = 0)]
        offset: i64,
        /// Page size, 1 to 100.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

pub async fn run(command: AuditCommand) -> Result<()> {
    match command {
        AuditCommand::Trim { db, retention_days } => trim(db, retention_days).await,
        AuditCommand::List {
            db,
            actor,
            operation,
            target_id,
            from,
            to,
            offset,
            limit,
        } => {
            let parse_time = |name: &str, v: Option<String>| -> Result<Option<i64>> {
                v.map(|t| {
                    roster_domain::time::parse(&t)
                        .with_context(|| format!("--{name} {t} is not a time"))
                })
                .transpose()
            };
            let filter = roster_domain::audit::AuditFilter {
                actor,
                operation,
                target_id,
                from: parse_time("from", from)?,
                to: parse_time("to", to)?,
            };
            list(db, filter, offset, limit).await
        }
    }
}

async fn trim(db: DatabaseArgs, retention_days: Option<u64>) -> Result<()> {
    let flags = Settings {
        audit_retention_days: retention_days,
        ..Default::default()
    };
    let settings = roster_service::Settings {
        audit_retention: db.settings(flags)?.audit_retention(),
        ..Default::default()
    };
    let (store, service) = open_for_command(&db, settings).await?;
    let deleted = service.trim_audit_log().await;
    store.close().await;
    print_json(&serde_json::json!({ "deleted": deleted.map_err(operator_error)? }))
}

async fn list(
    db: DatabaseArgs,
    filter: roster_domain::audit::AuditFilter,
    offset: i64,
    limit: i64,
) -> Result<()> {
    let page =
        roster_domain::page::PageRequest::new(Some(offset), Some(limit)).map_err(operator_error)?;
    let (store, service) = open_for_command(&db, roster_service::Settings::default()).await?;
    let listed = service
        .list_audit(&roster_service::Caller::operator(), filter, page)
        .await;
    store.close().await;
    let listed = listed.map_err(operator_error)?;
    print_json(&roster_http::AuditList::from(listed))
}
