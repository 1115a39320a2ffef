//! A second factor and recovery by SMS code, as clients and people meet them: the MFA policy
//! (`/roster/v1/mfa-policy`), the user APIs' `MFA_AUTH` step (`mobile-by-token`, `sms/send`,
//! `mfa/sms`) and `pwd/update-by-mobile`, the login page's code step, codes read back from
//! the `log` sender (`GET /roster/v1/messages`, `roster messages list`), and the `webhook`
//! sender against a local receiver. Expiry, the minute between codes, the hourly limits and
//! concurrent guesses are held at the use-case tier (`crates/service/tests/use_cases.rs`),
//! where the clock is moved.

use crate::sign_in::{alert, client_post, creds, hidden, Browser, PASSWORD, REDIRECT};
use crate::support::*;
use crate::user_api::{fixture, login, sdk};
use serde_json::{json, Value};

/// Sets the MFA policy.
async fn set_policy(server: &mut Server, policy: Value) -> (u16, Value) {
    let admin = server.admin().await;
    server.put(&admin, "/roster/v1/mfa-policy", policy).await
}

/// The messages kept for `mobile`, newest first.
async fn messages(server: &mut Server, mobile: &str) -> Vec<Value> {
    let admin = server.admin().await;
    let (status, body) = server
        .get(&admin, &format!("/roster/v1/messages?mobile={mobile}"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["messages"].as_array().unwrap().clone()
}

/// The code in the newest message to `mobile`.
async fn last_code(server: &mut Server, mobile: &str) -> String {
    let kept = messages(server, mobile).await;
    let text = kept[0]["text"].as_str().unwrap();
    let code: String = text.chars().filter(char::is_ascii_digit).take(6).collect();
    assert_eq!(code.len(), 6, "{text}");
    code
}

async fn send_code(server: &Server, client_id: &str, body: Value) -> (u16, Value) {
    sdk(
        server,
        "POST",
        "/api/v2/sdk/sms/send",
        client_id,
        &[],
        Some(body),
    )
    .await
}

/// A code other than `code`.
fn other_than(code: &str) -> &'static str {
    if code == "000000" {
        "111111"
    } else {
        "000000"
    }
}

#[on_each_store]
async fn the_user_apis_ask_named_applications_for_a_code(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, false).await;
    let mobile = mobile_for(&f.user_name);
    let plain = server.create_app(&["user_read"]).await;
    server.authorize(&f.user_id, &plain.application_id).await;
    // The policy names applications by client id; each must exist.
    let named = json!({"mode": "applications", "applications": [f.app.client_id]});
    let (status, body) = set_policy(&mut server, named.clone()).await;
    assert_eq!((status, &body), (200, &named));
    let admin = server.admin().await;
    assert_eq!(server.get(&admin, "/roster/v1/mfa-policy").await.1, named);
    let unknown = json!({"mode": "applications", "applications": ["nobody"]});
    assert_error(&set_policy(&mut server, unknown).await, 400, "APP.0001");
    let mixed = json!({"mode": "everyone", "applications": [f.app.client_id]});
    assert_error(&set_policy(&mut server, mixed).await, 400, "PARAM.0001");

    // An application the policy does not name: the password alone.
    let (_, body) = login(&server, &plain.client_id, &f.user_name, PASSWORD).await;
    assert_eq!(body["status"], "SUCCESS", "{body}");
    // Its session buys no ticket for the named application: it gave no code.
    let bearer = server
        .token_for(&plain.client_id, &plain.client_secret)
        .await;
    let ticket = |session: &Value, client_id: &str| {
        json!({
            "session_token": session,
            "client_id": client_id,
            "device_fingerprint": "156aysdna213sc50",
            "operating_sys_version": "Android 10",
            "device_ip": "10.10.10.1",
        })
    };
    let for_named = ticket(&body["session_token"], &f.app.client_id);
    let refused = server
        .post(&bearer, "/sso/session-token/sso-ticket", for_named)
        .await;
    assert_error(&refused, 400, "SESSION.0001");
    assert!(refused.1["error_msg"]
        .as_str()
        .unwrap()
        .contains("second factor"));
    // A named one: a state token for the second factor, and no session yet.
    let (status, body) = login(&server, &f.app.client_id, &f.user_name, PASSWORD).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("MFA_AUTH")));
    assert!(body.get("session_token").is_none() && body.get("id_token").is_none());
    let state = body["state_token"].as_str().unwrap().to_owned();
    let with_state = [("X-state-token", state.as_str())];
    let (status, body) = sdk(
        &server,
        "GET",
        "/api/v2/sdk/mobile-by-token",
        &f.app.client_id,
        &with_state,
        None,
    )
    .await;
    assert_eq!((status, &body), (200, &json!({"mobile": mobile})));
    let (status, body) = sdk(
        &server,
        "GET",
        "/api/v2/sdk/mobile-by-token",
        &plain.client_id,
        &with_state,
        None,
    )
    .await;
    assert_error(&(status, body), 400, "SESSION.0002");

    // Sending: the captcha token must be there; only the types Roster reads back.
    let send = |body: Value| send_code(&server, &f.app.client_id, body);
    let no_captcha = json!({"mobile": mobile, "type": "OTP_REST_SMS"});
    assert_error(&send(no_captcha).await, 400, "PARAM.0005");
    let register = json!({"mobile": mobile, "type": "REGISTER_SMS", "captcha_token": "x"});
    let refused = send(register).await;
    assert_error(&refused, 400, "PARAM.0001");
    assert!(refused.1["error_msg"]
        .as_str()
        .unwrap()
        .contains("OTP_REST_SMS"));
    let otp = json!({"mobile": mobile, "type": "OTP_REST_SMS", "captcha_token": "x"});
    let (status, body) = send(otp.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_error(&send(otp).await, 400, "CODE.0003");
    let kept = messages(&mut server, &mobile).await;
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (&kept[0]["sender"], &kept[0]["status"], &kept[0]["purpose"]),
        (&json!("log"), &json!("kept"), &json!("second_factor"))
    );
    let code = last_code(&mut server, &mobile).await;

    // The code completes the login: a wrong number or code does not (and spends a try).
    let mfa = |mobile: &str, code: &str| {
        let body = json!({"mobile": mobile, "verify_code": code});
        let server = &server;
        let client_id = f.app.client_id.clone();
        let state = state.clone();
        async move {
            let with_state = [("X-state-token", state.as_str())];
            sdk(
                server,
                "POST",
                "/api/v2/sdk/mfa/sms",
                &client_id,
                &with_state,
                Some(body),
            )
            .await
        }
    };
    assert_error(&mfa("13900000000", &code).await, 400, "PARAM.0001");
    let wrong = mfa(&mobile, other_than(&code)).await;
    assert_error(&wrong, 400, "CODE.0001");
    assert!(wrong.1["error_msg"]
        .as_str()
        .unwrap()
        .contains("Tries left: 4."));
    assert_error(&mfa(&mobile, "").await, 400, "PARAM.0009");
    let (status, body) = mfa(&mobile, &code).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("SUCCESS")));
    assert!(body["session_token"].is_string() && body["id_token"].is_string());
    assert_eq!(body["expire"], 604_800);
    // A session that gave the code buys tickets for either application.
    for client_id in [&f.app.client_id, &plain.client_id] {
        let granted = server
            .post(
                &bearer,
                "/sso/session-token/sso-ticket",
                ticket(&body["session_token"], client_id),
            )
            .await;
        assert_eq!(granted.0, 200, "{}", granted.1);
    }
    // The state token is spent with it.
    assert_error(&mfa(&mobile, &code).await, 400, "SESSION.0002");

    // The operator reads the same mailbox.
    let url = server.db.url.clone();
    let (ok, listed, err) =
        roster(&["messages", "list", "--database", &url, "--mobile", &mobile]).await;
    assert!(ok, "{err}");
    assert_eq!(listed["messages"][0]["text"], kept[0]["text"]);
}

