//! One logout for everything: a browser session signed in to an OpenID Connect application
//! (with a `backchannel_logout_uri`) and a CAS service logs out once; each is told through the
//! outbox — the CAS service a `logoutRequest` naming its ticket, the OIDC application a
//! `logout_token` verified here with a JOSE library against the published keys — the first
//! delivery refused (the application down) and retried; the session's refresh token ends.

use crate::sign_in::{
    authorize_url, client_post, creds, fixture, jwt_payload, param, Browser, PASSWORD, REDIRECT,
};
use crate::support::*;
use serde_json::{json, Value};

/// The form field `name` of a form body.
fn field(body: &[u8], name: &str) -> Option<String> {
    url_form(body)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn url_form(body: &[u8]) -> Vec<(String, String)> {
    let mut url = reqwest::Url::parse("http://x/").unwrap();
    url.set_query(Some(&String::from_utf8_lossy(body)));
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[on_each_store]
async fn a_logout_reaches_every_application_the_session_signed_in_to(backend: Backend) {
    let (receiver_base, seen) = receiver(vec![503]).await;
    let mut server = Server::start(backend).await;
    let oidc_uri = format!("{receiver_base}/oidc");
    let f = fixture(&mut server, json!({"backchannel_logout_uri": oidc_uri})).await;
    // A CAS service on the same (loopback) host receives its logoutRequest there.
    let service = format!("{receiver_base}/cas");
    let (ok, created, err) = roster(&[
        "app",
        "create",
        "--database",
        &server.db.url,
        "--name",
        &unique_app_name(),
        "--sso",
        "cas",
        "--redirect-uri",
        &service,
    ])
    .await;
    assert!(ok, "{err}");
    let cas_app = created["application_id"].as_str().unwrap().to_owned();
    server.authorize(&f.user_id, &cas_app).await;

    // Signed in to the OIDC application (code, then tokens)...
    let browser = Browser::new(&server);
    let hop = browser
        .authorize(
            &authorize_url(&server, &f.app.client_id, "code", "s"),
            &f.user_name,
            PASSWORD,
        )
        .await;
    let code = param(hop.location.as_deref().unwrap(), "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let (status, tokens) = client_post(&server, "/api/v1/oauth2/token", creds(&f.app), &form).await;
    assert_eq!(status, 200, "{tokens}");
    let sid = jwt_payload(tokens["id_token"].as_str().unwrap())["sid"]
        .as_str()
        .expect("the id_token names its session")
        .to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    // ... and to the CAS service, in the same session.
    let login = format!(
        "/api/v1/cas/login?service={}",
        reqwest::Url::parse_with_params("http://x/", &[("s", &service)])
            .unwrap()
            .query()
            .unwrap()[2..]
            .to_owned()
    );
    let hop = browser.get(&login).await;
    let landed = hop.location.expect("a ticket");
    let ticket = param(&landed, "ticket").unwrap();
    let validate = format!("{login}&ticket={ticket}").replace("/login?", "/serviceValidate?");
    let answer = server
        .http
        .get(server.url(&validate))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(answer.contains("authenticationSuccess"), "{answer}");

    // One logout.
    let out = browser.get("/api/v1/logout").await;
    assert_eq!(out.status, 302, "{}", out.body);
    // The first delivery is refused (503) and retried a second later: three requests in all.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while seen.lock().unwrap().len() < 3 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    let to = |path: &str| {
        seen.iter()
            .filter(|(head, _)| head.starts_with(&format!("post {path} ")))
            .cloned()
            .collect::<Vec<_>>()
    };
    let cas = to("/cas");
    let oidc = to("/oidc");
    assert!(!cas.is_empty() && !oidc.is_empty(), "{seen:?}");
    let request = field(&cas.last().unwrap().1, "logoutRequest").expect("logoutRequest");
    assert!(
        request.contains(&format!(
            "<samlp:SessionIndex>{ticket}</samlp:SessionIndex>"
        )),
        "{request}"
    );
    assert!(request.starts_with("<samlp:LogoutRequest "), "{request}");

    // The logout token, verified as a relying party does.
    let token = field(&oidc.last().unwrap().1, "logout_token").expect("logout_token");
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let jwks: jsonwebtoken::jwk::JwkSet = server
        .http
        .get(server.url("/api/v1/oauth2/keys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[&f.app.client_id]);
    validation.set_issuer(&[server.base.as_str()]);
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub", "iat"]);
    let claims: Value = jsonwebtoken::decode(
        &token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["sid"], sid.as_str());
    assert_eq!(claims["sub"], f.user_id.as_str());
    assert_eq!(
        claims["events"],
        json!({"http://schemas.openid.net/event/backchannel-logout": {}})
    );
    assert!(
        claims.get("nonce").is_none() && claims["jti"].is_string(),
        "{claims}"
    );

    // The session's refresh token ended with it.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let (status, body) = client_post(&server, "/api/v1/oauth2/token", creds(&f.app), &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    // Each delivery audited once it went through.
    let admin = server.admin().await;
    for app in [&f.app.application_id, &cas_app] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let query = format!("/roster/v1/audit?target_id={app}&offset=0&limit=100");
            let (_, audit) = server.get(&admin, &query).await;
            let delivered = audit["records"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["operation"] == "BackchannelLogout");
            if delivered || std::time::Instant::now() > deadline {
                assert!(delivered, "{audit}");
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// Discovery says so, and a `backchannel_logout_uri` is for OpenID Connect applications.
#[on_each_store]
async fn discovery_offers_back_channel_logout(backend: Backend) {
    let mut server = Server::start(backend).await;
    let (_, doc) = read(
        server
            .http
            .get(format!("{}/.well-known/openid-configuration", server.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(doc["backchannel_logout_supported"], true);
    assert_eq!(doc["backchannel_logout_session_supported"], true);
    let app = server.create_app(&["user_read"]).await;
    let admin = server.admin().await;
    let path = format!("/roster/v1/applications/{}/sso", app.application_id);
    let cas = json!({"protocol": "cas", "redirect_uris": ["https://a.example.com/"],
                     "backchannel_logout_uri": "https://a.example.com/bc"});
    assert_error(&server.put(&admin, &path, cas).await, 400, "PARAM.0001");
}

/// A delivery waiting for its retry survives the server's restart: the next server posts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_delivery_survives_a_restart() {
    let (receiver_base, seen) = receiver(vec![503]).await;
    let mut server = Server::start(Backend::Sqlite).await;
    let oidc_uri = format!("{receiver_base}/oidc");
    let f = fixture(&mut server, json!({"backchannel_logout_uri": oidc_uri})).await;
    let browser = Browser::new(&server);
    let hop = browser
        .authorize(
            &authorize_url(&server, &f.app.client_id, "code", "s"),
            &f.user_name,
            PASSWORD,
        )
        .await;
    let code = param(hop.location.as_deref().unwrap(), "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    assert_eq!(
        client_post(&server, "/api/v1/oauth2/token", creds(&f.app), &form)
            .await
            .0,
        200
    );
    assert_eq!(browser.get("/api/v1/logout").await.status, 302);
    // The first attempt is refused; the server stops before its retry.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while seen.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let db = server.stop().await;
    assert_eq!(seen.lock().unwrap().len(), 1);
    let server = Server::start_on(db, Options::default()).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while seen.lock().unwrap().len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].1, seen[1].1, "the same message, posted again");
    drop(server);
}
