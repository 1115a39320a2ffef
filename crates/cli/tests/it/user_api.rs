//! The user APIs (`/api/v2/sdk/*`) and SSO tickets as native and server-side clients call
//! them: the login's outcomes in both error styles, one lock shared with the login page and
//! the password grant, session calls signed with RSA-OAEP by a standard implementation (the
//! RustCrypto `rsa` crate here, Python's `cryptography` in `clients/user_api_client.py`), and
//! one-time tickets.

use crate::sign_in::{alert, client_post, creds, Browser, PASSWORD};
use crate::support::*;
use base64::Engine;
use rsa::pkcs8::DecodePublicKey;
use rsa::{Oaep, RsaPublicKey};
use serde_json::{json, Value};

/// The common headers of a device.
const FINGERPRINT: &str = "156aysdna213sc50";

/// A user with a password (no change due) holding an account in an application.
pub(crate) struct Sdk {
    pub app: AppCreds,
    pub user_id: String,
    pub user_name: String,
    pub account_id: String,
}

pub(crate) async fn fixture(server: &mut Server, must_modify: bool) -> Sdk {
    let admin = server.admin().await;
    let user_name = format!("u{:x}", rand::random::<u32>());
    let (status, body) = server
        .post(
            &admin,
            "/users",
            json!({
                "user_name": user_name,
                "mobile": mobile_for(&user_name),
                "password": PASSWORD,
                "email": format!("{user_name}@example.com"),
                "name": "Zhang San",
                "pwd_must_modify": must_modify,
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let user_id = body["user_id"].as_str().unwrap().to_owned();
    let app = server.create_app(&["user_read"]).await;
    let account_id = server.authorize(&user_id, &app.application_id).await;
    Sdk {
        app,
        user_id,
        user_name,
        account_id,
    }
}

/// A user-API call with the common headers of `client_id` (and `extra` headers).
pub(crate) async fn sdk(
    server: &Server,
    method: &str,
    path: &str,
    client_id: &str,
    extra: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = server
        .http
        .request(method.parse().unwrap(), server.url(path))
        .header("X-client-id", client_id)
        .header("X-device-fingerprint", FINGERPRINT)
        .header("X-operating-sys-version", "Android 10")
        .header("X-agent", "Mozilla/5.0 (Linux; Android 10)")
        .header("X-L", "zh");
    for (name, value) in extra {
        req = req.header(*name, *value);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    read(req.send().await.unwrap()).await
}

pub(crate) async fn login(
    server: &Server,
    client_id: &str,
    user: &str,
    password: &str,
) -> (u16, Value) {
    let body = json!({"user_name": user, "password": password});
    sdk(
        server,
        "POST",
        "/api/v2/sdk/login",
        client_id,
        &[],
        Some(body),
    )
    .await
}

/// Logs `f`'s user in; the session token.
async fn session(server: &Server, f: &Sdk) -> String {
    let (status, body) = login(server, &f.app.client_id, &f.user_name, PASSWORD).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("SUCCESS")),
        "{body}"
    );
    body["session_token"].as_str().unwrap().to_owned()
}

/// How a signature is made.
#[derive(Clone, Copy)]
enum Mgf1 {
    /// Java's `OAEPWithSHA-256AndMGF1Padding`.
    Sha1,
    Sha256,
}

/// `X-signature` for `session_token` at `timestamp`, encrypted with `public_key` (PEM).
fn signature(public_key: &str, session_token: &str, timestamp: i64, mgf1: Mgf1) -> String {
    let key = RsaPublicKey::from_public_key_pem(public_key).unwrap();
    let nonce = format!("{:x}", rand::random::<u64>());
    let plain = format!("session_token={session_token}&timestamp={timestamp}&nonce={nonce}");
    let padding = match mgf1 {
        Mgf1::Sha1 => Oaep::new_with_mgf_hash::<sha2::Sha256, sha1::Sha1>(),
        Mgf1::Sha256 => Oaep::new::<sha2::Sha256>(),
    };
    let cipher = key
        .encrypt(&mut rand::rngs::OsRng, padding, plain.as_bytes())
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(cipher)
}

async fn public_key(server: &Server, client_id: &str) -> String {
    let (status, body) = sdk(
        server,
        "GET",
        "/api/v2/sdk/public-key",
        client_id,
        &[],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["public_key"].as_str().unwrap().to_owned()
}

async fn server_time(server: &Server) -> i64 {
    let body: Value = server
        .http
        .get(server.url("/api/v2/sdk/server-date"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["timestamp"].as_str().unwrap().parse().unwrap()
}

/// A signed session call.
async fn signed(
    server: &Server,
    method: &str,
    path: &str,
    client_id: &str,
    sig: &str,
    body: Option<Value>,
) -> (u16, Value) {
    sdk(
        server,
        method,
        path,
        client_id,
        &[("X-signature", sig)],
        body,
    )
    .await
}

#[on_each_store]
async fn a_login_answers_a_session_and_an_id_token_relying_parties_verify(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, false).await;
    let (status, body) = login(&server, &f.app.client_id, &f.user_name, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "SUCCESS");
    assert_eq!(body["expire"], 604_800);
    assert!(body.get("state_token").is_none() && body.get("data").is_none());
    // The id_token verifies with the published key of its `kid`, as a relying party does it.
    let id_token = body["id_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
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
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "sub", "iat"]);
    let claims = jsonwebtoken::decode::<Value>(
        id_token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["sub"], f.user_id.as_str());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        7200
    );
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    // `api` is a JSON string holding the user, as real clients parse it.
    let api: Value = serde_json::from_str(claims["api"].as_str().unwrap()).unwrap();
    assert_eq!(api["userName"], f.user_name.as_str());
    assert_eq!(api["id"], f.user_id.as_str());
    assert_eq!(api["name"], "Zhang San");
    assert_eq!(api["mobile"], mobile_for(&f.user_name).as_str());
}

/// Every refusal of the login, in the style `style` words it.
async fn login_refusals(backend: Backend, style: &str, codes: [&str; 8]) {
    let mut server = Server::start_with(
        backend,
        Options {
            args: &["--sdk-error-style", style],
            ..Default::default()
        },
    )
    .await;
    let f = fixture(&mut server, false).await;
    let admin = server.admin().await;
    let [device, client, blank, unknown_user, wrong, not_bound, locked, unknown_client] = codes;
    let client_id = f.app.client_id.as_str();
    // A device header missing.
    let res = server
        .http
        .post(server.url("/api/v2/sdk/login"))
        .header("X-client-id", client_id)
        .header("X-device-fingerprint", FINGERPRINT)
        .json(&json!({"user_name": f.user_name, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(&read(res).await, 400, device);
    assert_error(
        &login(&server, "", &f.user_name, PASSWORD).await,
        400,
        client,
    );
    assert_error(
        &login(&server, "nobody", &f.user_name, PASSWORD).await,
        400,
        unknown_client,
    );
    assert_error(&login(&server, client_id, "", PASSWORD).await, 400, blank);
    assert_error(
        &login(&server, client_id, "nobody-here", "x").await,
        400,
        unknown_user,
    );
    let answer = login(&server, client_id, &f.user_name, "wrong-password").await;
    assert_error(&answer, 400, wrong);
    let attempts = if style == "bamboocloud" {
        "剩余登录尝试次数:4"
    } else {
        "Remaining attempts: 4."
    };
    assert!(
        answer.1["error_msg"].as_str().unwrap().contains(attempts),
        "{}",
        answer.1
    );
    // The right password again clears the count.
    session(&server, &f).await;
    // A user without an account in the application.
    let other = server.create_app(&["user_read"]).await;
    assert_error(
        &login(&server, &other.client_id, &f.user_name, PASSWORD).await,
        400,
        not_bound,
    );
    // A disabled account: the password was right, the login is denied.
    let path = format!(
        "/applications/{}/accounts/{}/disable",
        f.app.application_id, f.account_id
    );
    assert_eq!(server.put(&admin, &path, json!({})).await.0, 200);
    let (status, body) = login(&server, client_id, &f.user_name, PASSWORD).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("ACCESS_DENIED")),
        "{body}"
    );
    assert!(body.get("session_token").is_none());
    // Five wrong passwords lock the user.
    for _ in 0..5 {
        login(&server, client_id, &f.user_name, "wrong-password").await;
    }
    let answer = login(&server, client_id, &f.user_name, PASSWORD).await;
    assert_error(&answer, 400, locked);
    assert!(
        answer.1["error_msg"]
            .as_str()
            .unwrap()
            .contains("minutes and"),
        "{}",
        answer.1
    );
}

#[on_each_store]
async fn login_refusals_in_oneaccess_style(backend: Backend) {
    let codes = [
        "PARAM.0001",
        "PARAM.0001",
        "PARAM.0001",
        "LOGIN.0002",
        "LOGIN.0002",
        "LOGIN.0003",
        "LOGIN.0001",
        "APP.0001",
    ];
    login_refusals(backend, "oneaccess", codes).await;
}

#[on_each_store]
async fn login_refusals_in_bamboocloud_style(backend: Backend) {
    let codes = [
        "SDK.COMMON.1003",
        "SDK.COMMON.1001",
        "SDK.COMMON.1001",
        "SDK.COMMON.1013",
        "SDK.LOGIN.1005",
        "SDK.LOGIN.1002",
        "SDK.LOGIN.1003",
        "SDK.COMMON.1012",
    ];
    login_refusals(backend, "bamboocloud", codes).await;
}

/// The login page, the password grant and the user APIs count wrong passwords together, and
/// the lock one of them sets holds for all.
#[on_each_store]
async fn one_lock_for_the_page_the_password_grant_and_the_user_apis(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = crate::sign_in::fixture(
        &mut server,
        json!({"grants": ["authorization_code", "password"]}),
    )
    .await;
    let browser = Browser::new(&server);
    let page = browser.get("/login").await.body;
    let page_says = alert(&browser.submit(&page, &f.user_name, "wrong-1").await.body).unwrap();
    assert!(page_says.ends_with("Remaining attempts: 4"), "{page_says}");
    let grant = [
        ("grant_type", "password"),
        ("username", f.user_name.as_str()),
        ("password", "wrong-2"),
        ("scope", "openid"),
    ];
    let (status, _) = client_post(&server, "/api/v1/oauth2/token", creds(&f.app), &grant).await;
    assert_eq!(status, 400);
    let answer = login(&server, &f.app.client_id, &f.user_name, "wrong-3").await;
    assert!(
        answer.1["error_msg"]
            .as_str()
            .unwrap()
            .ends_with("Remaining attempts: 2."),
        "{}",
        answer.1
    );
    login(&server, &f.app.client_id, &f.user_name, "wrong-4").await;
    let page_says = alert(&browser.submit(&page, &f.user_name, "wrong-5").await.body).unwrap();
    assert!(page_says.contains("locked"), "{page_says}");
    // Locked everywhere, even with the right password.
    assert_error(
        &login(&server, &f.app.client_id, &f.user_name, PASSWORD).await,
        400,
        "LOGIN.0001",
    );
    let right = [
        ("grant_type", "password"),
        ("username", f.user_name.as_str()),
        ("password", PASSWORD),
        ("scope", "openid"),
    ];
    let (status, body) = client_post(&server, "/api/v1/oauth2/token", creds(&f.app), &right).await;
    assert_eq!(status, 400);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("locked"),
        "{body}"
    );
}

#[on_each_store]
async fn session_calls_are_signed_once_within_the_window(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, false).await;
    let client_id = f.app.client_id.as_str();
    let token = session(&server, &f).await;
    let key = public_key(&server, client_id).await;
    assert!(key.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{key}");
    // One key per application, the same each time it is asked for.
    assert_eq!(public_key(&server, client_id).await, key);
    let now = server_time(&server).await;
    let sig = signature(&key, &token, now, Mgf1::Sha1);
    let (status, profile) =
        signed(&server, "GET", "/api/v2/sdk/profile", client_id, &sig, None).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["user_name"], f.user_name.as_str());
    assert_eq!(
        profile["email"],
        format!("{}@example.com", f.user_name).as_str()
    );
    // The same signature again: its nonce was spent.
    let replay = signed(&server, "GET", "/api/v2/sdk/profile", client_id, &sig, None).await;
    assert_error(&replay, 400, "PARAM.0030");
    // MGF1 with SHA-256 is read too.
    let sig = signature(&key, &token, now, Mgf1::Sha256);
    assert_eq!(
        signed(&server, "GET", "/api/v2/sdk/profile", client_id, &sig, None)
            .await
            .0,
        200
    );
    // Outside the window (5 minutes) either way.
    for skew in [-301_000, 301_000] {
        let sig = signature(&key, &token, now + skew, Mgf1::Sha1);
        let answer = signed(&server, "GET", "/api/v2/sdk/profile", client_id, &sig, None).await;
        assert_error(&answer, 400, "PARAM.0030");
    }
    // Another application's key, or the right key with another application's client id.
    let mut other = fixture(&mut server, false).await;
    other.user_name = f.user_name.clone();
    let other_key = public_key(&server, &other.app.client_id).await;
    let sig = signature(&other_key, &token, now, Mgf1::Sha1);
    let answer = signed(&server, "GET", "/api/v2/sdk/profile", client_id, &sig, None).await;
    assert_error(&answer, 400, "PARAM.0030");
    let answer = signed(
        &server,
        "GET",
        "/api/v2/sdk/profile",
        &other.app.client_id,
        &sig,
        None,
    )
    .await;
    assert_error(&answer, 400, "PARAM.0030");
    // Not Base64, or no signature at all.
    assert_error(
        &signed(
            &server,
            "GET",
            "/api/v2/sdk/profile",
            client_id,
            "%%%",
            None,
        )
        .await,
        400,
        "PARAM.0030",
    );
    assert_error(
        &sdk(&server, "GET", "/api/v2/sdk/profile", client_id, &[], None).await,
        400,
        "PARAM.0001",
    );
    // The profile changes; the mobile and email are not changed here.
    let sig = signature(&key, &token, now, Mgf1::Sha1);
    let update = json!({"name": "Li Si", "attr_nick_name": "si", "mobile": "13000000000", "email": "x@example.com"});
    let (status, changed) = signed(
        &server,
        "POST",
        "/api/v2/sdk/profile/update",
        client_id,
        &sig,
        Some(update),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (changed["name"].as_str(), changed["attr_nick_name"].as_str()),
        (Some("Li Si"), Some("si"))
    );
    assert_eq!(changed["mobile"], mobile_for(&f.user_name).as_str());
    let bad = json!({"attr_birthday": "yesterday"});
    let sig = signature(&key, &token, now, Mgf1::Sha1);
    let answer = signed(
        &server,
        "POST",
        "/api/v2/sdk/profile/update",
        client_id,
        &sig,
        Some(bad),
    )
    .await;
    assert_error(&answer, 400, "PARAM.0001");
    // A new id_token, carrying the new name.
    let sig = signature(&key, &token, now, Mgf1::Sha1);
    let (status, body) = signed(
        &server,
        "POST",
        "/api/v2/sdk/session-token/refresh-id-token",
        client_id,
        &sig,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let payload = body["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert!(claims["api"].as_str().unwrap().contains("Li Si"));
    // Logout ends the session token.
    let sig = signature(&key, &token, now, Mgf1::Sha1);
    let (status, _) = signed(&server, "GET", "/api/v2/sdk/logout", client_id, &sig, None).await;
    assert_eq!(status, 200);
    let sig = signature(&key, &token, now, Mgf1::Sha1);
    let answer = signed(&server, "GET", "/api/v2/sdk/profile", client_id, &sig, None).await;
    assert_error(&answer, 400, "PARAM.0030");
}

/// A tenant token for `app`.
async fn tenant_token(server: &Server, app: &AppCreds) -> String {
    server.token_for(&app.client_id, &app.client_secret).await
}

async fn issue(server: &Server, bearer: &str, body: Value) -> (u16, Value) {
    server
        .call("POST", bearer, "/sso/session-token/sso-ticket", Some(body))
        .await
}

async fn verify(server: &Server, bearer: &str, body: Value) -> (u16, Value) {
    server
        .call("POST", bearer, "/sso/sso-ticket/verify", Some(body))
        .await
}

fn device(extra: Value) -> Value {
    let mut body = json!({
        "operating_sys_version": "Android 10",
        "device_ip": "10.10.10.1",
        "device_fingerprint": FINGERPRINT,
        "agent": "Mozilla/5.0",
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[on_each_store]
async fn sso_tickets_are_issued_to_the_login_device_and_redeemed_once(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, false).await;
    let token = session(&server, &f).await;
    let bearer = tenant_token(&server, &f.app).await;
    let (status, body) = issue(&server, &bearer, device(json!({"session_token": token}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expire"], 300);
    let ticket = body["sso_ticket"].as_str().unwrap().to_owned();
    // Another device may not have one.
    let stranger = device(json!({"session_token": token, "device_fingerprint": "other"}));
    assert_error(
        &issue(&server, &bearer, stranger).await,
        400,
        "SESSION.0001",
    );
    assert_error(
        &issue(&server, &bearer, device(json!({"session_token": "nope"}))).await,
        400,
        "SESSION.0001",
    );
    let mut no_ip = device(json!({"session_token": token}));
    no_ip.as_object_mut().unwrap().remove("device_ip");
    assert_error(&issue(&server, &bearer, no_ip).await, 400, "PARAM.0001");
    // Redeemed once, with Huawei's nested shape.
    let (status, body) = verify(&server, &bearer, device(json!({"sso_ticket": ticket}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["code"], "200");
    assert_eq!(body["data"]["user"]["userName"], f.user_name.as_str());
    assert_eq!(body["data"]["user"]["id"], f.user_id.as_str());
    assert_error(
        &verify(&server, &bearer, device(json!({"sso_ticket": ticket}))).await,
        400,
        "PARAM.0032",
    );
    assert_error(
        &verify(&server, &bearer, device(json!({}))).await,
        400,
        "PARAM.0031",
    );
    // A ticket redeemed from another device is spent all the same.
    let (_, body) = issue(&server, &bearer, device(json!({"session_token": token}))).await;
    let ticket = body["sso_ticket"].as_str().unwrap().to_owned();
    let elsewhere = device(json!({"sso_ticket": ticket, "device_fingerprint": "other"}));
    assert_error(
        &verify(&server, &bearer, elsewhere).await,
        400,
        "PARAM.0032",
    );
    assert_error(
        &verify(&server, &bearer, device(json!({"sso_ticket": ticket}))).await,
        400,
        "PARAM.0032",
    );
    // No tenant token, no ticket.
    let (status, _) = server
        .call(
            "POST",
            "nope",
            "/sso/sso-ticket/verify",
            Some(device(json!({"sso_ticket": "x"}))),
        )
        .await;
    assert_eq!(status, 401);
    // A ticket for another application the user holds an account in; not for one they do not.
    let other = server.create_app(&["user_read"]).await;
    let for_other = device(json!({"session_token": token, "client_id": other.client_id}));
    assert_error(
        &issue(&server, &bearer, for_other.clone()).await,
        400,
        "LOGIN.0003",
    );
    server.authorize(&f.user_id, &other.application_id).await;
    assert_eq!(issue(&server, &bearer, for_other).await.0, 200);
    // A refreshed session token replaces the old one.
    let (status, body) = server
        .call(
            "POST",
            &bearer,
            "/sso/session-token/refresh",
            Some(device(json!({"session_token": token}))),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let renewed = body["session_token"].as_str().unwrap().to_owned();
    assert!(body["id_token"].as_str().is_some() && body["expire"] == 604_800);
    assert_error(
        &issue(&server, &bearer, device(json!({"session_token": token}))).await,
        400,
        "SESSION.0001",
    );
    assert_eq!(
        issue(&server, &bearer, device(json!({"session_token": renewed})))
            .await
            .0,
        200
    );
}

/// A disabled user, or a changed password, ends the user APIs' sessions and tickets too.
#[on_each_store]
async fn security_changes_end_sessions_and_tickets(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, false).await;
    let admin = server.admin().await;
    let client_id = f.app.client_id.as_str();
    let token = session(&server, &f).await;
    let bearer = tenant_token(&server, &f.app).await;
    let (_, body) = server
        .call(
            "POST",
            &bearer,
            "/sso/session-token/sso-ticket",
            Some(device(json!({"session_token": token}))),
        )
        .await;
    let ticket = body["sso_ticket"].as_str().unwrap().to_owned();
    let key = public_key(&server, client_id).await;
    let path = format!("/users/{}/disable", f.user_id);
    assert_eq!(server.put(&admin, &path, json!({})).await.0, 200);
    let sig = signature(&key, &token, server_time(&server).await, Mgf1::Sha1);
    assert_error(
        &signed(&server, "GET", "/api/v2/sdk/profile", client_id, &sig, None).await,
        400,
        "PARAM.0030",
    );
    let answer = server
        .call(
            "POST",
            &bearer,
            "/sso/sso-ticket/verify",
            Some(device(json!({"sso_ticket": ticket}))),
        )
        .await;
    assert_error(&answer, 400, "PARAM.0032");
    // Enabled again: what was ended stays ended.
    let path = format!("/users/{}/enable", f.user_id);
    assert_eq!(server.put(&admin, &path, json!({})).await.0, 200);
    let sig = signature(&key, &token, server_time(&server).await, Mgf1::Sha1);
    assert_error(
        &signed(&server, "GET", "/api/v2/sdk/profile", client_id, &sig, None).await,
        400,
        "PARAM.0030",
    );
    let (status, body) = login(&server, client_id, &f.user_name, PASSWORD).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("SUCCESS")),
        "{body}"
    );
}

/// A password that must be changed: the login hands out a state token, and the change
/// completes the login.
#[on_each_store]
async fn a_password_due_for_change_is_changed_before_the_session_begins(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, true).await;
    let client_id = f.app.client_id.as_str();
    let (status, body) = login(&server, client_id, &f.user_name, PASSWORD).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("PASSWORD_EXPIRED")),
        "{body}"
    );
    assert!(body.get("session_token").is_none() && body.get("id_token").is_none());
    let state = body["state_token"].as_str().unwrap().to_owned();
    let with_state = [("X-state-token", state.as_str())];
    // An expired password may not be skipped.
    let skip = sdk(
        &server,
        "GET",
        "/api/v2/sdk/pwd/skip-update",
        client_id,
        &with_state,
        None,
    )
    .await;
    assert_error(&skip, 400, "SESSION.0002");
    let change = |old: &str, new: &str| json!({"old_password": old, "new_password": new});
    let wrong = sdk(
        &server,
        "POST",
        "/api/v2/sdk/pwd/update",
        client_id,
        &with_state,
        Some(change("wrong-password", "New-horse-10")),
    )
    .await;
    assert_error(&wrong, 400, "LOGIN.0002");
    let short = sdk(
        &server,
        "POST",
        "/api/v2/sdk/pwd/update",
        client_id,
        &with_state,
        Some(change(PASSWORD, "short")),
    )
    .await;
    assert_error(&short, 400, "PARAM.0001");
    let (status, body) = sdk(
        &server,
        "POST",
        "/api/v2/sdk/pwd/update",
        client_id,
        &with_state,
        Some(change(PASSWORD, "New-horse-10")),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("SUCCESS")),
        "{body}"
    );
    assert!(body["session_token"].is_string() && body["id_token"].is_string());
    // The state token was spent; the new password signs in without a step.
    let again = sdk(
        &server,
        "POST",
        "/api/v2/sdk/pwd/update",
        client_id,
        &with_state,
        Some(change("New-horse-10", "Newer-horse-11")),
    )
    .await;
    assert_error(&again, 400, "SESSION.0002");
    let (status, body) = login(&server, client_id, &f.user_name, "New-horse-10").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("SUCCESS")),
        "{body}"
    );
}

/// Two nodes on one PostgreSQL database: a ticket or a signature's nonce spent on one is
/// spent on the other, even when both are tried at once.
#[cfg_attr(
    not(roster_pg),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_and_nonces_are_single_use_across_nodes() {
    let db = TestDb::fresh(Backend::Postgres).await;
    let url = db.url.clone();
    let mut a = Server::start_on(db, Options::default()).await;
    let b = Server::start_on(TestDb::borrowed(Backend::Postgres, url), Options::default()).await;
    let f = fixture(&mut a, false).await;
    let client_id = f.app.client_id.as_str();
    let token = session(&a, &f).await;
    let bearer = tenant_token(&a, &f.app).await;
    for _ in 0..5 {
        let (_, body) = issue(&a, &bearer, device(json!({"session_token": token}))).await;
        let ticket = device(json!({"sso_ticket": body["sso_ticket"]}));
        let (on_a, on_b) = tokio::join!(
            verify(&a, &bearer, ticket.clone()),
            verify(&b, &bearer, ticket)
        );
        let mut statuses = [on_a.0, on_b.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 400], "{} {}", on_a.1, on_b.1);
    }
    // The key made on A signs for B; a nonce spent on one node is spent on both.
    let key = public_key(&a, client_id).await;
    assert_eq!(public_key(&b, client_id).await, key);
    for _ in 0..5 {
        let sig = signature(&key, &token, server_time(&a).await, Mgf1::Sha1);
        let (on_a, on_b) = tokio::join!(
            signed(&a, "GET", "/api/v2/sdk/profile", client_id, &sig, None),
            signed(&b, "GET", "/api/v2/sdk/profile", client_id, &sig, None)
        );
        let mut statuses = [on_a.0, on_b.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 400], "{} {}", on_a.1, on_b.1);
    }
}

