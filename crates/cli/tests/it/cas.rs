//! CAS 1.0 / 2.0 / 3.0 at `/api/v1/cas/*`, as a CAS service meets it: the login through the
//! login page and session (renew, gateway, refusals), the three validations with the
//! reference's XML and JSON bodies, tickets single-use and bound to their service, logout;
//! and python-cas (PyPI) signing in and validating in each protocol version.

use crate::sign_in::{hidden, Browser, PASSWORD};
use crate::support::*;
use serde_json::{json, Value};

const SERVICE: &str = "https://portal.example.com/cas/callback";

/// A user with an account in a CAS application whose service URL is [`SERVICE`], with an
/// `email` attribute mapped.
struct Cas {
    user_name: String,
    user_id: String,
    app: AppCreds,
}

async fn fixture(server: &mut Server) -> Cas {
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
                "pwd_must_modify": false,
                "email": format!("{user_name}@example.com"),
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let user_id = body["user_id"].as_str().unwrap().to_owned();
    // Registered as an operator would: a CAS-only application needs no API permission.
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
        SERVICE,
        "--claim",
        "email=user:email",
    ])
    .await;
    assert!(ok, "{err}");
    let app = AppCreds {
        application_id: created["application_id"].as_str().unwrap().to_owned(),
        client_id: created["client_id"].as_str().unwrap().to_owned(),
        client_secret: created["client_secret"].as_str().unwrap().to_owned(),
    };
    let path = format!("/roster/v1/applications/{}/sso", app.application_id);
    let (status, body) = server.get(&admin, &path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["protocol"], &body["grants"]),
        (&json!("cas"), &json!([]))
    );
    server.authorize(&user_id, &app.application_id).await;
    Cas {
        user_name,
        user_id,
        app,
    }
}

fn login_url(extra: &str) -> String {
    let service: String = form_urlencoded(SERVICE);
    format!("/api/v1/cas/login?service={service}{extra}")
}

fn form_urlencoded(text: &str) -> String {
    let mut url = reqwest::Url::parse("http://x/").unwrap();
    url.query_pairs_mut().append_pair("v", text);
    url.query().unwrap()[2..].to_owned()
}

/// Follows a CAS login through the login page: the service URL it lands on.
async fn sign_in(browser: &Browser, url: &str, user: &str) -> String {
    let first = browser.get(url).await;
    let to_login = first.location.expect("to the login page");
    assert!(to_login.starts_with("/login?"), "{to_login}");
    let page = browser.get(&to_login).await.body;
    let signed_in = browser.submit(&page, user, PASSWORD).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let back = browser.get(signed_in.location.as_deref().unwrap()).await;
    back.location.expect("back to the service")
}

fn ticket_of(url: &str) -> String {
    let url = reqwest::Url::parse(url).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "ticket")
        .map(|(_, v)| v.into_owned())
        .expect("a ticket")
}

async fn text(server: &Server, path: &str) -> (u16, String, String) {
    let res = server.http.get(server.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, res.text().await.unwrap())
}

fn validate_path(endpoint: &str, ticket: &str, extra: &str) -> String {
    format!(
        "/api/v1/cas/{endpoint}?service={}&ticket={ticket}{extra}",
        form_urlencoded(SERVICE)
    )
}

