//! Bulk import of users: every line validated exactly as `CreateUser` validates one body,
//! and all of them written in one transaction, so an import lands whole or not at all.
//!
//! Three stages run at once: the caller parses lines into the `input` channel; a task
//! validates them and hashes passwords (on the blocking pool, one per core); the write job
//! takes the results and inserts them in multi-row statements.

use crate::use_case::Cx;
use crate::Service;
use futures::stream::{FuturesOrdered, StreamExt};
use roster_domain::audit::AuditRecord;
use roster_domain::user::{secondary_organizations, NewUser, User, UserFields};
use roster_domain::{Error, ErrorKind, Result};
use roster_store::prelude::*;
use std::collections::HashMap;
use tokio::sync::mpsc;

/// One input line: its number (from 1) and the parsed body, or why it could not be parsed.
pub type ImportLine = (u64, Result<UserFields>);

const BATCH: usize = 500;

fn at_line(line: u64, err: Error) -> Error {
    let what = err.detail().unwrap_or(err.kind().message()).to_owned();
    Error::with_detail(err.kind(), format!("line {line}: {what}"))
}

impl Service {
    /// Imports the users `input` yields; returns how many. Nothing is written unless every
    /// line is valid and unique.
    pub async fn import_users(
        &self,
        actor: &str,
        mut input: mpsc::Receiver<ImportLine>,
    ) -> Result<u64> {
        let (checked_tx, checked) =
            mpsc::channel::<Result<(u64, NewUser, Option<String>)>>(4 * BATCH);
        let service = self.clone();
        // Imported passwords keep the password policy as CreateUser's do.
        let policy = self.password_policy().await?;
        let checker = tokio::spawn(async move {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let mut hashing = FuturesOrdered::new();
            loop {
                let next = if hashing.len() < 2 * cores {
                    tokio::select! {
                        line = input.recv() => match line {
                            Some(l) => Some(l),
                            None => break,
                        },
                        Some(done) = hashing.next(), if !hashing.is_empty() => {
                            if checked_tx.send(done).await.is_err() { return; }
                            None
                        }
                    }
                } else {
                    if let Some(done) = hashing.next().await {
                        if checked_tx.send(done).await.is_err() {
                            return;
                        }
                    }
                    None
                };
                let Some((line, fields)) = next else { continue };
                let new = fields
                    .and_then(UserFields::into_new_user)
                    .map_err(|e| at_line(line, e));
                let service = service.clone();
                let policy = std::sync::Arc::clone(&policy);
                hashing.push_back(async move {
                    let mut new = new?;
                    let hash = match new.password.take() {
                        Some(p) => Some({
                            policy.check(&p).map_err(|e| at_line(line, e))?;
                            service
                                .inner
                                .passwords
                                .hash(p)
                                .await
                                .map_err(|e| at_line(line, e))?
                        }),
                        None => None,
                    };
                    Ok((line, new, hash))
                });
            }
            while let Some(done) = hashing.next().await {
                if checked_tx.send(done).await.is_err() {
                    return;
                }
            }
        });

        let imported = self.write(actor, import, checked).await;
        checker.abort();
        imported
    }
}

/// Writes the users `checked` yields, in batches, each with its audit record.
async fn import(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    mut checked: mpsc::Receiver<Result<(u64, NewUser, Option<String>)>>,
) -> Result<u64> {
    let mut orgs: HashMap<String, String> = HashMap::new();
    let root = tx
        .first_root_organization()
        .await?
        .map(|o| o.id.into_string());
    let mut users = Vec::with_capacity(BATCH);
    let mut records = Vec::with_capacity(BATCH);
    let mut first_line = 0;
    let mut count = 0u64;
    while let Some(item) = checked.recv().await {
        let (line, new, password_hash) = item?;
        if users.is_empty() {
            first_line = line;
        }
        let org_id = match &new.org_code {
            None => root.clone(),
            Some(code) => match orgs.get(code) {
                Some(id) => Some(id.clone()),
                None => {
                    let org = tx.organization_by_code(code).await?.ok_or_else(|| {
                        at_line(
                            line,
                            Error::with_detail(
                                ErrorKind::OrganizationNotFound,
                                format!("no organization has org_code '{code}'."),
                            ),
                        )
                    })?;
                    let id = org.id.into_string();
                    orgs.insert(code.clone(), id.clone());
                    Some(id)
                }
            },
        };
        let secondary = match &new.org_relations {
            Some(list) => {
                let ids = secondary_organizations(org_id.as_deref(), list, false)
                    .map_err(|e| at_line(line, e))?;
                for org in &ids {
                    if tx.organization(org).await?.is_none() {
                        return Err(at_line(
                            line,
                            Error::with_detail(
                                ErrorKind::OrganizationNotFound,
                                format!(
                                    "user_org_relation_list names {org}, which is no organization."
                                ),
                            ),
                        ));
                    }
                }
                ids
            }
            None => Vec::new(),
        };
        let user = new.into_user(org_id, secondary, password_hash, cx.tick());
        records.push(cx.audit_record("ImportUser", "user", &user.id));
        users.push(user);
        count += 1;
        if users.len() == BATCH {
            flush(tx, &mut users, &mut records, first_line, line).await?;
        }
    }
    let last = first_line + users.len() as u64;
    flush(
        tx,
        &mut users,
        &mut records,
        first_line,
        last.saturating_sub(1),
    )
    .await?;
    Ok(count)
}

async fn flush(
    tx: &mut dyn Tx,
    users: &mut Vec<User>,
    records: &mut Vec<AuditRecord>,
    first_line: u64,
    last_line: u64,
) -> Result<()> {
    if users.is_empty() {
        return Ok(());
    }
    tx.insert_users(users).await.map_err(|e| {
        if e.is_server_side() {
            e
        } else {
            // A duplicate: of an existing user, or of another line of this batch.
            Error::with_detail(e.kind(), format!("in lines {first_line} to {last_line}"))
        }
    })?;
    tx.insert_audits(records).await?;
    users.clear();
    records.clear();
    Ok(())
}