#[on_each_store]
async fn a_forgotten_password_is_replaced_with_a_code(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, false).await;
    let mobile = mobile_for(&f.user_name);
    let client_id = f.app.client_id.clone();
    let (_, before) = login(&server, &client_id, &f.user_name, PASSWORD).await;
    let old_session = before["session_token"].as_str().unwrap().to_owned();
    // Locked out by wrong passwords.
    for _ in 0..5 {
        login(&server, &client_id, &f.user_name, "wrong-password").await;
    }
    assert_error(
        &login(&server, &client_id, &f.user_name, PASSWORD).await,
        400,
        "LOGIN.0001",
    );
    // A number nobody has: answered as sent (numbers cannot be probed), nothing sent.
    let nobody = json!({"mobile": "13999999999", "type": "FORGET_PWD_SMS", "captcha_token": "x"});
    assert_eq!(send_code(&server, &client_id, nobody).await.0, 200);
    assert!(messages(&mut server, "13999999999").await.is_empty());
    let forget = json!({"mobile": mobile, "type": "FORGET_PWD_SMS", "captcha_token": "x"});
    assert_eq!(send_code(&server, &client_id, forget).await.0, 200);
    let code = last_code(&mut server, &mobile).await;
    let reset = |code: &str, password: &str| {
        let body = json!({"mobile": mobile, "verify_code": code, "password": password});
        let server = &server;
        let client_id = client_id.clone();
        async move {
            let path = "/api/v2/sdk/pwd/update-by-mobile";
            sdk(server, "POST", path, &client_id, &[], Some(body)).await
        }
    };
    // A password the policy refuses spends no try of the code.
    let short = reset(&code, "short").await;
    assert_error(&short, 400, "PARAM.0001");
    assert_error(
        &reset(other_than(&code), "New-horse-10").await,
        400,
        "CODE.0001",
    );
    let (status, body) = reset(&code, "New-horse-10").await;
    assert_eq!((status, body), (200, Value::Null));
    assert_error(&reset(&code, "New-horse-11").await, 400, "CODE.0002");
    // The new password signs in (the lock lifted); the old one and the old session do not.
    let (_, body) = login(&server, &client_id, &f.user_name, "New-horse-10").await;
    assert_eq!(body["status"], "SUCCESS", "{body}");
    assert_error(
        &login(&server, &client_id, &f.user_name, PASSWORD).await,
        400,
        "LOGIN.0002",
    );
    let ticket = json!({
        "session_token": old_session,
        "device_fingerprint": "156aysdna213sc50",
        "operating_sys_version": "Android 10",
        "device_ip": "10.10.10.1",
    });
    let bearer = server
        .token_for(&f.app.client_id, &f.app.client_secret)
        .await;
    let (status, body) = server
        .post(&bearer, "/sso/session-token/sso-ticket", ticket)
        .await;
    assert_error(&(status, body), 400, "SESSION.0001");
    // Audited as OneAccess names the operation.
    let admin = server.admin().await;
    let query = format!(
        "/roster/v1/audit?target_id={}&offset=0&limit=100",
        f.user_id
    );
    let (_, audit) = server.get(&admin, &query).await;
    let operations: Vec<&str> = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["operation"].as_str())
        .collect();
    assert!(operations.contains(&"GetBackPwdByMobile"), "{operations:?}");
    assert!(operations.contains(&"SendVerifyCode"), "{operations:?}");
}

