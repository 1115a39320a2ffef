//! What standard OpenID Connect and OAuth clients send that Roster must take (issue #25,
//! points 7 to 12): userinfo by POST, form or query; authorization by POST; `prompt=login`,
//! `max_age`, `response_mode`; the redirect URI at the exchange; errors in OAuth's body on
//! every sign-in route; a registered URL's origin.

use crate::sign_in::*;
use crate::support::*;
use serde_json::{json, Value};

/// A user signed in; the code's exchange answer.
async fn tokens(server: &Server, f: &Fixture) -> Value {
    signed_in_by_code(server, f).await.1
}

#[on_each_store]
async fn userinfo_takes_the_token_by_header_form_or_query_but_one_way_only(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, json!({})).await;
    let access = tokens(&server, &f).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = server.url("/api/v1/oauth2/userinfo");
    let http = &server.http;
    let answers = [
        http.post(&url).bearer_auth(&access).send().await.unwrap(),
        http.post(&url)
            .form(&[("access_token", &access)])
            .send()
            .await
            .unwrap(),
        http.get(&url)
            .query(&[("access_token", &access)])
            .send()
            .await
            .unwrap(),
    ];
    for res in answers {
        let (status, body) = read(res).await;
        assert_eq!(
            (status, body["sub"].as_str()),
            (200, Some(f.user_id.as_str()))
        );
    }
    let both = http
        .get(&url)
        .bearer_auth(&access)
        .query(&[("access_token", &access)])
        .send()
        .await
        .unwrap();
    let (status, body) = read(both).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[on_each_store]
async fn the_authorization_endpoint_takes_a_form_post(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, json!({})).await;
    let browser = Browser::new(&server);
    let form = [
        ("response_type", "code"),
        ("client_id", f.app.client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("state", "posted"),
    ];
    let post = || async {
        let res = browser
            .http
            .post(format!("{}/api/v1/oauth2/authorize", browser.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        (
            res.status().as_u16(),
            res.headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned()),
        )
    };
    // Nobody signed in: the login page, coming back to the request as a query.
    let (status, login) = post().await;
    assert_eq!(status, 302);
    let login = login.unwrap();
    let page = browser.get(&login).await;
    let hop = browser.submit(&page.body, &f.user_name, PASSWORD).await;
    let back = hop.location.unwrap();
    assert!(back.starts_with("/api/v1/oauth2/authorize?"), "{back}");
    let hop = browser.get(&back).await;
    let location = hop.location.unwrap();
    assert_eq!(param(&location, "state").as_deref(), Some("posted"));
    assert!(param(&location, "code").is_some());
    // Signed in: a code at once.
    let (status, location) = post().await;
    assert_eq!(status, 302);
    assert!(param(&location.unwrap(), "code").is_some());
}

#[on_each_store]
async fn prompt_login_and_max_age_ask_for_the_password_again(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, json!({})).await;
    let browser = Browser::new(&server);
    let url = authorize_url(&server, &f.app.client_id, "code", "s");
    let first = browser.authorize(&url, &f.user_name, PASSWORD).await;
    assert!(param(first.location.as_deref().unwrap(), "code").is_some());
    for extra in ["&prompt=login", "&max_age=0"] {
        let asked = format!("{url}{extra}");
        // Signed in, yet the login page: the password again, then a code.
        let hop = browser.get(&asked).await;
        let login = hop.location.unwrap();
        assert!(login.starts_with("/login?"), "{extra}: {login}");
        let hop = browser.authorize(&asked, &f.user_name, PASSWORD).await;
        let location = hop.location.unwrap();
        assert!(param(&location, "code").is_some(), "{extra}: {location}");
        // With prompt=none as well there is no page to show: login_required.
        let none = format!("{asked}&prompt=none").replace("&prompt=login", "");
        let location = browser.get(&none).await.location.unwrap();
        if extra == "&max_age=0" {
            assert_eq!(param(&location, "error").as_deref(), Some("login_required"));
        }
    }
    // A max_age the session is within: no page.
    let hop = browser.get(&format!("{url}&max_age=3600")).await;
    assert!(param(&hop.location.unwrap(), "code").is_some());
}

