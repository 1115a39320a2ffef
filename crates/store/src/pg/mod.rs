//! The PostgreSQL store, for several Roster nodes on one database. Each write job is one
//! transaction on a pooled connection; PostgreSQL itself serializes conflicting writes and
//! enforces the unique constraints.

use crate::errors::map;
use crate::marks::Scope;
pub(crate) mod changes;
pub(crate) mod client;
pub(crate) mod decode;
mod pool;
mod snapshots;
mod statements;

pub(crate) use statements::Pg;

use crate::store_tx::{Deferred, StoreTx};
use crate::{Appended, Create, Job, Store};
use async_trait::async_trait;
use client::{to_db_error, PgClient, PgError};
use pool::{PgPool, Pooled};
use roster_domain::test_mode::SnapshotName;
use roster_domain::{Error, ErrorKind, Result};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use std::str::FromStr;
use std::time::Duration;

type PgTx<'c> = StoreTx<'c, Pg>;

/// A connection's error as a catalog error.
fn map_pg(err: PgError) -> Error {
    map(to_db_error(err))
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Pool and timeout settings of the PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PgStoreOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
}

impl PgStoreOptions {
    /// Four pooled connections per CPU of this node (8 on two), from 4 to 32: more
    /// connections than the CPUs can keep busy only queue in PostgreSQL instead of in the pool,
    /// and its processes switching on a small machine lengthen the slowest answers (on two
    /// cores, 16 connections gave a p99 of 5.7 ms where 8 gave 4.8 ms, at a higher rate).
    pub fn default_max_connections() -> u32 {
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        u32::try_from(cpus.saturating_mul(4))
            .unwrap_or(u32::MAX)
            .clamp(4, 32)
    }
}

impl Default for PgStoreOptions {
    fn default() -> Self {
        Self {
            max_connections: Self::default_max_connections(),
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(10),
        }
    }
}

/// Times a snapshot's restore is tried when the database gives it up (a deadlock).
const RESTORE_ATTEMPTS: u32 = 5;

/// This node's writes, held open (shared) by each write and alone by a snapshot's restore:
/// emptying every table while this node's own writes hold some of them would deadlock.
type Writes = std::sync::Arc<tokio::sync::RwLock<()>>;

