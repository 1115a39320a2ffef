//! What a 2xx promises survives a restart.

use crate::support::*;
use serde_json::json;

#[on_each_store]
async fn restart_keeps_every_account(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.create_app(&["app_all"]).await;
    let mut accounts = Vec::new();
    for i in 0..20 {
        let user = server.create_user(&format!("user{i}")).await;
        let (status, body) = server
            .post(
                &token,
                &format!("/users/{user}/applications/{}/accounts", app.application_id),
                json!({}),
            )
            .await;
        assert_eq!(status, 200);
        let id = body["account_id"].as_str().unwrap().to_owned();
        let (_, shown) = server
            .get(
                &token,
                &format!("/applications/{}/accounts/{id}", app.application_id),
            )
            .await;
        accounts.push((id, shown));
    }
    let db = server.stop().await;
    let server = Server::start_on(db, Options::default()).await;
    // Tokens are stored: the old one still works after the restart.
    for (id, shown) in &accounts {
        let (status, again) = server
            .get(
                &token,
                &format!("/applications/{}/accounts/{id}", app.application_id),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(&again, shown);
    }
}

#[on_each_store]
async fn killed_server_keeps_acknowledged_writes(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.create_app(&["app_all"]).await;
    let mut acknowledged = Vec::new();
    for i in 0..10 {
        let user = server.create_user(&format!("k{i}")).await;
        let (status, body) = server
            .post(
                &token,
                &format!("/users/{user}/applications/{}/accounts", app.application_id),
                json!({}),
            )
            .await;
        assert_eq!(status, 200);
        acknowledged.push(body["account_id"].as_str().unwrap().to_owned());
    }
    let db = server.kill().await;
    let server = Server::start_on(db, Options::default()).await;
    for id in &acknowledged {
        let (status, _) = server
            .get(
                &token,
                &format!("/applications/{}/accounts/{id}", app.application_id),
            )
            .await;
        assert_eq!(status, 200);
    }
    if let Some(path) = server.db.sqlite_path() {
        let url = format!("sqlite://{}", path.display());
        let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(check, "ok");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_database_is_created_with_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(roster_bin())
        .current_dir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("ROSTER_DATABASE")
        .env_remove("ROSTER_CONFIG")
        .env("ROSTER_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        line.starts_with("roster listening on http://127.0.0.1:"),
        "{line}"
    );
    assert!(dir.path().join("roster-data/roster.db").is_file());
    child.kill().await.unwrap();
}

/// A small filesystem of its own, unmounted when dropped.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    /// `None` where mounting is not allowed (not root): the test then says it was skipped.
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Self(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.0.path())
            .status();
    }
}

/// With the disk full, writes answer 503 and `/health` says writes fail (reads still work);
/// once there is room again, `/health` answers 200 and writes work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_failing_writes_on_a_full_disk() {
    let Some(disk) = Tmpfs::mount("12m") else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    let ballast = disk.0.path().join("ballast");
    std::fs::write(&ballast, vec![0u8; 6 * 1024 * 1024]).unwrap();
    let url = format!("sqlite://{}", disk.0.path().join("roster.db").display());
    let mut server =
        Server::start_on(TestDb::borrowed(Backend::Sqlite, url), Options::default()).await;
    let token = server.admin().await;
    let health = |server: &Server| {
        let url = format!("{}/health", server.base);
        let http = server.http.clone();
        async move { read(http.get(url).send().await.unwrap()).await }
    };
    let (status, healthy) = health(&server).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            healthy["read"].as_str(),
            healthy["write"].as_str(),
            healthy["store"].as_str()
        ),
        (Some("ok"), Some("ok"), Some("sqlite"))
    );
    assert!(
        healthy["version"].as_str().is_some_and(|v| !v.is_empty()),
        "{healthy}"
    );
    let filler = "x".repeat(60 * 1024);
    let mut failed = None;
    for i in 0..400 {
        let answer = server.post(&token, "/users", json!({"user_name": format!("f{i}"), "mobile": format!("1370000{i:04}"), "extension": {"filler": filler}})).await;
        if answer.0 != 201 {
            failed = Some(answer);
            break;
        }
    }
    let failed = failed.expect("the disk filled up");
    assert_error(&failed, 503, "SYSTEM.0002");
    assert_error(&health(&server).await, 503, "SYSTEM.0003");
    assert_eq!(
        read(
            server
                .http
                .get(format!("{}/health/live", server.base))
                .send()
                .await
                .unwrap()
        )
        .await
        .0,
        200
    );
    assert_eq!(
        server.get(&token, "/users?offset=0&limit=10").await.0,
        200,
        "reads still work"
    );
    std::fs::remove_file(&ballast).unwrap();
    assert_eq!(health(&server).await.0, 200, "room again: writes work");
    let after = server
        .post(
            &token,
            "/users",
            json!({"user_name": "after", "mobile": "13600000000"}),
        )
        .await;
    assert_eq!(after.0, 201, "{after:?}");
}

/// A request that times out (408) wrote nothing: while another process holds the database's
/// write lock past the request timeout, each create either answers 408 and is absent, or is
/// waited for and answers 201.
mod timeouts {
    use crate::support::*;
    use serde_json::json;
    use sqlx::Connection;

