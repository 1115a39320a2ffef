//! `roster serve --test-mode`: the control API under `/roster/v1/test/` (reset, snapshots,
//! time travel, faults, the request journal), and its absence without the flag.

use crate::sign_in::{alert, authorize_url, client_post, creds, fixture, param, Browser, PASSWORD};
use crate::support::*;
use serde_json::{json, Value};

const TEST_MODE: Options<'static> = Options {
    args: &["--test-mode"],
    env: &[],
    unset: &[],
    log_file: None,
};

/// A new token of the bootstrap application (a reset or restore ends the ones before).
async fn admin_token(server: &Server) -> String {
    server.token_for(ADMIN_ID, ADMIN_SECRET).await
}

async fn control(
    server: &Server,
    token: &str,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let url = format!("{}/roster/v1/test{path}", server.base);
    let request = match method {
        "GET" => server.http.get(url),
        "DELETE" => server.http.delete(url),
        _ => server.http.post(url).json(&body),
    };
    read(request.bearer_auth(token).send().await.unwrap()).await
}

async fn user_names(server: &Server, token: &str) -> Vec<String> {
    let (status, body) = server.get(token, "/users?offset=0&limit=100").await;
    assert_eq!(status, 200, "{body}");
    let mut names: Vec<String> = body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

async fn add_user(server: &Server, token: &str, name: &str) {
    let body = json!({"user_name": name, "mobile": mobile_for(name), "name": name});
    let (status, answer) = server.post(token, "/users", body).await;
    assert_eq!(status, 201, "{answer}");
}

#[tokio::test]
async fn without_test_mode_nothing_of_it_is_routed_and_help_says_so() {
    let mut server = Server::start(Backend::Sqlite).await;
    let admin = server.admin().await;
    for (method, path) in [
        ("GET", "/clock"),
        ("POST", "/reset"),
        ("GET", "/snapshots"),
        ("POST", "/snapshots/x"),
        ("GET", "/faults"),
        ("GET", "/requests"),
    ] {
        let answer = control(&server, &admin, method, path, json!({})).await;
        assert_error(&answer, 404, "ROUTE.0404");
    }
    let health = server
        .http
        .get(format!("{}/health", server.base))
        .send()
        .await
        .unwrap();
    assert!(health.headers().get("x-roster-test-mode").is_none());
    let health: Value = health.json().await.unwrap();
    assert!(health.get("test_mode").is_none(), "{health}");

    let help = std::process::Command::new(roster_bin())
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--test-mode"), "{help}");
    assert!(
        help.contains("Without it none of that is routed (404)"),
        "{help}"
    );
}

#[tokio::test]
async fn test_mode_is_refused_on_an_address_other_than_loopback_unless_forced() {
    let db = TestDb::fresh(Backend::Sqlite).await;
    let mut cmd = std::process::Command::new(roster_bin());
    cmd.args([
        "serve",
        "--database",
        &db.url,
        "--listen",
        "0.0.0.0:0",
        "--test-mode",
    ])
    .env("ROSTER_SECRET_KEY", TEST_SECRET_KEY)
    .env_remove("ROSTER_CONFIG");
    let refused = cmd.output().unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("--test-mode listens on loopback only"),
        "{said}"
    );
    assert!(said.contains("--test-mode-any-address"), "{said}");
    // Refused before anything was made.
    assert!(!db.sqlite_path().unwrap().exists());

    let server = Server::start_with(
        Backend::Sqlite,
        Options {
            args: &[
                "--test-mode",
                "--test-mode-any-address",
                "--listen",
                "0.0.0.0:0",
            ],
            ..Options::default()
        },
    )
    .await;
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    let health = reqwest::get(format!("http://127.0.0.1:{port}/health"))
        .await
        .unwrap();
    assert_eq!(health.headers()["x-roster-test-mode"], "1");
    let health: Value = health.json().await.unwrap();
    assert_eq!(health["test_mode"], true);
}