pub struct PgStore {
    pool: PgPool,
    writes: Writes,
    /// Scopes whose page mark deltas are to be folded go to one task, which folds them in
    /// rounds; `close` waits for its last round.
    folds: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedSender<Vec<Scope>>>>,
    folder: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    write_health: crate::WriteHealth,
    /// Other nodes' changes, as heard by a listening connection of its own.
    heard: std::sync::Arc<changes::Heard>,
    listener: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Appended rows go to one task, which writes all that wait in one transaction.
    appends: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedSender<AppendRequest>>>,
    appender: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// Rows to append, and who waits for their commit.
type AppendRequest = (Vec<Appended>, tokio::sync::oneshot::Sender<Result<()>>);

/// Most appends written in one transaction.
const MAX_APPENDS_PER_BATCH: usize = 512;

/// Writes appended rows as they come: whatever waits when a transaction ends goes into the
/// next one together (tokens and audit records of many requests, one commit), so a burst of
/// token requests costs a few commits, not one each.
async fn append_batches(
    pool: PgPool,
    mut requests: tokio::sync::mpsc::UnboundedReceiver<AppendRequest>,
    writes: Writes,
) {
    while let Some(first) = requests.recv().await {
        let _open = writes.read().await;
        let mut batch = vec![first];
        while batch.len() < MAX_APPENDS_PER_BATCH {
            match requests.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let rows: Vec<Appended> = batch
            .iter_mut()
            .flat_map(|(rows, _)| std::mem::take(rows))
            .collect();
        let outcome = append_rows(&pool, rows).await;
        for (_, waiting) in batch {
            let _ = waiting.send(outcome.clone());
        }
    }
}

async fn append_rows(pool: &PgPool, rows: Vec<Appended>) -> Result<()> {
    let mut deferred = Deferred::default();
    deferred.add(rows);
    let mut conn = pool.acquire().await.map_err(map)?;
    if deferred.is_one_statement::<Pg>() {
        // One statement commits by itself: BEGIN and COMMIT would be two more round trips.
        let written = PgTx::write(&mut conn, deferred).apply_pending().await;
        if !failed_under(&written) {
            conn.release();
        }
        return written;
    }
    in_transaction(conn, |tx| {
        Box::pin(async move { PgTx::write(tx, deferred).apply_pending().await })
    })
    .await
}

/// Whether a job's `outcome` is the database failing under it (unreachable, or an error
/// Roster does not expect): its connection may be mid-message or its server gone.
fn failed_under<T>(outcome: &Result<T>) -> bool {
    matches!(outcome, Err(e) if matches!(e.kind(), ErrorKind::Unavailable | ErrorKind::Internal))
}

/// Runs `work` in a transaction on `conn`: committed when it succeeds, rolled back when it
/// fails. The connection goes back to the pool once the transaction has ended cleanly;
/// otherwise (the database failed under it) it is closed.
async fn in_transaction<T>(
    mut conn: Pooled,
    work: impl for<'t> FnOnce(&'t mut PgClient) -> futures::future::BoxFuture<'t, Result<T>>,
) -> Result<T> {
    conn.begin();
    match work(&mut conn).await {
        Ok(out) => {
            conn.commit().await.map_err(map_pg)?;
            conn.release();
            Ok(out)
        }
        Err(e) => {
            if conn.rollback().await.is_ok() {
                conn.release();
            }
            Err(e)
        }
    }
}

/// The pool's connection settings: `url` as tokio-postgres reads it, with what sqlx's reading
/// (`connect`) took from the environment where the URL is silent (host, port, user,
/// `PGPASSWORD`), and the statement timeout.
fn client_config(
    url: &str,
    connect: &PgConnectOptions,
    options: &PgStoreOptions,
) -> Result<tokio_postgres::Config> {
    let mut config = tokio_postgres::Config::from_str(url)
        .map_err(|e| Error::invalid(format!("database URL is not a valid PostgreSQL URL: {e}")))?;
    if config.get_hosts().is_empty() {
        config.host(connect.get_host());
        config.port(connect.get_port());
    }
    if config.get_user().is_none() {
        config.user(connect.get_username());
    }
    if config.get_password().is_none() {
        if let Ok(password) = std::env::var("PGPASSWORD") {
            config.password(password);
        }
    }
    let given = config
        .get_options()
        .map(|o| format!("{o} "))
        .unwrap_or_default();
    config.options(format!(
        "{given}-c statement_timeout={}ms",
        options.statement_timeout.as_millis()
    ));
    Ok(config)
}

impl PgStore {
    /// Connects and migrates. Migrations hold an advisory lock, so nodes starting together
    /// apply them once.
    pub(crate) async fn open(url: &str, options: PgStoreOptions, create: Create) -> Result<Self> {
        let connect = PgConnectOptions::from_str(url)
            .map_err(|e| {
                Error::invalid(format!("database URL is not a valid PostgreSQL URL: {e}"))
            })?
            .options([(
                "statement_timeout",
                format!("{}ms", options.statement_timeout.as_millis()),
            )])
            .disable_statement_logging();
        // The pool's settings before anything is written: a URL only one driver reads
        // fails here, not after the migrations.
        let client = client_config(url, &connect, &options)?;
        // One connection first: the pool would only say it timed out, not why (refused,
        // unknown database, wrong password).
        let mut first = PgConnection::connect_with(&connect).await.map_err(|e| {
            Error::with_detail(
                ErrorKind::Unavailable,
                format!(
                    "cannot connect to PostgreSQL at {}:{}: {e}",
                    connect.get_host(),
                    connect.get_port()
                ),
            )
        })?;
        if create == Create::Never {
            let has_schema: bool =
                sqlx::query_scalar("SELECT to_regclass('applications') IS NOT NULL")
                    .fetch_one(&mut first)
                    .await
                    .map_err(map)?;
            if !has_schema {
                return Err(Error::invalid(format!(
                    "PostgreSQL database {} has no Roster tables (only `roster serve` creates \
                     them): check --database or ROSTER_DATABASE.",
                    connect.get_database().unwrap_or("(default)")
                )));
            }
        }
        MIGRATOR
            .run(&mut first)
            .await
            .map_err(|e| Error::internal(format!("migrating PostgreSQL: {e}")))?;
        let _ = first.close().await;
        let heard = std::sync::Arc::new(changes::Heard::default());
        let listener = changes::listen(client.clone(), std::sync::Arc::clone(&heard));
        let pool = PgPool::new(client, options.max_connections, options.acquire_timeout);
        let upkeep = pool.acquire().await.map_err(map)?;
        in_transaction(upkeep, |tx| {
            Box::pin(async move { PgTx::write(tx, Default::default()).run_maintenance().await })
        })
        .await?;
        let mut conn = pool.acquire().await.map_err(map)?;
        let left = PgTx::read(&mut conn).scopes_to_fold().await?;
        conn.release();
        let (appends, requests) = tokio::sync::mpsc::unbounded_channel();
        let writes = Writes::default();
        let appender = tokio::spawn(append_batches(pool.clone(), requests, writes.clone()));
        let (folds, scopes) = tokio::sync::mpsc::unbounded_channel();
        let folder = tokio::spawn(fold_rounds(pool.clone(), scopes, writes.clone()));
        let store = Self {
            pool,
            writes,
            folds: std::sync::Mutex::new(Some(folds)),
            folder: tokio::sync::Mutex::new(Some(folder)),
            write_health: Default::default(),
            heard,
            listener: std::sync::Mutex::new(Some(listener)),
            appends: std::sync::Mutex::new(Some(appends)),
            appender: tokio::sync::Mutex::new(Some(appender)),
        };
        store.fold_later(left);
        Ok(store)
    }

