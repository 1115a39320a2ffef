//! Several `roster serve` nodes on one PostgreSQL database behave as one service.

use crate::support::*;
use serde_json::json;
use std::time::{Duration, Instant};

/// Starts two nodes on one fresh PostgreSQL database; the second with `b_args`.
async fn two_nodes(b_args: &'static [&'static str]) -> (Server, Server) {
    let db = TestDb::fresh(Backend::Postgres).await;
    let url = db.url.clone();
    // Both start at once: migrations run once, under PostgreSQL's advisory lock.
    let a = Server::start_on(db, Options::default());
    let b = async {
        let shared = TestDb::borrowed(Backend::Postgres, url);
        Server::start_on(
            shared,
            Options {
                args: b_args,
                ..Default::default()
            },
        )
        .await
    };
    tokio::join!(a, b)
}

/// Polls `check` until it holds or `limit` passes; returns how long it took. Used only to
/// wait for a documented time bound (a cache lifetime), never to wait for a server.
async fn within(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg_attr(
    not(roster_pg),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_changes_cross_nodes() {
    // B would trust a cached token check for a minute: only hearing A's change ends it.
    let (mut a, b) = two_nodes(&["--token-cache-ttl-ms", "60000"]).await;
    let admin_on_a = a.admin().await;
    // A token issued by A works on B.
    let app = a.create_app(&["user_all"]).await;
    let token = a.token_for(&app.client_id, &app.client_secret).await;
    assert_eq!(b.get(&token, "/users?offset=0&limit=10").await.0, 200);
    // Disabled on A: B refuses new tokens at once, and the tokens it has cached as soon as
    // it hears of the change (PostgreSQL delivers the announcement at A's commit).
    let disable = format!(
        "{}/roster/v1/applications/{}/disable",
        a.base, app.application_id
    );
    let res = a
        .http
        .put(disable)
        .bearer_auth(&admin_on_a)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let again = b
        .token_call(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
        ])
        .await;
    assert_error(&again, 400, "APP.0003");
    let took = within(Duration::from_secs(1), async || {
        b.get(&token, "/users?offset=0&limit=10").await.0 == 401
    })
    .await;
    eprintln!("B refused the disabled application's token after {took:?}");

    // A secret rotated on A: B refuses the old secret at once and its tokens within the bound.
    let other = a.create_app(&["user_all"]).await;
    let token = a.token_for(&other.client_id, &other.client_secret).await;
    assert_eq!(b.get(&token, "/users?offset=0&limit=10").await.0, 200);
    let rotate = format!(
        "{}/roster/v1/applications/{}/secret",
        a.base, other.application_id
    );
    let res = a
        .http
        .post(rotate)
        .bearer_auth(&admin_on_a)
        .send()
        .await
        .unwrap();
    let (_, rotated) = read(res).await;
    let old = b
        .token_call(&[
            ("grant_type", "client_credentials"),
            ("client_id", &other.client_id),
            ("client_secret", &other.client_secret),
        ])
        .await;
    assert_error(&old, 400, "TOKEN.0002");
    b.token_for(&other.client_id, rotated["client_secret"].as_str().unwrap())
        .await;
    within(Duration::from_secs(1), async || {
        b.get(&token, "/users?offset=0&limit=10").await.0 == 401
    })
    .await;
}

#[cfg_attr(
    not(roster_pg),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_authorize_across_nodes_makes_one_account() {
    let (mut a, mut b) = two_nodes(&[]).await;
    let token = a.admin().await;
    let token_b = b.admin().await;
    let app = a.app_id().await;
    let user = a.create_user("zhangsan").await;
    let path = format!("/users/{user}/applications/{app}/accounts");
    let calls = (0..100).map(|i| {
        let (node, token) = if i % 2 == 0 {
            (&a, &token)
        } else {
            (&b, &token_b)
        };
        node.post(token, &path, json!({}))
    });
    let answers = futures::future::join_all(calls).await;
    assert_eq!(
        answers.iter().filter(|a| a.0 == 200).count(),
        1,
        "{answers:?}"
    );
    for answer in answers.iter().filter(|a| a.0 != 200) {
        assert_error(answer, 400, "APP.ACC.0029");
    }
    assert_eq!(a.db.scalar("SELECT COUNT(*) FROM app_accounts").await, 1);
}

#[cfg_attr(
    not(roster_pg),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_a_database_that_goes_away() {
    let mut server = Server::start(Backend::Postgres).await;
    let token = server.admin().await;
    let health = |path: &'static str| server.http.get(format!("{}{path}", server.base)).send();
    let (status, body) = read(health("/health").await.unwrap()).await;
    assert_eq!((status, body["store"].as_str()), (200, Some("postgres")));
    server.db.drop_now().await;
    let answer = read(health("/health").await.unwrap()).await;
    assert_error(&answer, 503, "SYSTEM.0002");
    assert_eq!(read(health("/health/live").await.unwrap()).await.0, 200);
    let answer = server
        .post(&token, "/users", json!({"user_name": "x", "mobile": "123"}))
        .await;
    assert!(answer.0 == 503 || answer.0 == 500, "{answer:?}");
    assert!(answer.1["error_code"].is_string());
    assert!(
        !answer
            .1
            .to_string()
            .to_lowercase()
            .contains("database \\\""),
        "no database text leaks: {}",
        answer.1
    );
}

#[tokio::test]
async fn a_database_that_is_down_at_start_is_a_clear_error() {
    let out = tokio::process::Command::new(roster_bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            "postgres://postgres@127.0.0.1:1/none",
        ])
        .env("ROSTER_LOG", "error")
        .env("ROSTER_SECRET_KEY", TEST_SECRET_KEY)
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("opening database postgres://postgres@127.0.0.1:1/none"),
        "{err}"
    );
}

