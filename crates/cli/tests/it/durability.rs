//! What a 2xx promises survives a restart.

use crate::support::*;
use serde_json::json;

on_each_store! {
    async fn restart_keeps_every_account(backend: Backend) {
        let mut server = Server::start(backend).await;
        let token = server.admin().await;
        let app = server.create_app(&["app_all"]).await;
        let mut accounts = Vec::new();
        for i in 0..20 {
            let user = server.create_user(&format!("user{i}")).await;
            let (status, body) = server
                .post(&token, &format!("/users/{user}/applications/{}/accounts", app.application_id), json!({}))
                .await;
            assert_eq!(status, 200);
            let id = body["account_id"].as_str().unwrap().to_owned();
            let (_, shown) = server.get(&token, &format!("/applications/{}/accounts/{id}", app.application_id)).await;
            accounts.push((id, shown));
        }
        let db = server.stop().await;
        let server = Server::start_on(db, Options::default()).await;
        // Tokens are stored: the old one still works after the restart.
        for (id, shown) in &accounts {
            let (status, again) = server.get(&token, &format!("/applications/{}/accounts/{id}", app.application_id)).await;
            assert_eq!(status, 200);
            assert_eq!(&again, shown);
        }
    }

    async fn killed_server_keeps_acknowledged_writes(backend: Backend) {
        let mut server = Server::start(backend).await;
        let token = server.admin().await;
        let app = server.create_app(&["app_all"]).await;
        let mut acknowledged = Vec::new();
        for i in 0..10 {
            let user = server.create_user(&format!("k{i}")).await;
            let (status, body) = server
                .post(&token, &format!("/users/{user}/applications/{}/accounts", app.application_id), json!({}))
                .await;
            assert_eq!(status, 200);
            acknowledged.push(body["account_id"].as_str().unwrap().to_owned());
        }
        let db = server.kill().await;
        let server = Server::start_on(db, Options::default()).await;
        for id in &acknowledged {
            let (status, _) = server.get(&token, &format!("/applications/{}/accounts/{id}", app.application_id)).await;
            assert_eq!(status, 200);
        }
        if let Some(path) = server.db.sqlite_path() {
            let url = format!("sqlite://{}", path.display());
            let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap();
            let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut c).await.unwrap();
            assert_eq!(check, "ok");
        }
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
