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

pub(crate) mod decode;
mod readers;
mod snapshots;
mod statements;
mod writer;

pub(crate) use statements::SqliteFile;

use readers::Readers;
use writer::{checkpoint_loop, write_loop, Queued, Work};

use crate::errors::map;
use crate::store_tx::{Deferred, StoreTx};
use crate::{Appended, Create, Job, Store, WriteGate};
use async_trait::async_trait;
use roster_domain::test_mode::SnapshotName;
use roster_domain::{Error, ErrorKind, Result};
use rusqlite::{Connection, OpenFlags};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection as _};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Mutex};

type SqliteTx<'c> = StoreTx<'c, SqliteFile>;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Jobs that may wait for the writer before callers wait to enqueue.
const QUEUE_DEPTH: usize = 4096;
/// How long a connection waits on another process's lock (e.g. `roster app create`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Prepared statements each connection keeps (as sqlx did, 100 then).
const STATEMENT_CACHE: usize = 128;
/// WAL pages past which the writer checkpoints itself, as SQLite does by default at 1,000: a
/// safety net for a checkpointer that falls behind (64 MiB of 4 KiB pages). Below it, the
/// writer never stops its batch for an fsync of the database file.
const WRITER_CHECKPOINT_PAGES: i64 = 16_384;

pub struct SqliteStore {
    jobs: mpsc::Sender<Queued>,
    /// The writer's and the checkpointer's threads, until the store is closed.
    threads: Mutex<Option<[std::thread::JoinHandle<()>; 2]>>,
    readers: Arc<Readers>,
    write_health: crate::WriteHealth,
    queue_depth: metrics::Gauge,
    /// Where test mode's snapshots go.
    snapshots: std::path::PathBuf,
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
            snapshots: snapshots::folder_of(&file),
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

impl SqliteStore {
    /// Hands `work` to the writer and waits until the commit that holds it is durable.
    async fn submit(&self, work: Work) -> Result<()> {
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
    async fn run_write(&self, job: Job) -> Result<()> {
        self.submit(Work::Job(job)).await
    }

    async fn append(&self, rows: Vec<Appended>) -> Result<()> {
        self.submit(Work::Append(rows)).await.map(|_| ())
    }

    async fn run_read(&self, job: Job) -> Result<()> {
        let mut reader = self.readers.acquire().await?;
        let mut tx = SqliteTx::read(reader.conn()?);
        job(&mut tx).await
    }

    async fn run_snapshot(&self, job: Job) -> Result<()> {
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

    async fn take_snapshot(&self, name: &SnapshotName) -> Result<()> {
        let (folder, name) = (self.snapshots.clone(), name.clone());
        self.submit(Work::Alone(Box::new(move |conn| {
            snapshots::take(conn, &folder, &name)
        })))
        .await
    }

    async fn restore_snapshot(&self, name: &SnapshotName) -> Result<()> {
        let (folder, name) = (self.snapshots.clone(), name.clone());
        self.submit(Work::Alone(Box::new(move |conn| {
            snapshots::restore(conn, &folder, &name)
        })))
        .await
    }

    async fn snapshot_names(&self) -> Result<Vec<String>> {
        snapshots::names(&self.snapshots)
    }

    async fn delete_snapshot(&self, name: &SnapshotName) -> Result<()> {
        snapshots::delete(&self.snapshots, name)
    }
}
