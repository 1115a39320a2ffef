//! The read connections: reads run on the caller's thread, each on a connection of its own
//! from this small pool.

use super::{connect, statement, Role};
use roster_domain::{Error, ErrorKind, Result};
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Read connections: reads run on the request's thread, so a few cover the async threads,
/// with room for snapshots (exports) that hold one for long.
const READERS: usize = 8;

/// The read connections: opened as needed, at most [`READERS`], each used by one read at a
/// time.
pub(super) struct Readers {
    path: PathBuf,
    pub(super) idle: std::sync::Mutex<Vec<Connection>>,
    pub(super) permits: Arc<Semaphore>,
}

impl Readers {
    pub(super) fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: std::sync::Mutex::new(Vec::with_capacity(READERS)),
            permits: Arc::new(Semaphore::new(READERS)),
        }
    }

    /// A connection of its own for one read, waiting while all are in use.
    pub(super) async fn acquire(self: &Arc<Self>) -> Result<Reader> {
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
pub(super) struct Reader {
    conn: Option<Connection>,
    readers: Arc<Readers>,
    _permit: OwnedSemaphorePermit,
}

impl Reader {
    pub(super) fn conn(&mut self) -> Result<&mut Connection> {
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
