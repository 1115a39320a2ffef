//! Lists at scale: 10⁵ rows, a page deep in the list answers correctly, found by the list's
//! page marks rather than by walking the rows before it.

use crate::support::*;

const ROWS: i64 = 100_000;

fn fixture(backend: Backend) -> String {
    let cols = "id, user_name, mobile, name, pwd_must_modify, disabled, locked, grade, created_at, updated_at";
    match backend {
        Backend::Sqlite => format!(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {ROWS}) \
             INSERT INTO users ({cols}) SELECT printf('20200101000000000-0000-%09X', n), \
             'bulk' || n, '1' || printf('%010d', n), 'bulk' || n, TRUE, FALSE, FALSE, 0, n, n FROM seq"
        ),
        Backend::Postgres => format!(
            "INSERT INTO users ({cols}) SELECT '20200101000000000-0000-' || lpad(upper(to_hex(n)), 9, '0'), \
             'bulk' || n, '1' || lpad(n::text, 10, '0'), 'bulk' || n, TRUE, FALSE, FALSE, 0, n, n \
             FROM generate_series(1, {ROWS}) n"
        ),
    }
}

#[on_each_store]
async fn deep_pages_of_a_large_list(backend: Backend) {
    let db = TestDb::fresh(backend).await;
    // Migrate first by starting once, then load the rows directly (fast), then serve.
    let server = Server::start_on(db, Options::default()).await;
    let db = server.stop().await;
    db.exec(&fixture(backend)).await;
    // Rows written behind Roster's back: its page marks must be counted again.
    let mut reindex = tokio::process::Command::new(roster_bin());
    base_env(&mut reindex);
    let out = reindex
        .args(["reindex", "--database", &db.url])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["disagreements"].as_u64().unwrap() > 0, "{report}");
    let mut server = Server::start_on(db, Options::default()).await;
    let token = server.admin().await;
    let (status, first) = server.get(&token, "/users?offset=0&limit=100").await;
    assert_eq!(status, 200);
    assert_eq!(first["total"], ROWS);
    assert_eq!(first["users"][0]["user_name"], "bulk1");
    let last_page = ROWS / 100 - 1;
    let (status, deep) = server
        .get(&token, &format!("/users?offset={last_page}&limit=100"))
        .await;
    assert_eq!(status, 200);
    let users = deep["users"].as_array().unwrap();
    assert_eq!(users.len(), 100);
    assert_eq!(users[0]["user_name"], format!("bulk{}", ROWS - 99));
    assert_eq!(users[99]["user_name"], format!("bulk{ROWS}"));
    let (_, past) = server
        .get(
            &token,
            &format!("/users?offset={}&limit=100", last_page + 1),
        )
        .await;
    assert_eq!(
        (
            past["total"].as_i64(),
            past["users"].as_array().map(Vec::len)
        ),
        (Some(ROWS), Some(0))
    );
}
