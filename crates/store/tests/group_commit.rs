//! Group commit: a failing job in a batch is undone alone, with every write it made; the
//! others in the same batch are committed.
// clippy.toml lets #[test] functions unwrap; the helpers of a test crate need this too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use roster_domain::audit::AuditRecord;
use roster_domain::{Error, ErrorKind};
use roster_store::{PgStoreOptions, Store};
use std::sync::Arc;

fn record(target: String) -> AuditRecord {
    AuditRecord {
        count: 1,
        at: 0,
        actor: "test".into(),
        operation: "Test",
        target_type: "test",
        target_id: target,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_is_undone_alone() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store: Arc<dyn Store> = roster_store::open(&url, PgStoreOptions::default())
        .await
        .unwrap();
    let jobs = (0..200).map(|n| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .write(move |tx| {
                    Box::pin(async move {
                        tx.insert_audit(&record(format!("first-{n}"))).await?;
                        tx.insert_audit(&record(format!("second-{n}"))).await?;
                        if n % 3 == 0 {
                            return Err(Error::new(ErrorKind::InvalidParameter));
                        }
                        Ok(n)
                    })
                })
                .await
        })
    });
    let results = futures::future::join_all(jobs).await;
    for (n, r) in results.into_iter().enumerate() {
        assert_eq!(r.unwrap().is_ok(), n % 3 != 0);
    }
    let page = store
        .read(|tx| {
            Box::pin(async move {
                tx.list_audit(
                    &Default::default(),
                    roster_domain::page::PageRequest::new(Some(0), Some(100)).unwrap(),
                )
                .await
            })
        })
        .await
        .unwrap();
    // 133 jobs succeeded (n % 3 != 0 for n in 0..200), two records each.
    assert_eq!(page.total, 266);
    let all: Vec<String> = {
        let mut ids = Vec::new();
        for p in 0..3 {
            let page = store
                .read(move |tx| {
                    Box::pin(async move {
                        tx.list_audit(
                            &Default::default(),
                            roster_domain::page::PageRequest::new(Some(p), Some(100)).unwrap(),
                        )
                        .await
                    })
                })
                .await
                .unwrap();
            ids.extend(page.items.into_iter().map(|e| e.target_id));
        }
        ids
    };
    for id in &all {
        let n: usize = id.rsplit('-').next().unwrap().parse().unwrap();
        assert_ne!(n % 3, 0, "a failed job's write survived: {id}");
    }
    store.close().await;
}
