//! The `roster` command line: `app create`, and configuration layering.

use crate::support::*;
use tokio::process::Command;

#[on_each_store]
async fn app_create_works_beside_a_running_server(backend: Backend) {
    let server = Server::start(backend).await;
    let app = server.create_app(&["user_all", "app_read"]).await;
    assert!(is_id(&serde_json::json!(app.application_id)));
    assert_eq!(app.client_id.len(), 32);
    assert!(app.client_secret.len() >= 32);
    let (status, body) = server
        .token_call(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "user_all app_read");
    // The secret is stored only as a hash.
    let stored = server
        .db
        .scalar(&format!(
            "SELECT COUNT(*) FROM applications WHERE secret_digest LIKE '%{}%'",
            app.client_secret
        ))
        .await;
    assert_eq!(stored, 0);
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

#[on_each_store]
async fn app_commands_manage_applications(backend: Backend) {
    let server = Server::start(backend).await;
    let url = server.db.url.clone();
    let db = ["--database", url.as_str()];
    let app = server.create_app(&["user_read"]).await;
    let id = app.application_id.as_str();
    let token = server.token_for(&app.client_id, &app.client_secret).await;

    let (ok, listed, err) = roster(&[&["app", "list"][..], &db].concat()).await;
    assert!(ok, "{err}");
    assert_eq!(listed["total"], 2, "{listed}");
    let (ok, shown, _) = roster(&[&["app", "show", id][..], &db].concat()).await;
    assert!(ok);
    assert_eq!(
        (
            shown["client_id"].as_str(),
            shown["api_permissions"].clone()
        ),
        (
            Some(app.client_id.as_str()),
            serde_json::json!(["user_read"])
        )
    );
    assert!(
        shown.get("client_secret").is_none() && !shown.to_string().contains(&app.client_secret)
    );

    let (ok, changed, _) = roster(
        &[
            &[
                "app",
                "set-permissions",
                id,
                "--api-permission",
                "user_all",
                "--api-permission",
                "org_read",
            ][..],
            &db,
        ]
        .concat(),
    )
    .await;
    assert!(ok);
    assert_eq!(
        changed["api_permissions"],
        serde_json::json!(["user_all", "org_read"])
    );

    let (ok, answer, _) = roster(&[&["app", "disable", id][..], &db].concat()).await;
    assert!(ok);
    assert_eq!(answer, serde_json::json!({"application_id": id}));
    let refused = server
        .token_call(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
        ])
        .await;
    assert_error(&refused, 400, "APP.0003");
    assert!(roster(&[&["app", "enable", id][..], &db].concat()).await.0);

    let (ok, rotated, _) = roster(&[&["app", "rotate-secret", id][..], &db].concat()).await;
    assert!(ok);
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, app.client_secret);
    assert_error(
        &server
            .token_call(&[
                ("grant_type", "client_credentials"),
                ("client_id", &app.client_id),
                ("client_secret", &app.client_secret),
            ])
            .await,
        400,
        "TOKEN.0002",
    );
    let fresh = server.token_for(&app.client_id, new_secret).await;
    assert_eq!(server.get(&fresh, "/users?offset=0&limit=10").await.0, 200);
    let _ = token;

    // Unknown ids and names taken: the catalog's errors, with their codes.
    let (ok, _, err) = roster(
        &[
            &["app", "show", "20210621095931341-4CB3-122995DE2"][..],
            &db,
        ]
        .concat(),
    )
    .await;
    assert!(!ok && err.contains("APP.0001"), "{err}");
    let name = listed["applications"][1]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let (ok, out, err) = roster(
        &[
            &[
                "app",
                "create",
                "--name",
                name.as_str(),
                "--api-permission",
                "all",
            ][..],
            &db,
        ]
        .concat(),
    )
    .await;
    assert!(!ok && err.contains("APP.0005"), "{err}");
    assert_eq!(out, serde_json::json!(""), "nothing printed on failure");
    let mut server = server;
    let admin = server.admin().await;
    let res = server
        .http
        .post(format!("{}/roster/v1/applications", server.base))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"name": name, "api_permissions": ["all"]}))
        .send()
        .await
        .unwrap();
    assert_error(&read(res).await, 400, "APP.0005");
}

#[tokio::test]
async fn admin_commands_never_create_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere").join("roster.db");
    let url = format!("sqlite://{}", missing.display());
    for args in [
        vec!["app", "create", "--name", "x", "--api-permission", "all"],
        vec!["app", "list"],
        vec!["audit", "list"],
        vec!["reindex"],
    ] {
        let (ok, out, err) = roster(&[&args[..], &["--database", url.as_str()]].concat()).await;
        assert!(!ok, "{args:?} succeeded: {out}");
        assert!(
            err.contains(&format!("no database at {}", missing.display())),
            "{err}"
        );
        assert!(err.contains("roster serve"), "{err}");
    }
    assert!(!missing.parent().unwrap().exists(), "nothing was created");
    // The default path is relative: the message says where it looked.
    let out = Command::new(roster_bin())
        .args(["app", "list"])
        .current_dir(dir.path())
        .env_remove("ROSTER_DATABASE")
        .env_remove("ROSTER_CONFIG")
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(
            &dir.path()
                .join("roster-data/roster.db")
                .display()
                .to_string()
        ),
        "{err}"
    );
}

