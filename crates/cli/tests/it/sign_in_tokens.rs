//! The sign-in token endpoint (`/api/v1/oauth2/token`) with the client credentials grant, and
//! introspection, check_token and revocation of what it issues; OAuth's error bodies.

use crate::support::*;
use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use serde_json::{json, Value};

/// An application with sign-in settings whose grants are `grants`.
async fn sign_in_app(server: &mut Server, grants: Value) -> AppCreds {
    let admin = server.admin().await;
    let app = server.create_app(&["user_read"]).await;
    let path = format!("/roster/v1/applications/{}/sso", app.application_id);
    let settings = json!({
        "protocol": "oauth2",
        "redirect_uris": ["https://app.example.com/cb"],
        "grants": grants,
        "access_token_ttl_secs": 600
    });
    let (status, body) = server.put(&admin, &path, settings).await;
    assert_eq!(status, 200, "{body}");
    app
}

/// A token from the client credentials grant, asked for by a real OAuth 2.0 client.
async fn token_by_library(server: &Server, app: &AppCreds, auth: AuthType) -> (String, u64) {
    let client = BasicClient::new(ClientId::new(app.client_id.clone()))
        .set_client_secret(ClientSecret::new(app.client_secret.clone()))
        .set_token_uri(TokenUrl::new(server.url("/api/v1/oauth2/token")).unwrap())
        .set_auth_type(auth);
    let http = oauth2::reqwest::Client::builder()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token = client
        .exchange_client_credentials()
        .add_scope(Scope::new("get_user_info".to_owned()))
        .request_async(&http)
        .await
        .unwrap();
    let lifetime = token.expires_in().unwrap().as_secs();
    (token.access_token().secret().clone(), lifetime)
}

/// A form POST with HTTP Basic client authentication; status and JSON body.
async fn post_form(
    server: &Server,
    path: &str,
    app: &AppCreds,
    secret: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let res = server
        .http
        .post(server.url(path))
        .basic_auth(&app.client_id, Some(secret))
        .form(form)
        .send()
        .await
        .unwrap();
    read(res).await
}

/// Introspects or revokes `token` as `app` (with `secret`): status and JSON body.
async fn on_token(
    server: &Server,
    endpoint: &str,
    app: &AppCreds,
    secret: &str,
    token: &str,
) -> (u16, Value) {
    let path = format!("/api/v1/oauth2/{endpoint}");
    post_form(server, &path, app, secret, &[("token", token)]).await
}

