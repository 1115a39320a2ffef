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

#[on_each_store]
async fn imports_all_or_nothing(backend: Backend) {
    let server = Server::start(backend).await;
    let db = server.stop().await;
    let good = "{\"user_name\":\"a\",\"mobile\":\"13800000001\"}\n\n{\"user_name\":\"b\",\"mobile\":\"13800000002\",\"extension\":{\"k\":1}}\n";
    let out = import(&db, good).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"imported":2}"#
    );
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
        assert!(
            err.contains("nothing imported") && err.contains(says),
            "{err}"
        );
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM users").await,
            2,
            "nothing written for {lines}"
        );
    }
}

/// The import hashes passwords with the configuration file's `[argon2]` settings, as the
/// server does: weak ones there are refused unless the file also allows them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_reads_argon2_from_the_config_file() {
    // Only `roster serve` creates a database.
    let db = Server::start(Backend::Sqlite).await.stop().await;
    let dir = tempfile::tempdir().unwrap();
    let lines = dir.path().join("users.jsonl");
    std::fs::write(
        &lines,
        "{\"user_name\":\"pw1\",\"mobile\":\"13800000001\",\"password\":\"Secret-pass-123\"}\n",
    )
    .unwrap();
    let config = dir.path().join("roster.toml");
    let run = |config_text: &'static str| {
        std::fs::write(&config, config_text).unwrap();
        let mut cmd = tokio::process::Command::new(roster_bin());
        cmd.args(["import", "users", "--database", &db.url, "--config"])
            .arg(&config)
            .arg(&lines);
        for var in [
            "ROSTER_ARGON2_MEMORY_KIB",
            "ROSTER_ARGON2_ITERATIONS",
            "ROSTER_ARGON2_PARALLELISM",
            "ROSTER_ARGON2_ALLOW_WEAK",
        ] {
            cmd.env_remove(var);
        }
        cmd.output()
    };
    let out = run("[argon2]\nmemory_kib = 64\niterations = 1\n")
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ROSTER_ARGON2_ALLOW_WEAK"), "{err}");
    let out = run("[argon2]\nmemory_kib = 64\niterations = 1\nallow_weak = true\n")
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"imported":1}"#
    );
}

/// Imported passwords keep the password policy stored in the database, as CreateUser's do.
#[on_each_store]
async fn imported_passwords_keep_the_password_policy(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = server.admin().await;
    let policy = serde_json::json!({"char_classes": 3});
    let (status, _) = server
        .put(&admin, "/roster/v1/password-policy", policy)
        .await;
    assert_eq!(status, 200);
    let db = server.stop().await;
    let weak = "{\"user_name\":\"w\",\"mobile\":\"13800000011\",\"password\":\"lowercase-only\"}\n";
    let out = import(&db, weak).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 1") && err.contains("char_classes"),
        "{err}"
    );
    let good = "{\"user_name\":\"g\",\"mobile\":\"13800000012\",\"password\":\"Good-pass-12\"}\n";
    let out = import(&db, good).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