#[on_each_store]
async fn the_bamboocloud_style_words_code_refusals_its_way(backend: Backend) {
    let options = Options {
        args: &["--sdk-error-style", "bamboocloud"],
        ..Default::default()
    };
    let mut server = Server::start_with(backend, options).await;
    let f = fixture(&mut server, false).await;
    let mobile = mobile_for(&f.user_name);
    let client_id = f.app.client_id.clone();
    let send = |body: Value| send_code(&server, &client_id, body);
    let nobody = json!({"mobile": "13999999999", "type": "FORGET_PWD_SMS", "captcha_token": "x"});
    assert_error(&send(nobody).await, 400, "SDK.COMMON.1013");
    let no_captcha = json!({"mobile": mobile, "type": "FORGET_PWD_SMS"});
    assert_error(&send(no_captcha).await, 400, "SDK.COMMON.1001");
    let bind = json!({"mobile": mobile, "type": "BIND_MOBILE_SMS", "captcha_token": "x"});
    assert_error(&send(bind).await, 400, "SDK.COMMON.1007");
    let forget = json!({"mobile": mobile, "type": "FORGET_PWD_SMS", "captcha_token": "x"});
    assert_eq!(send(forget.clone()).await.0, 200);
    assert_error(&send(forget).await, 400, "SDK.COMMON.1006");
    let code = last_code(&mut server, &mobile).await;
    let body =
        json!({"mobile": mobile, "verify_code": other_than(&code), "password": "New-horse-10"});
    let path = "/api/v2/sdk/pwd/update-by-mobile";
    let wrong = sdk(&server, "POST", path, &client_id, &[], Some(body)).await;
    assert_error(&wrong, 400, "SDK.COMMON.1006");
}