#[cfg_attr(
    not(roster_pg),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
)]
#[tokio::test]
async fn admin_commands_refuse_a_postgres_database_without_roster() {
    let db = TestDb::fresh(Backend::Postgres).await;
    let (ok, _, err) = roster(&["app", "list", "--database", &db.url]).await;
    assert!(!ok && err.contains("has no Roster tables"), "{err}");
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'")
            .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_say_which_database_they_opened() {
    let server = Server::start(Backend::Sqlite).await;
    let (ok, _, err) = roster(&["app", "list", "--database", &server.db.url]).await;
    assert!(ok, "{err}");
    let path = server.db.sqlite_path().unwrap();
    assert!(
        err.contains(&format!("database {} ({})", server.db.url, path.display())),
        "{err}"
    );
}

#[tokio::test]
async fn help_shows_defaults_secrets_and_permission_codes() {
    let (ok, help, _) = roster(&["serve", "--help"]).await;
    assert!(ok);
    let help = help.as_str().unwrap().to_owned();
    for needle in [
        "Default: 127.0.0.1:8080",
        "Default: sqlite://roster-data/roster.db",
        "Default: 1800",
        "ROSTER_SECRET_KEY_FILE",
        "ROSTER_BOOTSTRAP_CLIENT_SECRET_FILE",
    ] {
        assert!(help.contains(needle), "serve --help lacks {needle}");
    }
    let (ok, help, _) = roster(&["app", "create", "--help"]).await;
    assert!(ok);
    for permission in roster_domain::permission::Permission::ALL {
        assert!(
            help.as_str().unwrap().contains(permission.code()),
            "app create --help lacks {}",
            permission.code()
        );
    }
}

#[tokio::test]
async fn printing_to_a_closed_pipe_is_quiet() {
    let mut child = Command::new(roster_bin())
        .arg("openapi")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read one byte, then hang up, as `roster openapi | head -c 1` does.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    tokio::io::AsyncReadExt::read_exact(&mut stdout, &mut first)
        .await
        .unwrap();
    drop(stdout);
    let out = child.wait_with_output().await.unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "{:?} {err}", out.status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listens_on_a_host_name_and_logs_without_colours_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let server = Server::start_with(
        Backend::Sqlite,
        Options {
            args: &["--listen", "localhost:0"],
            env: &[("ROSTER_LOG", "info")],
            log_file: Some(&log),
            ..Default::default()
        },
    )
    .await;
    server.token_for(ADMIN_ID, ADMIN_SECRET).await;
    server.stop().await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("roster is serving"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "escape codes in a log file: {text}"
    );
}

#[tokio::test]
async fn database_errors_at_start_say_what_is_wrong() {
    // Nothing listens on port 1.
    let out = Command::new(roster_bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            "postgres://postgres@127.0.0.1:1/roster",
        ])
        .env("ROSTER_SECRET_KEY", TEST_SECRET_KEY)
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("cannot connect to PostgreSQL at 127.0.0.1:1") && err.contains("refused"),
        "{err}"
    );
    assert!(!err.contains("temporarily unavailable"), "{err}");
    // A folder that cannot be made (a file stands where it should be).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("blocker"), "").unwrap();
    let url = format!("sqlite://{}/blocker/sub/roster.db", dir.path().display());
    let out = Command::new(roster_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &url])
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("cannot create the database folder"), "{err}");
}

/// Shell completions and the manual page come from the CLI definition itself.
#[tokio::test]
async fn completions_and_manual_page() {
    for shell in ["bash", "zsh", "fish"] {
        let (ok, script, err) = roster(&["completions", shell]).await;
        let script = script.as_str().unwrap_or_default().to_owned();
        assert!(ok, "{err}");
        for word in ["serve", "backup", "rotate-secret"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    // A bash completion script bash accepts.
    let (_, script, _) = roster(&["completions", "bash"]).await;
    let status = std::process::Command::new("bash")
        .args(["-n", "-c", script.as_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let (ok, page, _) = roster(&["man"]).await;
    let page = page.as_str().unwrap_or_default();
    assert!(
        ok && page.contains(".TH roster 1") && page.contains("serve"),
        "{page}"
    );
    // The whole page: every command with its options, the environment, the files; and no
    // other page named (none is shipped).
    for part in [
        ".SS \"roster serve\"",
        ".SS \"roster app create\"",
        ".SS \"roster keys rotate\"",
        "\\-\\-sign\\-in\\-rate\\-per\\-address",
        ".SH ENVIRONMENT",
        "ROSTER_METRICS_TOKEN",
        "ROSTER_SECRET_KEY",
        "ROSTER_LISTEN",
        ".SH FILES",
        "roster.key",
    ] {
        assert!(page.contains(part), "the manual page lacks {part}");
    }
    assert!(
        !page.contains("roster\\-serve(1)"),
        "names a page not shipped"
    );
}

/// Errors of commands speak of what the operator gave: no "Request body is not valid." (a
/// command has no request body), said once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_errors_name_the_line_and_nothing_else() {
    let server = Server::start(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.jsonl");
    std::fs::write(&file, "not json\n").unwrap();
    let existing = server.db.url.clone();
    let fresh = format!("sqlite://{}/new/roster.db", dir.path().display());
    for (kind, url) in [("users", existing), ("all", fresh)] {
        let (ok, _, err) =
            roster(&["import", kind, "--database", &url, file.to_str().unwrap()]).await;
        assert!(!ok);
        assert!(err.contains("line 1: expected"), "{err}");
        assert!(!err.contains("Request body"), "{err}");
    }
}
