//! Roster's persistence. The service layer sees only [`Store`] and [`Tx`]; SQL and migrations
//! live here. Two implementations share one set of queries (`queries/`, written once against
//! `StoreTx<B>` for a `Backend` `B`): embedded SQLite (the default, with group commit) and
//! PostgreSQL (for several nodes on one database).

mod backend;
mod errors;
mod gate;
mod inserts;
mod marks;
mod pg;
mod queries;
mod rows;
mod sqlite;
mod store_tx;
#[cfg(feature = "testing")]
pub mod testing;
mod tx;

pub use gate::WriteGate;
pub use pg::{PgStore, PgStoreOptions};
pub use sqlite::SqliteStore;
pub use tx::{
    AccountTx, AppOrgTx, ApplicationTx, AuditTx, ConsoleTx, LockKey, MaintenanceTx, MessageTx,
    OrgScope, OrganizationTx, PasswordPolicyTx, RoleTx, SecondFactorTx, SessionPerson, SignInTx,
    SigningKeyTx, SsoTokenTx, SsoTx, TokenTx, Tx, UserApiTx, UserTx,
};

use async_trait::async_trait;
use futures::future::BoxFuture;
use roster_domain::test_mode::SnapshotName;
use roster_domain::{Error, Result};
use std::sync::Arc;

/// A unit of work: runs inside one transaction (writes) or on one connection (reads). Its
/// result travels back beside it (see [`dyn Store::write`]), so that [`Store`] stays
/// object-safe without erasing the result's type.
pub type Job = Box<dyn for<'t> FnOnce(&'t mut dyn Tx) -> BoxFuture<'t, Result<()>> + Send>;

/// A row that only needs to be added, durably: no reads, no checks, nothing to undo. On
/// SQLite it joins the next group commit without a job of its own.
#[derive(Debug, Clone)]
pub enum Appended {
    Token(roster_domain::application::AccessToken),
    Audit(roster_domain::audit::AuditRecord),
    /// An authorization code of the sign-in endpoints.
    SsoCode(roster_domain::sign_in::AuthorizationCode),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Adds `rows` in one transaction. `Ok` means committed and durable.
    async fn append(&self, rows: Vec<Appended>) -> Result<()>;
    /// Runs `job` in a transaction. `Ok` means committed and durable; `Err` means nothing
    /// of the job was written.
    async fn run_write(&self, job: Job) -> Result<()>;
    /// Runs `job` on a read connection. It must not write.
    async fn run_read(&self, job: Job) -> Result<()>;
    /// Runs `job` in a read-only transaction that sees one snapshot of the whole database
    /// however long it takes (exports), while writers go on.
    async fn run_snapshot(&self, job: Job) -> Result<()>;
    /// Whether the database answers.
    async fn ping(&self) -> Result<()>;
    /// Why the last write failed for want of the database (a full disk, a lost server), if
    /// it did; cleared by the next write that commits.
    fn last_write_failure(&self) -> Option<String>;
    /// Finishes queued writes and closes connections.
    async fn close(&self);
    /// Backend name for logs and `/health`.
    fn backend(&self) -> &'static str;
    /// Test mode: copies the whole database as snapshot `name`, replacing one of that name
    /// (SQLite: a file beside the database; PostgreSQL: a schema of copied tables).
    async fn take_snapshot(&self, name: &SnapshotName) -> Result<()>;
    /// Test mode: puts every table back as snapshot `name` holds it, in one transaction;
    /// `SnapshotNotFound` if it was never taken.
    async fn restore_snapshot(&self, name: &SnapshotName) -> Result<()>;
    /// Test mode: the snapshots taken, by name.
    async fn snapshot_names(&self) -> Result<Vec<String>>;
    /// Test mode: forgets snapshot `name`; `SnapshotNotFound` if it was never taken.
    async fn delete_snapshot(&self, name: &SnapshotName) -> Result<()>;
    /// Pooled connections and how many are idle, where there is a pool shared by requests.
    fn pool_state(&self) -> Option<(u32, usize)> {
        None
    }
    /// How many security changes other nodes announced that this node heard (see
    /// [`Tx::announce_change`](crate::tx::AnnounceTx::announce_change)); none while it cannot
    /// hear them, when nothing cached may be trusted. One node alone (SQLite) hears nothing
    /// and misses nothing.
    fn changes_heard(&self) -> Option<u64> {
        Some(0)
    }
}

/// The outcome of the last write, for `/health`: writes can fail while reads work.
#[derive(Debug, Default)]
pub(crate) struct WriteHealth(std::sync::Mutex<Option<String>>);

