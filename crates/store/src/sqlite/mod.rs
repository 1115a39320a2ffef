//! The embedded store: one SQLite file in WAL mode with `synchronous=FULL`, so that a
//! committed write survives power loss.
//!
//! All writes go through one writer connection owned by a thread of its own. The thread takes
//! every job that is waiting, runs each in its own savepoint inside one transaction, and
//! commits them with a single fsync: group commit. Rows that only need adding (tokens, audit
//! records) join the commit without a job, written together in one statement per table. A job
//! that fails is rolled back to its savepoint alone; no job is answered before the commit that
//! holds it is durable. An async caller hands the writer its job once and awaits one answer;
//! the job's statements then run back to back on the writer's thread.
//!
//! Reads, which WAL lets run beside the writer, run on the caller's own thread on a connection
//! of a small pool: a read is a few statements of microseconds each, cheaper than a hand-off
//! to another thread. A snapshot (an export, long) runs on a blocking thread instead.

mod statements;

pub(crate) use statements::{Column, Columns, FromColumns, SqliteFile};

use crate::errors::map;
use crate::store_tx::{Deferred, StoreTx};
use crate::{Appended, Create, Job, Output, Store, WriteGate};
use async_trait::async_trait;
use roster_domain::{Error, ErrorKind, Result};
use rusqlite::{Connection, OpenFlags};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection as _};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Mutex, OwnedSemaphorePermit, Semaphore};

type SqliteTx<'c> = StoreTx<'c, SqliteFile>;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Most jobs one commit carries.
const MAX_BATCH: usize = 512;
/// Jobs that may wait for the writer before callers wait to enqueue.
const QUEUE_DEPTH: usize = 4096;
/// How long a connection waits on another process's lock (e.g. `roster app create`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Read connections: reads run on the request's thread, so a few cover the async threads,
/// with room for snapshots (exports) that hold one for long.
const READERS: usize = 8;
/// Prepared statements each connection keeps (as sqlx did, 100 then).
const STATEMENT_CACHE: usize = 128;
/// Least time between two checkpoints (copies of the WAL into the database file, each with an
/// fsync of its own), so that a busy writer does not cause one per commit.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// WAL pages past which the writer checkpoints itself, as SQLite does by default at 1,000: a
/// safety net for a checkpointer that falls behind (64 MiB of 4 KiB pages). Below it, the
/// writer never stops its batch for an fsync of the database file.
const WRITER_CHECKPOINT_PAGES: i64 = 16_384;

type Reply = oneshot::Sender<Result<Output>>;
/// A queued write: what to do, where to answer, and the gate of the request that asked.
type Queued = (Work, Reply, Option<WriteGate>);

/// What the writer is asked to do: run a job, add rows to its next commit, or stop once what
/// is queued is done.
enum Work {
    Job(Job),
    Append(Vec<Appended>),
    Stop,
}

pub struct SqliteStore {
    jobs: mpsc::Sender<Queued>,
    /// The writer's and the checkpointer's threads, until the store is closed.
    threads: Mutex<Option<[std::thread::JoinHandle<()>; 2]>>,
    readers: Arc<Readers>,
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

/// What a connection of the store is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Writer,
    Reader,
    Checkpointer,
}

/// A connection to the (existing, migrated) file at `path`, set as every Roster connection is:
/// WAL with `synchronous=FULL`, foreign keys on; a reader refuses to write, and the writer
/// leaves checkpoints to the checkpointer.
fn connect(path: &Path, role: Role) -> Result<Connection> {
    let set_up = || -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        match role {
            Role::Writer => {
                conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?
            }
            Role::Reader => conn.pragma_update(None, "query_only", true)?,
            Role::Checkpointer => {}
        }
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    };
    let conn = set_up().map_err(|e| cannot_open(path, e))?;
    // Set when sqlx created the file, and kept in it; without WAL, readers would block the
    // writer and a commit would not be one fsync.
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .map_err(|e| cannot_open(path, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(cannot_open(
            path,
            format!("it is in journal mode {mode}, not WAL (another program changed it?)"),
        ));
    }
    Ok(conn)
}

fn cannot_open(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::with_detail(
        ErrorKind::Unavailable,
        format!("cannot open the database {}: {e}", path.display()),
    )
}

