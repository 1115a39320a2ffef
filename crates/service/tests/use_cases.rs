//! The use cases against an in-process store, without HTTP: logic that decides by time or by
//! transaction, checked where it lives. Each test runs on SQLite and on PostgreSQL, with a
//! clock the test moves instead of sleeping.
// clippy.toml lets #[test] functions unwrap; the helpers of a test crate need this too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support {
    /// The store a test runs on (`#[on_each_store]` names it).
    #[derive(Debug, Clone, Copy)]
    pub enum Backend {
        Sqlite,
        Postgres,
    }
}

use roster_domain::audit::{AuditEntry, AuditFilter};
use roster_domain::page::PageRequest;
use roster_domain::time::ManualClock;
use roster_domain::ErrorKind;
use roster_service::{Caller, Service, Settings};
use roster_store::testing::TestDatabase;
use roster_store::{PgStoreOptions, Store};
use roster_test_macros::on_each_store;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use support::Backend;

const CLIENT_ID: &str = "use-case-client";
const CLIENT_SECRET: &str = "use-case-secret-0123456789";
const DAY: Duration = Duration::from_secs(86_400);

/// A service on a fresh database, its clock, and what to close afterwards.
struct Fixture {
    service: Service,
    clock: Arc<ManualClock>,
    store: Arc<dyn Store>,
    db: TestDatabase,
}

async fn fixture(backend: Backend, settings: Settings) -> Fixture {
    let db = match backend {
        Backend::Sqlite => TestDatabase::sqlite().unwrap(),
        Backend::Postgres => TestDatabase::postgres().await.unwrap(),
    };
    let store = roster_store::open(&db.url, PgStoreOptions::default())
        .await
        .unwrap();
    let clock = Arc::new(ManualClock::at(1_800_000_000_000));
    let service = Service::with_clock(store.clone(), settings, clock.clone()).unwrap();
    Fixture {
        service,
        clock,
        store,
        db,
    }
}

impl Fixture {
    async fn finish(self) {
        self.store.close().await;
        self.db.remove().await.unwrap();
    }

    async fn audit(&self) -> Vec<AuditEntry> {
        let page = PageRequest::new(None, Some(100)).unwrap();
        self.service
            .list_audit(&Caller::operator(), AuditFilter::default(), page)
            .await
            .unwrap()
            .items
    }

    async fn create_org(&self, code: &str) -> String {
        let fields = serde_json::from_value(json!({"code": code, "name": code})).unwrap();
        self.service
            .create_organization(&Caller::operator(), fields)
            .await
            .unwrap()
    }
}

#[on_each_store]
async fn a_token_expires_when_the_clock_passes_its_lifetime(backend: Backend) {
    let f = fixture(backend, Settings::default()).await;
    let ttl = f.service.settings().token_ttl;
    f.service
        .bootstrap_application(CLIENT_ID, CLIENT_SECRET)
        .await
        .unwrap();
    let issued = f
        .service
        .issue_token(
            Some("client_credentials"),
            Some(CLIENT_ID),
            Some(CLIENT_SECRET),
            None,
        )
        .await
        .unwrap();
    assert_eq!(issued.expires_in, ttl.as_secs());
    f.service.authenticate(&issued.access_token).await.unwrap();

    // Checked again from the node's cache: still valid a second before the end…
    f.clock.advance(ttl - Duration::from_secs(1));
    f.service.authenticate(&issued.access_token).await.unwrap();
    // …and expired at its end, whatever the cache remembers.
    f.clock.advance(Duration::from_secs(1));
    let expired = f
        .service
        .authenticate(&issued.access_token)
        .await
        .unwrap_err();
    assert_eq!(expired.kind(), ErrorKind::TokenExpired);
    f.finish().await;
}

#[on_each_store]
async fn a_refused_change_leaves_neither_rows_nor_audit_records(backend: Backend) {
    let f = fixture(backend, Settings::default()).await;
    f.create_org("HQ").await;
    let user = |name: &str, mobile: &str| {
        serde_json::from_value(json!({"user_name": name, "mobile": mobile, "name": name})).unwrap()
    };
    let caller = Caller::operator();
    f.service
        .create_user(&caller, user("ann", "13800000001"))
        .await
        .unwrap();
    // The same name folded: refused by the database's unique index inside the transaction.
    let taken = f
        .service
        .create_user(&caller, user("ANN", "13800000002"))
        .await
        .unwrap_err();
    assert_eq!(taken.kind(), ErrorKind::UserNameExists);
    let operations: Vec<String> = f.audit().await.into_iter().map(|e| e.operation).collect();
    assert_eq!(
        operations.iter().filter(|o| *o == "CreateUser").count(),
        1,
        "{operations:?}"
    );
    let page = PageRequest::new(None, None).unwrap();
    let users = f
        .service
        .list_users(&caller, None, None, page)
        .await
        .unwrap();
    assert_eq!(users.total, 1);
    f.finish().await;
}

#[on_each_store]
async fn audit_records_go_when_the_clock_passes_the_retention(backend: Backend) {
    let settings = Settings {
        audit_retention: Some(10 * DAY),
        ..Settings::default()
    };
    let f = fixture(backend, settings).await;
    f.create_org("A").await;
    f.create_org("B").await;
    assert_eq!(
        f.service.trim_audit_log().await.unwrap(),
        0,
        "nothing is old"
    );

    f.clock.advance(10 * DAY + Duration::from_secs(1));
    let c = f.create_org("C").await;
    assert_eq!(f.service.trim_audit_log().await.unwrap(), 2);
    let left: Vec<String> = f.audit().await.into_iter().map(|e| e.target_id).collect();
    assert_eq!(left, vec![c], "only the record of C is young enough");
    f.finish().await;
}