#[on_each_store]
async fn a_service_signs_in_and_validates_its_ticket_once(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server).await;
    let browser = Browser::new(&server);
    let landed = sign_in(&browser, &login_url(""), &f.user_name).await;
    assert!(
        landed.starts_with(&format!("{SERVICE}?ticket=ST-")),
        "{landed}"
    );
    let ticket = ticket_of(&landed);
    // CAS 3.0: the user and the attributes, once.
    let (status, kind, body) =
        text(&server, &validate_path("p3/serviceValidate", &ticket, "")).await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("application/xml"), "{kind}");
    assert!(
        body.starts_with("<cas:serviceResponse xmlns:cas=\"http://www.yale.edu/tp/cas\">"),
        "{body}"
    );
    assert!(
        body.contains(&format!("<cas:user>{}</cas:user>", f.user_name)),
        "{body}"
    );
    assert!(
        body.contains("<cas:isFromNewLogin>true</cas:isFromNewLogin>"),
        "{body}"
    );
    assert!(
        body.contains("<cas:longTermAuthenticationRequestTokenUsed>false</cas:longTermAuthenticationRequestTokenUsed>"),
        "{body}"
    );
    assert!(body.contains("<cas:authenticationDate>20"), "{body}");
    assert!(
        body.contains(&format!(
            "<cas:email>{}@example.com</cas:email>",
            f.user_name
        )),
        "{body}"
    );
    let (_, _, again) = text(&server, &validate_path("p3/serviceValidate", &ticket, "")).await;
    assert!(
        again.contains(&format!(
            "<cas:authenticationFailure code=\"INVALID_TICKET\">Ticket {ticket} not recognized"
        )),
        "{again}"
    );
    let (_, kind, json_again) = text(
        &server,
        &validate_path("serviceValidate", &ticket, "&format=JSON"),
    )
    .await;
    assert_eq!(kind, "application/json");
    let failure: Value = serde_json::from_str(&json_again).unwrap();
    assert_eq!(
        failure["serviceResponse"]["authenticationFailure"]["code"],
        "INVALID_TICKET"
    );
    assert!(
        failure["serviceResponse"]["authenticationFailure"]["description"]
            .as_str()
            .unwrap()
            .starts_with(&format!(
                "the ticket provided was not valid, ticket is {ticket}"
            ))
    );

    // With the session: a ticket at once, not from a new login; CAS 2.0 JSON has no
    // attributes.
    let hop = browser.get(&login_url("")).await;
    let ticket = ticket_of(hop.location.as_deref().unwrap());
    let (_, _, body) = text(
        &server,
        &validate_path("serviceValidate", &ticket, "&format=json"),
    )
    .await;
    let success: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        success,
        json!({"serviceResponse": {"authenticationSuccess": {"user": f.user_name}}})
    );
    // renew=true asks for the password again, and its ticket is from a new login.
    let hop = browser.get(&login_url("&renew=true")).await;
    assert!(hop.location.as_deref().unwrap().starts_with("/login?"));
    let hop = browser.get(&login_url("")).await;
    let ticket = ticket_of(hop.location.as_deref().unwrap());
    let (_, _, body) = text(
        &server,
        &validate_path("p3/serviceValidate", &ticket, "&renew=true&format=JSON"),
    )
    .await;
    let refused: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        refused["serviceResponse"]["authenticationFailure"]["code"],
        "INVALID_TICKET"
    );
    let renewed = sign_in(&browser, &login_url("&renew=true"), &f.user_name).await;
    let ticket = ticket_of(&renewed);
    let (_, _, body) = text(
        &server,
        &validate_path("p3/serviceValidate", &ticket, "&renew=true&format=JSON"),
    )
    .await;
    let valid: Value = serde_json::from_str(&body).unwrap();
    let attributes = &valid["serviceResponse"]["authenticationSuccess"]["attributes"];
    assert_eq!(attributes["isFromNewLogin"], json!(["true"]), "{body}");
    assert_eq!(
        attributes["email"],
        json!([format!("{}@example.com", f.user_name)])
    );

    // CAS 1.0, and a ticket for another service.
    let hop = browser.get(&login_url("")).await;
    let ticket = ticket_of(hop.location.as_deref().unwrap());
    let other =
        format!("/api/v1/cas/validate?service=https%3A%2F%2Fother.example.com%2F&ticket={ticket}");
    let (status, kind, body) = text(&server, &other).await;
    assert_eq!((status, body.as_str()), (200, "no\n\n"));
    assert!(kind.starts_with("text/plain"), "{kind}");
    // Spent by the failed validation, as CAS 3.0 §2.5.1 asks.
    let (_, _, body) = text(&server, &validate_path("validate", &ticket, "")).await;
    assert_eq!(body, "no\n\n");
    let hop = browser.get(&login_url("")).await;
    let ticket = ticket_of(hop.location.as_deref().unwrap());
    let (_, _, body) = text(&server, &validate_path("validate", &ticket, "")).await;
    assert_eq!(body, format!("yes\n{}\n", f.user_name));
    let hop = browser.get(&login_url("")).await;
    let ticket = ticket_of(hop.location.as_deref().unwrap());
    let wrong = format!(
        "/api/v1/cas/serviceValidate?service=https%3A%2F%2Fother.example.com%2F&ticket={ticket}"
    );
    let (_, _, body) = text(&server, &wrong).await;
    assert!(body.contains("code=\"INVALID_SERVICE\""), "{body}");
    let (_, _, body) = text(&server, "/api/v1/cas/serviceValidate?ticket=ST-1").await;
    assert!(body.contains("code=\"INVALID_REQUEST\""), "{body}");

    // Audited as the issue names it.
    let admin = server.admin().await;
    let query = format!(
        "/roster/v1/audit?target_id={}&offset=0&limit=100",
        f.app.application_id
    );
    let (_, audit) = server.get(&admin, &query).await;
    let operations: Vec<&str> = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["operation"].as_str())
        .collect();
    assert!(
        operations.contains(&"CasLogin") && operations.contains(&"ValidateServiceTicket"),
        "{operations:?}"
    );
}

