//! `roster import users`: validated like CreateUser, all or nothing.

use crate::support::*;

async fn import(db: &TestDb, lines: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.jsonl");
    std::fs::write(&file, lines).unwrap();
    tokio::process::Command::new(roster_bin())
        .args(["import", "users", "--database", &db.url])
        .arg(&file)
        .output()
        .await
        .unwrap()
}

on_each_store! {
    async fn imports_all_or_nothing(backend: Backend) {
        let server = Server::start(backend).await;
        let db = server.stop().await;
        let good = "{\"user_name\":\"a\",\"mobile\":\"13800000001\"}\n\n{\"user_name\":\"b\",\"mobile\":\"13800000002\",\"extension\":{\"k\":1}}\n";
        let out = import(&db, good).await;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), r#"{"imported":2}"#);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM users").await, 2);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM audit_log WHERE operation = 'ImportUser' AND actor = 'roster-cli'").await, 2);

        let cases = [
            ("{\"user_name\":\"c\",\"mobile\":\"13800000003\"}\n{\"user_name\":\"d\"}\n", "line 2"),
            ("{\"user_name\":\"c\",\"mobile\":\"13800000003\"}\nnot json\n", "line 2"),
            ("{\"user_name\":\"c\",\"mobile\":\"13800000003\"}\n{\"user_name\":\"c\",\"mobile\":\"13800000004\"}\n", "Username already exists"),
            ("{\"user_name\":\"a\",\"mobile\":\"13800000009\"}\n", "Username already exists"),
            ("{\"user_name\":\"e\",\"mobile\":\"13800000005\",\"org_code\":\"nowhere\"}\n", "line 1"),
        ];
        for (lines, says) in cases {
            let out = import(&db, lines).await;
            assert!(!out.status.success());
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("nothing imported") && err.contains(says), "{err}");
            assert_eq!(db.scalar("SELECT COUNT(*) FROM users").await, 2, "nothing written for {lines}");
        }
    }
}