/// Reads lock nothing: a user row another transaction holds locked (a write in progress
/// elsewhere) is still shown at once. Reads that took `FOR UPDATE` waited for the lock, and
/// their row lock was itself a write on PostgreSQL.
#[cfg_attr(
    not(roster_pg),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
)]
#[tokio::test]
async fn reads_do_not_wait_for_row_locks() {
    use sqlx::Connection;
    let db = TestDb::fresh(Backend::Postgres).await;
    let url = db.url.clone();
    let mut server = Server::start_on(db, Options::default()).await;
    let token = server.admin().await;
    let user = server.create_user("locked-reader").await;
    let mut holder = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut held = holder.begin().await.unwrap();
    sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
        .bind(&user)
        .execute(&mut *held)
        .await
        .unwrap();
    // A bound on a failure that would otherwise wait out the statement timeout (10 s).
    let shown = tokio::time::timeout(
        Duration::from_secs(5),
        server.get(&token, &format!("/users/{user}")),
    )
    .await
    .expect("the read waited for another transaction's row lock");
    assert_eq!(shown.0, 200, "{}", shown.1);
    assert_eq!(shown.1["user_name"], "locked-reader");
    held.rollback().await.unwrap();
}

/// Nodes starting together on a fresh database all bootstrap the same application: one
/// creates it, the others find it, and every node starts (a race seen once in CI).
#[cfg_attr(
    not(roster_pg),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_together_share_one_bootstrap_application() {
    for _ in 0..10 {
        let db = TestDb::fresh(Backend::Postgres).await;
        let starts = (0..6).map(|_| {
            Server::start_on(
                TestDb::borrowed(Backend::Postgres, db.url.clone()),
                Options::default(),
            )
        });
        let nodes = futures::future::join_all(starts).await;
        for node in &nodes {
            node.token_for(ADMIN_ID, ADMIN_SECRET).await;
        }
        assert_eq!(
            db.scalar(&format!(
                "SELECT COUNT(*) FROM applications WHERE client_id = '{ADMIN_ID}'"
            ))
            .await,
            1
        );
        drop(nodes);
    }
}

