//! The embedded store: one SQLite file in WAL mode with `synchronous=FULL`, so that a
//! committed write survives power loss.
//!
//! All writes go through one writer connection owned by a task. The task takes every job that
//! is waiting, runs each in its own savepoint inside one transaction, and commits them
//! with a single fsync: group commit. Rows that only need adding (tokens, audit records) join
//! the commit without a job, written together in one statement per table. A job that fails is rolled back to its savepoint alone; no job
//! is answered before the commit that holds it is durable. Reads use a pool of connections,
//! which WAL lets run beside the writer.

use crate::errors::map;
use crate::store_tx::{Deferred, StoreTx};
use crate::{Appended, Create, Job, Output, Store, WriteGate};
use async_trait::async_trait;
use futures::FutureExt;
use roster_domain::{Error, ErrorKind, Result};
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, Executor};
use std::panic::AssertUnwindSafe;
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio::task::JoinHandle;

type SqliteTx<'c> = StoreTx<'c, Sqlite>;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Most jobs one commit carries.
const MAX_BATCH: usize = 512;
/// Jobs that may wait for the writer before callers wait to enqueue.
const QUEUE_DEPTH: usize = 4096;
/// How long a connection waits on another process's lock (e.g. `roster app create`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

type Reply = oneshot::Sender<Result<Output>>;
/// A queued write: what to do, where to answer, and the gate of the request that asked.
type Queued = (Work, Reply, Option<WriteGate>);

/// What the writer is asked to do: run a job, or add rows to its next commit.
enum Work {
    Job(Job),
    Append(Vec<Appended>),
}

pub struct SqliteStore {
    jobs: mpsc::Sender<Queued>,
    /// Tells the writer to finish what is queued and stop; and the writer's task.
    writer: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
    readers: SqlitePool,
    write_health: crate::WriteHealth,
    queue_depth: metrics::Gauge,
}

fn options(url: &str, create: Create) -> Result<SqliteConnectOptions> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| Error::invalid(format!("database URL is not a valid SQLite URL: {e}")))?;
    Ok(options
        .create_if_missing(create == Create::IfMissing)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        .disable_statement_logging())
}

impl SqliteStore {
    /// Opens (creating it and its folder if needed and allowed) and migrates the database at
    /// `url`.
    pub(crate) async fn open(url: &str, create: Create) -> Result<Self> {
        let options = options(url, create)?;
        let file = options.get_filename();
        if create == Create::Never && !file.exists() {
            let shown = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
            return Err(Error::invalid(format!(
                "there is no database at {} (only `roster serve` creates one): check --database \
                 or ROSTER_DATABASE; a relative path is relative to the current folder.",
                shown.display()
            )));
        }
        if file.as_os_str() == ":memory:" || url.contains("mode=memory") {
            return Err(Error::invalid(
                "an in-memory SQLite database cannot be shared by Roster's connections; use a file.",
            ));
        }
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::with_detail(
                    ErrorKind::Unavailable,
                    format!("cannot create the database folder {}: {e}", dir.display()),
                )
            })?;
        }
        let mut writer = options.connect().await.map_err(|e| {
            Error::with_detail(
                ErrorKind::Unavailable,
                format!("cannot open the database {}: {e}", file.display()),
            )
        })?;
        MIGRATOR
            .run(&mut writer)
            .await
            .map_err(|e| Error::internal(format!("migrating {}: {e}", file.display())))?;
        let mut upkeep = writer.begin().await.map_err(map)?;
        SqliteTx::write(&mut upkeep, Default::default())
            .run_maintenance()
            .await?;
        upkeep.commit().await.map_err(map)?;
        let readers = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(map)?;
        let (jobs, queue) = mpsc::channel(QUEUE_DEPTH);
        let (stop, stopped) = oneshot::channel();
        let writer = tokio::spawn(write_loop(writer, queue, stopped));
        Ok(Self {
            jobs,
            writer: Mutex::new(Some((stop, writer))),
            readers,
            write_health: Default::default(),
            queue_depth: metrics::gauge!("roster_write_queue_depth"),
        })
    }
}

