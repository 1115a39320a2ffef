//! The store, counting the writes this node commits. A cache of what was read (the claims
//! userinfo answers) keeps an entry only while no write was committed here since it was
//! read, so a change made on this node is seen at once by the next request to it; other
//! nodes' changes within the cache's lifetime.

use async_trait::async_trait;
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

    /// How many writes ended (committed or not) on this node so far.
    pub(crate) fn writes(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
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

    fn pool_state(&self) -> Option<(u32, usize)> {
        self.inner.pool_state()
    }
}