/// A user signs in through node A, the application exchanges the code on node B, reads
/// userinfo and refreshes on either, and logging out on one node ends the session on both:
/// sessions, codes and tokens live in the store, and every node signs with the same key.
#[cfg_attr(
    not(roster_pg),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_crosses_nodes() {
    use crate::sign_in::*;
    let (mut a, b) = two_nodes(&["--token-cache-ttl-ms", "60000"]).await;
    let f = fixture(&mut a, json!({})).await;
    let browser = Browser::at(&a.base);
    let url = authorize_url(&a, &f.app.client_id, "code", "s");
    let hop = browser.authorize(&url, &f.user_name, PASSWORD).await;
    let code = param(hop.location.as_deref().unwrap(), "code").unwrap();

    let token_on_b = |form: Vec<(&'static str, String)>| {
        let b = &b;
        let app = &f.app;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            client_post(b, "/api/v1/oauth2/token", creds(app), &form).await
        }
    };
    let (status, tokens) = token_on_b(vec![
        ("grant_type", "authorization_code".into()),
        ("code", code),
        ("redirect_uri", REDIRECT.into()),
    ])
    .await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    for node in [&a, &b] {
        assert_eq!(
            bearer_get(node, "/api/v1/oauth2/userinfo", access).await.0,
            200
        );
    }
    // Both nodes publish the key that signed the id_token.
    let kid = jwt_header(tokens["id_token"].as_str().unwrap())["kid"].clone();
    for node in [&a, &b] {
        let (_, keys) = read(
            node.http
                .get(node.url("/api/v1/oauth2/keys"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(keys["keys"][0]["kid"], kid);
    }
    let (status, refreshed) = token_on_b(vec![
        ("grant_type", "refresh_token".into()),
        (
            "refresh_token",
            tokens["refresh_token"].as_str().unwrap().into(),
        ),
    ])
    .await;
    assert_eq!(status, 200, "{refreshed}");
    let access = refreshed["access_token"].as_str().unwrap();
    assert_eq!(
        bearer_get(&a, "/api/v1/oauth2/userinfo", access).await.0,
        200
    );

    // userinfo on B now remembers the claims; disabling the account on A ends them on A at
    // once and on B as soon as it hears of it (its cache would keep them a minute).
    assert_eq!(
        bearer_get(&b, "/api/v1/oauth2/userinfo", access).await.0,
        200
    );
    let admin = a.admin().await;
    let disable = format!(
        "/applications/{}/accounts/{}/disable",
        f.app.application_id, f.account_id
    );
    assert_eq!(a.put(&admin, &disable, json!({})).await.0, 200);
    assert_eq!(
        bearer_get(&a, "/api/v1/oauth2/userinfo", access).await.0,
        401
    );
    let took = within(Duration::from_secs(1), async || {
        bearer_get(&b, "/api/v1/oauth2/userinfo", access).await.0 == 401
    })
    .await;
    eprintln!("B refused the disabled account's token after {took:?}");
    let enable = disable.replace("/disable", "/enable");
    assert_eq!(a.put(&admin, &enable, json!({})).await.0, 200);
    // Enabled again, the tokens issued before stay ended, on both nodes.
    for node in [&a, &b] {
        assert_eq!(
            bearer_get(node, "/api/v1/oauth2/userinfo", access).await.0,
            401
        );
    }

    // The session made on A signs the user in on B without a password.
    let on_b = format!("{}{url}", b.base);
    let hop = browser.get(&on_b).await;
    assert!(param(hop.location.as_deref().unwrap(), "code").is_some());
    // Logging out on B ends it on A.
    let out = browser.get(&format!("{}/api/v1/logout", b.base)).await;
    assert_eq!(out.status, 302);
    let hop = browser.get(&url).await;
    assert!(hop.location.unwrap().starts_with("/login"));
    // The user disabled on A: a fresh token B remembers ends on B too, and stays ended when
    // the user is enabled again.
    let (_, fresh) = signed_in_by_code(&a, &f).await;
    let fresh = fresh["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        bearer_get(&b, "/api/v1/oauth2/userinfo", &fresh).await.0,
        200
    );
    let user = format!("/users/{}", f.user_id);
    assert_eq!(
        a.put(&admin, &format!("{user}/disable"), json!({})).await.0,
        200
    );
    let took = within(Duration::from_secs(1), async || {
        bearer_get(&b, "/api/v1/oauth2/userinfo", &fresh).await.0 == 401
    })
    .await;
    eprintln!("B refused the disabled user's token after {took:?}");
    assert_eq!(
        a.put(&admin, &format!("{user}/enable"), json!({})).await.0,
        200
    );
    assert_eq!(
        bearer_get(&b, "/api/v1/oauth2/userinfo", &fresh).await.0,
        401
    );
}

/// A TCP relay to PostgreSQL that can stop passing bytes on (a frozen database: connections
/// stay open, nothing answers).
struct FreezableRelay {
    port: u16,
    frozen: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl FreezableRelay {
    async fn to(target: String) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let frozen = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = frozen.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&target).await else {
                    continue;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                for (mut from, mut to) in [
                    (
                        Box::new(cr) as Box<dyn tokio::io::AsyncRead + Send + Unpin>,
                        Box::new(sw) as Box<dyn tokio::io::AsyncWrite + Send + Unpin>,
                    ),
                    (Box::new(sr), Box::new(cw)),
                ] {
                    let flag = flag.clone();
                    tokio::spawn(async move {
                        use tokio::io::{AsyncReadExt, AsyncWriteExt};
                        let mut buf = vec![0u8; 16384];
                        while let Ok(n) = from.read(&mut buf).await {
                            if n == 0 {
                                break;
                            }
                            // Frozen: the bytes wait (as in a stopped server's socket).
                            while flag.load(Ordering::SeqCst) {
                                tokio::time::sleep(Duration::from_millis(10)).await;
                            }
                            if to.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    });
                }
            }
        });
        Self { port, frozen }
    }

    fn freeze(&self, frozen: bool) {
        self.frozen
            .store(frozen, std::sync::atomic::Ordering::SeqCst);
    }
}

