//! A token issued before a revocation (secret rotated, application disabled, permissions
//! withdrawn) commits is never accepted after it: not on this node, not after a restart, and
//! not after the application is enabled again. Many issuers race each change.

use crate::support::*;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const NO_LIMITS: Options<'static> = Options {
    args: &[
        "--token-rate-per-client",
        "0",
        "--token-rate-per-address",
        "0",
    ],
    env: &[],
    unset: &[],
    log_file: None,
};

/// Runs `issuers` tasks asking for tokens of `app` until `change` has answered; returns every
/// token they got.
async fn tokens_racing<F: std::future::Future<Output = ()>>(
    server: &Server,
    app: &AppCreds,
    change: F,
) -> Vec<String> {
    let stop = Arc::new(AtomicBool::new(false));
    let got = Arc::new(Mutex::new(Vec::new()));
    let issuers: Vec<_> = (0..8)
        .map(|_| {
            let (http, url, stop, got) = (
                server.http.clone(),
                server.url("/token"),
                stop.clone(),
                got.clone(),
            );
            let form = [
                ("grant_type", "client_credentials".to_owned()),
                ("client_id", app.client_id.clone()),
                ("client_secret", app.client_secret.clone()),
            ];
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let (status, body) =
                        read(http.post(&url).form(&form).send().await.unwrap()).await;
                    if status == 200 {
                        got.lock()
                            .unwrap()
                            .push(body["access_token"].as_str().unwrap().to_owned());
                    }
                }
            })
        })
        .collect();
    // Let the issuers get going, so that the change lands among requests in flight.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while got.lock().unwrap().len() < 50 {
        assert!(
            std::time::Instant::now() < deadline,
            "the issuers got no tokens"
        );
        tokio::task::yield_now().await;
    }
    change.await;
    stop.store(true, Ordering::SeqCst);
    for issuer in issuers {
        issuer.await.unwrap();
    }
    let tokens = got.lock().unwrap().clone();
    tokens
}

/// How many of `tokens` are accepted at `path` (of the server's root).
async fn accepted(server: &Server, tokens: &[String], path: &str) -> usize {
    let calls = tokens.iter().map(|t| async move {
        server
            .http
            .get(format!("{}{path}", server.base))
            .bearer_auth(t)
            .send()
            .await
            .unwrap()
            .status()
    });
    futures::future::join_all(calls)
        .await
        .iter()
        .filter(|s| s.is_success())
        .count()
}

const USERS: &str = "/api/v2/tenant/users?offset=0&limit=10";
const ADMIN_ONLY: &str = "/roster/v1/applications?offset=0&limit=10";

#[on_each_store]
async fn rotation_refuses_every_earlier_token(backend: Backend) {
    let server = Server::start_with(backend, NO_LIMITS).await;
    let app = server.create_app(&["all"]).await;
    let admin = server.token_for(ADMIN_ID, ADMIN_SECRET).await;
    let rotate = format!(
        "{}/roster/v1/applications/{}/secret",
        server.base, app.application_id
    );
    let tokens = tokens_racing(&server, &app, async {
        assert_eq!(
            server
                .http
                .post(&rotate)
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    })
    .await;
    assert!(tokens.len() >= 50);
    assert_eq!(
        accepted(&server, &tokens, USERS).await,
        0,
        "of {} tokens",
        tokens.len()
    );
    let db = server.stop().await;
    let server = Server::start_on(db, NO_LIMITS).await;
    assert_eq!(
        accepted(&server, &tokens, USERS).await,
        0,
        "after a restart"
    );
}

#[on_each_store]
async fn disabling_refuses_every_earlier_token_for_good(backend: Backend) {
    let server = Server::start_with(backend, NO_LIMITS).await;
    let app = server.create_app(&["all"]).await;
    let admin = server.token_for(ADMIN_ID, ADMIN_SECRET).await;
    let base = format!(
        "{}/roster/v1/applications/{}",
        server.base, app.application_id
    );
    let tokens = tokens_racing(&server, &app, async {
        assert_eq!(
            server
                .http
                .put(format!("{base}/disable"))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    })
    .await;
    assert_eq!(
        accepted(&server, &tokens, USERS).await,
        0,
        "of {} tokens",
        tokens.len()
    );
    assert_eq!(
        server
            .http
            .put(format!("{base}/enable"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        accepted(&server, &tokens, USERS).await,
        0,
        "enabling revives no token"
    );
    let db = server.stop().await;
    let server = Server::start_on(db, NO_LIMITS).await;
    assert_eq!(
        accepted(&server, &tokens, USERS).await,
        0,
        "after a restart"
    );
    server.token_for(&app.client_id, &app.client_secret).await;
}

#[on_each_store]
async fn a_downgrade_takes_every_earlier_token_down_at_once(backend: Backend) {
    let server = Server::start_with(backend, NO_LIMITS).await;
    let app = server.create_app(&["all"]).await;
    let admin = server.token_for(ADMIN_ID, ADMIN_SECRET).await;
    let permissions = format!(
        "{}/roster/v1/applications/{}/permissions",
        server.base, app.application_id
    );
    let tokens = tokens_racing(&server, &app, async {
        let res = server
            .http
            .put(&permissions)
            .bearer_auth(&admin)
            .json(&json!({"api_permissions": ["user_read"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    })
    .await;
    // Still tokens (permissions are read when used), but none with admin rights, at once.
    assert_eq!(
        accepted(&server, &tokens, ADMIN_ONLY).await,
        0,
        "of {} tokens",
        tokens.len()
    );
    assert_eq!(accepted(&server, &tokens, USERS).await, tokens.len());
}