#[on_each_store]
async fn response_mode_and_a_missing_response_type(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, json!({})).await;
    let browser = signed_in_browser(&server, &f).await;
    let url = authorize_url(&server, &f.app.client_id, "code", "s");
    let hop = browser.get(&format!("{url}&response_mode=fragment")).await;
    let location = reqwest::Url::parse(&hop.location.unwrap()).unwrap();
    assert!(location.query().is_none(), "{location}");
    assert!(location.fragment().unwrap().contains("code="), "{location}");
    let hop = browser.get(&format!("{url}&response_mode=form_post")).await;
    assert_eq!(
        param(&hop.location.unwrap(), "error").as_deref(),
        Some("invalid_request")
    );
    let without = url.replace("response_type=code&", "");
    let hop = browser.get(&without).await;
    let location = hop.location.unwrap();
    assert_eq!(
        param(&location, "error").as_deref(),
        Some("invalid_request"),
        "{location}"
    );
    assert_eq!(param(&location, "state").as_deref(), Some("s"));
}

#[on_each_store]
async fn the_exchange_names_the_redirect_uri_the_request_named(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, json!({})).await;
    let browser = Browser::new(&server);
    let named = authorize_url(&server, &f.app.client_id, "code", "s");
    let unnamed = format!(
        "/api/v1/oauth2/authorize?response_type=code&client_id={}",
        f.app.client_id
    );
    browser.authorize(&named, &f.user_name, PASSWORD).await;
    let code = |url: String| {
        let browser = &browser;
        async move {
            let hop = browser.get(&url).await;
            param(&hop.location.unwrap(), "code").unwrap()
        }
    };
    let exchange = |code: String, extra: Vec<(&'static str, String)>| {
        let server = &server;
        let app = &f.app;
        async move {
            let mut form = vec![
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
            ];
            form.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
            client_post(server, "/api/v1/oauth2/token", creds(app), &form).await
        }
    };
    let redirect = || vec![("redirect_uri", REDIRECT.to_owned())];
    let (status, body) = exchange(code(named.clone()).await, vec![]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (status, body) = exchange(code(named.clone()).await, redirect()).await;
    assert_eq!(status, 200, "{body}");
    // Not named at the request: need not be named at the exchange.
    let (status, body) = exchange(code(unnamed).await, vec![]).await;
    assert_eq!(status, 200, "{body}");
    // A code_verifier for a code issued without a challenge (RFC 9700): refused.
    let mut extra = redirect();
    extra.push(("code_verifier", "a".repeat(43)));
    let (status, body) = exchange(code(named).await, extra).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[on_each_store]
async fn unknown_routes_and_methods_under_oauth2_answer_oauths_body(backend: Backend) {
    let server = Server::start(backend).await;
    for (method, path, status) in [
        ("GET", "/api/v1/oauth2/nothing-here", 404),
        ("DELETE", "/api/v1/oauth2/token", 405),
        ("PUT", "/api/v1/oauth2/userinfo", 405),
    ] {
        let res = server
            .http
            .request(method.parse().unwrap(), server.url(path))
            .send()
            .await
            .unwrap();
        let (got, body) = read(res).await;
        assert_eq!(got, status, "{method} {path}");
        assert!(body["error"].is_string(), "{method} {path}: {body}");
        assert!(
            body["error_description"].is_string(),
            "{method} {path}: {body}"
        );
        assert!(body.get("error_code").is_none(), "{method} {path}: {body}");
    }
    // The management API keeps its own.
    let (status, body) = read(
        server
            .http
            .get(server.url("/api/v2/tenant/nothing"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert!(body["error_code"].is_string(), "{body}");
}

#[on_each_store]
async fn a_registered_urls_origin_is_admitted_alone(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, json!({})).await;
    let browser = signed_in_browser(&server, &f).await;
    let with = |redirect: &str| {
        format!(
            "/api/v1/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}",
            f.app.client_id,
            urlencode(redirect)
        )
    };
    let hop = browser.get(&with("https://wiki.example.com")).await;
    let location = hop.location.expect("redirected");
    assert!(
        location.starts_with("https://wiki.example.com/?code="),
        "{location}"
    );
    for refused in [
        "https://wiki.example.com/elsewhere",
        "https://wiki.example.com/?x=1",
        "https://:pw@wiki.example.com/oidc/callback",
    ] {
        let hop = browser.get(&with(refused)).await;
        assert_eq!(hop.status, 400, "{refused}");
        assert!(hop.location.is_none(), "{refused}");
    }
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