#[on_each_store]
async fn cas_login_refuses_what_it_cannot_trust(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server).await;
    let browser = Browser::new(&server);
    // No service, or one nobody registered: a page, never a redirect.
    for url in [
        "/api/v1/cas/login".to_owned(),
        "/api/v1/cas/login?service=https%3A%2F%2Fevil.example.com%2F".to_owned(),
    ] {
        let hop = browser.get(&url).await;
        assert_eq!((hop.status, hop.location), (400, None), "{url}");
    }
    // gateway: back to the service without a ticket when nobody is signed in.
    let hop = browser.get(&login_url("&gateway=true")).await;
    assert_eq!(hop.location.as_deref(), Some(SERVICE));
    // A user without an account in the application: a page after signing in.
    let admin = server.admin().await;
    let (status, body) = server
        .post(
            &admin,
            "/users",
            json!({"user_name": "stranger", "mobile": mobile_for("stranger"), "password": PASSWORD, "pwd_must_modify": false}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let first = browser.get(&login_url("")).await;
    let page = browser.get(first.location.as_deref().unwrap()).await.body;
    let signed_in = browser.submit(&page, "stranger", PASSWORD).await;
    let refused = browser.get(signed_in.location.as_deref().unwrap()).await;
    assert_eq!((refused.status, refused.location), (403, None));
    // A ticket not yet validated when its user is disabled: refused, as anything the user
    // signed in with.
    let browser = Browser::new(&server);
    let landed = sign_in(&browser, &login_url(""), &f.user_name).await;
    let ticket = ticket_of(&landed);
    let disable = format!("/users/{}/disable", f.user_id);
    let (status, body) = server.call("PUT", &admin, &disable, None).await;
    assert_eq!(status, 200, "{body}");
    let (_, _, body) = text(&server, &validate_path("validate", &ticket, "")).await;
    assert_eq!(body, "no\n\n");
    let hop = browser.get(&login_url("")).await;
    assert!(
        hop.location
            .as_deref()
            .is_some_and(|l| l.starts_with("/login?")),
        "{:?}",
        hop.location
    );
}

#[on_each_store]
async fn cas_logout_ends_the_session_and_goes_to_a_registered_service(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server).await;
    let browser = Browser::new(&server);
    sign_in(&browser, &login_url(""), &f.user_name).await;
    let out = browser
        .get(&format!(
            "/api/v1/cas/logout?service={}",
            form_urlencoded(SERVICE)
        ))
        .await;
    assert_eq!((out.status, out.location.as_deref()), (302, Some(SERVICE)));
    let hop = browser.get(&login_url("")).await;
    assert!(hop.location.as_deref().unwrap().starts_with("/login?"));
    let out = browser
        .get("/api/v1/cas/logout?service=https%3A%2F%2Fevil.example.com%2F")
        .await;
    assert_eq!(out.location.as_deref(), Some("/login?signed_out=1"));
    // A mapping named `user` chooses cas:user: here the account name.
    let admin = server.admin().await;
    let path = format!("/roster/v1/applications/{}/sso", f.app.application_id);
    let sso = json!({
        "protocol": "cas",
        "redirect_uris": [SERVICE],
        "claims": [{"claim": "user", "source": {"type": "account", "value": "account_name"}}],
    });
    assert_eq!(server.put(&admin, &path, sso).await.0, 200);
    let other_browser = Browser::new(&server);
    let landed = sign_in(&other_browser, &login_url(""), &f.user_name).await;
    let (_, _, body) = text(
        &server,
        &validate_path("p3/serviceValidate", &ticket_of(&landed), "&format=JSON"),
    )
    .await;
    let valid: Value = serde_json::from_str(&body).unwrap();
    let success = &valid["serviceResponse"]["authenticationSuccess"];
    let accounts = format!("/users/{}/accounts", f.user_id);
    let (_, held) = server.get(&admin, &accounts).await;
    let account_name = held
        .as_array()
        .or_else(|| held["accounts"].as_array())
        .and_then(|a| a.first())
        .and_then(|a| {
            a["account_name"]
                .as_str()
                .or_else(|| a["user_name"].as_str())
        })
        .map(str::to_owned);
    assert!(account_name.is_some(), "{held}");
    assert_eq!(success["user"].as_str(), account_name.as_deref(), "{body}");
    assert!(success["attributes"].get("user").is_none(), "{body}");
    // The login page's way back may be a CAS login: it names the application.
    let hop = browser.get(&login_url("")).await;
    let page = browser.get(hop.location.as_deref().unwrap()).await.body;
    assert!(hidden(&page, "return_to")
        .unwrap()
        .starts_with("/api/v1/cas/login?"));
}