#[on_each_store]
async fn client_credentials_tokens_are_issued_checked_and_revoked(backend: Backend) {
    let mut server = Server::start(backend).await;
    let app = sign_in_app(&mut server, json!(["client_credentials"])).await;
    let (basic, lifetime) = token_by_library(&server, &app, AuthType::BasicAuth).await;
    assert_eq!(lifetime, 600, "the application's access-token lifetime");
    let (post, _) = token_by_library(&server, &app, AuthType::RequestBody).await;
    assert_ne!(basic, post);
    let secret = app.client_secret.clone();
    // RFC 6749 §5.1: a token answer is cached by nobody, HTTP/1.0 caches included.
    let res = server
        .http
        .post(server.url("/api/v1/oauth2/token"))
        .basic_auth(&app.client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.headers()["pragma"], "no-cache");

    let (status, seen) = post_form(
        &server,
        "/api/v1/oauth2/introspect",
        &app,
        &secret,
        &[("token", &basic), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(seen["active"], true);
    assert_eq!(seen["client_id"], app.client_id.as_str());
    assert_eq!(seen["scope"], "get_user_info");
    let (exp, iat) = (seen["exp"].as_i64().unwrap(), seen["iat"].as_i64().unwrap());
    assert_eq!(exp - iat, 600);

    // Spring's check_token, with the token in the query as RemoteTokenServices sends it.
    let path = format!("/api/v1/oauth2/check_token?token={basic}");
    let (status, checked) = post_form(&server, &path, &app, &secret, &[]).await;
    assert_eq!((status, checked["active"].clone()), (200, json!(true)));

    // Another client learns nothing about it, and cannot revoke it.
    let other = sign_in_app(&mut server, json!(["client_credentials"])).await;
    let other_secret = other.client_secret.clone();
    let (status, foreign) = on_token(&server, "introspect", &other, &other_secret, &basic).await;
    assert_eq!((status, foreign), (200, json!({"active": false})));
    let (status, _) = on_token(&server, "revoke", &other, &other_secret, &basic).await;
    assert_eq!(status, 200);

    // Its own client revokes it: inactive from then on.
    let (status, _) = on_token(&server, "revoke", &app, &secret, &basic).await;
    assert_eq!(status, 200);
    let (_, gone) = on_token(&server, "introspect", &app, &secret, &basic).await;
    assert_eq!(gone, json!({"active": false}));
    let path = format!("/api/v1/oauth2/check_token?token={basic}");
    assert_eq!(
        post_form(&server, &path, &app, &secret, &[]).await,
        (
            400,
            json!({"error": "invalid_token", "error_description": "Token was not recognised"})
        )
    );
    // The other token is untouched.
    let (_, still) = on_token(&server, "introspect", &app, &secret, &post).await;
    assert_eq!(still["active"], true);
}

#[on_each_store]
async fn refusals_answer_in_oauths_words(backend: Backend) {
    let mut server = Server::start(backend).await;
    let app = sign_in_app(&mut server, json!(["authorization_code"])).await;
    let secret = app.client_secret.clone();
    let token = |grant: &'static str| [("grant_type", grant)];

    // The grant is not turned on for this application: Spring's words.
    assert_eq!(
        post_form(
            &server,
            "/api/v1/oauth2/token",
            &app,
            &secret,
            &token("client_credentials")
        )
        .await,
        (
            400,
            json!({"error": "unauthorized_client",
                "error_description": "Unauthorized grant type: client_credentials"})
        )
    );
    assert_eq!(
        post_form(
            &server,
            "/api/v1/oauth2/token",
            &app,
            &secret,
            &token("password")
        )
        .await,
        (
            400,
            json!({"error": "unauthorized_client",
                "error_description": "Unauthorized grant type: password"})
        )
    );
    let (status, unknown) = post_form(
        &server,
        "/api/v1/oauth2/token",
        &app,
        &secret,
        &token("magic"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(unknown["error"], "unsupported_grant_type");

    // Wrong secret, unknown client, disabled application: one answer, with the scheme to use.
    for (client, secret) in [
        (app.client_id.as_str(), "wrong-secret-0123456789"),
        ("no-such-client", "wrong-secret-0123456789"),
    ] {
        let res = server
            .http
            .post(server.url("/api/v1/oauth2/token"))
            .basic_auth(client, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert!(res.headers().contains_key("www-authenticate"));
        assert_eq!(
            read(res).await,
            (
                401,
                json!({"error": "invalid_client", "error_description": "Bad client credentials"})
            )
        );
    }
    // An application without sign-in settings has no grant at all.
    let plain = server.create_app(&["user_read"]).await;
    let plain_secret = plain.client_secret.clone();
    assert_eq!(
        post_form(
            &server,
            "/api/v1/oauth2/token",
            &plain,
            &plain_secret,
            &token("client_credentials")
        )
        .await
        .1["error"],
        "unauthorized_client"
    );
    // Credentials in the query are refused as on the tenant token endpoint; no token is a
    // bad request, not a server error.
    let path = format!("/api/v1/oauth2/token?client_secret={secret}");
    let (status, body) =
        post_form(&server, &path, &app, &secret, &token("client_credentials")).await;
    assert_eq!(
        (status, body["error"].clone()),
        (400, json!("invalid_request"))
    );
    let (status, body) = post_form(&server, "/api/v1/oauth2/introspect", &app, &secret, &[]).await;
    assert_eq!(
        (status, body["error"].clone()),
        (400, json!("invalid_request"))
    );
}

#[on_each_store]
async fn rotating_the_secret_ends_the_tokens(backend: Backend) {
    let mut server = Server::start(backend).await;
    let app = sign_in_app(&mut server, json!(["client_credentials"])).await;
    let (token, _) = token_by_library(&server, &app, AuthType::BasicAuth).await;
    let db = ["--database", server.db.url.as_str()];
    let id = app.application_id.as_str();
    let (ok, rotated, err) = roster(&[&["app", "rotate-secret", id][..], &db].concat()).await;
    assert!(ok, "{err}");
    let renewed = AppCreds {
        client_secret: rotated["client_secret"].as_str().unwrap().to_owned(),
        ..app
    };
    let secret = renewed.client_secret.clone();
    let (_, seen) = on_token(&server, "introspect", &renewed, &secret, &token).await;
    assert_eq!(seen, json!({"active": false}));
}

#[on_each_store]
async fn checking_tokens_spends_no_attempts_but_wrong_secrets_do(backend: Backend) {
    let mut server = Server::start_with(
        backend,
        Options {
            args: &[
                "--token-rate-per-address",
                "1",
                "--token-rate-per-client",
                "0",
            ],
            ..Default::default()
        },
    )
    .await;
    // The admin token and this one spend the address's burst of two attempts.
    let app = sign_in_app(&mut server, json!(["client_credentials"])).await;
    let (token, _) = token_by_library(&server, &app, AuthType::BasicAuth).await;
    let secret = app.client_secret.clone();
    // A resource server checks the token for every request it serves: never limited.
    for _ in 0..20 {
        let (status, seen) = on_token(&server, "introspect", &app, &secret, &token).await;
        assert_eq!((status, seen["active"].clone()), (200, json!(true)));
    }
    // Guessing secrets there spends the budget like token requests do.
    let mut limited = false;
    for _ in 0..8 {
        let (status, _) = on_token(
            &server,
            "introspect",
            &app,
            "wrong-secret-0123456789",
            &token,
        )
        .await;
        if status == 429 {
            limited = true;
            break;
        }
        assert_eq!(status, 401);
    }
    assert!(limited, "wrong secrets are limited");
}
