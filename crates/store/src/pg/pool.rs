//! The PostgreSQL store's connections: a pool that takes a connection back without a round
//! trip. sqlx's pool pinged every connection handed back to it (to catch one left mid-message
//! by a cancelled use), a round trip per use: as much as a read's own statement, and one in
//! six of an account's authorization. Here a connection goes back only when its user says its
//! last use ended cleanly ([`Pooled::release`]); one dropped without that (a cancelled request,
//! a failed commit) is closed, never reused. An idle connection is pinged before reuse only
//! after a second idle (the server may have closed it meanwhile).

use super::client::{to_db_error, PgClient};
use crate::errors::DbError;

/// Why no connection was handed out.
const POOL_TIMED_OUT: &str = "pool timed out while waiting for an open connection";
const POOL_CLOSED: &str = "attempted to acquire a connection on a closed pool";
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::Config;

/// An idle connection idle longer than this is pinged before reuse.
const CHECK_IDLE_AFTER: Duration = Duration::from_secs(1);

/// An idle connection idle longer than this is closed (a burst's connections do not stay).
const IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// A connection older than this is closed when it comes back, so that none lives for ever
/// (a server's per-connection memory grows with the statements it has cached).
const MAX_LIFETIME: Duration = Duration::from_secs(1800);

/// Connections to one database, at most `max` open at once.
#[derive(Clone)]
pub(crate) struct PgPool {
    inner: Arc<Inner>,
}

struct Inner {
    connect: Config,
    acquire_timeout: Duration,
    /// One permit per connection that may be open; closed with the pool.
    permits: Arc<Semaphore>,
    /// Idle connections, the most recently used last.
    idle: Mutex<Vec<Idle>>,
    open: Arc<AtomicU32>,
}

/// One open connection, counted in the pool's size until dropped.
struct Counted(Arc<AtomicU32>);

impl Counted {
    fn new(open: &Arc<AtomicU32>) -> Self {
        open.fetch_add(1, Ordering::Relaxed);
        Self(Arc::clone(open))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Idle {
    conn: PgClient,
    opened: Instant,
    since: Instant,
    counted: Counted,
}

impl PgPool {
    pub(crate) fn new(connect: Config, max: u32, acquire_timeout: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                connect,
                acquire_timeout,
                permits: Arc::new(Semaphore::new(max as usize)),
                idle: Mutex::new(Vec::new()),
                open: Arc::new(AtomicU32::new(0)),
            }),
        }
    }

    /// A connection: an idle one, or a new one while fewer than the most are open; waits
    /// for one to come back otherwise, for up to the acquire timeout.
    pub(crate) async fn acquire(&self) -> Result<Pooled, DbError> {
        tokio::time::timeout(self.inner.acquire_timeout, self.take())
            .await
            .unwrap_or_else(|_| Err(DbError::Unavailable(POOL_TIMED_OUT.to_owned())))
    }

    async fn take(&self) -> Result<Pooled, DbError> {
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| DbError::Unavailable(POOL_CLOSED.to_owned()))?;
        while let Some(mut idle) = self.inner.pop_idle() {
            if idle.conn.is_closed() {
                continue;
            }
            if idle.since.elapsed() <= CHECK_IDLE_AFTER || idle.conn.ping().await.is_ok() {
                return Ok(Pooled {
                    conn: idle.conn,
                    opened: idle.opened,
                    counted: idle.counted,
                    pool: Arc::clone(&self.inner),
                    _permit: permit,
                });
            }
        }
        let conn = PgClient::connect(&self.inner.connect)
            .await
            .map_err(to_db_error)?;
        Ok(Pooled {
            conn,
            opened: Instant::now(),
            counted: Counted::new(&self.inner.open),
            pool: Arc::clone(&self.inner),
            _permit: permit,
        })
    }

    /// Open connections, and how many of them are idle.
    pub(crate) fn state(&self) -> (u32, usize) {
        let idle = self.inner.idle.lock().map_or(0, |idle| idle.len());
        (self.inner.open.load(Ordering::Relaxed), idle)
    }

    /// Takes no more acquires and closes the idle connections; those in use close when they
    /// come back.
    pub(crate) async fn close(&self) {
        self.inner.permits.close();
        let idle: Vec<Idle> = self
            .inner
            .idle
            .lock()
            .map(|mut idle| std::mem::take(&mut *idle))
            .unwrap_or_default();
        drop(idle);
    }
}

impl Inner {
    /// The most recently used idle connection; those idle too long are closed on the way.
    fn pop_idle(&self) -> Option<Idle> {
        let mut idle = self.idle.lock().ok()?;
        let stale = idle
            .iter()
            .take_while(|i| i.since.elapsed() > IDLE_TIMEOUT)
            .count();
        for old in idle.drain(..stale) {
            close_later(old.conn, old.counted);
        }
        idle.pop()
    }
}