/// `VACUUM INTO` a file beside `to`, then renamed to it; returns its size in bytes.
pub(crate) async fn backup(url: &str, to: &std::path::Path) -> Result<u64> {
    let options = options(url, Create::Never)?;
    if !options.get_filename().exists() {
        return Err(Error::invalid(format!(
            "there is no database at {}.",
            options.get_filename().display()
        )));
    }
    let partial = to.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let failed = |e: std::io::Error| {
        Error::with_detail(
            ErrorKind::Unavailable,
            format!("writing {}: {e}", to.display()),
        )
    };
    let mut conn = options.connect().await.map_err(map)?;
    sqlx::query("VACUUM INTO $1")
        .bind(partial.to_string_lossy().into_owned())
        .execute(&mut conn)
        .await
        .map_err(|e| {
            Error::with_detail(ErrorKind::Unavailable, format!("copying the database: {e}"))
        })?;
    let _ = conn.close().await;
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(failed)?;
    std::fs::rename(&partial, to).map_err(failed)?;
    std::fs::metadata(to).map(|m| m.len()).map_err(failed)
}

impl SqliteStore {
    /// Hands `work` to the writer and waits until the commit that holds it is durable.
    async fn submit(&self, work: Work) -> Result<Output> {
        let (reply, answer) = oneshot::channel();
        let queued = self.jobs.max_capacity() - self.jobs.capacity();
        self.queue_depth.set(queued as f64);
        self.jobs
            .send((work, reply, WriteGate::current()))
            .await
            .map_err(|_| Error::with_detail(ErrorKind::Unavailable, "the store is closed"))?;
        let outcome = answer
            .await
            .map_err(|_| Error::with_detail(ErrorKind::Unavailable, "the store writer stopped"))
            .and_then(|outcome| outcome);
        self.write_health.record(&outcome);
        outcome
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn run_write(&self, job: Job) -> Result<Output> {
        self.submit(Work::Job(job)).await
    }

    async fn append(&self, rows: Vec<Appended>) -> Result<()> {
        self.submit(Work::Append(rows)).await.map(|_| ())
    }

    async fn run_read(&self, job: Job) -> Result<Output> {
        let mut conn = self.readers.acquire().await.map_err(map)?;
        let mut tx = SqliteTx::read(&mut conn);
        job(&mut tx).await
    }

    async fn run_snapshot(&self, job: Job) -> Result<Output> {
        let mut conn = self.readers.acquire().await.map_err(map)?;
        // In WAL mode a read transaction keeps the snapshot of its first read to its end.
        conn.execute("BEGIN").await.map_err(map)?;
        let outcome = job(&mut SqliteTx::read(&mut conn)).await;
        let _ = conn.execute("COMMIT").await;
        outcome
    }

    async fn ping(&self) -> Result<()> {
        let mut conn = self.readers.acquire().await.map_err(map)?;
        conn.ping().await.map_err(map)
    }

    fn last_write_failure(&self) -> Option<String> {
        self.write_health.failure()
    }

    async fn close(&self) {
        if let Some((stop, writer)) = self.writer.lock().await.take() {
            let _ = stop.send(());
            if let Err(e) = writer.await {
                tracing::error!(error = %e, "the SQLite writer ended abnormally");
            }
            self.readers.close().await;
        }
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

async fn write_loop(
    mut conn: SqliteConnection,
    mut queue: mpsc::Receiver<Queued>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let measured = WriterMetrics::new();
    loop {
        tokio::select! {
            received = queue.recv_many(&mut batch, MAX_BATCH) => {
                if received == 0 {
                    break;
                }
                commit_batch(&mut conn, &mut batch, &measured).await;
            }
            _ = &mut stop => {
                // Refuse new jobs, finish the ones already queued.
                queue.close();
                while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
                    commit_batch(&mut conn, &mut batch, &measured).await;
                }
                break;
            }
        }
    }
    let _ = conn.close().await;
}

/// Runs every job of `batch` in its own savepoint of one transaction, commits, then answers.
/// The writer's metrics, registered once.
struct WriterMetrics {
    batch_size: metrics::Histogram,
    commit_seconds: metrics::Histogram,
}

impl WriterMetrics {
    fn new() -> Self {
        Self {
            batch_size: metrics::histogram!("roster_group_commit_batch_size"),
            commit_seconds: metrics::histogram!("roster_group_commit_seconds"),
        }
    }
}

async fn commit_batch(
    conn: &mut SqliteConnection,
    batch: &mut Vec<Queued>,
    measured: &WriterMetrics,
) {
    let started = std::time::Instant::now();
    measured.batch_size.record(batch.len() as f64);
    if let Err(e) = conn.execute("BEGIN IMMEDIATE").await {
        let err = map(e);
        tracing::error!(error = %err, "cannot begin a write transaction");
        for (_, reply, _) in batch.drain(..) {
            let _ = reply.send(Err(err.clone()));
        }
        return;
    }
    let mut answers = Vec::with_capacity(batch.len());
    let mut deferred = Deferred::default();
    for (work, reply, gate) in batch.drain(..) {
        // A request that timed out while this waited is answered 408: skip its write.
        if let Err(timed_out) = crate::gate::may_start(gate.as_ref()) {
            let _ = reply.send(Err(timed_out));
            continue;
        }
        let answer = match work {
            Work::Job(job) => run_in_savepoint(conn, job, &mut deferred).await,
            Work::Append(rows) => {
                deferred.add(rows);
                Ok(Box::new(()) as Output)
            }
        };
        answers.push((reply, answer));
    }
    // The batch's deferred writes together: its audit records in one statement, and jobs
    // adding to the same list (most often at its end) touch its marks once, not once each.
    let applied = SqliteTx::write(conn, deferred).apply_pending().await;
    let committed = match applied {
        Ok(()) => conn.execute("COMMIT").await.map_err(map),
        Err(e) => Err(e),
    };
    measured
        .commit_seconds
        .record(started.elapsed().as_secs_f64());
    match committed {
        Ok(_) => {
            for (reply, answer) in answers {
                let _ = reply.send(answer);
            }
        }
        Err(err) => {
            tracing::error!(error = %err, "commit failed; the batch is rolled back");
            let _ = conn.execute("ROLLBACK").await;
            for (reply, _) in answers {
                let _ = reply.send(Err(err.clone()));
            }
        }
    }
}

/// Runs `job` in a savepoint; a job that succeeds adds its deferred writes to `deferred`.
async fn run_in_savepoint(
    conn: &mut SqliteConnection,
    job: Job,
    deferred: &mut Deferred,
) -> Result<Output> {
    // Released after each job: left open, nested savepoints make SQLite keep page images for
    // every level, which costs more than the RELEASE statement saves (measured).
    conn.execute("SAVEPOINT job").await.map_err(map)?;
    let (outcome, changed) = {
        let mut tx = SqliteTx::write(conn, Default::default());
        let outcome = AssertUnwindSafe(job(&mut tx))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(Error::internal("a write job panicked")));
        (outcome, tx.take_pending())
    };
    let end = if outcome.is_ok() {
        conn.execute("RELEASE job").await
    } else {
        match conn.execute("ROLLBACK TO job").await {
            Ok(_) => conn.execute("RELEASE job").await,
            Err(e) => Err(e),
        }
    };
    match end {
        Ok(_) => {
            if outcome.is_ok() {
                deferred.append(changed);
            }
            outcome
        }
        Err(e) => Err(map(e)),
    }
}