impl WriteHealth {
    pub(crate) fn record<T>(&self, outcome: &Result<T>) {
        let failure = match outcome {
            Ok(_) => None,
            Err(e) if e.kind() == roster_domain::ErrorKind::Unavailable => {
                Some(e.detail().unwrap_or("unavailable").to_owned())
            }
            // A refused request says nothing about the database.
            Err(_) => return,
        };
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = failure;
    }

    pub(crate) fn failure(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl dyn Store {
    /// Runs a write use case in one transaction and returns its result once committed.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut dyn Tx) -> BoxFuture<'t, Result<T>> + Send + 'static,
    {
        let (job, result) = with_result(work);
        self.run_write(job).await?;
        result.take()
    }

    /// Runs a read use case on one connection.
    pub async fn read<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut dyn Tx) -> BoxFuture<'t, Result<T>> + Send + 'static,
    {
        let (job, result) = with_result(work);
        self.run_read(job).await?;
        result.take()
    }

    /// Runs a read use case that must see one snapshot of the database (`run_snapshot`).
    pub async fn snapshot<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut dyn Tx) -> BoxFuture<'t, Result<T>> + Send + 'static,
    {
        let (job, result) = with_result(work);
        self.run_snapshot(job).await?;
        result.take()
    }
}

/// Where a job leaves its result: read only once the store says the job's transaction ended
/// well (a job may finish and its batch's commit still fail).
struct JobResult<T>(tokio::sync::oneshot::Receiver<T>);

impl<T> JobResult<T> {
    fn take(mut self) -> Result<T> {
        self.0
            .try_recv()
            .map_err(|_| Error::internal("the store reported a job done that did not finish"))
    }
}

fn with_result<T, F>(work: F) -> (Job, JobResult<T>)
where
    T: Send + 'static,
    F: for<'t> FnOnce(&'t mut dyn Tx) -> BoxFuture<'t, Result<T>> + Send + 'static,
{
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move |tx| {
        Box::pin(async move {
            let value = work(tx).await?;
            // The receiver is gone only when the caller stopped waiting: nothing to hand.
            let _ = sender.send(value);
            Ok(())
        })
    });
    (job, JobResult(receiver))
}

/// Opens the store a database URL names: `sqlite://…` or `postgres://…`, creating the SQLite
/// file (and its folder) or the PostgreSQL tables if they are not there yet; runs migrations.
pub async fn open(url: &str, pg: PgStoreOptions) -> Result<Arc<dyn Store>> {
    open_as(url, pg, Create::IfMissing).await
}

/// Opens a store that must exist already (admin commands: a mistyped path must not quietly
/// become a new, empty directory); runs migrations.
pub async fn open_existing(url: &str, pg: PgStoreOptions) -> Result<Arc<dyn Store>> {
    open_as(url, pg, Create::Never).await
}

/// Writes a consistent copy of the database `url` names to `to`, while servers may be
/// writing to it: SQLite's `VACUUM INTO` reads one snapshot. The copy is written beside `to`
/// and renamed into place, so `to` is either absent or complete. PostgreSQL is backed up
/// with its own tools (`pg_dump`), which this refuses with that advice.
pub async fn backup(url: &str, to: &std::path::Path) -> Result<u64> {
    if !url.starts_with("sqlite:") {
        return Err(Error::invalid(
            "back up PostgreSQL with its own tools, e.g. pg_dump --format=custom --file=roster.dump \
             'postgres://…'; restore with pg_restore into an empty database.",
        ));
    }
    if to.exists() {
        return Err(Error::invalid(format!(
            "{} exists already; back up into a new file.",
            to.display()
        )));
    }
    sqlite::backup(url, to).await
}

/// Whether opening a store may create it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Create {
    IfMissing,
    Never,
}

/// Refuses a database URL no store takes, before anything is opened or made.
pub fn check_url(url: &str) -> Result<()> {
    if url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://")
    {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "database URL must start with sqlite:// or postgres://, not '{}'.",
            url.split(':').next().unwrap_or_default()
        )))
    }
}

async fn open_as(url: &str, pg: PgStoreOptions, create: Create) -> Result<Arc<dyn Store>> {
    check_url(url)?;
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url, create).await?))
    } else {
        Ok(Arc::new(PgStore::open(url, pg, create).await?))
    }
}

/// Every capability trait, for `use roster_store::prelude::*`.
pub mod prelude {
    pub use crate::tx::{
        AccountTx, AppOrgTx, ApplicationTx, AuditTx, ConsoleTx, MaintenanceTx, MessageTx,
        OrganizationTx, PasswordPolicyTx, RoleTx, SecondFactorTx, SignInTx, SsoTx, TokenTx, Tx,
        UserApiTx, UserTx,
    };
}
