//! The console and the portal in a real browser (headless Chromium through ChromeDriver): an
//! admin creates a user and grants them an account; the user follows the application's tile
//! from the portal and arrives signed in; a helpdesk person unlocks a user by keyboard alone at
//! a phone's width and cannot open the applications; an auditor is offered no change. Every
//! page is checked with axe-core (vendored: `tests/vendor/axe-core`) for serious or critical
//! violations, and photographed into `target/browser-screenshots/`.

use crate::browser::Chrome;
use crate::console::{grant, person};
use crate::sign_in::{fixture, PASSWORD};
use crate::support::*;
use fantoccini::key::Key;
use fantoccini::Locator;
use serde_json::json;

const AXE: &str = include_str!("../vendor/axe-core/axe.min.js");

/// Runs axe-core on the page and fails on any serious or critical violation.
async fn accessible(chrome: &Chrome, page: &str) {
    let script = format!(
        "{AXE}\n;const done = arguments[arguments.length - 1];\
         axe.run(document, {{resultTypes: ['violations']}}).then(r => done(r.violations\
         .filter(v => v.impact === 'serious' || v.impact === 'critical')\
         .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', ')))\
         , e => done(['axe failed: ' + e]));"
    );
    let found = chrome.client.execute_async(&script, vec![]).await.unwrap();
    let violations: Vec<String> = serde_json::from_value(found).unwrap();
    assert!(violations.is_empty(), "{page}: {violations:#?}");
}

/// Screenshot and accessibility check of the page the browser is on.
async fn check(chrome: &Chrome, name: &str) {
    chrome.screenshot(name).await;
    accessible(chrome, name).await;
}

