//! `ShowAuthToken`.

use crate::support::*;

#[on_each_store]
async fn issues_a_bearer_token(backend: Backend) {
    let server = Server::start(backend).await;
    let (status, body) = server
        .token_call(&[
            ("grant_type", "client_credentials"),
            ("client_id", ADMIN_ID),
            ("client_secret", ADMIN_SECRET),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 1800);
    assert_eq!(body["scope"], "all");
    assert!(body.as_object().unwrap().contains_key("id_token"));
    let token = body["access_token"].as_str().unwrap();
    assert!(token.len() >= 32);
    // The token works, and a second one does not revoke the first.
    let second = server.token_for(ADMIN_ID, ADMIN_SECRET).await;
    assert_ne!(token, second);
    assert_eq!(
        server
            .get(token, "/users/20210621095931341-4CB3-122995DE2")
            .await
            .0,
        400
    );
    assert_eq!(
        server
            .get(&second, "/users/20210621095931341-4CB3-122995DE2")
            .await
            .0,
        400
    );
}

#[on_each_store]
async fn tokens_stored_before_ordered_keys_still_work(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    // Before migration 0009 a token's key was its bare SHA-256: what follows the time prefix.
    server
        .db
        .exec("UPDATE access_tokens SET lookup_key = substr(lookup_key, 13)")
        .await;
    assert_eq!(
        server
            .db
            .scalar("SELECT CAST(MAX(length(lookup_key)) AS BIGINT) FROM access_tokens")
            .await,
        64
    );
    assert_eq!(server.get(&token, "/users?offset=0&limit=10").await.0, 200);
    server.db.exec("DELETE FROM access_tokens").await;
    let another = server.token_for(ADMIN_ID, ADMIN_SECRET).await;
    server.db.exec("DELETE FROM access_tokens").await;
    assert_eq!(
        server.get(&another, "/users?offset=0&limit=10").await.0,
        401
    );
}

#[on_each_store]
async fn refuses_bad_credentials(backend: Backend) {
    let server = Server::start(backend).await;
    let wrong_grant = server
        .token_call(&[
            ("grant_type", "password"),
            ("client_id", ADMIN_ID),
            ("client_secret", ADMIN_SECRET),
        ])
        .await;
    assert_error(&wrong_grant, 400, "TOKEN.0001");
    let no_grant = server
        .token_call(&[("client_id", ADMIN_ID), ("client_secret", ADMIN_SECRET)])
        .await;
    assert_error(&no_grant, 400, "TOKEN.0001");
    let no_client = server
        .token_call(&[("grant_type", "client_credentials")])
        .await;
    assert_error(&no_client, 400, "PARAM.0003");
    let wrong_secret = server
        .token_call(&[
            ("grant_type", "client_credentials"),
            ("client_id", ADMIN_ID),
            ("client_secret", "nope"),
        ])
        .await;
    assert_error(&wrong_secret, 400, "TOKEN.0002");
    let unknown_client = server
        .token_call(&[
            ("grant_type", "client_credentials"),
            ("client_id", "ghost"),
            ("client_secret", ADMIN_SECRET),
        ])
        .await;
    assert_error(&unknown_client, 400, "TOKEN.0002");
    // Same message for an unknown client and a wrong secret: no probing for client ids.
    assert_eq!(wrong_secret.1, unknown_client.1);
    let json_body = server
        .http
        .post(server.url("/token"))
        .header("Content-Type", "application/json")
        .body(r#"{"grant_type":"client_credentials"}"#)
        .send()
        .await
        .unwrap();
    assert_error(&read(json_body).await, 415, "PARAM.0415");
}

#[on_each_store]
async fn accepts_grant_type_in_the_query(backend: Backend) {
    let server = Server::start(backend).await;
    let res = server
        .http
        .post(server.url("/token?grant_type=client_credentials"))
        .form(&[("client_id", ADMIN_ID), ("client_secret", ADMIN_SECRET)])
        .send()
        .await
        .unwrap();
    assert_eq!(read(res).await.0, 200);
}

#[on_each_store]
async fn expired_tokens_get_401(backend: Backend) {
    let server = Server::start_with(
        backend,
        Options {
            args: &["--token-ttl-secs", "1", "--token-cache-ttl-ms", "100"],
            ..Default::default()
        },
    )
    .await;
    let (status, body) = server
        .token_call(&[
            ("grant_type", "client_credentials"),
            ("client_id", ADMIN_ID),
            ("client_secret", ADMIN_SECRET),
        ])
        .await;
    assert_eq!((status, body["expires_in"].as_u64()), (200, Some(1)));
    let token = body["access_token"].as_str().unwrap();
    // Waits for the clock, not for the server: bounded, and ends as soon as it expires.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let answer = server
            .get(token, "/users/20210621095931341-4CB3-122995DE2")
            .await;
        if answer.0 == 401 {
            assert_error(&answer, 401, "TOKEN.0004");
            break;
        }
        assert_error(&answer, 400, "USER.0001");
        assert!(std::time::Instant::now() < deadline, "token never expired");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[on_each_store]
async fn token_requests_are_rate_limited(backend: Backend) {
    let server = Server::start_with(
        backend,
        Options {
            args: &[
                "--token-rate-per-client",
                "2",
                "--token-rate-per-address",
                "0",
            ],
            ..Default::default()
        },
    )
    .await;
    let other = server.create_app(&["user_read"]).await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", ADMIN_ID),
        ("client_secret", ADMIN_SECRET),
    ];
    // A burst of twice the rate passes; then the client id is told to wait.
    for _ in 0..4 {
        assert_eq!(server.token_call(&form).await.0, 200);
    }
    let mut limited = None;
    for _ in 0..4 {
        let res = server
            .http
            .post(server.url("/token"))
            .form(&form)
            .send()
            .await
            .unwrap();
        if res.status() == 429 {
            assert_eq!(
                res.headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap()),
                Some("1")
            );
            limited = Some(read(res).await);
            break;
        }
    }
    assert_error(
        &limited.expect("the fifth to eighth request is limited"),
        429,
        "TOKEN.0006",
    );
    // Another client id is not affected.
    server
        .token_for(&other.client_id, &other.client_secret)
        .await;
}

#[on_each_store]
async fn token_requests_are_limited_per_address(backend: Backend) {
    let server = Server::start_with(
        backend,
        Options {
            args: &[
                "--token-rate-per-client",
                "0",
                "--token-rate-per-address",
                "2",
            ],
            ..Default::default()
        },
    )
    .await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let client = format!("client-{i}");
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client.as_str()),
            ("client_secret", "x"),
        ];
        statuses.push(server.token_call(&form).await.0);
    }
    assert_eq!(&statuses[..4], &[400, 400, 400, 400], "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
}

