//! Signing in with a real browser (headless Chromium through ChromeDriver): the login page by
//! keyboard alone, single sign-on into a second application, global logout. Screenshots go to
//! `target/browser-screenshots/`. Runs when `ROSTER_TEST_CHROMEDRIVER` names a chromedriver
//! (Debian: `apt-get install chromium chromium-driver`, then `/usr/bin/chromedriver`).

use crate::sign_in::{fixture, Fixture, PASSWORD};
use crate::support::*;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A chromedriver of this test's own, on a free port, and a headless session in it.
pub struct Chrome {
    pub client: Client,
    _driver: Child,
    shots: PathBuf,
}

impl Chrome {
    pub async fn start(name: &str) -> Self {
        Self::start_with(name, &[]).await
    }

    /// [`Chrome::start`] with more command-line switches (e.g. scripts off).
    pub async fn start_with(name: &str, switches: &[&str]) -> Self {
        let driver_path = std::env::var("ROSTER_TEST_CHROMEDRIVER").unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        // Ready once it says so on standard output.
        let mut lines = BufReader::new(driver.stdout.take().unwrap()).lines();
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("started successfully") {
                break;
            }
        }
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let mut caps = serde_json::Map::new();
        let binary = std::env::var("ROSTER_TEST_CHROMIUM").unwrap_or("/usr/bin/chromium".into());
        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=900,800",
            "--lang=en-US",
        ];
        args.extend_from_slice(switches);
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": binary, "args": args }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap();
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/browser-screenshots")
            .join(name);
        std::fs::create_dir_all(&shots).unwrap();
        Self {
            client,
            _driver: driver,
            shots,
        }
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    /// Where the browser is (after `goto`, which waits for the page at the end of the
    /// redirects to load).
    pub async fn at(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }
}

/// An application whose redirect URI is a page of this very server, so that the browser
/// lands somewhere real (`/health/live`) with the code in its address bar.
async fn landing_app(server: &mut Server, path: &str) -> Fixture {
    let redirect = format!("{}{path}", server.base);
    fixture(server, json!({"redirect_uris": [redirect]})).await
}