    /// Hands the scopes a write changed to the folder.
    fn fold_later(&self, scopes: Vec<Scope>) {
        if scopes.is_empty() {
            return;
        }
        if let Some(folds) = self
            .folds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            let _ = folds.send(scopes);
        }
    }
}

/// Least time between two rounds of folds. A round folds each scope written since the last
/// once, whatever the number of writes: a fold per write was a second transaction of five
/// statements for each account added.
const FOLD_EVERY: Duration = Duration::from_millis(50);

/// The folder's task: waits for scopes to fold, lets the writes of the next [`FOLD_EVERY`] add
/// theirs, folds each once; until the store closes, after a last round.
async fn fold_rounds(
    pool: PgPool,
    mut scopes: tokio::sync::mpsc::UnboundedReceiver<Vec<Scope>>,
    writes: Writes,
) {
    while let Some(first) = scopes.recv().await {
        tokio::time::sleep(FOLD_EVERY).await;
        let _open = writes.read().await;
        let mut due: std::collections::BTreeSet<Scope> = first.into_iter().collect();
        while let Ok(more) = scopes.try_recv() {
            due.extend(more);
        }
        for scope in due {
            fold(pool.clone(), scope).await;
        }
    }
}

/// Folds a list scope's delta rows into its marks, in a transaction of its own. Not the
/// caller's business: the deltas count until folded, so a failure (another fold, a
/// serialization conflict) only leaves them for the next fold.
async fn fold(pool: PgPool, scope: Scope) {
    let folded = async {
        let conn = pool.acquire().await.map_err(map)?;
        let folding = scope.clone();
        let grew = in_transaction(conn, |tx| {
            Box::pin(async move {
                tx.batch("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    .await
                    .map_err(map_pg)?;
                PgTx::write(tx, Default::default())
                    .fold_marks(&folding)
                    .await
            })
        })
        .await?;
        if grew {
            // A bulk write just grew the table. Until autovacuum gets to it, the planner has
            // no statistics and the index no visibility map, and it takes a deep page for a
            // sequential scan (measured: 10 ms instead of 0.6 ms at 10^5 rows).
            // (VACUUM runs only as a statement of its own, outside a transaction.)
            let vacuum = format!("VACUUM (ANALYZE) {}", scope.list.table());
            let mut conn = pool.acquire().await.map_err(map)?;
            conn.batch("SET statement_timeout = 0")
                .await
                .map_err(map_pg)?;
            let vacuumed = conn.batch(&vacuum).await;
            conn.batch("RESET statement_timeout")
                .await
                .map_err(map_pg)?;
            vacuumed.map_err(map_pg)?;
            conn.release();
        }
        Ok::<(), Error>(())
    }
    .await;
    if let Err(e) = folded {
        tracing::warn!(error = %e, list = scope.list.name(), "folding page mark deltas failed");
    }
}

impl PgStore {
    /// Runs `job` in a transaction of its own.
    async fn write_job(&self, job: Job) -> Result<()> {
        let _open = self.writes.read().await;
        let conn = self.pool.acquire().await.map_err(map)?;
        let gate = crate::WriteGate::current();
        let folds = in_transaction(conn, |tx| {
            Box::pin(async move {
                // Started once it has a connection: a request that timed out waiting for
                // one wrote nothing.
                crate::gate::may_start(gate.as_ref())?;
                let mut work = PgTx::write(tx, Default::default());
                job(&mut work).await?;
                work.apply_pending_and_commit().await?;
                Ok(work.take_folds())
            })
        })
        .await?;
        self.fold_later(folds);
        Ok(())
    }

    /// Hands `rows` to the appender and waits for their commit.
    async fn append_rows(&self, rows: Vec<Appended>) -> Result<()> {
        crate::gate::may_start(crate::WriteGate::current().as_ref())?;
        let (committed, outcome) = tokio::sync::oneshot::channel();
        let sent = self
            .appends
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|appends| appends.send((rows, committed)));
        if !matches!(sent, Some(Ok(()))) {
            return Err(Error::with_detail(
                ErrorKind::Unavailable,
                "the store is closed",
            ));
        }
        outcome.await.unwrap_or_else(|_| {
            Err(Error::with_detail(
                ErrorKind::Unavailable,
                "the appender stopped",
            ))
        })
    }
}

