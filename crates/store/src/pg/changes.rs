//! Hearing the security changes other nodes commit. A transaction that ends a user's
//! sign-ins, revokes tokens or changes an application announces it (`pg_notify`, delivered
//! when it commits); each node keeps a connection of its own that `LISTEN`s and counts what it
//! hears. A node's caches of token checks keep an answer only while no change was heard since
//! it was read, and keep none while the connection is down (nothing can be heard then).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::{AsyncMessage, Config, NoTls};

/// The channel changes are announced on.
pub(crate) const CHANNEL: &str = "roster_changes";

/// What this node heard.
#[derive(Debug, Default)]
pub(crate) struct Heard {
    count: AtomicU64,
    listening: AtomicBool,
}

impl Heard {
    /// How many changes were heard; none while not listening.
    pub(crate) fn count(&self) -> Option<u64> {
        self.listening
            .load(Ordering::SeqCst)
            .then(|| self.count.load(Ordering::SeqCst))
    }

    fn one_more(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
    }
}

/// Listens until the task is aborted, connecting again a second after a loss.
pub(crate) fn listen(config: Config, heard: Arc<Heard>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match config.connect(NoTls).await {
                Ok((client, mut connection)) => {
                    let counting = Arc::clone(&heard);
                    let driver = tokio::spawn(async move {
                        let mut messages =
                            futures::stream::poll_fn(move |cx| connection.poll_message(cx));
                        while let Some(Ok(message)) = futures::StreamExt::next(&mut messages).await
                        {
                            if let AsyncMessage::Notification(_) = message {
                                counting.one_more();
                            }
                        }
                    });
                    if client
                        .batch_execute(&format!("LISTEN {CHANNEL}"))
                        .await
                        .is_ok()
                    {
                        // Whatever was announced while nobody listened: all of it stale.
                        heard.one_more();
                        heard.listening.store(true, Ordering::SeqCst);
                    }
                    let _ = driver.await;
                    heard.listening.store(false, Ordering::SeqCst);
                    drop(client);
                    tracing::warn!("lost the connection that hears other nodes' changes");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for other nodes' changes");
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}