/// python-cas, as Python web applications use it, signs in and validates in CAS 1.0, 2.0
/// and 3.0; a ticket validates once; its logout URL comes back to the service.
#[cfg_attr(
    not(roster_python),
    ignore = "set ROSTER_TEST_PYTHON to a Python with python-cas to run"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_cas_signs_in_with_each_protocol_version() {
    let mut server = Server::start(Backend::Sqlite).await;
    let f = fixture(&mut server).await;
    let python = std::env::var("ROSTER_TEST_PYTHON").unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/cas_client.py");
    for version in ["1", "2", "3"] {
        let out = tokio::process::Command::new(&python)
            .args([
                script,
                &server.base,
                SERVICE,
                &f.user_name,
                PASSWORD,
                version,
            ])
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "CAS {version}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let said: Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(said["user"], f.user_name.as_str(), "CAS {version}: {said}");
        assert_eq!(said["again"], Value::Null, "CAS {version}: {said}");
        assert_eq!(said["logout"], SERVICE, "CAS {version}: {said}");
        if version == "3" {
            assert_eq!(
                said["attributes"]["email"],
                format!("{}@example.com", f.user_name),
                "{said}"
            );
            assert_eq!(said["attributes"]["isFromNewLogin"], "true", "{said}");
        }
    }
}

/// Two nodes on one PostgreSQL database: a ticket issued by one validates on either, once.
#[cfg_attr(
    not(roster_pg),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_validates_once_across_nodes() {
    let db = TestDb::fresh(Backend::Postgres).await;
    let url = db.url.clone();
    let mut a = Server::start_on(db, Options::default()).await;
    let b = Server::start_on(TestDb::borrowed(Backend::Postgres, url), Options::default()).await;
    let f = fixture(&mut a).await;
    let browser = Browser::new(&a);
    sign_in(&browser, &login_url(""), &f.user_name).await;
    for _ in 0..5 {
        let hop = browser.get(&login_url("")).await;
        let ticket = ticket_of(hop.location.as_deref().unwrap());
        let path = validate_path("validate", &ticket, "");
        let (on_a, on_b) = tokio::join!(text(&a, &path), text(&b, &path));
        let mut answers = [on_a.2, on_b.2];
        answers.sort();
        assert_eq!(
            answers,
            ["no\n\n".to_owned(), format!("yes\n{}\n", f.user_name)]
        );
    }
}

/// The MFA policy holds for CAS as for OAuth: a session begun with the password alone signs
/// in again (password and code) for an application the policy names.
#[on_each_store]
async fn a_session_without_the_code_signs_in_again_for_a_named_service(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server).await;
    let browser = Browser::new(&server);
    sign_in(&browser, &login_url(""), &f.user_name).await;
    let admin = server.admin().await;
    let named = json!({"mode": "applications", "applications": [f.app.client_id]});
    let (status, body) = server.put(&admin, "/roster/v1/mfa-policy", named).await;
    assert_eq!(status, 200, "{body}");
    let hop = browser.get(&login_url("")).await;
    let to_login = hop.location.unwrap();
    assert!(to_login.starts_with("/login?"), "{to_login}");
    // The password now leads to the code step, the page naming the application.
    let page = browser.get(&to_login).await.body;
    let step = browser.submit(&page, &f.user_name, PASSWORD).await;
    assert_eq!(step.status, 200, "{}", step.body);
    assert!(hidden(&step.body, "step_token").is_some(), "{}", step.body);
}