#[on_each_store]
async fn refused_token_requests_are_audited(backend: Backend) {
    let server = Server::start(backend).await;
    for secret in ["guess-1", "guess-2"] {
        let answer = server
            .token_call(&[
                ("grant_type", "client_credentials"),
                ("client_id", ADMIN_ID),
                ("client_secret", secret),
            ])
            .await;
        assert_error(&answer, 400, "TOKEN.0002");
    }
    server.token_for(ADMIN_ID, ADMIN_SECRET).await;
    // Counted in memory, written every 10 s and when the server stops: one record.
    let db = server.stop().await;
    let refused = db
        .scalar(&format!(
            "SELECT CAST(SUM(count) AS BIGINT) FROM audit_log WHERE operation = 'TokenRefused' AND target_id = '{ADMIN_ID}' \
             AND actor = '{ADMIN_ID}@127.0.0.1' AND target_type = 'TOKEN.0002'"
        ))
        .await;
    assert_eq!(refused, 2);
    // (Two if a 10 s flush fell between them, on a busy machine.)
    assert!(
        db.scalar("SELECT COUNT(*) FROM audit_log WHERE operation = 'TokenRefused'")
            .await
            <= 2
    );
}

/// The token endpoint as an OAuth 2.0 library calls it: `client_secret_basic` (its default) and
/// `client_secret_post`.
mod client_authentication {
    use crate::support::*;
    use oauth2::basic::BasicClient;
    use oauth2::{AuthType, ClientId, ClientSecret, TokenResponse, TokenUrl};

    async fn token_by_library(server: &Server, auth: AuthType) -> String {
        let client = BasicClient::new(ClientId::new(ADMIN_ID.to_owned()))
            .set_client_secret(ClientSecret::new(ADMIN_SECRET.to_owned()))
            .set_token_uri(TokenUrl::new(server.url("/token")).unwrap())
            .set_auth_type(auth);
        let http = oauth2::reqwest::Client::builder()
            .redirect(oauth2::reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let token = client
            .exchange_client_credentials()
            .request_async(&http)
            .await
            .unwrap();
        token.access_token().secret().clone()
    }

    #[on_each_store]
    async fn basic_and_post_both_work(backend: Backend) {
        let server = Server::start(backend).await;
        for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
            let token = token_by_library(&server, auth).await;
            assert_error(
                &server
                    .get(&token, "/users/20210621095931341-4CB3-122995DE2")
                    .await,
                400,
                "USER.0001",
            );
        }
    }