impl SqliteStore {
    /// Opens (creating it and its folder if needed and allowed) and migrates the database at
    /// `url`.
    pub(crate) async fn open(url: &str, create: Create) -> Result<Self> {
        let options = options(url, create)?;
        let file = options.get_filename().to_path_buf();
        if create == Create::Never && !file.exists() {
            let shown = std::path::absolute(&file).unwrap_or_else(|_| file.clone());
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
        // sqlx creates the file and migrates it, as it always has (its table of applied
        // migrations is in every Roster database); Roster's own connections take over after.
        let mut migrating = options.connect().await.map_err(|e| cannot_open(&file, e))?;
        MIGRATOR
            .run(&mut migrating)
            .await
            .map_err(|e| Error::internal(format!("migrating {}: {e}", file.display())))?;
        let _ = migrating.close().await;

        let path = file.clone();
        let writer = tokio::task::spawn_blocking(move || -> Result<Connection> {
            let mut conn = connect(&path, Role::Writer)?;
            in_transaction(&mut conn, |conn| {
                futures::executor::block_on(
                    SqliteTx::write(conn, Deferred::default()).run_maintenance(),
                )
            })?;
            Ok(conn)
        })
        .await
        .map_err(|e| Error::internal(format!("opening the database: {e}")))??;
        let readers = Arc::new(Readers::new(file.clone()));
        // One reader now, so that a database that cannot be read fails here, not later.
        drop(readers.acquire().await?);

        let checkpointer = connect(&file, Role::Checkpointer)?;
        let (committed, commits) = std::sync::mpsc::sync_channel(1);
        let checkpoints = std::thread::Builder::new()
            .name("roster-sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpointer, commits))
            .map_err(|e| Error::internal(format!("starting the SQLite checkpointer: {e}")))?;

        let (jobs, queue) = mpsc::channel(QUEUE_DEPTH);
        let runtime = tokio::runtime::Handle::current();
        let writer = std::thread::Builder::new()
            .name("roster-sqlite-writer".into())
            .spawn(move || {
                // Jobs are async code: let what they call find the runtime (timers, tasks).
                let _runtime = runtime.enter();
                write_loop(writer, queue, committed);
            })
            .map_err(|e| Error::internal(format!("starting the SQLite writer: {e}")))?;
        Ok(Self {
            jobs,
            threads: Mutex::new(Some([writer, checkpoints])),
            readers,
            write_health: Default::default(),
            queue_depth: metrics::gauge!("roster_write_queue_depth"),
        })
    }
}

/// Runs `work` in a write transaction of its own on `conn`: committed if it succeeds.
fn in_transaction(
    conn: &mut Connection,
    work: impl FnOnce(&mut Connection) -> Result<()>,
) -> Result<()> {
    statement(conn, "BEGIN IMMEDIATE")?;
    match work(conn).and_then(|()| statement(conn, "COMMIT")) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = statement(conn, "ROLLBACK");
            Err(e)
        }
    }
}

/// Runs one statement without arguments (transaction control).
fn statement(conn: &Connection, sql: &str) -> Result<()> {
    statements::execute(conn, sql, &[]).map(|_| ()).map_err(map)
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

/// The read connections: opened as needed, at most [`READERS`], each used by one read at a
/// time.
struct Readers {
    path: PathBuf,
    idle: std::sync::Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl Readers {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: std::sync::Mutex::new(Vec::with_capacity(READERS)),
            permits: Arc::new(Semaphore::new(READERS)),
        }
    }

    /// A connection of its own for one read, waiting while all are in use.
    async fn acquire(self: &Arc<Self>) -> Result<Reader> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| Error::with_detail(ErrorKind::Unavailable, "the store is closed"))?;
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => connect(&self.path, Role::Reader)?,
        };
        Ok(Reader {
            conn: Some(conn),
            readers: Arc::clone(self),
            _permit: permit,
        })
    }
}

/// A read connection on loan; back to the pool when dropped, even if the read was abandoned.
struct Reader {
    conn: Option<Connection>,
    readers: Arc<Readers>,
    _permit: OwnedSemaphorePermit,
}

