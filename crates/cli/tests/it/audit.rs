//! The audit log, readable over HTTP (Roster extension) and from the command line.

use crate::support::*;
use serde_json::{json, Value};

async fn audit(server: &Server, token: &str, query: &str) -> (u16, Value) {
    let res = server
        .http
        .get(format!("{}/roster/v1/audit?{query}", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    read(res).await
}

#[on_each_store]
async fn audit_records_by_actor_target_and_time(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.app_id().await;
    let user = server.create_user("zhangsan").await;
    let account = server.authorize(&user, &app).await;
    server
        .put(
            &token,
            &format!("/applications/{app}/accounts/{account}"),
            json!({"name": "n"}),
        )
        .await;

    let (status, all) = audit(
        &server,
        &token,
        &format!("actor={ADMIN_ID}&offset=0&limit=100"),
    )
    .await;
    assert_eq!(status, 200, "{all}");
    let ops: Vec<&str> = all["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops,
        ["UpdateAppAccount", "CreateAppAccountForUser", "CreateUser"],
        "newest first"
    );
    assert_eq!(all["total"], 3);
    let first = &all["records"][0];
    assert_eq!(
        (
            first["actor"].as_str(),
            first["target_id"].as_str(),
            first["target_type"].as_str()
        ),
        (Some(ADMIN_ID), Some(account.as_str()), Some("app_account"))
    );
    assert_eq!(first["at"].as_str().map(str::len), Some(23));

    let (_, about) = audit(&server, &token, &format!("target_id={account}")).await;
    assert_eq!(about["total"], 2);
    let (_, page) = audit(
        &server,
        &token,
        &format!("actor={ADMIN_ID}&offset=1&limit=2"),
    )
    .await;
    assert_eq!(page["records"].as_array().unwrap().len(), 1);
    let (_, future) = audit(&server, &token, "from=2999-01-01").await;
    assert_eq!(future["total"], 0);
    let (_, past) = audit(&server, &token, "to=2000-01-01T00:00:00Z").await;
    assert_eq!(past["total"], 0);
    let (_, now) = audit(
        &server,
        &token,
        &format!("actor={ADMIN_ID}&from=2020-01-01 00:00:00.000&to=2999-01-01"),
    )
    .await;
    assert_eq!(now["total"], 3);
    assert_error(
        &audit(&server, &token, "from=yesterday").await,
        400,
        "PARAM.0001",
    );

    // The command line reads the same log.
    let out = tokio::process::Command::new(roster_bin())
        .args([
            "audit",
            "list",
            "--database",
            &server.db.url,
            "--target-id",
            &account,
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed, about);
}

/// Records past the retention period are deleted (in batches); newer ones stay.
mod retention {
    use crate::support::*;

    #[on_each_store]
    async fn old_records_are_trimmed(backend: Backend) {
        let mut server = Server::start(backend).await;
        server.create_user("kept").await;
        let db = server.stop().await;
        let day = 86_400_000i64;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        // 12,000 records 500 days old (more than one batch), 10 that are 300 days old.
        let old = now - 500 * day;
        db.exec(&records(12_000, old, "old")).await;
        let recent = now - 300 * day;
        db.exec(&records(10, recent, "recent")).await;
        let before = db.scalar("SELECT COUNT(*) FROM audit_log").await;
        let (ok, out, err) = roster(&["audit", "trim", "--database", &db.url]).await;
        assert!(ok, "{err}");
        assert_eq!(out["deleted"], 12_000, "{out}");
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM audit_log").await,
            before - 12_000
        );
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM audit_log WHERE actor = 'old'")
                .await,
            0
        );
        // A shorter retention takes the recent ones too; 0 keeps everything.
        let (_, out, _) = roster(&[
            "audit",
            "trim",
            "--database",
            &db.url,
            "--retention-days",
            "0",
        ])
        .await;
        assert_eq!(out["deleted"], 0);
        let (_, out, _) = roster(&[
            "audit",
            "trim",
            "--database",
            &db.url,
            "--retention-days",
            "200",
        ])
        .await;
        assert_eq!(out["deleted"], 10);
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM audit_log WHERE operation = 'CreateUser'")
                .await,
            1,
            "today's record stays"
        );
    }

    /// Inserts `count` records of `actor` from time `at` on, in SQL both databases run.
    fn records(count: u32, at: i64, actor: &str) -> String {
        format!(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count}) \
             INSERT INTO audit_log (at, actor, operation, target_type, target_id, count) \
             SELECT {at} + n, '{actor}', 'CreateUser', 'user', 'x', 1 FROM s"
        )
    }
}