/// Closes `conn`: its task says goodbye to the server (which logs a connection that just
/// vanishes) once the messages in flight are answered.
fn close_later(conn: PgClient, counted: Counted) {
    drop(conn);
    drop(counted);
}

/// A connection taken from the pool. [`Pooled::release`] hands it back; dropped otherwise
/// (its use cancelled or failed), it is closed and never reused.
pub(crate) struct Pooled {
    conn: PgClient,
    opened: Instant,
    counted: Counted,
    pool: Arc<Inner>,
    _permit: OwnedSemaphorePermit,
}

impl Pooled {
    /// Hands the connection back for reuse: its last use ended cleanly (committed, rolled
    /// back, or a read that got its answer).
    pub(crate) fn release(self) {
        let Pooled {
            conn,
            opened,
            counted,
            pool,
            _permit,
        } = self;
        if pool.permits.is_closed() || opened.elapsed() > MAX_LIFETIME {
            close_later(conn, counted);
            return;
        }
        // Back in the idle list before the permit goes, so that a waiter given the permit
        // finds it there.
        if let Ok(mut idle) = pool.idle.lock() {
            idle.push(Idle {
                conn,
                opened,
                since: Instant::now(),
                counted,
            });
        }
        drop(_permit);
    }
}

impl Deref for Pooled {
    type Target = PgClient;

    fn deref(&self) -> &PgClient {
        &self.conn
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut PgClient {
        &mut self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    /// A pool of at most `max` on the server of `ROSTER_TEST_POSTGRES_URL`.
    fn pool(max: u32, acquire_timeout: Duration) -> PgPool {
        let url = std::env::var("ROSTER_TEST_POSTGRES_URL").unwrap_or_default();
        let connect = Config::from_str(&url).expect("ROSTER_TEST_POSTGRES_URL: a PostgreSQL URL");
        PgPool::new(connect, max, acquire_timeout)
    }

    /// The one value `sql` returns.
    async fn value<T: tokio_postgres::types::FromSqlOwned>(conn: &mut PgClient, sql: &str) -> T {
        let mut value = None;
        let fetched = conn
            .fetch_each(sql, &[], |(v,): (T,)| value = Some(v))
            .await;
        match (fetched, value) {
            (Ok(()), Some(value)) => value,
            (fetched, _) => panic!("{sql}: {fetched:?}"),
        }
    }

    async fn backend_pid(conn: &mut PgClient) -> i32 {
        value(conn, "SELECT pg_backend_pid()").await
    }

    #[tokio::test]
    #[cfg_attr(
        not(roster_pg),
        ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
    )]
    async fn a_released_connection_is_reused_and_a_dropped_one_never_is() {
        let pool = pool(2, Duration::from_secs(5));
        let mut first = pool.acquire().await.expect("a connection");
        let pid = backend_pid(&mut first).await;
        first.release();
        assert_eq!(pool.state(), (1, 1));
        let mut again = pool.acquire().await.expect("a connection");
        assert_eq!(backend_pid(&mut again).await, pid, "the released one");
        // Dropped mid-transaction (a cancelled request): closed, not handed out again.
        assert!(again.batch("BEGIN").await.is_ok());
        drop(again);
        assert_eq!(pool.state(), (0, 0));
        let mut fresh = pool.acquire().await.expect("a connection");
        assert_ne!(backend_pid(&mut fresh).await, pid);
        fresh.release();
        pool.close().await;
    }

    #[tokio::test]
    #[cfg_attr(
        not(roster_pg),
        ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
    )]
    async fn acquire_waits_for_a_free_connection_until_its_timeout() {
        let pool = pool(1, Duration::from_millis(200));
        let held = pool.acquire().await.expect("a connection");
        assert!(matches!(
            pool.acquire().await,
            Err(DbError::Unavailable(why)) if why == POOL_TIMED_OUT
        ));
        held.release();
        assert!(pool.acquire().await.is_ok());
    }

    #[tokio::test]
    #[cfg_attr(
        not(roster_pg),
        ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
    )]
    async fn a_closed_pool_hands_out_nothing_and_keeps_nothing() {
        let pool = pool(2, Duration::from_secs(5));
        let held = pool.acquire().await.expect("a connection");
        pool.close().await;
        assert!(matches!(
            pool.acquire().await,
            Err(DbError::Unavailable(why)) if why == POOL_CLOSED
        ));
        held.release();
        assert_eq!(
            pool.state().1,
            0,
            "a connection coming back after close is closed"
        );
    }
}