impl Reader {
    fn conn(&mut self) -> Result<&mut Connection> {
        self.conn
            .as_mut()
            .ok_or_else(|| Error::internal("a read connection was used after its return"))
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // A snapshot abandoned halfway must not leave its transaction (and its old view
            // of the database) to the next read.
            if !conn.is_autocommit() && statement(&conn, "ROLLBACK").is_err() {
                return;
            }
            self.readers
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(conn);
        }
    }
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
        let mut reader = self.readers.acquire().await?;
        let mut tx = SqliteTx::read(reader.conn()?);
        job(&mut tx).await
    }

    async fn run_snapshot(&self, job: Job) -> Result<Output> {
        let mut reader = self.readers.acquire().await?;
        tokio::task::spawn_blocking(move || {
            let conn = reader.conn()?;
            // In WAL mode a read transaction keeps the snapshot of its first read to its end.
            statement(conn, "BEGIN")?;
            let outcome = futures::executor::block_on(job(&mut SqliteTx::read(conn)));
            let _ = statement(conn, "COMMIT");
            outcome
        })
        .await
        .map_err(|e| Error::internal(format!("a snapshot read ended abnormally: {e}")))?
    }

    async fn ping(&self) -> Result<()> {
        let mut reader = self.readers.acquire().await?;
        statement(reader.conn()?, "SELECT 1")
    }

    fn last_write_failure(&self) -> Option<String> {
        self.write_health.failure()
    }

    async fn close(&self) {
        if let Some(threads) = self.threads.lock().await.take() {
            // Queued after every job already waiting: those are finished first. The
            // checkpointer ends with the writer.
            let _ = self.submit(Work::Stop).await;
            let joined = tokio::task::spawn_blocking(move || threads.map(|t| t.join())).await;
            if !matches!(joined, Ok([Ok(()), Ok(())])) {
                tracing::error!("a SQLite store thread ended abnormally");
            }
            self.readers.permits.close();
            self.readers
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
        }
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

/// The writer's thread: takes what waits (up to [`MAX_BATCH`]) and commits it as one batch,
/// until told to stop; what was queued before the stop is still done.
fn write_loop(
    mut conn: Connection,
    mut queue: mpsc::Receiver<Queued>,
    committed: std::sync::mpsc::SyncSender<()>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let measured = WriterMetrics::new();
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        if batch.iter().any(|(work, _, _)| matches!(work, Work::Stop)) {
            // Refuse new jobs; the ones already queued are received before the end.
            queue.close();
        }
        commit_batch(&mut conn, &mut batch, &measured);
        // Wakes the checkpointer if it waits; a commit signalled already is enough.
        let _ = committed.try_send(());
    }
}

/// The checkpointer's thread: after commits, at most every [`CHECKPOINT_EVERY`], copies what
/// the WAL holds into the database file without blocking the writer or readers (`PASSIVE`),
/// so that the WAL stays short and the writer never stops for it. Ends with the writer.
fn checkpoint_loop(conn: Connection, commits: std::sync::mpsc::Receiver<()>) {
    let mut last: Option<std::time::Instant> = None;
    while commits.recv().is_ok() {
        if let Some(wait) = last.map(|at| CHECKPOINT_EVERY.saturating_sub(at.elapsed())) {
            std::thread::sleep(wait);
        }
        last = Some(std::time::Instant::now());
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "a WAL checkpoint failed; the next commit retries it");
        }
    }
}

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

/// Runs every job of `batch` in its own savepoint of one transaction, commits, then answers.
fn commit_batch(conn: &mut Connection, batch: &mut Vec<Queued>, measured: &WriterMetrics) {
    let started = std::time::Instant::now();
    measured.batch_size.record(batch.len() as f64);
    if let Err(err) = statement(conn, "BEGIN IMMEDIATE") {
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
            Work::Job(job) => run_in_savepoint(conn, job, &mut deferred),
            Work::Append(rows) => {
                deferred.add(rows);
                Ok(Box::new(()) as Output)
            }
            Work::Stop => Ok(Box::new(()) as Output),
        };
        answers.push((reply, answer));
    }
    // The batch's deferred writes together: its audit records in one statement, and jobs
    // adding to the same list (most often at its end) touch its marks once, not once each.
    let applied = futures::executor::block_on(SqliteTx::write(conn, deferred).apply_pending());
    let committed = applied.and_then(|()| statement(conn, "COMMIT"));
    measured
        .commit_seconds
        .record(started.elapsed().as_secs_f64());
    match committed {
        Ok(()) => {
            for (reply, answer) in answers {
                let _ = reply.send(answer);
            }
        }
        Err(err) => {
            tracing::error!(error = %err, "commit failed; the batch is rolled back");
            let _ = statement(conn, "ROLLBACK");
            for (reply, _) in answers {
                let _ = reply.send(Err(err.clone()));
            }
        }
    }
}

/// Runs `job` in a savepoint; a job that succeeds adds its deferred writes to `deferred`.
fn run_in_savepoint(conn: &mut Connection, job: Job, deferred: &mut Deferred) -> Result<Output> {
    // Released after each job: left open, nested savepoints make SQLite keep page images for
    // every level, which costs more than the RELEASE statement saves (measured).
    statement(conn, "SAVEPOINT job")?;
    let (outcome, changed) = {
        let mut tx = SqliteTx::write(conn, Deferred::default());
        // The job's statements complete as they are called (nothing here waits on the
        // network), so polling it to its end on this thread runs them back to back.
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            futures::executor::block_on(job(&mut tx))
        }))
        .unwrap_or_else(|_| Err(Error::internal("a write job panicked")));
        (outcome, tx.take_pending())
    };
    let end = if outcome.is_ok() {
        statement(conn, "RELEASE job")
    } else {
        statement(conn, "ROLLBACK TO job").and_then(|()| statement(conn, "RELEASE job"))
    };
    end?;
    if outcome.is_ok() {
        deferred.append(changed);
    }
    outcome
}
