//! Databases written by an earlier Roster are carried forward when a newer one opens them:
//! migration 0003 turns the `user_org_relation_list` kept as sent into secondary relations,
//! and makes duplicate application names unique.
// clippy.toml lets #[test] functions unwrap; the helpers of a test crate need this too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use roster_domain::id::Id;
use roster_store::{PgStoreOptions, Store};
use std::sync::Arc;

const HOME: &str = "20200101000000000-0000-00000000H";
const OTHER: &str = "20200101000000000-0000-00000000O";
const GONE: &str = "20200101000000000-0000-00000000G";

/// Rows as a Roster with only the first two migrations wrote them.
const BEFORE: &str = "
    INSERT INTO organizations (id, code, name, parent_id, category, created_at, updated_at, parent_key)
    VALUES ('20200101000000000-0000-00000000H', 'home', 'Home', NULL, 'department', 1, 1, ''),
           ('20200101000000000-0000-00000000O', 'other', 'Other', NULL, 'department', 1, 1, '');
    INSERT INTO users (id, org_id, user_name, mobile, name, pwd_must_modify, org_relations, created_at, updated_at)
    VALUES ('20200101000000000-0000-000000001', '20200101000000000-0000-00000000H', 'a', '1', 'a', FALSE,
            '[{\"org_id\":\"20200101000000000-0000-00000000H\",\"relation_type\":\"0\"},{\"org_id\":\"20200101000000000-0000-00000000O\",\"relation_type\":\"1\"},{\"org_id\":\"20200101000000000-0000-00000000G\"},7]', 1, 1),
           ('20200101000000000-0000-000000002', NULL, 'b', '2', 'b', FALSE, '{\"not\":\"a list\"}', 1, 1),
           ('20200101000000000-0000-000000003', NULL, 'Admin', '13800000001', 'x', FALSE, NULL, 1, 1),
           ('20200101000000000-0000-000000004', NULL, 'admin', '138-0000-0001', 'x', FALSE, NULL, 1, 1);
    INSERT INTO applications (id, name, client_id, secret_digest, permissions, disabled, created_at, updated_at)
    VALUES ('20200101000000000-0000-000000A01', 'crm', 'c1', 'x', 'all', FALSE, 1, 1),
           ('20200101000000000-0000-000000A02', 'crm', 'c2', 'x', 'all', FALSE, 2, 2);
";

async fn check(store: Arc<dyn Store>) {
    // Look-alikes from before: the earlier keeps the name and number, the later is left for
    // an operator to rename, and a new look-alike is refused.
    let found = store
        .read(|tx| Box::pin(async move { tx.user_by_name("ADMIN").await }))
        .await
        .unwrap();
    assert_eq!(
        found.map(|u| u.id),
        Some(Id::new("20200101000000000-0000-000000003"))
    );
    let mut newcomer = store
        .read(|tx| {
            Box::pin(async move { tx.user(&Id::new("20200101000000000-0000-000000004")).await })
        })
        .await
        .unwrap()
        .unwrap();
    newcomer.id = Id::new("20200101000000000-0000-000000005");
    newcomer.user_name = "ADMIN".into();
    newcomer.mobile = "13900000000".into();
    let refused = store
        .write(move |tx| Box::pin(async move { tx.insert_user(&newcomer).await }))
        .await;
    assert_eq!(
        refused.err().map(|e| e.kind()),
        Some(roster_domain::ErrorKind::UserNameExists)
    );
    let (first, second, apps) = store
        .read(|tx| {
            Box::pin(async move {
                let secondary = |u: Option<roster_domain::user::User>| {
                    u.map(|u| u.secondary_org_ids).unwrap_or_default()
                };
                let first = secondary(
                    tx.user(&Id::new("20200101000000000-0000-000000001"))
                        .await?,
                );
                let second = secondary(
                    tx.user(&Id::new("20200101000000000-0000-000000002"))
                        .await?,
                );
                let apps = tx
                    .list_applications(roster_domain::page::PageRequest::new(None, None)?)
                    .await?;
                Ok((first, second, apps))
            })
        })
        .await
        .unwrap();
    // The other existing organization stays; the home one, a deleted one and junk do not.
    assert_eq!(first, vec![OTHER.to_owned()]);
    assert!(!first.iter().any(|o| o == HOME || o == GONE));
    assert!(second.is_empty());
    let names: Vec<_> = apps.items.iter().map(|a| a.name.clone()).collect();
    assert_eq!(names, ["crm", "crm 20200101000000000-0000-000000A02"]);
    store.close().await;
}

fn migrations(dir: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_relations_and_names_are_carried_forward() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        let mut before = sqlx::migrate::Migrator::new(migrations("migrations/sqlite"))
            .await
            .unwrap();
        before.migrations = before.migrations.iter().take(2).cloned().collect();
        before.run(&mut conn).await.unwrap();
        sqlx::raw_sql(BEFORE).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    }
    let url = format!("sqlite://{}", path.display());
    check(
        roster_store::open(&url, PgStoreOptions::default())
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(roster_pg),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
)]
async fn postgres_relations_and_names_are_carried_forward() {
    use sqlx::Connection;
    let admin = std::env::var("ROSTER_TEST_POSTGRES_URL").unwrap();
    let name = format!("roster_upgrade_{:016x}", rand::random::<u64>());
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let url = format!("{}/{name}", admin.rsplit_once('/').map(|(b, _)| b).unwrap());
    {
        let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
        let mut before = sqlx::migrate::Migrator::new(migrations("migrations/postgres"))
            .await
            .unwrap();
        before.migrations = before.migrations.iter().take(2).cloned().collect();
        before.run(&mut db).await.unwrap();
        sqlx::raw_sql(BEFORE).execute(&mut db).await.unwrap();
        db.close().await.unwrap();
    }
    check(
        roster_store::open(&url, PgStoreOptions::default())
            .await
            .unwrap(),
    )
    .await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
}
