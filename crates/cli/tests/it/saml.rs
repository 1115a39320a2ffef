//! SAML 2.0 at `/api/v1/saml2/idp/*`, as a service provider meets it: pysaml2 (PyPI, with
//! Debian's xmlsec1) registered from its own metadata, signing in by HTTP-Redirect, by
//! HTTP-POST (signed requests) and IdP-initiated, reading Name ID and attributes, and
//! xmlsec1 verifying the assertion's signature; and the refusals of what cannot be trusted.

use crate::sign_in::{Browser, PASSWORD};
use crate::support::*;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use std::io::Write;

const ACS: &str = "https://sp.example.com/saml/acs";

struct Saml {
    user_name: String,
    app: AppCreds,
    entity_id: String,
    dir: tempfile::TempDir,
}

fn python() -> String {
    std::env::var("ROSTER_TEST_PYTHON").unwrap()
}

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/saml_sp.py");

async fn run_sp(args: &[&str]) -> String {
    let out = tokio::process::Command::new(python())
        .arg(SCRIPT)
        .args(args)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "saml_sp.py {args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs the SP's `command` for the fixture `f` (its entity ID and folder) against `server`,
/// with `rest` after the common arguments; what it printed, as JSON.
async fn sp_says(server: &Server, f: &Saml, command: &str, rest: &[&str]) -> Value {
    let dir = f.dir.path().to_str().unwrap();
    let mut args = vec![
        command,
        server.base.as_str(),
        f.entity_id.as_str(),
        ACS,
        dir,
    ];
    args.extend_from_slice(rest);
    let out = run_sp(&args).await;
    serde_json::from_str(out.trim()).unwrap()
}

async fn new_user(server: &mut Server) -> (String, String) {
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
    (user_name, body["user_id"].as_str().unwrap().to_owned())
}

fn creds(created: &Value) -> AppCreds {
    AppCreds {
        application_id: created["application_id"].as_str().unwrap().to_owned(),
        client_id: created["client_id"].as_str().unwrap().to_owned(),
        client_secret: created["client_secret"].as_str().unwrap().to_owned(),
    }
}

/// pysaml2's SP, registered from the metadata it publishes (`roster app create --sso saml
/// --sp-metadata`), with an email attribute; a user with an account in it.
async fn pysaml2_fixture(server: &mut Server) -> Saml {
    pysaml2_fixture_with(server, &[]).await
}

/// [`pysaml2_fixture`], `extra` added to the metadata command (a SOAP logout URL).
async fn pysaml2_fixture_with(server: &mut Server, extra: &[&str]) -> Saml {
    let (user_name, user_id) = new_user(server).await;
    let dir = tempfile::tempdir().unwrap();
    let entity_id = format!("https://sp.example.com/{:x}", rand::random::<u32>());
    let path = dir.path().to_str().unwrap().to_owned();
    let mut args = vec!["metadata", &server.base, &entity_id, ACS, &path, "signed"];
    args.extend_from_slice(extra);
    let metadata = run_sp(&args).await;
    let metadata_file = dir.path().join("sp-metadata.xml");
    std::fs::write(&metadata_file, &metadata).unwrap();
    let (ok, created, err) = roster(&[
        "app",
        "create",
        "--database",
        &server.db.url,
        "--name",
        &unique_app_name(),
        "--sso",
        "saml",
        "--sp-metadata",
        metadata_file.to_str().unwrap(),
        "--claim",
        "mail=user:email",
    ])
    .await;
    assert!(ok, "{err}");
    let app = creds(&created);
    server.authorize(&user_id, &app.application_id).await;
    Saml {
        user_name,
        app,
        entity_id,
        dir,
    }
}

/// The IdP's signing certificate as PEM, read from its metadata.
async fn idp_certificate(server: &Server) -> String {
    let metadata = server
        .http
        .get(server.url("/api/v1/saml2/idp/metadata"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = metadata.find("<ds:X509Certificate>").unwrap() + "<ds:X509Certificate>".len();
    let end = metadata.find("</ds:X509Certificate>").unwrap();
    let der = metadata.get(start..end).unwrap();
    let lines: Vec<&str> = der
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// pysaml2 signs in by HTTP-Redirect, by HTTP-POST with signed requests, and IdP-initiated,
/// each through the login page; it reads the Name ID, the mapped attribute and RelayState,
/// and checks the assertion's signature against Roster's metadata; xmlsec1 agrees.
#[cfg_attr(
    not(roster_python),
    ignore = "set ROSTER_TEST_PYTHON to a Python with pysaml2 (and install xmlsec1) to run"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pysaml2_signs_in_by_each_binding() {
    let mut server = Server::start(Backend::Sqlite).await;
    let f = pysaml2_fixture(&mut server).await;
    let certificate = f.dir.path().join("idp.pem");
    std::fs::write(&certificate, idp_certificate(&server).await).unwrap();
    for binding in ["redirect", "post", "idp"] {
        let said = sp_says(&server, &f, "sso", &[&f.user_name, PASSWORD, binding]).await;
        assert_eq!(said["name_id"], f.user_name.as_str(), "{binding}: {said}");
        assert_eq!(
            said["issuer"],
            format!("{}/api/v1/saml2/idp/metadata", server.base),
            "{binding}: {said}"
        );
        assert_eq!(
            said["attributes"]["mail"],
            json!([format!("{}@example.com", f.user_name)]),
            "{binding}: {said}"
        );
        assert_eq!(said["relay_state"], "state-1", "{binding}: {said}");
        if binding == "idp" {
            assert_eq!(said["in_response_to"], Value::Null, "{said}");
        } else {
            assert_eq!(
                said["in_response_to"], said["request_id"],
                "{binding}: {said}"
            );
        }
        // xmlsec1 verifies the assertion's enveloped signature with the published certificate.
        let verified = tokio::process::Command::new("xmlsec1")
            .args([
                "--verify",
                "--id-attr:ID",
                "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
                "--pubkey-cert-pem",
                certificate.to_str().unwrap(),
                f.dir.path().join("response.xml").to_str().unwrap(),
            ])
            .output()
            .await
            .unwrap();
        assert!(
            verified.status.success(),
            "{binding}: {}",
            String::from_utf8_lossy(&verified.stderr)
        );
    }
    let _ = &f.app;
}

/// A hand-made AuthnRequest from `issuer` for `acs`, as the HTTP-Redirect binding carries it.
fn redirect_request(id: &str, issuer: &str, acs: &str, extra: &str) -> String {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    redirect_request_at(id, issuer, acs, extra, &now)
}

/// [`redirect_request`] issued at `now`.
fn redirect_request_at(id: &str, issuer: &str, acs: &str, extra: &str, now: &str) -> String {
    let xml = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
         xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" \
         IssueInstant=\"{now}\" AssertionConsumerServiceURL=\"{acs}\"{extra}>\
         <saml:Issuer>{issuer}</saml:Issuer></samlp:AuthnRequest>"
    );
    let mut deflater =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflater.write_all(xml.as_bytes()).unwrap();
    let value = STANDARD.encode(deflater.finish().unwrap());
    let mut url = reqwest::Url::parse("http://x/api/v1/saml2/idp/sso").unwrap();
    url.query_pairs_mut()
        .append_pair("SAMLRequest", &value)
        .append_pair("RelayState", "rs");
    format!("{}?{}", url.path(), url.query().unwrap())
}

/// A SAML application registered by flags, unsigned requests allowed; a user with an
/// account in it, signed in in `browser`.
async fn plain_fixture(server: &mut Server, browser: &Browser) -> (String, AppCreds, String) {
    let (user_name, user_id) = new_user(server).await;
    let entity_id = format!("https://sp.example.com/{:x}", rand::random::<u32>());
    let (ok, created, err) = roster(&[
        "app",
        "create",
        "--database",
        &server.db.url,
        "--name",
        &unique_app_name(),
        "--sso",
        "saml",
        "--sp-entity-id",
        &entity_id,
        "--redirect-uri",
        ACS,
    ])
    .await;
    assert!(ok, "{err}");
    let app = creds(&created);
    server.authorize(&user_id, &app.application_id).await;
    let back = sign_in_idp_initiated(browser, &entity_id, &user_name).await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert!(back.body.contains("name=\"SAMLResponse\""), "{}", back.body);
    (entity_id, app, user_name)
}

/// What cannot be trusted gets an error page, never a POST: an unknown SP, an ACS the
/// application did not register, a replayed request ID, a stale one, a DTD; a signed request
/// whose signature does not verify.
#[on_each_store]
async fn saml_refuses_what_it_cannot_trust(backend: Backend) {
    let mut server = Server::start(backend).await;
    let browser = Browser::new(&server);
    let (entity_id, app, _) = plain_fixture(&mut server, &browser).await;
    let refused = |page: &crate::sign_in::Hop| {
        assert_eq!(page.status, 400, "{}", page.body);
        assert!(!page.body.contains("SAMLResponse"), "{}", page.body);
    };
    refused(
        &browser
            .get("/api/v1/saml2/idp/sso?sp=https://unknown.example.com")
            .await,
    );
    refused(
        &browser
            .get(&redirect_request(
                "_u1",
                "https://unknown.example.com",
                ACS,
                "",
            ))
            .await,
    );
    let wrong_acs = browser
        .get(&redirect_request(
            "_w1",
            &entity_id,
            "https://evil.example.com/acs",
            "",
        ))
        .await;
    refused(&wrong_acs);
    assert!(
        wrong_acs.body.contains("AssertionConsumerServiceURL"),
        "{}",
        wrong_acs.body
    );
    // Issued an hour ago: stale.
    let old = (chrono::Utc::now() - chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let stale = browser
        .get(&redirect_request_at("_old", &entity_id, ACS, "", &old))
        .await;
    refused(&stale);
    assert!(stale.body.contains("IssueInstant"), "{}", stale.body);
    // Answered once; the same ID again is a replay.
    let request = redirect_request("_once", &entity_id, ACS, "");
    let first = browser.get(&request).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(
        first.body.contains("name=\"SAMLResponse\""),
        "{}",
        first.body
    );
    assert!(
        first.body.contains("name=\"RelayState\" value=\"rs\""),
        "{}",
        first.body
    );
    let again = browser.get(&request).await;
    refused(&again);
    assert!(again.body.contains("answered already"), "{}", again.body);
    // Each answered sign-in is audited, by the user, against the application.
    let admin = server.admin().await;
    let query = format!(
        "/roster/v1/audit?target_id={}&offset=0&limit=100",
        app.application_id
    );
    let (_, audit) = server.get(&admin, &query).await;
    let sign_ins: Vec<&Value> = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["operation"] == "SamlSso")
        .collect();
    assert_eq!(sign_ins.len(), 2, "{audit}");
    let dtd = {
        let xml = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>";
        let mut deflater =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        deflater.write_all(xml.as_bytes()).unwrap();
        let mut url = reqwest::Url::parse("http://x/api/v1/saml2/idp/sso").unwrap();
        url.query_pairs_mut()
            .append_pair("SAMLRequest", &STANDARD.encode(deflater.finish().unwrap()));
        format!("{}?{}", url.path(), url.query().unwrap())
    };
    let page = browser.get(&dtd).await;
    refused(&page);
    assert!(page.body.contains("DTD"), "{}", page.body);
}

/// The metadata: the IdP's entity ID, its certificate, both bindings of both services, as a
/// download.
#[on_each_store]
async fn the_metadata_names_the_idp_and_its_endpoints(backend: Backend) {
    let server = Server::start(backend).await;
    let res = server
        .http
        .get(server.url("/api/v1/saml2/idp/metadata"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    assert_eq!(headers["content-type"], "application/samlmetadata+xml");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename="));
    let body = res.text().await.unwrap();
    assert!(body.contains(&format!(
        "entityID=\"{}/api/v1/saml2/idp/metadata\"",
        server.base
    )));
    for binding in ["HTTP-Redirect", "HTTP-POST"] {
        assert!(
            body.contains(&format!(
            "<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:{binding}\" \
             Location=\"{}/api/v1/saml2/idp/sso\">",
            server.base
        )),
            "{body}"
        );
    }
    assert!(body.contains("<ds:X509Certificate>"), "{body}");
    assert!(body.contains("SingleLogoutService"), "{body}");
}

/// pysaml2 logs out at Roster's SingleLogoutService by HTTP-Redirect (query signature) and
/// by HTTP-POST (enveloped signature): the session ends, and the SP reads a signed
/// LogoutResponse answering its request, with its RelayState.
#[cfg_attr(
    not(roster_python),
    ignore = "set ROSTER_TEST_PYTHON to a Python with pysaml2 (and install xmlsec1) to run"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pysaml2_logs_out_by_each_binding() {
    let mut server = Server::start(Backend::Sqlite).await;
    let f = pysaml2_fixture(&mut server).await;
    for binding in ["redirect", "post"] {
        let said = sp_says(&server, &f, "logout", &[&f.user_name, PASSWORD, binding]).await;
        assert_eq!(
            said["status"], "urn:oasis:names:tc:SAML:2.0:status:Success",
            "{binding}: {said}"
        );
        assert_eq!(
            said["in_response_to"], said["logout_request_id"],
            "{binding}: {said}"
        );
        assert_eq!(said["relay_state"], "bye", "{binding}: {said}");
        assert!(
            said["action"].as_str().unwrap().ends_with("/saml/slo"),
            "{said}"
        );
        // Signed out: the next sign-in goes to the login page.
        assert_eq!(said["after"], 302, "{binding}: {said}");
        assert!(
            said["after_location"]
                .as_str()
                .unwrap()
                .starts_with("/login?"),
            "{binding}: {said}"
        );
    }
}

/// Posts an AuthnRequest (HTTP-POST binding) from `browser`.
async fn post_request(browser: &Browser, value: &str) -> crate::sign_in::Hop {
    let res = browser
        .http
        .post(format!("{}/api/v1/saml2/idp/sso", browser.base))
        .form(&[("SAMLRequest", value), ("RelayState", "rs")])
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    crate::sign_in::Hop {
        status,
        location,
        body: res.text().await.unwrap(),
    }
}

/// The SAMLResponse a page posts, decoded.
fn posted_response(page: &str) -> String {
    let start = page.find("name=\"SAMLResponse\" value=\"").unwrap() + 27;
    let end = start + page.get(start..).unwrap().find('"').unwrap();
    String::from_utf8(STANDARD.decode(page.get(start..end).unwrap()).unwrap()).unwrap()
}

/// Signs `user_name` in at the login page in `browser` by IdP-initiated sign-in to
/// `entity_id`: the page that follows.
async fn sign_in_idp_initiated(
    browser: &Browser,
    entity_id: &str,
    user_name: &str,
) -> crate::sign_in::Hop {
    let first = browser
        .get(&format!("/api/v1/saml2/idp/sso?sp={entity_id}"))
        .await;
    let to_login = first.location.expect("to the login page");
    let page = browser.get(&to_login).await.body;
    let signed_in = browser.submit(&page, user_name, PASSWORD).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    browser.get(signed_in.location.as_deref().unwrap()).await
}

/// An application that requires signed requests (pysaml2's metadata says
/// AuthnRequestsSigned): a request changed after signing, a signed request wrapped in a
/// forged one, and an unsigned one get error pages; ForceAuthn sends a signed-in user to the
/// login page again; IsPassive without a session is answered NoPassive; a user without an
/// account is answered RequestDenied, each a signed Response to the registered ACS.
#[cfg_attr(
    not(roster_python),
    ignore = "set ROSTER_TEST_PYTHON to a Python with pysaml2 (and install xmlsec1) to run"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_requests_are_checked_and_options_honoured() {
    let mut server = Server::start(Backend::Sqlite).await;
    let f = pysaml2_fixture(&mut server).await;
    let requests = sp_says(&server, &f, "attacks", &[]).await;
    let request = |name: &str| requests[name].as_str().unwrap().to_owned();

    let browser = Browser::new(&server);
    let page = sign_in_idp_initiated(&browser, &f.entity_id, &f.user_name).await;
    assert_eq!(page.status, 200, "{}", page.body);

    for (name, says) in [
        ("tampered", "digest does not match"),
        ("wrapped", "does not reference the message"),
        ("unsigned", "requires signed requests"),
    ] {
        let refused = post_request(&browser, &request(name)).await;
        assert_eq!(refused.status, 400, "{name}: {}", refused.body);
        assert!(refused.body.contains(says), "{name}: {}", refused.body);
        assert!(
            !refused.body.contains("SAMLResponse"),
            "{name}: {}",
            refused.body
        );
    }
    let valid = post_request(&browser, &request("valid")).await;
    assert_eq!(valid.status, 200, "{}", valid.body);
    let response = posted_response(&valid.body);
    assert!(response.contains("status:Success"), "{response}");
    assert!(
        valid.body.contains(&format!("action=\"{ACS}\"")),
        "{}",
        valid.body
    );

    // ForceAuthn: the password again, though the browser is signed in.
    let forced = post_request(&browser, &request("forced")).await;
    assert_eq!(forced.status, 303, "{}", forced.body);
    let next = browser.get(forced.location.as_deref().unwrap()).await;
    assert!(
        next.location
            .as_deref()
            .unwrap_or_default()
            .starts_with("/login?"),
        "{:?}",
        next.location
    );

    // IsPassive without a session: NoPassive, signed, to the ACS.
    let anonymous = Browser::new(&server);
    let hop = post_request(&anonymous, &request("passive")).await;
    let passive = anonymous.get(hop.location.as_deref().unwrap()).await;
    assert_eq!(passive.status, 200, "{}", passive.body);
    let response = posted_response(&passive.body);
    assert!(response.contains("status:NoPassive"), "{response}");
    assert!(response.contains("<ds:SignatureValue>"), "{response}");
    assert!(!response.contains("<saml:Assertion"), "{response}");

    // A user without an account in the application: RequestDenied, no assertion.
    let (stranger, _) = new_user(&mut server).await;
    let other = Browser::new(&server);
    let denied = sign_in_idp_initiated(&other, &f.entity_id, &stranger).await;
    assert_eq!(denied.status, 200, "{}", denied.body);
    let response = posted_response(&denied.body);
    assert!(response.contains("status:RequestDenied"), "{response}");
    assert!(!response.contains("<saml:Assertion"), "{response}");
}

/// A logout that begins elsewhere (`/api/v1/logout`) tells the SAML application through its
/// SOAP SingleLogoutService: a LogoutRequest signed by Roster, naming the NameID and the
/// session the assertion gave, which pysaml2 accepts.
#[cfg_attr(
    not(roster_python),
    ignore = "set ROSTER_TEST_PYTHON to a Python with pysaml2 (and install xmlsec1) to run"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_global_logout_tells_the_sp_by_soap() {
    let mut server = Server::start(Backend::Sqlite).await;
    let (receiver_base, seen) = receiver(vec![]).await;
    let soap = format!("{receiver_base}/saml/soap");
    let f = pysaml2_fixture_with(&mut server, &[&soap]).await;
    let browser = Browser::new(&server);
    let page = sign_in_idp_initiated(&browser, &f.entity_id, &f.user_name).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let response = posted_response(&page.body);
    let session_index = {
        let start = response.find("SessionIndex=\"").unwrap() + 14;
        let end = start + response.get(start..).unwrap().find('"').unwrap();
        response.get(start..end).unwrap().to_owned()
    };
    assert_eq!(browser.get("/api/v1/logout").await.status, 302);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while seen.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (head, body) = seen
        .lock()
        .unwrap()
        .first()
        .cloned()
        .expect("a SOAP LogoutRequest");
    assert!(head.starts_with("post /saml/soap "), "{head}");
    assert!(head.contains("content-type: text/xml"), "{head}");
    let file = f.dir.path().join("soap.xml");
    std::fs::write(&file, &body).unwrap();
    let said = sp_says(&server, &f, "soap-logout", &[file.to_str().unwrap()]).await;
    assert_eq!(said["name_id"], f.user_name.as_str(), "{said}");
    assert_eq!(said["session_index"], json!([session_index]), "{said}");
    assert_eq!(said["signed"], true, "{said}");
}

/// `PUT /roster/v1/applications/{id}/saml-metadata` (extension) reads an SP's metadata into
/// the settings — entity ID, the default ACS first, logout services, Name ID format —
/// keeping the claims; what is not metadata is refused with the management API's error body.
#[on_each_store]
async fn sp_metadata_sets_a_saml_application(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = server.admin().await;
    let (ok, created, err) = roster(&[
        "app",
        "create",
        "--database",
        &server.db.url,
        "--name",
        &unique_app_name(),
        "--sso",
        "saml",
        "--sp-entity-id",
        "https://old.example.com/sp",
        "--redirect-uri",
        ACS,
        "--claim",
        "mail=user:email",
    ])
    .await;
    assert!(ok, "{err}");
    let app = creds(&created);
    let metadata = r#"<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://crm.example.com/saml/metadata">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://crm.example.com/saml/soap"/>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://crm.example.com/saml/slo"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://crm.example.com/saml/acs2" index="2"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://crm.example.com/saml/artifact" index="0"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://crm.example.com/saml/acs" index="1" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"#;
    let path = format!(
        "/roster/v1/applications/{}/saml-metadata",
        app.application_id
    );
    let put = |body: &'static str| {
        server
            .http
            .put(server.url(&path))
            .bearer_auth(&admin)
            .header("content-type", "application/samlmetadata+xml")
            .body(body)
            .send()
    };
    let res = put(metadata).await.unwrap();
    assert_eq!(res.status(), 200);
    let settings: Value = res.json().await.unwrap();
    assert_eq!(
        settings["redirect_uris"],
        json!([
            "https://crm.example.com/saml/acs",
            "https://crm.example.com/saml/acs2"
        ]),
        "{settings}"
    );
    let saml = &settings["saml"];
    assert_eq!(saml["entity_id"], "https://crm.example.com/saml/metadata");
    assert_eq!(saml["logout_url"], "https://crm.example.com/saml/slo");
    assert_eq!(saml["logout_binding"], "redirect");
    assert_eq!(saml["soap_logout_url"], "https://crm.example.com/saml/soap");
    assert_eq!(saml["name_id_format"], "email_address");
    assert_eq!(settings["claims"][0]["claim"], "mail", "{settings}");
    for bad in [
        "not xml at all",
        "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\"/>",
        "<!DOCTYPE r [<!ENTITY x \"y\">]><r>&x;</r>",
    ] {
        let res = put(bad).await.unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap();
        assert_error(&(status, body.clone()), 400, "PARAM.0001");
        assert!(
            body["error_msg"].as_str().unwrap().contains("SP metadata"),
            "{body}"
        );
    }
}

/// A request ID is answered once across nodes: the same AuthnRequest at two nodes at once
/// (each with a signed-in browser) is answered by one and refused as a replay by the other.
#[cfg_attr(
    not(roster_pg),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_answered_once_across_nodes() {
    let db = TestDb::fresh(Backend::Postgres).await;
    let url = db.url.clone();
    let mut a = Server::start_on(db, Options::default()).await;
    let b = Server::start_on(TestDb::borrowed(Backend::Postgres, url), Options::default()).await;
    let on_a = Browser::new(&a);
    let (entity_id, _app, user_name) = plain_fixture(&mut a, &on_a).await;
    let on_b = Browser::new(&b);
    let page = sign_in_idp_initiated(&on_b, &entity_id, &user_name).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for n in 0..5 {
        let request = redirect_request(&format!("_twice{n}"), &entity_id, ACS, "");
        let (first, second) = tokio::join!(on_a.get(&request), on_b.get(&request));
        let mut statuses = [first.status, second.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 400], "{} / {}", first.body, second.body);
        let answered = [&first, &second]
            .iter()
            .filter(|hop| hop.body.contains("name=\"SAMLResponse\""))
            .count();
        assert_eq!(answered, 1);
    }
}

/// The certificates of Roster's metadata, in order.
async fn metadata_certificates(server: &Server) -> Vec<String> {
    let metadata = server
        .http
        .get(server.url("/api/v1/saml2/idp/metadata"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    metadata
        .split("<ds:X509Certificate>")
        .skip(1)
        .map(|rest| {
            rest.split("</ds:X509Certificate>")
                .next()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// The certificate in the KeyInfo of the assertion a page posts.
fn signing_certificate(page: &str) -> String {
    let response = posted_response(page);
    let start = response.find("<ds:X509Certificate>").unwrap() + "<ds:X509Certificate>".len();
    let end = response.find("</ds:X509Certificate>").unwrap();
    response.get(start..end).unwrap().to_owned()
}

/// `roster keys stage` publishes the next key in the metadata before it signs; `roster keys
/// rotate` makes it the signing key, the previous one still published.
#[on_each_store]
async fn a_staged_key_is_published_before_it_signs(backend: Backend) {
    let mut server = Server::start(backend).await;
    let browser = Browser::new(&server);
    let (entity_id, _app, _) = plain_fixture(&mut server, &browser).await;
    let idp_initiated = format!("/api/v1/saml2/idp/sso?sp={entity_id}");
    let sign_in = || browser.get(&idp_initiated);
    let first = metadata_certificates(&server).await;
    assert_eq!(first.len(), 1);
    assert_eq!(signing_certificate(&sign_in().await.body), first[0]);

    let db = ["--database", server.db.url.as_str()];
    let (ok, staged, err) = roster(&[&["keys", "stage"][..], &db].concat()).await;
    assert!(ok, "{err}");
    let listed = roster(&[&["keys", "list"][..], &db].concat()).await.1;
    let staged_entry = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == staged["kid"])
        .cloned()
        .unwrap();
    assert_eq!(
        (
            &staged_entry["staged"],
            &staged_entry["active"],
            &staged_entry["published"]
        ),
        (&json!(true), &json!(false), &json!(true))
    );
    // Published (after the active one), not signing.
    let both = metadata_certificates(&server).await;
    assert_eq!(both.len(), 2);
    assert_eq!(both[0], first[0]);
    assert_eq!(signing_certificate(&sign_in().await.body), first[0]);

    let (ok, rotated, err) = roster(&[&["keys", "rotate"][..], &db].concat()).await;
    assert!(ok, "{err}");
    assert_eq!(
        rotated["kid"], staged["kid"],
        "the staged key is the one promoted"
    );
    let after = metadata_certificates(&server).await;
    assert_eq!(after, vec![both[1].clone(), first[0].clone()]);
    // Nodes sign with it once they hear of the rotation (at once on PostgreSQL).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let now_signing = signing_certificate(&sign_in().await.body);
        if now_signing == both[1] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still signing with the old key"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The subject's NameID comes from the source the application chose — an account attribute
/// (the account's name in it) or a user attribute (the email, with its format) — and mapped
/// attributes carry their Friendly Name and Name Format.
#[on_each_store]
async fn name_id_and_attributes_come_from_the_chosen_sources(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = server.admin().await;
    let (user_name, user_id) = new_user(&mut server).await;
    let account_name = format!("acct-{:x}", rand::random::<u32>());
    let make = |entity: String, name_id: serde_json::Value, format: &str| {
        json!({
            "protocol": "saml",
            "redirect_uris": [ACS],
            "claims": [{"claim": "urn:oid:0.9.2342.19200300.100.1.3",
                        "source": {"type": "user", "value": "email"},
                        "friendly_name": "mail", "name_format": "uri"}],
            "saml": {"entity_id": entity, "name_id": name_id, "name_id_format": format},
        })
    };
    let by_account = format!("https://sp.example.com/{:x}", rand::random::<u32>());
    let by_email = format!("https://sp.example.com/{:x}", rand::random::<u32>());
    for (entity, settings, account) in [
        (
            &by_account,
            make(
                by_account.clone(),
                json!({"type": "account", "value": "account_name"}),
                "unspecified",
            ),
            json!({"account_name": account_name}),
        ),
        (
            &by_email,
            make(
                by_email.clone(),
                json!({"type": "user", "value": "email"}),
                "email_address",
            ),
            json!({}),
        ),
    ] {
        let app = server.create_app(&["user_read"]).await;
        let path = format!("/roster/v1/applications/{}/sso", app.application_id);
        let (status, body) = server.put(&admin, &path, settings).await;
        assert_eq!(status, 200, "{entity}: {body}");
        let accounts = format!(
            "/users/{user_id}/applications/{}/accounts",
            app.application_id
        );
        let (status, body) = server.post(&admin, &accounts, account).await;
        assert_eq!(status, 200, "{body}");
    }
    let browser = Browser::new(&server);
    let page = sign_in_idp_initiated(&browser, &by_account, &user_name).await;
    let response = posted_response(&page.body);
    assert!(
        response.contains(&format!(
            "Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified\" \
             SPNameQualifier=\"{by_account}\">{account_name}</saml:NameID>"
        )),
        "{response}"
    );
    assert!(
        response.contains(
            "<saml:Attribute FriendlyName=\"mail\" Name=\"urn:oid:0.9.2342.19200300.100.1.3\" \
             NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:uri\">\
             <saml:AttributeValue>"
        ),
        "{response}"
    );
    let page = browser
        .get(&format!("/api/v1/saml2/idp/sso?sp={by_email}"))
        .await;
    let response = posted_response(&page.body);
    assert!(
        response.contains(&format!(
            "Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\" \
             SPNameQualifier=\"{by_email}\">{user_name}@example.com</saml:NameID>"
        )),
        "{response}"
    );
}

/// The SP that begins a logout (its LogoutRequest at the SingleLogoutService) is answered in
/// the browser and not also told by SOAP: the logout's transaction writes no back-channel
/// message for it.
#[cfg_attr(
    not(roster_python),
    ignore = "set ROSTER_TEST_PYTHON to a Python with pysaml2 (and install xmlsec1) to run"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sp_that_logs_out_is_not_told_again_by_soap() {
    let mut server = Server::start(Backend::Sqlite).await;
    let f = pysaml2_fixture_with(&mut server, &["https://sp.example.com/saml/soap"]).await;
    let said = sp_says(&server, &f, "logout", &[&f.user_name, PASSWORD, "post"]).await;
    assert_eq!(
        said["status"], "urn:oasis:names:tc:SAML:2.0:status:Success",
        "{said}"
    );
    let messages = server
        .db
        .scalar("SELECT COUNT(*) FROM logout_deliveries")
        .await;
    assert_eq!(messages, 0);
}

/// A request waiting for the login page is answered only at an ACS the application still
/// registers: settings changed meanwhile are honoured.
#[on_each_store]
async fn a_waiting_request_follows_the_settings_now_in_force(backend: Backend) {
    let mut server = Server::start(backend).await;
    let signed_in = Browser::new(&server);
    let (entity_id, app, user_name) = plain_fixture(&mut server, &signed_in).await;
    let browser = Browser::new(&server);
    let first = browser
        .get(&format!("/api/v1/saml2/idp/sso?sp={entity_id}"))
        .await;
    let to_login = first.location.expect("to the login page");
    let admin = server.admin().await;
    let path = format!("/roster/v1/applications/{}/sso", app.application_id);
    let (status, body) = server
        .put(
            &admin,
            &path,
            json!({"protocol": "saml", "redirect_uris": ["https://sp.example.com/other/acs"],
                   "saml": {"entity_id": entity_id}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let page = browser.get(&to_login).await.body;
    let signed = browser.submit(&page, &user_name, PASSWORD).await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    let back = browser.get(signed.location.as_deref().unwrap()).await;
    assert_eq!(back.status, 400, "{}", back.body);
    assert!(!back.body.contains("SAMLResponse"), "{}", back.body);
}