#[async_trait]
impl Store for PgStore {
    async fn run_write(&self, job: Job) -> Result<()> {
        let outcome = self.write_job(job).await;
        self.write_health.record(&outcome);
        outcome
    }

    async fn append(&self, rows: Vec<Appended>) -> Result<()> {
        let outcome = self.append_rows(rows).await;
        self.write_health.record(&outcome);
        outcome
    }

    fn last_write_failure(&self) -> Option<String> {
        self.write_health.failure()
    }

    async fn run_read(&self, job: Job) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(map)?;
        let outcome = job(&mut PgTx::read(&mut conn)).await;
        if !failed_under(&outcome) {
            conn.release();
        }
        outcome
    }

    async fn run_snapshot(&self, job: Job) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(map)?;
        let outcome = match conn
            .batch(
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL statement_timeout = 0",
            )
            .await
        {
            Ok(()) => job(&mut PgTx::read(&mut conn)).await,
            Err(e) => Err(map_pg(e)),
        };
        if conn.batch("ROLLBACK").await.is_ok() {
            conn.release();
        }
        outcome
    }

    async fn take_snapshot(&self, name: &SnapshotName) -> Result<()> {
        let conn = self.pool.acquire().await.map_err(map)?;
        let name = name.clone();
        in_transaction(conn, |tx| {
            Box::pin(async move { snapshots::take(tx, &name).await })
        })
        .await
    }

    async fn restore_snapshot(&self, name: &SnapshotName) -> Result<()> {
        // Emptying every table takes every table's lock, one after another: a transaction
        // holding one of them and waiting for another makes a deadlock, which PostgreSQL ends
        // by failing one side. This node's writes wait for the restore; another node's may
        // still meet it, and if the restore is the side failed, it is tried again.
        let _alone = self.writes.write().await;
        let mut attempt = 0;
        let outcome = loop {
            attempt += 1;
            let conn = self.pool.acquire().await.map_err(map)?;
            let name = name.clone();
            let outcome = in_transaction(conn, |tx| {
                Box::pin(async move { snapshots::restore(tx, &name).await })
            })
            .await;
            match outcome {
                Err(e) if e.kind() == ErrorKind::Unavailable && attempt < RESTORE_ATTEMPTS => {
                    tracing::info!(error = %e, attempt, "restoring a snapshot: trying again");
                }
                outcome => break outcome,
            }
        };
        self.write_health.record(&outcome);
        outcome
    }

    async fn delete_snapshot(&self, name: &SnapshotName) -> Result<()> {
        let conn = self.pool.acquire().await.map_err(map)?;
        let name = name.clone();
        in_transaction(conn, |tx| {
            Box::pin(async move { snapshots::delete(tx, &name).await })
        })
        .await
    }

    async fn snapshot_names(&self) -> Result<Vec<String>> {
        let mut conn = self.pool.acquire().await.map_err(map)?;
        let names = snapshots::names(&mut conn).await;
        if !failed_under(&names) {
            conn.release();
        }
        names
    }

    async fn ping(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(map)?;
        conn.ping().await.map_err(map_pg)?;
        conn.release();
        Ok(())
    }

    async fn close(&self) {
        // Appends already handed over are written before the pool closes.
        drop(
            self.appends
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
        );
        if let Some(appender) = self.appender.lock().await.take() {
            let _ = appender.await;
        }
        // Scopes already handed over are folded before the pool closes.
        drop(self.folds.lock().unwrap_or_else(|p| p.into_inner()).take());
        if let Some(folder) = self.folder.lock().await.take() {
            let _ = folder.await;
        }
        if let Some(listener) = self
            .listener
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            listener.abort();
        }
        self.pool.close().await;
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn changes_heard(&self) -> Option<u64> {
        self.heard.count()
    }

    fn pool_state(&self) -> Option<(u32, usize)> {
        Some(self.pool.state())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_postgres::config::Host;

    fn config(url: &str) -> tokio_postgres::Config {
        let connect = PgConnectOptions::from_str(url).unwrap();
        let options = PgStoreOptions {
            statement_timeout: Duration::from_secs(7),
            ..PgStoreOptions::default()
        };
        client_config(url, &connect, &options).unwrap()
    }

    #[test]
    fn the_pool_connects_where_the_url_says_with_the_statement_timeout_added() {
        let config =
            config("postgres://alice:pw@db.example:6543/roster?options=-c%20search_path%3Dx");
        assert_eq!(config.get_hosts(), [Host::Tcp("db.example".to_owned())]);
        assert_eq!(config.get_ports(), [6543]);
        assert_eq!(config.get_user(), Some("alice"));
        assert_eq!(config.get_password(), Some(&b"pw"[..]));
        assert_eq!(config.get_dbname(), Some("roster"));
        assert_eq!(
            config.get_options(),
            Some("-c search_path=x -c statement_timeout=7000ms"),
            "the URL's options kept"
        );
    }

    #[test]
    fn where_the_url_is_silent_the_pool_connects_where_migrations_do() {
        let url = "postgres:///roster";
        let connect = PgConnectOptions::from_str(url).unwrap();
        let config = config(url);
        assert_eq!(config.get_user(), Some(connect.get_username()));
        assert_eq!(config.get_ports(), [connect.get_port()]);
        let host = match config.get_hosts() {
            [Host::Tcp(host)] => host.clone(),
            [Host::Unix(path)] => path.display().to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(host, connect.get_host());
        assert_eq!(config.get_options(), Some("-c statement_timeout=7000ms"));
    }

    #[test]
    fn a_url_of_another_database_is_refused_with_the_reason() {
        let connect = PgConnectOptions::from_str("postgres://h/d").unwrap();
        let err = client_config("mysql://h/d", &connect, &PgStoreOptions::default())
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("not a valid PostgreSQL URL"),
            "{err}"
        );
    }
}
