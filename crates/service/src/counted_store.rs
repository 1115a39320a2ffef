//! The store, counting the writes this node commits and the changes it heard other nodes
//! announce. A cache of what was read (the claims userinfo answers) keeps an entry only while
//! neither moved since it was read, so a change is seen by the next request to this node,
//! made here or on another node (as soon as PostgreSQL delivered its announcement).

use async_trait::async_trait;
use roster_domain::test_mode::SnapshotName;
use roster_domain::Result;
use roster_store::{Appended, Job, Store};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub(crate) struct CountedStore {
    inner: Arc<dyn Store>,
    writes: AtomicU64,
}

impl CountedStore {
    pub(crate) fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            writes: AtomicU64::new(0),
        }
    }

    /// A number that moves with every write that ended (committed or not) on this node and
    /// every change other nodes announced; while other nodes cannot be heard, a new one each
    /// time (nothing read may be kept).
    pub(crate) fn writes(&self) -> u64 {
        match self.inner.changes_heard() {
            Some(heard) => self.writes.load(Ordering::SeqCst).wrapping_add(heard),
            None => self.writes.fetch_add(1, Ordering::SeqCst).wrapping_add(1),
        }
    }

    fn ended(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl Store for CountedStore {
    async fn append(&self, rows: Vec<Appended>) -> Result<()> {
        let outcome = self.inner.append(rows).await;
        self.ended();
        outcome
    }

    async fn run_write(&self, job: Job) -> Result<()> {
        let outcome = self.inner.run_write(job).await;
        self.ended();
        outcome
    }

    async fn run_read(&self, job: Job) -> Result<()> {
        self.inner.run_read(job).await
    }

    async fn run_snapshot(&self, job: Job) -> Result<()> {
        self.inner.run_snapshot(job).await
    }

    async fn ping(&self) -> Result<()> {
        self.inner.ping().await
    }

    fn last_write_failure(&self) -> Option<String> {
        self.inner.last_write_failure()
    }

    async fn close(&self) {
        self.inner.close().await;
    }

    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn take_snapshot(&self, name: &SnapshotName) -> Result<()> {
        self.inner.take_snapshot(name).await
    }

    async fn restore_snapshot(&self, name: &SnapshotName) -> Result<()> {
        let outcome = self.inner.restore_snapshot(name).await;
        // Every table changed: nothing read before may be kept.
        self.ended();
        outcome
    }

    async fn snapshot_names(&self) -> Result<Vec<String>> {
        self.inner.snapshot_names().await
    }

    async fn delete_snapshot(&self, name: &SnapshotName) -> Result<()> {
        self.inner.delete_snapshot(name).await
    }

    fn pool_state(&self) -> Option<(u32, usize)> {
        self.inner.pool_state()
    }

    fn changes_heard(&self) -> Option<u64> {
        self.inner.changes_heard()
    }
}
