//! Crash safety: writes under load, the server killed with SIGKILL mid-load, restarted; every
//! write that got a 2xx is there and the database is intact. Ten rounds on each store.

use crate::support::*;
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

const ROUNDS: usize = 10;
const WRITERS: usize = 16;
/// Acknowledged writes to wait for in a round before the kill.
const ACKS_BEFORE_KILL: usize = 40;

#[on_each_store]
async fn sigkill_mid_load_loses_no_acknowledged_write(backend: Backend) {
    let mut db = TestDb::fresh(backend).await;
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    for round in 0..ROUNDS {
        let mut server = Server::start_on(db, Options::default()).await;
        let token = server.admin().await;
        let (acks, mut acked) = tokio::sync::mpsc::unbounded_channel::<()>();
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let (http, url, token, acks, acknowledged) = (
                server.http.clone(),
                server.url("/users"),
                token.clone(),
                acks.clone(),
                acknowledged.clone(),
            );
            writers.push(tokio::spawn(async move {
                for n in 0.. {
                    let name = format!("r{round}w{w}n{n}");
                    let mobile = format!("1{:02}{:02}{:06}", round, w, n);
                    let sent = http
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({"user_name": name, "mobile": mobile}))
                        .send()
                        .await;
                    match sent {
                        Ok(res) if res.status() == 201 => {
                            acknowledged.lock().unwrap().push(name);
                            let _ = acks.send(());
                        }
                        Ok(res) => panic!("unexpected answer {}", res.status()),
                        Err(_) => return, // the server is gone
                    }
                }
            }));
        }
        drop(acks);
        for _ in 0..ACKS_BEFORE_KILL {
            acked.recv().await.expect("writers acknowledge");
        }
        db = server.kill().await;
        for w in writers {
            w.await.unwrap();
        }
    }
    let server = Server::start_on(db, Options::default()).await;
    let stored: HashSet<String> = server
        .db
        .strings("SELECT user_name FROM users")
        .await
        .into_iter()
        .collect();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= ROUNDS * ACKS_BEFORE_KILL);
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|n| !stored.contains(*n))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost: {lost:?}",
        lost.len()
    );
    // Each stored user has its audit record: no half-written transaction.
    assert_eq!(
        server.db.scalar("SELECT COUNT(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.target_id = u.id AND a.operation = 'CreateUser')").await,
        0
    );
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
