//! The writer's thread, which commits queued jobs in batches (group commit), and the
//! checkpointer's, which copies the WAL into the database file beside it.

use super::{statement, SqliteTx};
use crate::store_tx::Deferred;
use crate::{Appended, Job, WriteGate};
use roster_domain::{Error, Result};
use rusqlite::Connection;
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Most jobs one commit carries.
const MAX_BATCH: usize = 512;
/// Least time between two checkpoints (copies of the WAL into the database file, each with an
/// fsync of its own), so that a busy writer does not cause one per commit.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

type Reply = oneshot::Sender<Result<()>>;
/// A queued write: what to do, where to answer, and the gate of the request that asked.
pub(super) type Queued = (Work, Reply, Option<WriteGate>);

/// Work on the writer's connection with no transaction open.
pub(super) type AloneWork = Box<dyn FnOnce(&mut Connection) -> Result<()> + Send>;

/// What the writer is asked to do: run a job, add rows to its next commit, work on its
/// connection outside any transaction (test mode's snapshots), or stop once what is queued is
/// done.
pub(super) enum Work {
    Job(Job),
    Append(Vec<Appended>),
    Alone(AloneWork),
    Stop,
}

/// The writer's thread: takes what waits (up to [`MAX_BATCH`]) and commits it as one batch,
/// until told to stop; what was queued before the stop is still done.
pub(super) fn write_loop(
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
        let mut together = Vec::with_capacity(batch.len());
        for queued in batch.drain(..) {
            if let (Work::Alone(_), ..) = &queued {
                // What came before it commits first; what comes after sees what it did.
                if !together.is_empty() {
                    commit_batch(&mut conn, &mut together, &measured);
                }
                run_alone(&mut conn, queued);
            } else {
                together.push(queued);
            }
        }
        if !together.is_empty() {
            commit_batch(&mut conn, &mut together, &measured);
        }
        // Wakes the checkpointer if it waits; a commit signalled already is enough.
        let _ = committed.try_send(());
    }
}

/// The checkpointer's thread: after commits, at most every [`CHECKPOINT_EVERY`], copies what
/// the WAL holds into the database file without blocking the writer or readers (`PASSIVE`),
/// so that the WAL stays short and the writer never stops for it. Ends with the writer.
pub(super) fn checkpoint_loop(conn: Connection, commits: std::sync::mpsc::Receiver<()>) {
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
                Ok(())
            }
            Work::Stop => Ok(()),
            Work::Alone(_) => Err(Error::internal("work alone runs outside a batch")),
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

/// Runs work that needs the connection to itself (no transaction open) and answers it.
fn run_alone(conn: &mut Connection, (work, reply, _): Queued) {
    let answer = match work {
        Work::Alone(work) => std::panic::catch_unwind(AssertUnwindSafe(|| work(conn)))
            .unwrap_or_else(|_| Err(Error::internal("the writer's work panicked"))),
        _ => Err(Error::internal("only work alone runs alone")),
    };
    let _ = reply.send(answer);
}

/// Runs `job` in a savepoint; a job that succeeds adds its deferred writes to `deferred`.
fn run_in_savepoint(conn: &mut Connection, job: Job, deferred: &mut Deferred) -> Result<()> {
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