/// Types into the field with `id`.
async fn fill(chrome: &Chrome, id: &str, text: &str) {
    let field = chrome.client.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Types `text` into the focused element, which must be the field with `id` (keyboard
/// only: the focus got there by autofocus or Tab).
async fn type_keys(chrome: &Chrome, id: &str, text: &str) {
    let active = chrome.client.active_element().await.unwrap();
    assert_eq!(active.attr("id").await.unwrap().as_deref(), Some(id));
    active.send_keys(text).await.unwrap();
}

/// Presses `key` on the focused element.
async fn press(chrome: &Chrome, key: Key) {
    let active = chrome.client.active_element().await.unwrap();
    active
        .send_keys(&char::from(key).to_string())
        .await
        .unwrap();
}

/// Waits until the page `old` belonged to is gone (the browser moved on after a form or a
/// link): polled, with a deadline.
async fn left(old: fantoccini::elements::Element) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while old.tag_name().await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the page did not change"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// The page's root element, to see it go.
async fn page_root(chrome: &Chrome) -> fantoccini::elements::Element {
    chrome.client.find(Locator::Css("html")).await.unwrap()
}

/// Signs in on the login page the browser is on, and waits for the next page.
async fn sign_in(chrome: &Chrome, user_name: &str, password: &str) {
    let old = page_root(chrome).await;
    fill(chrome, "user_name", user_name).await;
    let field = chrome.client.find(Locator::Id("password")).await.unwrap();
    field.send_keys(password).await.unwrap();
    field
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    left(old).await;
}

/// Clicks the submit button of the form whose action is `action`, and waits for the next
/// page.
async fn submit(chrome: &Chrome, action: &str) {
    let old = page_root(chrome).await;
    let css = format!("form[action=\"{action}\"] button[type=submit]");
    chrome
        .client
        .find(Locator::Css(&css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    left(old).await;
}

/// Clicks the link with `text`, and waits for the next page.
async fn follow(chrome: &Chrome, text: &str) {
    let old = page_root(chrome).await;
    chrome
        .client
        .find(Locator::LinkText(text))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    left(old).await;
}

async fn text_of(chrome: &Chrome, css: &str) -> String {
    let element = chrome
        .client
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap();
    element.text().await.unwrap()
}

#[cfg_attr(
    not(roster_browser),
    ignore = "set ROSTER_TEST_CHROMEDRIVER to run the browser tests"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_grants_an_account_and_the_user_opens_it_from_the_portal() {
    let mut server = Server::start(Backend::Sqlite).await;
    let admin = person(&mut server).await;
    grant(&server, &admin.user_name, "admin").await;
    // An OIDC application whose initiate-login URI begins an authorization request here,
    // and whose redirect URI is a page of this server: the browser lands on something real.
    let landing = format!("{}/health/live", server.base);
    let app = fixture(&mut server, json!({"redirect_uris": [landing]})).await;
    let initiate = format!(
        "{}/api/v1/oauth2/authorize?response_type=code&client_id={}",
        server.base, app.app.client_id
    );
    let token = server.admin().await;
    let path = format!("/roster/v1/applications/{}/sso", app.app.application_id);
    let (status, body) = server
        .put(
            &token,
            &path,
            json!({"protocol": "oidc", "redirect_uris": [landing], "initiate_login_uri": initiate}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let chrome = Chrome::start("console-admin").await;
    let c = &chrome.client;
    c.goto(&format!("{}/console", server.base)).await.unwrap();
    assert!(chrome.at().await.contains("/login?return_to=%2Fconsole"));
    check(&chrome, "01-login").await;
    sign_in(&chrome, &admin.user_name, PASSWORD).await;
    assert_eq!(text_of(&chrome, "h1").await, "Dashboard");
    check(&chrome, "02-dashboard").await;

    // A new user, through the form.
    c.goto(&format!("{}/console/users", server.base))
        .await
        .unwrap();
    check(&chrome, "03-users").await;
    follow(&chrome, "Create a user").await;
    check(&chrome, "04-new-user").await;
    fill(&chrome, "user_name", "wang.fang").await;
    fill(&chrome, "name", "Wang Fang").await;
    fill(&chrome, "mobile", "13700001234").await;
    fill(&chrome, "email", "wang.fang@example.com").await;
    fill(&chrome, "password", "First-horse-3").await;
    submit(&chrome, "/console/users/new").await;
    assert_eq!(
        text_of(&chrome, "[role=status]").await,
        "The user was created."
    );
    check(&chrome, "05-user").await;

    // The account in the application, granted on its page.
    c.goto(&format!(
        "{}/console/applications/{}",
        server.base, app.app.application_id
    ))
    .await
    .unwrap();
    check(&chrome, "06-application").await;
    let action = format!("/console/applications/{}/accounts", app.app.application_id);
    fill(&chrome, "grant_user", "wang.fang").await;
    submit(&chrome, &action).await;
    assert_eq!(
        text_of(&chrome, "[role=status]").await,
        "Accounts were granted."
    );
    for (name, path) in [
        ("07-applications", "/console/applications"),
        ("08-organizations", "/console/organizations"),
        ("09-audit", "/console/audit"),
        ("10-keys", "/console/keys"),
        ("11-people", "/console/people"),
    ] {
        c.goto(&format!("{}{path}", server.base)).await.unwrap();
        check(&chrome, name).await;
    }
    // Signing out says so.
    follow(&chrome, "Sign out").await;
    assert_eq!(
        text_of(&chrome, "[role=status]").await,
        "You are signed out."
    );

    // The new user, by keyboard alone: the password the admin typed is changed first, then
    // the portal.
    c.goto(&format!("{}/", server.base)).await.unwrap();
    let old = page_root(&chrome).await;
    type_keys(&chrome, "user_name", "wang.fang").await;
    press(&chrome, Key::Tab).await;
    type_keys(&chrome, "password", "First-horse-3").await;
    press(&chrome, Key::Enter).await;
    left(old).await;
    check(&chrome, "12-change-password").await;
    let old = page_root(&chrome).await;
    type_keys(&chrome, "new_password", "Second-horse-4").await;
    press(&chrome, Key::Tab).await;
    type_keys(&chrome, "confirm_password", "Second-horse-4").await;
    press(&chrome, Key::Enter).await;
    left(old).await;
    assert_eq!(text_of(&chrome, "h1").await, "My applications");
    check(&chrome, "13-portal").await;
    for (name, path) in [
        ("14-profile", "/portal/profile"),
        ("15-password", "/portal/password"),
        ("16-sessions", "/portal/sessions"),
    ] {
        c.goto(&format!("{}{path}", server.base)).await.unwrap();
        check(&chrome, name).await;
    }
    // The tile signs in to the application, reached with Tab and opened with Enter: it lands
    // with a code, no password asked.
    c.goto(&format!("{}/portal", server.base)).await.unwrap();
    let tile = c.find(Locator::Css(".cards a")).await.unwrap();
    let href = tile.attr("href").await.unwrap();
    let mut reached = false;
    for _ in 0..30 {
        press(&chrome, Key::Tab).await;
        let active = c.active_element().await.unwrap();
        if active.attr("href").await.unwrap() == href {
            reached = true;
            break;
        }
    }
    assert!(reached, "the tile was not reached by Tab");
    press(&chrome, Key::Enter).await;
    c.wait().for_element(Locator::Css("pre")).await.unwrap();
    let landed = chrome.at().await;
    assert!(landed.starts_with(&format!("{landing}?code=")), "{landed}");
    chrome.screenshot("17-arrived-at-the-application").await;
    c.clone().close().await.unwrap();
    server.stop().await;
}

#[cfg_attr(
    not(roster_browser),
    ignore = "set ROSTER_TEST_CHROMEDRIVER to run the browser tests"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helpdesk_person_unlocks_by_keyboard_on_a_phone_and_an_auditor_changes_nothing() {
    let mut server = Server::start(Backend::Sqlite).await;
    let helper = person(&mut server).await;
    grant(&server, &helper.user_name, "helpdesk").await;
    let auditor = person(&mut server).await;
    grant(&server, &auditor.user_name, "auditor").await;
    let locked = person(&mut server).await;
    let http = crate::sign_in::Browser::new(&server);
    for _ in 0..5 {
        let page = http.get("/login").await;
        http.submit(&page.body, &locked.user_name, "wrong password")
            .await;
    }

    let chrome = Chrome::start("console-helpdesk").await;
    let c = &chrome.client;
    c.set_window_size(390, 844).await.unwrap();
    c.goto(&format!("{}/console", server.base)).await.unwrap();
    sign_in(&chrome, &helper.user_name, PASSWORD).await;
    assert_eq!(text_of(&chrome, "h1").await, "Dashboard");
    check(&chrome, "01-dashboard-390px").await;
    // Nothing wider than the phone.
    let fits = c
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fits, json!(true));
    // Keyboard only: Tab to the locked user's Unlock button, Enter.
    let wanted = format!("/console/users/{}/unlock", locked.user_id);
    let mut reached = false;
    for _ in 0..40 {
        let active = c.active_element().await.unwrap();
        active
            .send_keys(&char::from(Key::Tab).to_string())
            .await
            .unwrap();
        let active = c.active_element().await.unwrap();
        let action = c
            .execute(
                "const f = document.activeElement.form; return f ? f.getAttribute('action') : null;",
                vec![],
            )
            .await
            .unwrap();
        if action == json!(wanted) && active.tag_name().await.unwrap() == "button" {
            let old = page_root(&chrome).await;
            active
                .send_keys(&char::from(Key::Enter).to_string())
                .await
                .unwrap();
            left(old).await;
            reached = true;
            break;
        }
    }
    assert!(reached, "the Unlock button was not reached by Tab");
    assert_eq!(
        text_of(&chrome, "[role=status]").await,
        "The user was unlocked."
    );
    check(&chrome, "02-unlocked-390px").await;
    let fits = c
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fits, json!(true));
    // The applications are not the helpdesk's.
    c.goto(&format!("{}/console/applications", server.base))
        .await
        .unwrap();
    assert_eq!(text_of(&chrome, "h1").await, "Not possible");
    check(&chrome, "03-applications-refused").await;
    c.clone().close().await.unwrap();

    // The auditor reads the user's page: no button changes anything.
    let chrome = Chrome::start("console-auditor").await;
    let c = &chrome.client;
    c.goto(&format!("{}/console/users/{}", server.base, locked.user_id))
        .await
        .unwrap();
    sign_in(&chrome, &auditor.user_name, PASSWORD).await;
    assert_eq!(text_of(&chrome, "h1").await, locked.user_name);
    check(&chrome, "01-user-read-only").await;
    let forms = c
        .find_all(Locator::Css("main form[method=post]"))
        .await
        .unwrap();
    assert!(forms.is_empty());
    // In Chinese, through the switch.
    follow(&chrome, "中文").await;
    assert_eq!(text_of(&chrome, "nav li:first-child a").await, "概览");
    check(&chrome, "02-user-in-chinese").await;
    c.clone().close().await.unwrap();
    server.stop().await;
}
