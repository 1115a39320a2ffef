//! The `roster` command line: `app create`, and configuration layering.

use crate::support::*;
use tokio::process::Command;

on_each_store! {
    async fn app_create_works_beside_a_running_server(backend: Backend) {
        let server = Server::start(backend).await;
        let app = server.create_app(&["user_all", "app_read"]).await;
        assert!(is_id(&serde_json::json!(app.application_id)));
        assert_eq!(app.client_id.len(), 32);
        assert!(app.client_secret.len() >= 32);
        let (status, body) = server
            .token_call(&[("grant_type", "client_credentials"), ("client_id", &app.client_id), ("client_secret", &app.client_secret)])
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["scope"], "user_all app_read");
        // The secret is stored only as a hash.
        let stored = server
            .db
            .scalar(&format!("SELECT COUNT(*) FROM applications WHERE secret_digest LIKE '%{}%'", app.client_secret))
            .await;
        assert_eq!(stored, 0);
    }
}

#[tokio::test]
async fn app_create_refuses_unknown_permissions() {
    let db = TestDb::fresh(Backend::Sqlite).await;
    let out = Command::new(roster_bin())
        .args([
            "app",
            "create",
            "--database",
            &db.url,
            "--name",
            "x",
            "--api-permission",
            "root",
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("root") && err.contains("user_all"), "{err}");
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn bad_database_url_is_a_clear_error() {
    let out = Command::new(roster_bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            "mysql://localhost/x",
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sqlite://") && err.contains("postgres://"),
        "{err}"
    );
}

/// Defaults < TOML file < environment < flags, seen through the token's `expires_in`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_layers() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roster.toml");
    std::fs::write(&file, "token_ttl_secs = 100\n").unwrap();
    let config = file.to_str().unwrap();
    async fn expires_in(opts: Options<'_>) -> u64 {
        let server = Server::start_with(Backend::Sqlite, opts).await;
        let (_, body) = server
            .token_call(&[
                ("grant_type", "client_credentials"),
                ("client_id", ADMIN_ID),
                ("client_secret", ADMIN_SECRET),
            ])
            .await;
        body["expires_in"].as_u64().unwrap()
    }
    assert_eq!(expires_in(Options::default()).await, 1800);
    assert_eq!(
        expires_in(Options {
            args: &["--config", config],
            env: &[],
            ..Default::default()
        })
        .await,
        100
    );
    let env = [("ROSTER_TOKEN_TTL_SECS", "200")];
    assert_eq!(
        expires_in(Options {
            args: &["--config", config],
            env: &env,
            ..Default::default()
        })
        .await,
        200
    );
    assert_eq!(
        expires_in(Options {
            args: &["--config", config, "--token-ttl-secs", "300"],
            env: &env,
            ..Default::default()
        })
        .await,
        300
    );
}

#[tokio::test]
async fn bootstrap_secret_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, "from-a-file-secret-123456\n").unwrap();
    let server = Server::start_with(
        Backend::Sqlite,
        Options {
            env: &[
                ("ROSTER_BOOTSTRAP_CLIENT_ID", "file-admin"),
                ("ROSTER_BOOTSTRAP_CLIENT_SECRET", ""),
                (
                    "ROSTER_BOOTSTRAP_CLIENT_SECRET_FILE",
                    secret_file.to_str().unwrap(),
                ),
            ],
            ..Default::default()
        },
    )
    .await;
    server
        .token_for("file-admin", "from-a-file-secret-123456")
        .await;
}

#[tokio::test]
async fn unknown_config_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roster.toml");
    std::fs::write(&file, "token_tll_secs = 100\n").unwrap();
    let out = Command::new(roster_bin())
        .args(["serve", "--config", file.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("token_tll_secs"));
}

#[tokio::test]
async fn weak_argon2_needs_the_test_setting() {
    let db = TestDb::fresh(Backend::Sqlite).await;
    let out = Command::new(roster_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &db.url])
        .env("ROSTER_ARGON2_MEMORY_KIB", "64")
        .env_remove("ROSTER_ARGON2_ALLOW_WEAK")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ROSTER_ARGON2_ALLOW_WEAK"));
}