    #[on_each_store]
    async fn a_timed_out_write_wrote_nothing(backend: Backend) {
        let mut server = Server::start_with(
            backend,
            Options {
                args: &["--request-timeout-secs", "2"],
                ..Default::default()
            },
        )
        .await;
        let token = server.admin().await;
        // Another process takes the write lock (a long `roster import users` does) for 3.5 s.
        let url = server.db.url.clone();
        let (locked_tx, locked) = tokio::sync::oneshot::channel();
        let holder = async move {
            match backend {
                Backend::Sqlite => {
                    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                    sqlx::raw_sql("BEGIN IMMEDIATE")
                        .execute(&mut c)
                        .await
                        .unwrap();
                    locked_tx.send(()).unwrap();
                    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
                    sqlx::raw_sql("ROLLBACK").execute(&mut c).await.unwrap();
                }
                Backend::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                    sqlx::raw_sql("BEGIN; LOCK TABLE users IN EXCLUSIVE MODE")
                        .execute(&mut c)
                        .await
                        .unwrap();
                    locked_tx.send(()).unwrap();
                    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
                    sqlx::raw_sql("ROLLBACK").execute(&mut c).await.unwrap();
                }
            }
        };
        let requests = async {
            locked.await.unwrap();
            let creates = (0..24).map(|i| {
                server.post(
                    &token,
                    "/users",
                    json!({"user_name": format!("t{i}"), "mobile": format!("1350000{i:04}")}),
                )
            });
            futures::future::join_all(creates).await
        };
        let ((), answers) = tokio::join!(holder, requests);
        let mut timed_out = 0;
        for (i, answer) in answers.iter().enumerate() {
            let stored = server
                .db
                .scalar(&format!(
                    "SELECT COUNT(*) FROM users WHERE user_name = 't{i}'"
                ))
                .await;
            match answer.0 {
                408 => {
                    assert_error(answer, 408, "SYSTEM.0408");
                    assert_eq!(stored, 0, "t{i} answered 408 but was written");
                    timed_out += 1;
                }
                201 => assert_eq!(stored, 1),
                _ => panic!("t{i}: {answer:?}"),
            }
        }
        assert!(
            timed_out > 0,
            "the lock outlasted the timeout: some requests time out"
        );
        // A retry of a timed-out create succeeds: nothing of it was left behind.
        for (i, answer) in answers.iter().enumerate().filter(|(_, a)| a.0 == 408) {
            let again = server
                .post(
                    &token,
                    "/users",
                    json!({"user_name": format!("t{i}"), "mobile": format!("1350000{i:04}")}),
                )
                .await;
            assert_eq!(again.0, 201, "{again:?} after {answer:?}");
        }
    }
}

/// `roster backup` under a concurrent write load: the copy passes SQLite's integrity check,
/// holds every write acknowledged before the backup started, and serves as a database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_is_consistent() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let mut server = Server::start(Backend::Sqlite).await;
    let token = server.admin().await;
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (http, url, token) = (server.http.clone(), server.url("/users"), token.clone());
            let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let name = format!("w{w}-{i}");
                    let res = http
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({"user_name": name, "mobile": format!("13{w}{i:08}")}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), 201);
                    acknowledged.lock().unwrap().push(name);
                    i += 1;
                }
            })
        })
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while acknowledged.lock().unwrap().len() < 100 {
        assert!(
            std::time::Instant::now() < deadline,
            "the writers wrote nothing"
        );
        tokio::task::yield_now().await;
    }
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let (ok, out, err) = roster(&[
        "backup",
        "--database",
        &server.db.url,
        copy.to_str().unwrap(),
    ])
    .await;
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    assert!(ok, "{err}");
    assert!(out["bytes"].as_u64().unwrap() > 0);
    let copy_db = TestDb::borrowed(Backend::Sqlite, format!("sqlite://{}", copy.display()));
    assert_eq!(copy_db.strings("PRAGMA integrity_check").await, ["ok"]);
    let names: std::collections::HashSet<String> = copy_db
        .strings("SELECT user_name FROM users")
        .await
        .into_iter()
        .collect();
    let missing: Vec<_> = before.iter().filter(|n| !names.contains(*n)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup, missing from it: {missing:?}"
    );
    // The copy is a database Roster serves.
    let restored = Server::start_on(copy_db, Options::default()).await;
    assert_eq!(
        restored.get(&token, "/users?offset=0&limit=10").await.0,
        200
    );
    // Never over an existing file; PostgreSQL is pointed to pg_dump.
    let (ok, _, err) = roster(&[
        "backup",
        "--database",
        &server.db.url,
        copy.to_str().unwrap(),
    ])
    .await;
    assert!(!ok && err.contains("exists already"), "{err}");
    let (ok, _, err) = roster(&[
        "backup",
        "--database",
        "postgres://postgres@127.0.0.1:1/x",
        "/tmp/never",
    ])
    .await;
    assert!(!ok && err.contains("pg_dump"), "{err}");
}