/// The login page asks for the code when the policy names the application; a session
/// begun with the password alone signs in again for it; the password grant is refused.
#[on_each_store]
async fn the_login_page_asks_named_applications_for_a_code(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = crate::sign_in::fixture(
        &mut server,
        json!({"grants": ["authorization_code", "password"]}),
    )
    .await;
    let mobile = mobile_for(&f.user_name);
    let authorize = crate::sign_in::authorize_url(&server, &f.app.client_id, "code", "s1");
    let browser = Browser::new(&server);
    // Before the policy: the password alone.
    let hop = browser.authorize(&authorize, &f.user_name, PASSWORD).await;
    assert!(hop.location.as_deref().unwrap().starts_with(REDIRECT));
    let named = json!({"mode": "applications", "applications": [f.app.client_id]});
    assert_eq!(set_policy(&mut server, named).await.0, 200);
    // The session has no second factor: the login page again, then the code.
    let first = browser.get(&authorize).await;
    let to_login = first.location.clone().unwrap();
    assert!(to_login.starts_with("/login"), "{to_login}");
    let page = browser.get(&to_login).await.body;
    let step = browser.submit(&page, &f.user_name, PASSWORD).await;
    assert_eq!(step.status, 200, "{}", step.body);
    let last4 = &mobile[mobile.len() - 4..];
    assert!(
        step.body.contains(&format!("*******{last4}")),
        "{}",
        step.body
    );
    assert!(hidden(&step.body, "step_token").is_some());
    let code = last_code(&mut server, &mobile).await;
    let post = |page: &str, extra: &[(&str, &str)]| {
        let mut form: Vec<(String, String)> = ["csrf_token", "step_token", "mobile", "return_to"]
            .iter()
            .filter_map(|n| hidden(page, n).map(|v| ((*n).to_owned(), v)))
            .collect();
        form.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let request = browser
            .http
            .post(format!("{}/login/code", browser.base))
            .form(&form);
        async move { request.send().await.unwrap() }
    };
    let wrong = post(&step.body, &[("code", other_than(&code))]).await;
    assert_eq!(wrong.status(), 400);
    let wrong = wrong.text().await.unwrap();
    assert!(alert(&wrong).unwrap().contains("Tries left: 4"), "{wrong}");
    let again = post(&wrong, &[("resend", "1")]).await;
    assert_eq!(again.status(), 429);
    let right = post(&wrong, &[("code", &code)]).await;
    assert_eq!(right.status(), 303);
    let back = right.headers()["location"].to_str().unwrap().to_owned();
    let hop = browser.get(&back).await;
    assert!(hop.location.as_deref().unwrap().starts_with(REDIRECT));
    // The session now has the second factor: no page again.
    let hop = browser.get(&authorize).await;
    assert!(hop.location.as_deref().unwrap().starts_with(REDIRECT));
    // A token request cannot give a code.
    let grant = [
        ("grant_type", "password"),
        ("username", f.user_name.as_str()),
        ("password", PASSWORD),
    ];
    let (status, body) = client_post(&server, "/api/v1/oauth2/token", creds(&f.app), &grant).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("second factor"));
}

/// The webhook sender posts the message signed with HMAC-SHA256, retries a refused
/// delivery, and records it delivered.
#[on_each_store]
async fn the_webhook_sender_posts_signed_messages_and_retries(backend: Backend) {
    const SECRET: &str = "webhook-secret-0123456789";
    let (base, seen) = receiver(vec![503]).await;
    let url = format!("{base}/sms");
    let env = [
        ("ROSTER_SMS_SENDER", "webhook"),
        ("ROSTER_SMS_WEBHOOK_URL", url.as_str()),
        ("ROSTER_SMS_WEBHOOK_SECRET", SECRET),
    ];
    let options = Options {
        env: &env,
        ..Default::default()
    };
    let mut server = Server::start_with(backend, options).await;
    let f = fixture(&mut server, false).await;
    let mobile = mobile_for(&f.user_name);
    let forget = json!({"mobile": mobile, "type": "FORGET_PWD_SMS", "captcha_token": "x"});
    assert_eq!(send_code(&server, &f.app.client_id, forget).await.0, 200);
    // The refused first attempt is retried a second later.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let kept = loop {
        let kept = messages(&mut server, &mobile).await;
        if kept[0]["status"] == "delivered" || std::time::Instant::now() > deadline {
            break kept;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(
        (&kept[0]["status"], &kept[0]["attempts"], &kept[0]["sender"]),
        (&json!("delivered"), &json!(2), &json!("webhook")),
        "{kept:?}"
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    for (head, body) in &seen {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body);
        let expected = format!(
            "x-roster-signature: sha256={}",
            hex::encode(mac.finalize().into_bytes())
        );
        assert!(head.lines().any(|l| l == expected), "{head}");
        let sent: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            (&sent["to"], &sent["channel"]),
            (&json!(mobile), &json!("sms"))
        );
    }
}

/// A webhook sender without its URL or secret does not start.
#[tokio::test]
async fn a_webhook_sender_needs_its_url_and_secret() {
    let (ok, _, err) = roster(&[
        "serve",
        "--database",
        "sqlite::memory:",
        "--sms-sender",
        "webhook",
    ])
    .await;
    assert!(!ok && err.contains("sms_webhook_url"), "{err}");
}