#[cfg_attr(
    not(roster_browser),
    ignore = "set ROSTER_TEST_CHROMEDRIVER to run the browser tests"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_in_by_keyboard_then_single_signs_on_and_logs_out() {
    let mut server = Server::start(Backend::Sqlite).await;
    let first = landing_app(&mut server, "/health/live").await;
    // The same user holds an account in a second application.
    let second = server.create_app(&["user_read"]).await;
    let admin = server.admin().await;
    let landing = format!("{}/health/ready", server.base);
    let path = format!("/roster/v1/applications/{}/sso", second.application_id);
    let (status, body) = server
        .put(
            &admin,
            &path,
            json!({"protocol": "oauth2", "redirect_uris": [landing]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    server
        .authorize(&first.user_id, &second.application_id)
        .await;

    let chrome = Chrome::start("sso").await;
    let c = &chrome.client;
    let authorize = |client_id: &str| {
        format!(
            "{}/api/v1/oauth2/authorize?response_type=code&client_id={client_id}&state=st",
            server.base
        )
    };
    c.goto(&authorize(&first.app.client_id)).await.unwrap();
    assert!(chrome
        .at()
        .await
        .starts_with(&format!("{}/login?", server.base)));
    chrome.screenshot("1-login-page").await;
    // Keyboard only: the user name field has the focus, Tab moves to the password, Enter
    // submits.
    let focused = c.active_element().await.unwrap();
    assert_eq!(
        focused.attr("id").await.unwrap().as_deref(),
        Some("user_name")
    );
    focused.send_keys(&first.user_name).await.unwrap();
    focused
        .send_keys(&char::from(Key::Tab).to_string())
        .await
        .unwrap();
    let focused = c.active_element().await.unwrap();
    assert_eq!(
        focused.attr("id").await.unwrap().as_deref(),
        Some("password")
    );
    focused.send_keys("wrong password").await.unwrap();
    focused
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    // The error is announced and the inputs point to it.
    let alert = c
        .wait()
        .for_element(Locator::Css("[role=alert]"))
        .await
        .unwrap();
    assert_eq!(
        alert.text().await.unwrap(),
        "Invalid account name or password. Remaining attempts: 4"
    );
    chrome.screenshot("2-wrong-password").await;
    // The name is kept; the password has the focus.
    let password = c.active_element().await.unwrap();
    assert_eq!(
        password.attr("id").await.unwrap().as_deref(),
        Some("password")
    );
    assert_eq!(
        password.attr("aria-describedby").await.unwrap().as_deref(),
        Some("error")
    );
    password.send_keys(PASSWORD).await.unwrap();
    password
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    // The browser renders the landing page's JSON in a <pre>, which the login page has not.
    c.wait().for_element(Locator::Css("pre")).await.unwrap();
    let landed = chrome.at().await;
    assert!(
        landed.starts_with(&format!("{}/health/live?", server.base)),
        "{landed}"
    );
    assert!(
        landed.contains("code=") && landed.contains("state=st"),
        "{landed}"
    );
    chrome.screenshot("3-back-at-the-first-application").await;

    // The second application: no password asked.
    c.goto(&authorize(&second.client_id)).await.unwrap();
    let landed = chrome.at().await;
    assert!(
        landed.starts_with(&format!("{}/health/ready?", server.base)),
        "{landed}"
    );
    assert!(landed.contains("code="), "{landed}");
    chrome.screenshot("4-signed-on-to-the-second").await;

    // Global logout: the session is gone, the first application asks for the password again.
    c.goto(&format!("{}/api/v1/logout", server.base))
        .await
        .unwrap();
    assert_eq!(
        chrome.at().await,
        format!("{}/login?signed_out=1", server.base)
    );
    c.goto(&authorize(&first.app.client_id)).await.unwrap();
    assert!(chrome
        .at()
        .await
        .starts_with(&format!("{}/login?", server.base)));
    c.find(Locator::Id("user_name")).await.unwrap();
    chrome.screenshot("5-after-logout").await;
    c.clone().close().await.unwrap();
}

/// A password that must be changed: the login asks for a new one, by keyboard alone, and
/// then goes on to the application.
#[cfg_attr(
    not(roster_browser),
    ignore = "set ROSTER_TEST_CHROMEDRIVER to run the browser tests"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_changes_a_password_that_must_be_changed_by_keyboard() {
    let mut server = Server::start(Backend::Sqlite).await;
    let f = landing_app(&mut server, "/health/live").await;
    let admin = server.admin().await;
    let path = format!("/users/{}", f.user_id);
    let (status, _) = server
        .put(&admin, &path, json!({"pwd_must_modify": true}))
        .await;
    assert_eq!(status, 200);
    let chrome = Chrome::start("password-change").await;
    let c = &chrome.client;
    c.goto(&format!(
        "{}/api/v1/oauth2/authorize?response_type=code&client_id={}",
        server.base, f.app.client_id
    ))
    .await
    .unwrap();
    let typed = |keys: String| async move {
        let focused = c.active_element().await.unwrap();
        focused.send_keys(&keys).await.unwrap();
        focused
    };
    let tab = char::from(Key::Tab).to_string();
    let enter = char::from(Key::Enter).to_string();
    typed(format!("{}{tab}{PASSWORD}{enter}", f.user_name)).await;
    // The change page: its notice, and the focus on the new password.
    let notice = c
        .wait()
        .for_element(Locator::Css("[role=status]"))
        .await
        .unwrap();
    assert!(notice.text().await.unwrap().contains("must be changed"));
    chrome.screenshot("1-change-page").await;
    let focused = typed("New-horse-10".into()).await;
    assert_eq!(
        focused.attr("id").await.unwrap().as_deref(),
        Some("new_password")
    );
    typed(format!("{tab}New-horse-11{enter}")).await;
    let alert = c
        .wait()
        .for_element(Locator::Css("[role=alert]"))
        .await
        .unwrap();
    assert_eq!(alert.text().await.unwrap(), "The two new passwords differ.");
    chrome.screenshot("2-passwords-differ").await;
    typed(format!("New-horse-10{tab}New-horse-10{enter}")).await;
    c.wait().for_element(Locator::Css("pre")).await.unwrap();
    let landed = chrome.at().await;
    assert!(
        landed.starts_with(&format!("{}/health/live?", server.base)) && landed.contains("code="),
        "{landed}"
    );
    chrome.screenshot("3-signed-in").await;
    c.clone().close().await.unwrap();
}

/// The second factor on the login page: after the password the code is asked for, by
/// keyboard alone, with the number it went to masked; a wrong code is said so.
#[cfg_attr(
    not(roster_browser),
    ignore = "set ROSTER_TEST_CHROMEDRIVER to run the browser tests"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_gives_the_code_the_mfa_policy_asks_for_by_keyboard() {
    let mut server = Server::start(Backend::Sqlite).await;
    let f = landing_app(&mut server, "/health/live").await;
    let admin = server.admin().await;
    let (status, _) = server
        .put(&admin, "/roster/v1/mfa-policy", json!({"mode": "everyone"}))
        .await;
    assert_eq!(status, 200);
    let chrome = Chrome::start("second-factor").await;
    let c = &chrome.client;
    c.goto(&format!(
        "{}/api/v1/oauth2/authorize?response_type=code&client_id={}",
        server.base, f.app.client_id
    ))
    .await
    .unwrap();
    let typed = |keys: String| async move {
        let focused = c.active_element().await.unwrap();
        focused.send_keys(&keys).await.unwrap();
        focused
    };
    let tab = char::from(Key::Tab).to_string();
    let enter = char::from(Key::Enter).to_string();
    typed(format!("{}{tab}{PASSWORD}{enter}", f.user_name)).await;
    let notice = c
        .wait()
        .for_element(Locator::Css("[role=status]"))
        .await
        .unwrap();
    let mobile = mobile_for(&f.user_name);
    let masked = format!("*******{}", &mobile[mobile.len() - 4..]);
    assert!(notice.text().await.unwrap().contains(&masked));
    chrome.screenshot("1-code-page").await;
    let (_, kept) = server
        .get(&admin, &format!("/roster/v1/messages?mobile={mobile}"))
        .await;
    let text = kept["messages"][0]["text"].as_str().unwrap();
    let code: String = text.chars().filter(char::is_ascii_digit).take(6).collect();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    // The focus is on the code already.
    let focused = typed(wrong.to_owned()).await;
    assert_eq!(focused.attr("id").await.unwrap().as_deref(), Some("code"));
    typed(enter.clone()).await;
    let alert = c
        .wait()
        .for_element(Locator::Css("[role=alert]"))
        .await
        .unwrap();
    assert_eq!(
        alert.text().await.unwrap(),
        "The code is wrong. Tries left: 4"
    );
    chrome.screenshot("2-wrong-code").await;
    typed(format!("{code}{enter}")).await;
    c.wait().for_element(Locator::Css("pre")).await.unwrap();
    let landed = chrome.at().await;
    assert!(
        landed.starts_with(&format!("{}/health/live?", server.base)) && landed.contains("code="),
        "{landed}"
    );
    chrome.screenshot("3-signed-in").await;
    c.clone().close().await.unwrap();
}

/// SAML's auto-POST page takes the browser to the application's ACS by itself (its script is
/// allowed by the page's nonce), and with scripts off by its visible Continue button.
#[cfg_attr(
    not(roster_browser),
    ignore = "set ROSTER_TEST_CHROMEDRIVER to run the browser tests"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_saml_page_posts_with_scripts_on_and_off() {
    let mut server = Server::start(Backend::Sqlite).await;
    let (acs_base, seen) = receiver(vec![]).await;
    let acs = format!("{acs_base}/acs");
    let entity = "https://sp.example.com/browser";
    let f = fixture(
        &mut server,
        json!({"protocol": "saml", "redirect_uris": [acs], "grants": [],
               "saml": {"entity_id": entity}}),
    )
    .await;
    for (run, switches) in [
        ("saml-scripts-on", &[][..]),
        (
            "saml-scripts-off",
            &["--blink-settings=scriptEnabled=false"][..],
        ),
    ] {
        let chrome = Chrome::start_with(run, switches).await;
        let c = &chrome.client;
        let before = seen.lock().unwrap().len();
        c.goto(&format!(
            "{}/api/v1/saml2/idp/sso?sp={entity}&RelayState=r1",
            server.base
        ))
        .await
        .unwrap();
        assert!(chrome
            .at()
            .await
            .starts_with(&format!("{}/login?", server.base)));
        c.find(Locator::Id("user_name"))
            .await
            .unwrap()
            .send_keys(&f.user_name)
            .await
            .unwrap();
        let password = c.find(Locator::Id("password")).await.unwrap();
        password.send_keys(PASSWORD).await.unwrap();
        password
            .send_keys(&char::from(Key::Enter).to_string())
            .await
            .unwrap();
        if run == "saml-scripts-off" {
            // The page stays, saying what to do; its button posts.
            let button = c
                .wait()
                .for_element(Locator::Css("form#saml-post button[type=submit]"))
                .await
                .unwrap();
            chrome.screenshot("1-auto-post-page").await;
            button.click().await.unwrap();
        }
        // The first POST after `before` (a browser may also open a connection and close it
        // unused: the receiver notes that with an empty head).
        let posted = || {
            seen.lock()
                .unwrap()
                .iter()
                .skip(before)
                .find(|(head, _)| head.starts_with("post "))
                .cloned()
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while posted().is_none() && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let (head, body) = posted().expect("a POST to the ACS");
        assert!(head.starts_with("post /acs "), "{run}: {head}");
        let body = String::from_utf8_lossy(&body).into_owned();
        assert!(body.contains("SAMLResponse="), "{run}: {body}");
        assert!(body.contains("RelayState=r1"), "{run}: {body}");
    }
}