/// While PostgreSQL is frozen (connections open, nothing answered), `/health` answers `503`
/// within its own deadline (1 s), not after the pool's wait; and `200` again once it thaws.
#[cfg_attr(
    not(roster_pg),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_within_its_deadline_while_the_database_is_frozen() {
    let db = TestDb::fresh(Backend::Postgres).await;
    let target = reqwest::Url::parse(&db.url).unwrap();
    let relay = FreezableRelay::to(format!(
        "{}:{}",
        target.host_str().unwrap(),
        target.port().unwrap_or(5432)
    ))
    .await;
    let mut through = target.clone();
    through.set_host(Some("127.0.0.1")).unwrap();
    through.set_port(Some(relay.port)).unwrap();
    let server = Server::start_on(
        TestDb::borrowed(Backend::Postgres, through.to_string()),
        Options::default(),
    )
    .await;
    let health = || server.http.get(format!("{}/health", server.base)).send();
    assert_eq!(read(health().await.unwrap()).await.0, 200);
    relay.freeze(true);
    let started = Instant::now();
    let answer = read(health().await.unwrap()).await;
    let took = started.elapsed();
    assert_error(&answer, 503, "SYSTEM.0002");
    assert!(
        took < Duration::from_millis(2500),
        "answered after {took:?}"
    );
    relay.freeze(false);
    within(Duration::from_secs(10), async || {
        read(health().await.unwrap()).await.0 == 200
    })
    .await;
    drop(db);
}