/// Two nodes on one PostgreSQL database: the policy set on one holds on the other at once; a
/// code sent by one is taken by the other, once.
#[cfg_attr(
    not(roster_pg),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_and_codes_hold_across_nodes() {
    let db = TestDb::fresh(Backend::Postgres).await;
    let url = db.url.clone();
    let mut a = Server::start_on(db, Options::default()).await;
    let b = Server::start_on(TestDb::borrowed(Backend::Postgres, url), Options::default()).await;
    let f = fixture(&mut a, false).await;
    let client_id = f.app.client_id.as_str();
    let mobile = mobile_for(&f.user_name);
    // B read the policy (off) before A changed it.
    let (_, body) = login(&b, client_id, &f.user_name, PASSWORD).await;
    assert_eq!(body["status"], "SUCCESS");
    assert_eq!(set_policy(&mut a, json!({"mode": "everyone"})).await.0, 200);
    // B drops its copy when PostgreSQL delivers A's announcement (about a millisecond:
    // docs/security.md); the login after that asks for the code.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let body = loop {
        let (_, body) = login(&b, client_id, &f.user_name, PASSWORD).await;
        if body["status"] != "SUCCESS" || std::time::Instant::now() > deadline {
            break body;
        }
    };
    assert_eq!(body["status"], "MFA_AUTH", "{body}");
    let state = body["state_token"].as_str().unwrap().to_owned();
    let otp = json!({"mobile": mobile, "type": "OTP_REST_SMS", "captcha_token": "x"});
    assert_eq!(send_code(&a, client_id, otp.clone()).await.0, 200);
    // The minute between codes holds on both nodes.
    assert_error(&send_code(&b, client_id, otp).await, 400, "CODE.0003");
    let code = last_code(&mut a, &mobile).await;
    let with_state = [("X-state-token", state.as_str())];
    let body = json!({"mobile": mobile, "verify_code": code});
    let path = "/api/v2/sdk/mfa/sms";
    let (on_a, on_b) = tokio::join!(
        sdk(&a, "POST", path, client_id, &with_state, Some(body.clone())),
        sdk(&b, "POST", path, client_id, &with_state, Some(body))
    );
    let mut statuses = [on_a.0, on_b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400], "{} {}", on_a.1, on_b.1);
}

/// The second factor comes before a password change that is due: `mfa/sms` then answers
/// `PASSWORD_EXPIRED` with a new state token (the first is spent), and the change completes
/// the login.
#[on_each_store]
async fn the_code_comes_before_a_password_change_that_is_due(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, true).await;
    let mobile = mobile_for(&f.user_name);
    let client_id = f.app.client_id.clone();
    assert_eq!(
        set_policy(&mut server, json!({"mode": "everyone"})).await.0,
        200
    );
    let (_, body) = login(&server, &client_id, &f.user_name, PASSWORD).await;
    assert_eq!(body["status"], "MFA_AUTH", "{body}");
    let state = body["state_token"].as_str().unwrap().to_owned();
    let otp = json!({"mobile": mobile, "type": "OTP_REST_SMS", "captcha_token": "x"});
    assert_eq!(send_code(&server, &client_id, otp).await.0, 200);
    let code = last_code(&mut server, &mobile).await;
    let with_state = [("X-state-token", state.as_str())];
    let body = json!({"mobile": mobile, "verify_code": code});
    let (status, answer) = sdk(
        &server,
        "POST",
        "/api/v2/sdk/mfa/sms",
        &client_id,
        &with_state,
        Some(body.clone()),
    )
    .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("PASSWORD_EXPIRED")),
        "{answer}"
    );
    assert!(answer.get("session_token").is_none(), "{answer}");
    let next = answer["state_token"].as_str().unwrap().to_owned();
    assert_ne!(next, state);
    // The first state token was spent by the step.
    let again = sdk(
        &server,
        "POST",
        "/api/v2/sdk/mfa/sms",
        &client_id,
        &with_state,
        Some(body),
    )
    .await;
    assert_error(&again, 400, "SESSION.0002");
    let change = json!({"old_password": PASSWORD, "new_password": "New-horse-10"});
    let with_next = [("X-state-token", next.as_str())];
    let (status, done) = sdk(
        &server,
        "POST",
        "/api/v2/sdk/pwd/update",
        &client_id,
        &with_next,
        Some(change),
    )
    .await;
    assert_eq!(
        (status, done["status"].as_str()),
        (200, Some("SUCCESS")),
        "{done}"
    );
    assert!(done["session_token"].is_string());
}
