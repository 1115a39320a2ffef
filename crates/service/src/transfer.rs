//! The whole directory as JSON lines, out (`roster export`) and in (`roster import all`):
//! applications (with their secret digests), organizations, users (with password hashes and
//! secondary organizations), application organizations, roles, accounts (with their sealed
//! passwords) and role members. Export reads one snapshot; import is all or nothing, into an
//! empty database. So moving from SQLite to PostgreSQL is one pipe.

use crate::secrets::{opens, Sealer, SecretKey};
use crate::use_case::Cx;
use crate::{Caller, Service};
use roster_domain::account::AccountId;
use roster_domain::account::AppAccount;
use roster_domain::application::Application;
use roster_domain::application::ApplicationId;
use roster_domain::organization::{AppOrganization, Organization};
use roster_domain::page::{Page, PageRequest, MAX_LIMIT};
use roster_domain::role::Role;
use roster_domain::signing::SigningKey;
use roster_domain::sso::SsoSettings;
use roster_domain::user::User;
use roster_domain::{Error, ErrorKind, Result};
use roster_store::prelude::*;
use roster_store::OrgScope;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use tokio::sync::mpsc;

/// One line of an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    Application(Application),
    /// An application's sign-in settings (after its application).
    Sso(ApplicationSso),
    /// A key that signs (or signed) id_tokens, its private half sealed with the secret key.
    SigningKey(SigningKey),
    Organization(Organization),
    User(Box<User>),
    AppOrganization(AppOrganization),
    Role(Role),
    Account(AppAccount),
    RoleMember(RoleMember),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationSso {
    pub application_id: ApplicationId,
    pub settings: SsoSettings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleMember {
    pub role_id: roster_domain::role::RoleId,
    pub account_id: AccountId,
}

/// Every item of a paged list, page after page (`all_pages!(page => tx.list_x(page))`).
macro_rules! all_pages {
    ($page:ident => $call:expr) => {{
        let mut items = Vec::new();
        for n in 0.. {
            let $page = crate::transfer::page(n)?;
            let listed = $call.await?;
            let last = crate::transfer::is_last(&listed);
            items.extend(listed.items);
            if last {
                break;
            }
        }
        items
    }};
}
pub(crate) use all_pages;

/// The pages of a list, one after another.
pub(crate) fn page(number: i64) -> Result<PageRequest> {
    PageRequest::new(Some(number), Some(MAX_LIMIT))
}

pub(crate) fn is_last<T>(page: &Page<T>) -> bool {
    page.items.len() < usize::try_from(MAX_LIMIT).unwrap_or(usize::MAX)
}

/// Orders a tree's nodes so that every parent comes before its children (by id otherwise).
pub(crate) fn parents_first<T, F: Fn(&T) -> (&str, Option<&str>)>(
    mut nodes: Vec<T>,
    key: F,
) -> Vec<T> {
    nodes.sort_by(|a, b| key(a).0.cmp(key(b).0));
    let mut placed: HashSet<String> = HashSet::new();
    let mut ordered = Vec::with_capacity(nodes.len());
    while !nodes.is_empty() {
        let (ready, waiting): (Vec<T>, Vec<T>) = nodes
            .into_iter()
            .partition(|n| key(n).1.is_none_or(|p| placed.contains(p)));
        if ready.is_empty() {
            // A parent outside the list (or a cycle, which the service never makes).
            ordered.extend(waiting);
            break;
        }
        placed.extend(ready.iter().map(|n| key(n).0.to_owned()));
        ordered.extend(ready);
        nodes = waiting;
    }
    ordered
}

async fn send(out: &mpsc::Sender<Record>, record: Record) -> Result<()> {
    out.send(record)
        .await
        .map_err(|_| Error::internal("the export's reader went away"))
}

async fn export_into(tx: &mut dyn Tx, out: &mpsc::Sender<Record>) -> Result<u64> {
    let mut count = 0u64;
    let applications: Vec<_> = all_pages!(page => tx.list_applications(page));
    for app in &applications {
        send(out, Record::Application(app.clone())).await?;
        count += 1;
        if let Some(settings) = tx.sso_settings(&app.id).await? {
            let sso = ApplicationSso {
                application_id: app.id.clone(),
                settings,
            };
            send(out, Record::Sso(sso)).await?;
            count += 1;
        }
    }
    for key in tx.signing_keys().await?.into_iter().rev() {
        send(out, Record::SigningKey(key)).await?;
        count += 1;
    }
    let organizations: Vec<_> = all_pages!(page => tx.list_organizations(&OrgScope::All, page));
    for org in parents_first(organizations, |o| (o.id.as_str(), o.parent_id.as_deref())) {
        send(out, Record::Organization(org)).await?;
        count += 1;
    }
    for n in 0.. {
        let listed = tx.list_users(None, page(n)?).await?;
        let last = is_last(&listed);
        for user in listed.items {
            send(out, Record::User(Box::new(user))).await?;
            count += 1;
        }
        if last {
            break;
        }
    }
    for app in &applications {
        count += export_application(tx, out, app).await?;
    }
    Ok(count)
}

/// Sends what belongs to one application: its organizations (parents first), roles,
/// accounts and role members; says how many.
async fn export_application(
    tx: &mut dyn Tx,
    out: &mpsc::Sender<Record>,
    app: &Application,
) -> Result<u64> {
    let mut count = 0u64;
    let app_orgs: Vec<_> = all_pages!(page => tx.list_app_orgs(&app.id, page));
    for org in parents_first(app_orgs, |o| (o.id.as_str(), o.parent_id.as_deref())) {
        send(out, Record::AppOrganization(org)).await?;
        count += 1;
    }
    let roles: Vec<_> = all_pages!(page => tx.list_roles(&app.id, page));
    for role in &roles {
        send(out, Record::Role(role.clone())).await?;
        count += 1;
    }
    for n in 0.. {
        let listed = tx.list_accounts(&app.id, None, page(n)?).await?;
        let last = is_last(&listed);
        for account in listed.items {
            send(out, Record::Account(account)).await?;
            count += 1;
        }
        if last {
            break;
        }
    }
    for role in &roles {
        for n in 0.. {
            let listed = tx.list_role_members(&role.id, page(n)?).await?;
            let last = is_last(&listed);
            for account in listed.items {
                let member = RoleMember {
                    role_id: role.id.clone(),
                    account_id: account.id,
                };
                send(out, Record::RoleMember(member)).await?;
                count += 1;
            }
            if last {
                break;
            }
        }
    }
    Ok(count)
}

/// Users are written in batches of this many.
const USER_BATCH: usize = 500;

async fn flush_users(tx: &mut dyn Tx, users: &mut Vec<User>) -> Result<()> {
    tx.insert_users(users).await?;
    users.clear();
    Ok(())
}

impl Service {
    /// Sends every record of the directory to `out`, from one snapshot; says how many.
    pub async fn export_all(&self, caller: &Caller, out: mpsc::Sender<Record>) -> Result<u64> {
        caller.require(roster_domain::permission::Access::Admin)?;
        self.snapshot(export, out).await
    }

    /// Loads records (as `export_all` sends them) into an empty directory, all or nothing;
    /// says how many. Each record is `(line number, record)`.
    pub async fn import_all(
        &self,
        caller: &Caller,
        records: mpsc::Receiver<(u64, Result<Record>)>,
    ) -> Result<u64> {
        caller.require(roster_domain::permission::Access::Admin)?;
        // The export's secrets must open with this server's key, or nothing is imported.
        let key = self.inner.settings.secret_key.clone();
        self.write(&caller.client_id, import, (records, key)).await
    }
}

async fn export(tx: &mut dyn Tx, out: mpsc::Sender<Record>) -> Result<u64> {
    export_into(tx, &out).await
}

async fn import(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (mut records, key): (mpsc::Receiver<(u64, Result<Record>)>, Option<SecretKey>),
) -> Result<u64> {
    let sealer = key.as_ref().map(Sealer::new);
    let mut password_checked = false;
    let one = PageRequest::new(Some(0), Some(1))?;
    let occupied = tx.list_applications(one).await?.total
        + tx.list_organizations(&OrgScope::All, one).await?.total
        + tx.list_users(None, one).await?.total;
    if occupied > 0 {
        return Err(Error::invalid(
            "the database is not empty: import into one without applications, organizations or users.",
        ));
    }
    let mut count = 0u64;
    let mut users: Vec<User> = Vec::new();
    while let Some((line, record)) = records.recv().await {
        let at_line = |e: Error| {
            let what = e.detail().unwrap_or(e.kind().message()).to_owned();
            Error::with_detail(e.kind(), format!("line {line}: {what}"))
        };
        let record = record.map_err(at_line)?;
        if !matches!(record, Record::User(_)) && !users.is_empty() {
            flush_users(tx, &mut users).await.map_err(at_line)?;
        }
        let done = match record {
            Record::Application(app) => tx.insert_application(&app).await,
            Record::SigningKey(key) => {
                opens(
                    sealer.as_ref(),
                    &key.sealed_private_key,
                    "signing key",
                    "the export holds",
                )
                .map_err(at_line)?;
                tx.insert_signing_key(&key).await
            }
            Record::Sso(sso) => {
                sso.settings.validate()?;
                let at = cx.now;
                tx.put_sso_settings(&sso.application_id, &sso.settings, at)
                    .await
            }
            Record::Organization(org) => tx.insert_organization(&org).await,
            Record::User(user) => {
                users.push(*user);
                if users.len() == USER_BATCH {
                    flush_users(tx, &mut users).await
                } else {
                    Ok(())
                }
            }
            Record::AppOrganization(org) => tx.insert_app_org(&org).await,
            Record::Role(role) => tx.insert_role(&role).await,
            Record::Account(account) => {
                // One sealed password shows the key (opening them all would cost the import).
                if let (false, Some(sealed)) = (password_checked, &account.password) {
                    opens(
                        sealer.as_ref(),
                        sealed,
                        "account password",
                        "the export holds",
                    )
                    .map_err(at_line)?;
                    password_checked = true;
                }
                tx.insert_account(&account).await
            }
            Record::RoleMember(m) => tx
                .add_role_member(&m.role_id, &m.account_id, cx.now)
                .await
                .map(|_| ()),
        };
        done.map_err(at_line)?;
        count += 1;
    }
    if !users.is_empty() {
        flush_users(tx, &mut users).await?;
    }
    if count == 0 {
        return Err(Error::with_detail(
            ErrorKind::MalformedBody,
            "nothing to import.",
        ));
    }
    cx.audit("ImportAll", "directory", "all");
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_first() {
        let nodes = vec![
            ("c", Some("b")),
            ("a", None),
            ("b", Some("a")),
            ("d", Some("a")),
        ];
        let ordered = parents_first(nodes, |n| (n.0, n.1));
        let ids: Vec<_> = ordered.iter().map(|n| n.0).collect();
        assert_eq!(ids, ["a", "b", "d", "c"]);
    }
}
