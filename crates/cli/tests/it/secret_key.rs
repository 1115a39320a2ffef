//! The secret key is checked against the database before a server or an admin command uses
//! it, and a server that cannot start creates nothing (issue #25, points 14 and 15).

use crate::support::*;
use std::process::Stdio;
use tokio::process::Command;

/// `roster ARGS` with the test environment less the secret key, plus `env`: whether it
/// succeeded, and its standard error.
async fn run(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(roster_bin());
    base_env(&mut cmd);
    cmd.env_remove("ROSTER_SECRET_KEY");
    for (name, value) in env {
        cmd.env(name, value);
    }
    // A server that starts is stopped at once (it would say "listening" first).
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd.spawn().unwrap();
    let out = tokio::time::timeout(std::time::Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("a refused start ends at once")
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A server on the embedded database `url` that finds its key only in the key file.
async fn serve_on_key_file(url: String) -> Server {
    Server::start_on(
        TestDb::borrowed(Backend::Sqlite, url),
        Options {
            unset: &["ROSTER_SECRET_KEY"],
            ..Default::default()
        },
    )
    .await
}

/// A server that started once on an embedded database (its key file made beside it).
async fn served_once(dir: &std::path::Path) -> String {
    let url = format!("sqlite://{}/roster.db", dir.display());
    let server = serve_on_key_file(url.clone()).await;
    server.stop().await;
    assert!(dir.join("roster.key").exists());
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_refuses_a_key_that_does_not_open_its_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = served_once(dir.path()).await;
    let made = std::fs::read_to_string(dir.path().join("roster.key")).unwrap();
    // Another key given: refused, naming what sealed the database.
    let other = "cd".repeat(32);
    let serve = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        url.as_str(),
    ];
    let (ok, err) = run(&serve, &[("ROSTER_SECRET_KEY", &other)]).await;
    assert!(!ok);
    assert!(
        err.contains("does not open the id_token signing key"),
        "{err}"
    );
    assert!(err.contains("ROSTER_SECRET_KEY"), "{err}");
    // A backup restored without its key file: refused, and no new key file is left behind.
    std::fs::remove_file(dir.path().join("roster.key")).unwrap();
    let (ok, err) = run(&serve, &[]).await;
    assert!(!ok);
    assert!(err.contains("does not open"), "{err}");
    assert!(!dir.path().join("roster.key").exists());
    // `roster keys rotate` under the wrong key is refused too.
    let (ok, err) = run(
        &["keys", "rotate", "--database", url.as_str()],
        &[("ROSTER_SECRET_KEY", &other)],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("does not open"), "{err}");
    // The right key, given again: it starts.
    std::fs::write(dir.path().join("roster.key"), made).unwrap();
    let server = serve_on_key_file(url).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_cannot_start_creates_nothing() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/data/roster.db", dir.path().display());
    for (listen, env, why) in [
        (port.as_str(), vec![], "listening on"),
        ("localhost", vec![], "HOST:PORT"),
        (
            "127.0.0.1:0",
            vec![("ROSTER_ARGON2_ALLOW_WEAK", "false")],
            "argon2",
        ),
    ] {
        let (ok, err) = run(&["serve", "--listen", listen, "--database", &url], &env).await;
        assert!(!ok, "{listen}");
        assert!(
            err.to_lowercase().contains(&why.to_lowercase()),
            "{listen}: {err}"
        );
        assert!(
            !dir.path().join("data").exists(),
            "{listen}: the database's folder was made"
        );
    }
}

/// `roster import all` into a new embedded database needs the export's key, and leaves it in
/// roster.key beside the database, so that the copy serves as the original did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_all_carries_the_key_beside_a_new_embedded_database() {
    let server = Server::start(Backend::Sqlite).await;
    let from = server.stop().await;
    let (ok, lines, err) = roster(&["export", "--database", &from.url]).await;
    assert!(ok, "{err}");
    let lines = match lines {
        serde_json::Value::String(text) => text,
        one => one.to_string(),
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.jsonl");
    std::fs::write(&file, lines).unwrap();
    let file = file.to_str().unwrap();
    let without = format!("sqlite://{}/a/roster.db", dir.path().display());
    let (ok, err) = run(&["import", "all", "--database", &without, file], &[]).await;
    assert!(!ok);
    assert!(err.contains("does not open"), "{err}");
    // Refused before anything was written.
    let refused = TestDb::borrowed(Backend::Sqlite, without.clone());
    assert_eq!(refused.scalar("SELECT COUNT(*) FROM applications").await, 0);
    let with = format!("sqlite://{}/b/roster.db", dir.path().display());
    let (ok, err) = run(
        &["import", "all", "--database", &with, file],
        &[("ROSTER_SECRET_KEY", TEST_SECRET_KEY)],
    )
    .await;
    assert!(ok, "{err}");
    let written = std::fs::read_to_string(dir.path().join("b/roster.key")).unwrap();
    assert_eq!(written.trim(), TEST_SECRET_KEY);
    // The copy serves with the key file alone.
    let copy = serve_on_key_file(with).await;
    copy.stop().await;
}

/// `roster rotate-secret-key` on an embedded database moves roster.key to the new key (the
/// old kept as roster.key.old), so that the server starts as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_secret_key_of_an_embedded_database_updates_its_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = served_once(dir.path()).await;
    let old = std::fs::read_to_string(dir.path().join("roster.key")).unwrap();
    let new = "ef".repeat(32);
    let mut cmd = Command::new(roster_bin());
    base_env(&mut cmd);
    let out = cmd
        .args(["rotate-secret-key", "--database", &url])
        .env("ROSTER_SECRET_KEY_OLD", old.trim())
        .env("ROSTER_SECRET_KEY", &new)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        said["key_file"].as_str().unwrap().ends_with("roster.key"),
        "{said}"
    );
    let now = std::fs::read_to_string(dir.path().join("roster.key")).unwrap();
    assert_eq!(now.trim(), new);
    let kept = std::fs::read_to_string(dir.path().join("roster.key.old")).unwrap();
    assert_eq!(kept, old);
    let server = serve_on_key_file(url.clone()).await;
    server.stop().await;
    // A key file that does not hold the old key (the servers read another) is left alone.
    std::fs::write(dir.path().join("roster.key"), "00".repeat(32)).unwrap();
    let mut cmd = Command::new(roster_bin());
    base_env(&mut cmd);
    let out = cmd
        .args(["rotate-secret-key", "--database", &url])
        .env("ROSTER_SECRET_KEY_OLD", &new)
        .env("ROSTER_SECRET_KEY", "ab".repeat(32))
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(said.get("key_file").is_none(), "{said}");
    let left = std::fs::read_to_string(dir.path().join("roster.key")).unwrap();
    assert_eq!(left, "00".repeat(32));
}