/// Python's `cryptography` (OpenSSL) signs as Java clients do, and the whole exchange runs as
/// docs/user-api.md shows it.
#[cfg_attr(
    not(roster_python),
    ignore = "set ROSTER_TEST_PYTHON to a Python with cryptography and requests to run"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_client_logs_in_signs_and_trades_a_ticket() {
    let mut server = Server::start(Backend::Sqlite).await;
    let f = fixture(&mut server, false).await;
    let python = std::env::var("ROSTER_TEST_PYTHON").unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/user_api_client.py"
    );
    let out = tokio::process::Command::new(python)
        .args([
            script,
            &server.base,
            &f.app.client_id,
            &f.app.client_secret,
            &f.user_name,
            PASSWORD,
        ])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(said["profile"]["user_name"], f.user_name.as_str());
    assert_eq!(said["ticket_user"]["userName"], f.user_name.as_str());
    assert_eq!(said["id_token_user"], f.user_name.as_str());
    assert_eq!(said["replayed"], "PARAM.0030");
}

/// `roster rotate-secret-key` reseals each application's signature key too: after it, the
/// server (on the new key) still reads signatures made with the public key it gave before.
#[on_each_store]
async fn a_rotated_secret_key_keeps_the_signature_keys(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, false).await;
    let client_id = f.app.client_id.clone();
    let token = session(&server, &f).await;
    let key = public_key(&server, &client_id).await;
    let db = server.stop().await;
    let new_key = "cd".repeat(32);
    let out = tokio::process::Command::new(roster_bin())
        .args(["rotate-secret-key", "--database", &db.url])
        .env("ROSTER_SECRET_KEY_OLD", TEST_SECRET_KEY)
        .env("ROSTER_SECRET_KEY", &new_key)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        said["resealed"], 2,
        "the id_token signing key and the application's key"
    );
    let options = Options {
        env: &[("ROSTER_SECRET_KEY", new_key.as_str())],
        ..Default::default()
    };
    let server = Server::start_on(db, options).await;
    assert_eq!(public_key(&server, &client_id).await, key);
    let sig = signature(&key, &token, server_time(&server).await, Mgf1::Sha1);
    let (status, body) = signed(
        &server,
        "GET",
        "/api/v2/sdk/profile",
        &client_id,
        &sig,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}