    #[on_each_store]
    async fn basic_and_form_must_agree(backend: Backend) {
        let server = Server::start(backend).await;
        let call = |form: Vec<(&'static str, &'static str)>, secret: &'static str| {
            server
                .http
                .post(server.url("/token"))
                .basic_auth(ADMIN_ID, Some(secret))
                .form(&form)
                .send()
        };
        let grant = ("grant_type", "client_credentials");
        // The same client id in both places is fine.
        assert_eq!(
            read(
                call(vec![grant, ("client_id", ADMIN_ID)], ADMIN_SECRET)
                    .await
                    .unwrap()
            )
            .await
            .0,
            200
        );
        let other_id = read(
            call(vec![grant, ("client_id", "someone-else")], ADMIN_SECRET)
                .await
                .unwrap(),
        )
        .await;
        assert_error(&other_id, 400, "TOKEN.0007");
        let other_secret = read(
            call(
                vec![grant, ("client_secret", "another-secret")],
                ADMIN_SECRET,
            )
            .await
            .unwrap(),
        )
        .await;
        assert_error(&other_secret, 400, "TOKEN.0007");
        // A wrong secret in the header alone is a wrong secret.
        assert_error(
            &read(call(vec![grant], "wrong-secret").await.unwrap()).await,
            400,
            "TOKEN.0002",
        );
    }

    #[on_each_store]
    async fn credentials_in_the_query_are_refused(backend: Backend) {
        let server = Server::start(backend).await;
        let res = server
            .http
            .post(server.url(&format!("/token?grant_type=client_credentials&client_id={ADMIN_ID}&client_secret={ADMIN_SECRET}")))
            .send()
            .await
            .unwrap();
        let answer = read(res).await;
        assert_error(&answer, 400, "TOKEN.0008");
        assert!(
            answer.1["error_msg"]
                .as_str()
                .unwrap()
                .contains("form body or an HTTP Basic"),
            "{}",
            answer.1
        );
        // Also when the form carries them too: the query must not hold a secret at all.
        let res = server
            .http
            .post(server.url(&format!("/token?client_secret={ADMIN_SECRET}")))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", ADMIN_ID),
                ("client_secret", ADMIN_SECRET),
            ])
            .send()
            .await
            .unwrap();
        assert_error(&read(res).await, 400, "TOKEN.0008");
    }
}

/// An unauthenticated flood from many addresses: it cannot spend the budget of the client it
/// names, and the audit log grows by a record per client id, address and reason, not per
/// request.
mod flood {
    use crate::support::*;

    #[on_each_store]
    async fn a_flood_neither_locks_out_the_client_nor_fills_the_audit_log(backend: Backend) {
        let server = Server::start(backend).await;
        let app = server.create_app(&["user_read"]).await;
        let url = server.url("/token");
        let attackers = (2..10).map(|n| {
            let http = reqwest::Client::builder()
                .local_address(std::net::IpAddr::from([127, 0, 0, n]))
                .build()
                .unwrap();
            let url = url.clone();
            let client_id = app.client_id.clone();
            tokio::spawn(async move {
                let mut refused = 0u64;
                for i in 0..150 {
                    // Wrong secrets for the real client id, and ids no client can have.
                    let id = if i % 5 == 0 {
                        "x".repeat(300)
                    } else {
                        client_id.clone()
                    };
                    let form = [
                        ("grant_type", "client_credentials"),
                        ("client_id", id.as_str()),
                        ("client_secret", "a-guess-of-the-secret"),
                    ];
                    let status = http
                        .post(&url)
                        .form(&form)
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16();
                    assert!(status == 400 || status == 429, "{status}");
                    refused += u64::from(status == 400);
                }
                refused
            })
        });
        let attackers: Vec<_> = attackers.collect();
        // Meanwhile the real client, from its own address, gets every token it asks for.
        for _ in 0..20 {
            server.token_for(&app.client_id, &app.client_secret).await;
        }
        let mut refused = 0;
        for a in attackers {
            refused += a.await.unwrap();
        }
        assert!(refused >= 8 * 100, "{refused} refused");
        let db = server.stop().await;
        let rows = db
            .scalar("SELECT COUNT(*) FROM audit_log WHERE operation = 'TokenRefused'")
            .await;
        let counted = db.scalar("SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM audit_log WHERE operation = 'TokenRefused'").await;
        assert_eq!(counted, refused as i64, "every refusal is counted");
        // Two kinds of id from 8 addresses, over at most a few 10 s intervals.
        assert!(rows <= 16 * 3, "{rows} audit rows for {refused} refusals");
    }
}
