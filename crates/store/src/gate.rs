//! A request's write gate: the answer "timed out" must mean "nothing was written". The HTTP
//! layer runs each request inside a gate; a write marks it started just before the store
//! begins it, and a timeout cancels it only if no write has started. A cancelled request's
//! queued writes are skipped; a started one is waited for and answered normally.

use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

const OPEN: u8 = 0;
const STARTED: u8 = 1;
const CANCELLED: u8 = 2;

tokio::task_local! {
    static GATE: WriteGate;
}

#[derive(Debug, Clone, Default)]
pub struct WriteGate(Arc<AtomicU8>);

impl WriteGate {
    /// Runs `request` inside this gate.
    pub async fn scope<F: Future>(self, request: F) -> F::Output {
        GATE.scope(self, request).await
    }

    /// Cancels the request unless one of its writes has started; says whether it did.
    pub fn cancel(&self) -> bool {
        match self
            .0
            .compare_exchange(OPEN, CANCELLED, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => true,
            Err(state) => state == CANCELLED,
        }
    }

    /// Marks a write as started; `false` if the request was cancelled (skip the write).
    pub(crate) fn start(&self) -> bool {
        match self
            .0
            .compare_exchange(OPEN, STARTED, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => true,
            Err(state) => state == STARTED,
        }
    }

    /// The gate of the request this task serves, if any (admin commands have none).
    pub(crate) fn current() -> Option<WriteGate> {
        GATE.try_with(WriteGate::clone).ok()
    }
}

/// Whether a write may begin: outside any request, or in one not cancelled.
pub(crate) fn may_start(gate: Option<&WriteGate>) -> roster_domain::Result<()> {
    match gate {
        Some(g) if !g.start() => Err(roster_domain::ErrorKind::RequestTimeout.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_started_write_cannot_be_cancelled_and_a_cancelled_one_cannot_start() {
        let started = WriteGate::default();
        assert!(started.start());
        assert!(started.start(), "a second write of the same request");
        assert!(!started.cancel());
        let cancelled = WriteGate::default();
        assert!(cancelled.cancel());
        assert!(cancelled.cancel());
        assert!(!cancelled.start());
    }
}