#[on_each_store]
async fn reset_and_snapshots_put_the_whole_directory_back(backend: Backend) {
    let server = Server::start_with(backend, TEST_MODE).await;
    let admin = admin_token(&server).await;
    // Every answer says it comes from a stand-in.
    let health = server
        .http
        .get(format!("{}/health", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.headers()["x-roster-test-mode"], "1");

    add_user(&server, &admin, "ann").await;
    let (status, taken) = control(&server, &admin, "POST", "/snapshots/with-ann", json!({})).await;
    assert_eq!((status, &taken), (201, &json!({"snapshot": "with-ann"})));
    let later = admin_token(&server).await;
    add_user(&server, &later, "bob").await;
    let app = server.create_app(&["user_read"]).await;
    assert_eq!(user_names(&server, &later).await, ["ann", "bob"]);

    let (status, _) = control(
        &server,
        &later,
        "POST",
        "/snapshots/with-ann/restore",
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    // The directory is as it was: bob, the application and every token issued since are
    // gone; a token the snapshot holds still works.
    let gone = server.get(&later, "/users?offset=0&limit=10").await;
    assert_error(&gone, 401, "TOKEN.0003");
    assert_eq!(user_names(&server, &admin).await, ["ann"]);
    let (status, refused) = server
        .token_call(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
        ])
        .await;
    assert_eq!(status, 400, "{refused}");
    // New writes go on from there (ids, lists and their counts).
    add_user(&server, &admin, "cid").await;
    assert_eq!(user_names(&server, &admin).await, ["ann", "cid"]);

    // A reset goes back to the start.
    let (status, body) = control(&server, &admin, "POST", "/reset", json!({})).await;
    assert_eq!((status, &body), (200, &json!({"reset_to": "fixtures"})));
    let admin = admin_token(&server).await;
    assert!(user_names(&server, &admin).await.is_empty());
    let (status, body) = control(&server, &admin, "POST", "/reset", json!({"to": "empty"})).await;
    assert_eq!((status, &body), (200, &json!({"reset_to": "empty"})));
    let admin = admin_token(&server).await;

    let (_, listed) = control(&server, &admin, "GET", "/snapshots", json!({})).await;
    assert_eq!(
        listed,
        json!({"snapshots": ["empty", "fixtures", "with-ann"]})
    );
    // Taken snapshots survive resets; the server's own names are its own.
    let (status, _) = control(
        &server,
        &admin,
        "POST",
        "/snapshots/with-ann/restore",
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let admin = admin_token(&server).await;
    assert_eq!(user_names(&server, &admin).await, ["ann"]);
    let refused = control(&server, &admin, "POST", "/snapshots/fixtures", json!({})).await;
    assert_error(&refused, 400, "PARAM.0001");
    let refused = control(&server, &admin, "POST", "/snapshots/Bad%20Name", json!({})).await;
    assert_error(&refused, 400, "PARAM.0001");
    let missing = control(
        &server,
        &admin,
        "POST",
        "/snapshots/never/restore",
        json!({}),
    )
    .await;
    assert_error(&missing, 404, "TEST.0001");
    // Deleted, it is gone; the server's own are not deleted.
    control(&server, &admin, "POST", "/snapshots/scratch", json!({})).await;
    let (status, body) = control(&server, &admin, "DELETE", "/snapshots/scratch", json!({})).await;
    assert_eq!((status, body), (200, json!({"deleted": "scratch"})));
    let gone = control(
        &server,
        &admin,
        "POST",
        "/snapshots/scratch/restore",
        json!({}),
    )
    .await;
    assert_error(&gone, 404, "TEST.0001");
    let gone = control(&server, &admin, "DELETE", "/snapshots/scratch", json!({})).await;
    assert_error(&gone, 404, "TEST.0001");
    let kept = control(&server, &admin, "DELETE", "/snapshots/fixtures", json!({})).await;
    assert_error(&kept, 400, "PARAM.0001");
    let refused = control(
        &server,
        &admin,
        "POST",
        "/reset",
        json!({"to": "yesterday"}),
    )
    .await;
    assert_eq!(refused.0, 400, "{}", refused.1);

    // Only `all` controls it.
    let reader = server.create_app(&["user_read"]).await;
    let reader = server
        .token_for(&reader.client_id, &reader.client_secret)
        .await;
    for (method, path) in [("POST", "/reset"), ("GET", "/clock"), ("GET", "/requests")] {
        let refused = control(&server, &reader, method, path, json!({})).await;
        assert_error(&refused, 403, "TOKEN.0005");
    }
    let refused = control(&server, "not-a-token", "POST", "/reset", json!({})).await;
    assert_error(&refused, 401, "TOKEN.0003");
}

#[on_each_store]
async fn time_travel_ends_a_token_a_code_and_a_lock(backend: Backend) {
    let mut server = Server::start_with(backend, TEST_MODE).await;
    let admin = admin_token(&server).await;
    let f = fixture(&mut server, json!({})).await;
    let browser = Browser::new(&server);
    let hop = browser
        .authorize(
            &authorize_url(&server, &f.app.client_id, "code", "s"),
            &f.user_name,
            PASSWORD,
        )
        .await;
    let code = param(hop.location.as_deref().unwrap(), "code").unwrap();

    // Codes live 300 s, access tokens 1800 s.
    let (status, clock) = control(
        &server,
        &admin,
        "POST",
        "/clock",
        json!({"advance_secs": 301}),
    )
    .await;
    assert_eq!(status, 200, "{clock}");
    assert_eq!(clock["offset_secs"], 301);
    let (_, read) = control(&server, &admin, "GET", "/clock", json!({})).await;
    assert_eq!(read["offset_secs"], 301);
    assert!(read["now_ms"].as_i64() >= clock["now_ms"].as_i64());
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
    ];
    let (status, body) = client_post(&server, "/api/v1/oauth2/token", creds(&f.app), &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert_eq!(server.get(&admin, "/users?offset=0&limit=1").await.0, 200);
    control(
        &server,
        &admin,
        "POST",
        "/clock",
        json!({"advance_secs": 1500}),
    )
    .await;
    let expired = server.get(&admin, "/users?offset=0&limit=1").await;
    assert_error(&expired, 401, "TOKEN.0004");
    let admin = admin_token(&server).await;

    // Five wrong passwords lock the user for 30 minutes (the tests' setting)…
    let login = browser
        .get(&authorize_url(&server, &f.app.client_id, "code", "t"))
        .await;
    let page = browser.get(login.location.as_deref().unwrap()).await.body;
    for _ in 0..5 {
        browser.submit(&page, &f.user_name, "wrong-password").await;
    }
    let locked = browser.submit(&page, &f.user_name, PASSWORD).await;
    assert!(alert(&locked.body)
        .unwrap()
        .starts_with("The user is locked"));
    // …and 31 minutes later the right password signs in.
    control(
        &server,
        &admin,
        "POST",
        "/clock",
        json!({"advance_secs": 31 * 60}),
    )
    .await;
    let signed_in = browser.submit(&page, &f.user_name, PASSWORD).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);

    // Back to real time: the offset is gone and "now" is the system's again.
    let admin = admin_token(&server).await;
    let (_, clock) = control(
        &server,
        &admin,
        "POST",
        "/clock",
        json!({"real_time": true}),
    )
    .await;
    assert_eq!(clock["offset_secs"], 0);
    let now = clock["now_ms"].as_i64().unwrap();
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!((real - now).abs() < 60_000, "{now} against {real}");
    for bad in [
        json!({"advance_secs": -60}),
        json!({}),
        json!({"advance_secs": 5, "real_time": true}),
    ] {
        let refused = control(&server, &admin, "POST", "/clock", bad).await;
        assert_error(&refused, 400, "PARAM.0001");
    }
}

#[tokio::test]
async fn each_fault_kind_is_seen_by_a_client_then_listed_counted_and_cleared() {
    let server = Server::start_with(Backend::Sqlite, TEST_MODE).await;
    let admin = admin_token(&server).await;
    let app = server.create_app(&["user_read"]).await;
    let token = server.token_for(&app.client_id, &app.client_secret).await;
    let add = |rule: Value| {
        let (server, admin) = (&server, &admin);
        async move {
            let (status, set) = control(server, admin, "POST", "/faults", rule).await;
            assert_eq!(status, 201, "{set}");
            set["id"].as_u64().unwrap()
        }
    };
    let list_users = || server.get(&token, "/users?offset=0&limit=1");

    // A catalog error, once: the next request is served.
    let once = add(json!({"operation": "ListUsers", "action": "error",
        "error_code": "SYSTEM.0001", "count": 1}))
    .await;
    assert_error(&list_users().await, 500, "SYSTEM.0001");
    assert_eq!(list_users().await.0, 200);
    // Another code with another status.
    let other = add(json!({"operation": "ShowUserById", "action": "error",
        "error_code": "SYSTEM.0002", "status": 502}))
    .await;
    let answer = server
        .get(&token, "/users/20210621095931341-4CB3-122995DE2")
        .await;
    assert_error(&answer, 502, "SYSTEM.0002");

    // An expired token, whatever the token.
    let expired = add(json!({"path": "/api/v2/tenant/users", "method": "GET",
        "action": "expired_token", "count": 1}))
    .await;
    assert_error(&list_users().await, 401, "TOKEN.0004");

    // 429 with Retry-After at the token endpoint.
    let limited = add(
        json!({"operation": "ShowAuthToken", "action": "rate_limited",
        "retry_after_secs": 7, "count": 1}),
    )
    .await;
    let res = server
        .http
        .post(server.url("/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["retry-after"], "7");
    assert_error(&read(res).await, 429, "TOKEN.0006");

    // Latency: the request waits, then is served.
    let slow = add(
        json!({"operation": "ListUsers", "action": "latency", "latency_ms": 300,
        "count": 1}),
    )
    .await;
    let started = std::time::Instant::now();
    assert_eq!(list_users().await.0, 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));

    // A closed connection: the client gets no answer at all.
    let closed = add(json!({"operation": "ListUsers", "action": "close", "count": 1})).await;
    let cut = server
        .http
        .get(server.url("/users?offset=0&limit=1"))
        .bearer_auth(&token)
        .send()
        .await;
    assert!(cut.is_err(), "the connection was answered: {cut:?}");
    assert_eq!(list_users().await.0, 200);

    // Probability 1 hits every request; listed with what each rule did.
    let (_, listed) = control(&server, &admin, "GET", "/faults", json!({})).await;
    let by_id = |id: u64| {
        listed["faults"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id(once)["hits"], 1);
    assert!(by_id(once)["matched"].as_u64().unwrap() >= 2);
    assert_eq!(by_id(other)["hits"], 1);
    assert_eq!(by_id(expired)["hits"], 1);
    assert_eq!(by_id(limited)["hits"], 1);
    assert_eq!(by_id(slow)["hits"], 1);
    assert_eq!(by_id(closed)["hits"], 1);
    assert_eq!(by_id(other)["status"], 502);
    assert_eq!(by_id(other)["error_code"], "SYSTEM.0002");

    // The journal names the rule that hit each request; a closed connection has no status.
    let (_, journal) = control(
        &server,
        &admin,
        "GET",
        "/requests?operation=ListUsers",
        json!({}),
    )
    .await;
    let hit_by = |id: u64| {
        journal["requests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["fault"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(hit_by(once)["status"], 500);
    assert_eq!(hit_by(once)["error_code"], "SYSTEM.0001");
    assert_eq!(hit_by(expired)["error_code"], "TOKEN.0004");
    assert_eq!(hit_by(closed)["status"], Value::Null);
    assert_eq!(hit_by(slow)["status"], 200);

    // Cleared one by one, then all.
    let (status, _) = control(
        &server,
        &admin,
        "DELETE",
        &format!("/faults/{other}"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        server
            .get(&token, "/users/20210621095931341-4CB3-122995DE2")
            .await
            .0,
        400
    );
    let again = control(
        &server,
        &admin,
        "DELETE",
        &format!("/faults/{other}"),
        json!({}),
    )
    .await;
    assert_error(&again, 400, "PARAM.0001");
    control(&server, &admin, "DELETE", "/faults", json!({})).await;
    let (_, listed) = control(&server, &admin, "GET", "/faults", json!({})).await;
    assert_eq!(listed, json!({"faults": []}));

    // Rules are checked before they are set.
    for bad in [
        json!({"operation": "NoSuchOperation", "action": "close"}),
        json!({"operation": "ListUsers", "action": "error", "error_code": "NOPE.1"}),
        json!({"operation": "ListUsers", "action": "explode"}),
        json!({"operation": "ListUsers", "action": "close", "probability": 2}),
    ] {
        let (status, body) = control(&server, &admin, "POST", "/faults", bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

#[tokio::test]
async fn the_journal_shows_what_a_client_sent_with_its_secrets_redacted() {
    let server = Server::start_with(Backend::Sqlite, TEST_MODE).await;
    let admin = admin_token(&server).await;
    let sync = server.create_app(&["user_all"]).await;
    let token = server.token_for(&sync.client_id, &sync.client_secret).await;
    let body = json!({"user_name": "dee", "mobile": mobile_for("dee"), "name": "Dee",
        "password": "Journal-Secret-1"});
    assert_eq!(server.post(&token, "/users", body).await.0, 201);
    let query = "/users?offset=0&limit=10&updated_at_greater=2026-01-01%2000:00:00";
    assert_eq!(server.get(&token, query).await.0, 200);
    assert_eq!(server.get(&token, "/users/nope").await.0, 400);

    let path = format!("/requests?operation=ListUsers&caller={}", sync.client_id);
    let (status, journal) = control(&server, &admin, "GET", &path, json!({})).await;
    assert_eq!(status, 200, "{journal}");
    let seen = journal["requests"].as_array().unwrap();
    assert_eq!(seen.len(), 1, "{journal}");
    let listed = &seen[0];
    assert_eq!(listed["method"], "GET");
    assert_eq!(listed["path"], "/api/v2/tenant/users");
    assert_eq!(listed["operation"], "ListUsers");
    assert_eq!(listed["caller"], sync.client_id.as_str());
    assert_eq!(listed["status"], 200);
    assert!(listed["query"]
        .as_str()
        .unwrap()
        .contains("updated_at_greater=2026-01-01"));
    assert!(listed["time"].as_str().unwrap().starts_with("20"));

    let (_, journal) = control(&server, &admin, "GET", "/requests", json!({})).await;
    let all = journal["requests"].as_array().unwrap();
    let text = journal.to_string();
    // The client's secrets and the user's password never reach the journal.
    assert!(!text.contains("Journal-Secret-1"), "{text}");
    assert!(!text.contains(&sync.client_secret), "{text}");
    let created = all.iter().find(|r| r["operation"] == "CreateUser").unwrap();
    assert_eq!(created["body"]["user_name"], "dee");
    assert_eq!(created["body"]["password"], "[redacted]");
    let token_call = all
        .iter()
        .find(|r| r["operation"] == "ShowAuthToken")
        .unwrap();
    assert_eq!(token_call["body"]["client_secret"], "[redacted]");
    let missing = all
        .iter()
        .find(|r| r["operation"] == "ShowUserById")
        .unwrap();
    assert_eq!(missing["error_code"], "USER.0001");
    assert_eq!(missing["status"], 400);
    // The control API's own calls are not journaled.
    assert!(all
        .iter()
        .all(|r| !r["path"].as_str().unwrap().starts_with("/roster/v1/test/")));

    let (_, cleared) = control(&server, &admin, "DELETE", "/requests", json!({})).await;
    assert_eq!(cleared, json!({"requests": []}));
    let (_, journal) = control(&server, &admin, "GET", "/requests", json!({})).await;
    assert_eq!(journal, json!({"requests": []}));
    let refused = control(&server, &admin, "GET", "/requests?limit=0", json!({})).await;
    assert_error(&refused, 400, "PARAM.0001");
}

/// A fixtures file: two organizations, a user with a password and one without, an OIDC
/// application with a fixed client id and secret, a role and two accounts, the policies.
const FIXTURES: &str = r#"# A tenant for the integration tests.
version: 1
tenant_name: Fixture Corp
password_policy:
  max_failed_sign_ins: 4
mfa_policy:
  mode: "off"
organizations:
  - code: hq
    name: Headquarters
  - code: dev
    name: Development
    parent: hq
users:
  - user_name: ann
    password: Fixture-Secret-1
    mobile: "13800000001"
    name: Ann
    email: ann@example.com
    organization: dev
  - user_name: bob
    mobile: "13800000002"
    name: Bob
    disabled: true
  - user_name: cy
    password: Fixture-Secret-1
    mobile: "13800000003"
applications:
  - client_id: billing
    client_secret: billing-secret-0123456789
    name: Billing
    permissions: [user_read]
    sso:
      protocol: oidc
      redirect_uris: [https://wiki.example.com/oidc/callback]
    roles:
      - code: admin
        name: Administrators
    accounts:
      - user: ann
        roles: [admin]
      - user: bob
      - user: cy
"#;

fn fixtures_file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[on_each_store]
async fn fixtures_apply_once_round_trip_through_export_and_are_what_a_reset_returns_to(
    backend: Backend,
) {
    let dir = tempfile::tempdir().unwrap();
    let file = fixtures_file(&dir, "tenant.yaml", FIXTURES);
    let db = TestDb::fresh(backend).await;
    let (ok, first, said) = roster(&["fixtures", "apply", "--database", &db.url, &file]).await;
    assert!(ok, "{said}");
    assert_eq!(first["created"], 10, "{first}");
    // A password several users share is hashed once.
    let hashes = db
        .scalar("SELECT COUNT(DISTINCT password_hash) FROM users WHERE user_name IN ('ann', 'cy')")
        .await;
    assert_eq!(hashes, 1);
    // Applied again, nothing changes.
    let (ok, again, said) = roster(&["fixtures", "apply", "--database", &db.url, &file]).await;
    assert!(ok, "{said}");
    assert_eq!(again, json!({"created": 0, "updated": 0, "unchanged": 13}));
    // The export is the same tenant (without the secrets), and applying it changes nothing.
    let (ok, exported, said) =
        roster(&["fixtures", "export", "--json", "--database", &db.url]).await;
    assert!(ok, "{said}");
    assert_eq!(exported["tenant_name"], "Fixture Corp");
    assert_eq!(exported["password_policy"]["max_failed_sign_ins"], 4);
    assert_eq!(
        exported["organizations"][1],
        json!({"code": "dev", "name": "Development",
        "parent": "hq", "category": "department"})
    );
    let ann = exported["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user_name"] == "ann")
        .unwrap();
    assert_eq!(ann["organization"], "dev");
    assert!(ann.get("password").is_none());
    assert!(ann.get("disabled").is_none());
    let bob = exported["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user_name"] == "bob")
        .unwrap();
    assert_eq!(bob["disabled"], true);
    let billing = &exported["applications"][0];
    assert_eq!(billing["client_id"], "billing");
    assert!(billing.get("client_secret").is_none());
    assert_eq!(
        billing["sso"]["redirect_uris"][0],
        "https://wiki.example.com/oidc/callback"
    );
    let ann_account = billing["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["user"] == "ann")
        .unwrap();
    assert_eq!(ann_account["roles"], json!(["admin"]));
    let round = fixtures_file(&dir, "exported.json", &exported.to_string());
    let (ok, applied, said) = roster(&["fixtures", "apply", "--database", &db.url, &round]).await;
    assert!(ok, "{said}");
    assert_eq!(applied["created"], 0, "{applied}");
    assert_eq!(applied["updated"], 0, "{applied}");

    // Left out of the file, `disabled` is false: bob is enabled again, and only that changes.
    let enabled = fixtures_file(
        &dir,
        "enabled.yaml",
        &FIXTURES.replace("    disabled: true\n", ""),
    );
    let (ok, applied, said) = roster(&["fixtures", "apply", "--database", &db.url, &enabled]).await;
    assert!(ok, "{said}");
    assert_eq!(
        applied,
        json!({"created": 0, "updated": 1, "unchanged": 12})
    );

    // A server started with the file (bob disabled again) serves the tenant.
    let server = Server::start_on(
        db,
        Options {
            args: &["--test-mode", "--fixtures", &file],
            ..Options::default()
        },
    )
    .await;
    let billing = server
        .token_for("billing", "billing-secret-0123456789")
        .await;
    let (status, users) = server.get(&billing, "/users?offset=0&limit=10").await;
    assert_eq!(status, 200, "{users}");
    assert_eq!(users["total"], 3);
    let url = authorize_url(&server, "billing", "code", "s");
    for user in ["ann", "cy"] {
        let browser = Browser::new(&server);
        let hop = browser.authorize(&url, user, "Fixture-Secret-1").await;
        let location = hop.location.as_deref().unwrap_or_default();
        assert!(param(location, "code").is_some(), "{user}: {}", hop.body);
    }

    // A test's changes are undone by a reset, back to the fixtures.
    let admin = admin_token(&server).await;
    add_user(&server, &admin, "left-behind").await;
    let (status, _) = control(&server, &admin, "POST", "/reset", json!({})).await;
    assert_eq!(status, 200);
    let admin = admin_token(&server).await;
    assert_eq!(user_names(&server, &admin).await, ["ann", "bob", "cy"]);
    assert_eq!(
        server
            .token_for("billing", "billing-secret-0123456789")
            .await
            .len(),
        64
    );
    // "Empty" is the database before the fixtures: here, as the first apply left it.
    let (status, _) = control(&server, &admin, "POST", "/reset", json!({"to": "empty"})).await;
    assert_eq!(status, 200);

    // A file with a new secret rotates it, as the API does: the old secret and the tokens
    // issued under it stop working.
    let old_token = server
        .token_for("billing", "billing-secret-0123456789")
        .await;
    let db = server.stop().await;
    let rotated = fixtures_file(
        &dir,
        "rotated.yaml",
        &FIXTURES.replace("billing-secret-0123456789", "billing-secret-rotated-987"),
    );
    let server = Server::start_on(
        db,
        Options {
            args: &["--fixtures", &rotated],
            ..Options::default()
        },
    )
    .await;
    let refused = server.get(&old_token, "/users?offset=0&limit=1").await;
    assert_eq!(refused.0, 401, "{}", refused.1);
    let (status, _) = server
        .token_call(&[
            ("grant_type", "client_credentials"),
            ("client_id", "billing"),
            ("client_secret", "billing-secret-0123456789"),
        ])
        .await;
    assert_eq!(status, 400);
    let new_token = server
        .token_for("billing", "billing-secret-rotated-987")
        .await;
    assert_eq!(
        server.get(&new_token, "/users?offset=0&limit=1").await.0,
        200
    );
}

#[tokio::test]
async fn a_broken_fixtures_file_is_refused_naming_the_file_its_line_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let wrong_type = fixtures_file(
        &dir,
        "wrong-type.yaml",
        "users:\n  - user_name: ann\n    mobile: \"13800000001\"\n  - user_name: cy\n    mobile: [1, 2]\n",
    );
    let db = TestDb::fresh(Backend::Sqlite).await;
    let mut cmd = std::process::Command::new(roster_bin());
    cmd.args([
        "serve",
        "--database",
        &db.url,
        "--listen",
        "127.0.0.1:0",
        "--fixtures",
        &wrong_type,
    ])
    .env("ROSTER_SECRET_KEY", TEST_SECRET_KEY)
    .env_remove("ROSTER_CONFIG");
    let refused = cmd.output().unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("wrong-type.yaml"), "{said}");
    assert!(said.contains("users[1].mobile"), "{said}");
    assert!(said.contains("line 5"), "{said}");
    // Refused before anything was made.
    assert!(!db.sqlite_path().unwrap().exists());

    // Each file refused by `roster fixtures apply`, with what it says.
    let refused = |name: &'static str, text: &'static str| {
        let (dir, url) = (&dir, db.url.clone());
        async move {
            let file = fixtures_file(dir, name, text);
            let (ok, _, said) = roster(&["fixtures", "apply", "--database", &url, &file]).await;
            assert!(!ok, "{name} was applied");
            said
        }
    };
    let said = refused(
        "typo.yaml",
        "users:\n  - user_name: ann\n    mobile: \"1\"\n    nmae: Ann\n",
    )
    .await;
    for part in ["typo.yaml", "unknown field `nmae`", "line 4"] {
        assert!(said.contains(part), "{said}");
    }
    let said = refused(
        "invalid.yaml",
        "users:\n  - user_name: ann\n    mobile: \"13800000001\"\n  - user_name: cy\n    mobile: \"12x\"\n",
    )
    .await;
    assert!(
        said.contains("invalid.yaml, line 4: users[1] (cy): mobile"),
        "{said}"
    );
    // Refused before a database was made (ann, valid, is not written either).
    assert!(!db.sqlite_path().unwrap().exists());
    // What only the database can refuse refuses the whole file.
    let said = refused(
        "unknown-user.yaml",
        "users:\n  - user_name: ann\n    mobile: \"13800000001\"\napplications:\n  - client_id: crm\n    client_secret: crm-secret-0123456789\n    name: CRM\n    accounts:\n      - user: zed\n",
    )
    .await;
    let named = "unknown-user.yaml, line 5: applications[0] (crm): accounts[0] (zed): user: no user is named 'zed'";
    assert!(said.contains(named), "{said}");
    let (ok, exported, said) =
        roster(&["fixtures", "export", "--json", "--database", &db.url]).await;
    assert!(ok, "{said}");
    assert!(exported.get("users").is_none(), "{exported}");
    assert!(exported.get("applications").is_none(), "{exported}");

    let (ok, schema, _) = roster(&["fixtures", "schema"]).await;
    assert!(ok);
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert!(schema["properties"]["users"].is_object(), "{schema}");
}

#[on_each_store]
async fn resets_while_clients_write_end_whole_and_leave_the_start_state(backend: Backend) {
    let server = Server::start_with(backend, TEST_MODE).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Writers that keep creating users (each with its own token, fetched again after a reset
    // ended it).
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (http, base, stop) = (server.http.clone(), server.base.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0u32;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let token: Value = http
                        .post(format!("{base}/api/v2/tenant/token"))
                        .form(&[
                            ("grant_type", "client_credentials"),
                            ("client_id", ADMIN_ID),
                            ("client_secret", ADMIN_SECRET),
                        ])
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    let token = token["access_token"].as_str().unwrap_or_default().to_owned();
                    for _ in 0..5 {
                        n += 1;
                        let name = format!("w{w}n{n}");
                        let status = http
                            .post(format!("{base}/api/v2/tenant/users"))
                            .bearer_auth(&token)
                            .json(&json!({"user_name": name, "mobile": mobile_for(&name), "name": name}))
                            .send()
                            .await
                            .unwrap()
                            .status()
                            .as_u16();
                        // Created, or refused because a reset ended the token: never a 5xx.
                        assert!(status == 201 || status == 401, "{status}");
                    }
                }
            })
        })
        .collect();
    for _ in 0..10 {
        let admin = admin_token(&server).await;
        let (status, body) = control(&server, &admin, "POST", "/reset", json!({})).await;
        assert_eq!(status, 200, "{body}");
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for writer in writers {
        writer.await.unwrap();
    }
    let admin = admin_token(&server).await;
    let (status, _) = control(&server, &admin, "POST", "/reset", json!({})).await;
    assert_eq!(status, 200);
    let admin = admin_token(&server).await;
    // The start state, whole: no user, and the list's count agrees.
    let (_, listed) = server.get(&admin, "/users?offset=0&limit=10").await;
    assert_eq!(listed, json!({"total": 0, "users": []}));
    add_user(&server, &admin, "after").await;
    let (_, listed) = server.get(&admin, "/users?offset=0&limit=10").await;
    assert_eq!(listed["total"], 1);
}

/// The fenced blocks of `lang` in the testing guide, in order.
fn guide_blocks(lang: &str) -> Vec<String> {
    let guide = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/testing-with-roster.md"
    ))
    .unwrap();
    let fence = format!("```{lang}\n");
    guide
        .split(&fence)
        .skip(1)
        .map(|rest| rest.split("\n```").next().unwrap().to_owned() + "\n")
        .collect()
}

#[cfg_attr(
    not(roster_python),
    ignore = "set ROSTER_TEST_PYTHON to a Python with pytest, PyYAML and jsonschema to run"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_pytest_fixture_runs_as_written_and_its_fixtures_meet_the_schema() {
    let python = std::env::var("ROSTER_TEST_PYTHON").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let yaml = guide_blocks("yaml");
    let python_blocks = guide_blocks("python");
    std::fs::write(dir.path().join("tenant.yaml"), &yaml[0]).unwrap();
    // The guide's conftest.py and test file, as a reader saves them.
    let conftest = python_blocks
        .iter()
        .find(|b| b.contains("def roster_server"))
        .unwrap();
    let tests = python_blocks
        .iter()
        .find(|b| b.contains("def test_the_client_survives_a_bad_day"))
        .unwrap();
    std::fs::write(dir.path().join("conftest.py"), conftest).unwrap();
    std::fs::write(dir.path().join("test_crm.py"), tests).unwrap();
    let mut pytest = tokio::process::Command::new(&python);
    base_env_for_python(&mut pytest);
    pytest
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(dir.path())
        .env("ROSTER_BIN", roster_bin());
    let said = succeeded(pytest).await;
    assert!(said.contains("3 passed"), "{said}");

    // The guide's file, this suite's and an export all meet the published schema, checked by
    // an independent validator; a broken file does not.
    let (ok, schema, _) = roster(&["fixtures", "schema"]).await;
    assert!(ok);
    std::fs::write(dir.path().join("schema.json"), schema.to_string()).unwrap();
    std::fs::write(dir.path().join("suite.yaml"), FIXTURES).unwrap();
    std::fs::write(
        dir.path().join("broken.yaml"),
        "users:\n  - user_name: ann\n    mobil: \"1\"\n",
    )
    .unwrap();
    let check = r#"
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
for path in sys.argv[2:]:
    errors = sorted(e.message for e in validator.iter_errors(yaml.safe_load(open(path))))
    print(path.rsplit("/", 1)[-1], "ok" if not errors else "; ".join(errors))
"#;
    let mut validate = tokio::process::Command::new(&python);
    validate
        .args(["-c", check])
        .arg(dir.path().join("schema.json"))
        .arg(dir.path().join("tenant.yaml"))
        .arg(dir.path().join("suite.yaml"))
        .arg(dir.path().join("broken.yaml"));
    let said = succeeded(validate).await;
    assert!(said.contains("tenant.yaml ok"), "{said}");
    assert!(said.contains("suite.yaml ok"), "{said}");
    assert!(
        said.contains("broken.yaml") && said.contains("'mobile' is a required property"),
        "{said}"
    );
}

/// What a command printed, once it exited successfully.
async fn succeeded(mut command: tokio::process::Command) -> String {
    let out = command.output().await.unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    let complained = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}\n{complained}");
    said
}

/// The test servers' cheap Argon2 parameters for a server a Python test starts itself.
fn base_env_for_python(cmd: &mut tokio::process::Command) {
    cmd.env_remove("ROSTER_CONFIG")
        .env_remove("ROSTER_DATABASE")
        .env("ROSTER_ARGON2_MEMORY_KIB", "64")
        .env("ROSTER_ARGON2_ITERATIONS", "1")
        .env("ROSTER_ARGON2_ALLOW_WEAK", "true")
        .env("ROSTER_LOG", "warn");
}
