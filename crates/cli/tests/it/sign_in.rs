//! Users signing in to applications: the code flow as a real OpenID Connect relying party runs
//! it (discovery, PKCE, nonce, id_token checked against the JWKS, userinfo, refresh), the
//! login page as a browser uses it (cookies, CSRF token), and every refusal.

use crate::support::*;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use serde_json::{json, Value};

pub const PASSWORD: &str = "Correct-horse-9";
pub const REDIRECT: &str = "https://wiki.example.com/oidc/callback";

/// A user who may sign in to an OpenID Connect application.
pub struct Fixture {
    pub app: AppCreds,
    pub user_id: String,
    pub user_name: String,
    pub account_id: String,
}

/// Creates a user with a password and email, an application with `settings` (merged over
/// OIDC defaults with a refresh-token lifetime), and the user's account in it.
pub async fn fixture(server: &mut Server, settings: Value) -> Fixture {
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
                "name": "Zhang San",
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let user_id = body["user_id"].as_str().unwrap().to_owned();
    let app = server.create_app(&["user_read"]).await;
    let mut sso = json!({
        "protocol": "oidc",
        "redirect_uris": [REDIRECT],
        "logout_urls": ["https://wiki.example.com/"],
        "refresh_token_ttl_secs": 86400,
    });
    for (k, v) in settings.as_object().unwrap() {
        sso[k] = v.clone();
    }
    let path = format!("/roster/v1/applications/{}/sso", app.application_id);
    let (status, body) = server.put(&admin, &path, sso).await;
    assert_eq!(status, 200, "{body}");
    let account_id = server.authorize(&user_id, &app.application_id).await;
    Fixture {
        app,
        user_id,
        user_name,
        account_id,
    }
}

/// A browser: keeps cookies, does not follow redirects (each step is looked at).
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
}

/// What a redirect says: its status and `Location`.
pub struct Hop {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Browser {
    pub fn new(server: &Server) -> Self {
        Self::at(&server.base)
    }

    pub fn at(base: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
        }
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{url}", self.base)
        } else {
            url.to_owned()
        }
    }

    pub async fn get(&self, url: &str) -> Hop {
        let res = self
            .http
            .get(self.absolute(url))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        hop(res).await
    }

    /// Submits the login form found on `page`.
    pub async fn submit(&self, page: &str, user_name: &str, password: &str) -> Hop {
        let mut form = vec![
            ("user_name".to_owned(), user_name.to_owned()),
            ("password".to_owned(), password.to_owned()),
        ];
        for name in ["csrf_token", "return_to"] {
            if let Some(value) = hidden(page, name) {
                form.push((name.to_owned(), value));
            }
        }
        let res = self
            .http
            .post(self.absolute("/login"))
            .form(&form)
            .send()
            .await
            .unwrap();
        hop(res).await
    }

    /// Submits the password-change page found on `page` (after a login whose password must
    /// be changed).
    pub async fn change_password(&self, page: &str, new: &str, again: &str) -> Hop {
        let mut form = vec![
            ("new_password".to_owned(), new.to_owned()),
            ("confirm_password".to_owned(), again.to_owned()),
        ];
        for name in ["csrf_token", "change_token", "return_to"] {
            if let Some(value) = hidden(page, name) {
                form.push((name.to_owned(), value));
            }
        }
        let res = self
            .http
            .post(self.absolute("/login/password"))
            .form(&form)
            .send()
            .await
            .unwrap();
        hop(res).await
    }

    /// Follows an authorization request through the login page (signing in if asked) to
    /// the redirect back to the application.
    pub async fn authorize(&self, url: &str, user_name: &str, password: &str) -> Hop {
        let first = self.get(url).await;
        let Some(location) = first.location.clone() else {
            return first;
        };
        if !location.starts_with("/login") {
            return first;
        }
        let page = self.get(&location).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let signed_in = self.submit(&page.body, user_name, password).await;
        if signed_in.status != 303 {
            return signed_in;
        }
        self.get(signed_in.location.as_deref().unwrap()).await
    }
}

async fn hop(res: reqwest::Response) -> Hop {
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = res.text().await.unwrap();
    Hop {
        status,
        location,
        body,
    }
}

/// The value of a hidden form field of `page` (HTML-unescaped).
pub fn hidden(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let end = start + page[start..].find('"')?;
    Some(unescape(&page[start..end]))
}

/// Text as HTML escapes it (character references, by name or number), as a browser reads it.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let name = &rest[1..end];
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => name
                .strip_prefix("#x")
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| name.strip_prefix('#').map(str::parse))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of the page's alert (an error message), if any.
pub fn alert(page: &str) -> Option<String> {
    let start = page.find("role=\"alert\">")? + "role=\"alert\">".len();
    let end = start + page[start..].find('<')?;
    Some(unescape(&page[start..end]))
}

/// A query (or fragment) parameter of a URL.
pub fn param(url: &str, name: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).unwrap();
    let from_query = parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned());
    from_query.or_else(|| {
        let fragment = parsed.fragment()?;
        reqwest::Url::parse(&format!("http://x/?{fragment}"))
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    })
}

fn oidc_http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[on_each_store]
async fn code_flow_with_pkce_signs_a_user_in_as_an_oidc_client_expects(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(
        &mut server,
        json!({"claims": [
            {"claim": "roles", "source": {"type": "roles"}},
            {"claim": "account", "source": {"type": "account", "value": "account_name"}}
        ]}),
    )
    .await;
    let http = oidc_http();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(server.base.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(f.app.client_id.clone()),
        Some(ClientSecret::new(f.app.client_secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.to_owned()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".to_owned()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = Browser::new(&server);
    let back = browser
        .authorize(url.as_str(), &f.user_name, PASSWORD)
        .await;
    assert_eq!(back.status, 302, "{}", back.body);
    let location = back.location.unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(
        param(&location, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let code = param(&location, "code").unwrap();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(tokens.expires_in().unwrap().as_secs(), 7200);
    let id_token = tokens
        .id_token()
        .expect("an id_token for an OIDC application");
    let verify = client.id_token_verifier();
    let claims = id_token.claims(&verify, &nonce).unwrap();
    assert_eq!(claims.subject().as_str(), f.user_id);
    assert!(claims.auth_time().is_some());
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verify).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&at_hash));
    // The claims OneAccess integrations read from the id_token, and the mapped ones.
    let payload = jwt_payload(&id_token.to_string());
    assert_eq!(payload["userName"], f.user_name);
    assert_eq!(payload["name"], "Zhang San");
    assert_eq!(payload["email"], format!("{}@example.com", f.user_name));
    assert_eq!(payload["mobile"], mobile_for(&f.user_name));
    assert_eq!(payload["roles"], json!([]));
    assert!(payload["account"].is_string());

    // userinfo, through the library (which checks `sub`) and as OneAccess answers it.
    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(info.subject().as_str(), f.user_id);
    let (status, body) = bearer_get(
        &server,
        "/api/v1/oauth2/userinfo",
        tokens.access_token().secret(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], f.user_id);
    assert_eq!(body["userName"], f.user_name);
    assert_eq!(body["name"], "Zhang San");

    // The code is good once; its second use ends what the first issued.
    let again = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(&http)
        .await;
    assert!(again.is_err());
    let (status, body) = bearer_get(
        &server,
        "/api/v1/oauth2/userinfo",
        tokens.access_token().secret(),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_token");
    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&http)
        .await;
    assert!(
        refreshed.is_err(),
        "the reused code's refresh token is revoked too"
    );
}

#[on_each_store]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_grant(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, json!({})).await;
    let http = oidc_http();
    let client = oidc_client(&server, &f, &http).await;
    let tokens = sign_in_with_code(&server, &client, &f, &http).await;
    let first = tokens.refresh_token().unwrap().clone();
    let second = client
        .exchange_refresh_token(&first)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let rotated = second.refresh_token().unwrap().clone();
    assert_ne!(rotated.secret(), first.secret());
    assert!(
        second.id_token().is_some(),
        "a fresh id_token with each refresh"
    );
    let (status, _) = bearer_get(
        &server,
        "/api/v1/oauth2/userinfo",
        second.access_token().secret(),
    )
    .await;
    assert_eq!(status, 200);
    // The first refresh token again: refused, and the grant it belonged to ends.
    let (status, body) = refresh_by_hand(&server, &f.app, first.secret()).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error": "invalid_grant", "error_description": "Invalid refresh token"})
        )
    );
    let (status, _) = bearer_get(
        &server,
        "/api/v1/oauth2/userinfo",
        second.access_token().secret(),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = refresh_by_hand(&server, &f.app, rotated.secret()).await;
    assert_eq!(status, 400);
}

#[on_each_store]
async fn only_enabled_users_with_enabled_accounts_in_enabled_applications_sign_in(
    backend: Backend,
) {
    let mut server = Server::start(backend).await;
    let admin = server.admin().await;
    let f = fixture(&mut server, json!({})).await;
    let browser = Browser::new(&server);
    let url = authorize_url(&server, &f.app.client_id, "code", "s1");
    // Signed in once (a session exists); each refusal below comes back to the application.
    let ok = browser.authorize(&url, &f.user_name, PASSWORD).await;
    assert!(param(ok.location.as_deref().unwrap(), "code").is_some());

    let refused = |hop: Hop, why: &str| {
        assert_eq!(hop.status, 302, "{}", hop.body);
        let location = hop.location.unwrap();
        assert!(location.starts_with(REDIRECT), "{location}");
        assert_eq!(param(&location, "error").as_deref(), Some("access_denied"));
        assert_eq!(param(&location, "state").as_deref(), Some("s1"));
        assert!(param(&location, "code").is_none());
        assert_eq!(param(&location, "error_description").as_deref(), Some(why));
    };
    // The account disabled.
    let account = format!(
        "/applications/{}/accounts/{}/disable",
        f.app.application_id, f.account_id
    );
    assert_eq!(server.put(&admin, &account, json!({})).await.0, 200);
    refused(
        browser.get(&url).await,
        "The user's account in this application is disabled.",
    );
    let account = account.replace("/disable", "/enable");
    assert_eq!(server.put(&admin, &account, json!({})).await.0, 200);
    assert!(param(browser.get(&url).await.location.as_deref().unwrap(), "code").is_some());
    // The application disabled.
    let app = format!(
        "{}/roster/v1/applications/{}/disable",
        server.base, f.app.application_id
    );
    let res = server
        .http
        .put(app.clone())
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    refused(browser.get(&url).await, "The application is disabled.");
    let res = server
        .http
        .put(app.replace("/disable", "/enable"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The user disabled: the session ends with it (sign_in_attacks.rs holds what else
    // ends), and the password, right as it is, signs in no more.
    let user = format!("/users/{}/disable", f.user_id);
    assert_eq!(server.put(&admin, &user, json!({})).await.0, 200);
    let hop = browser.authorize(&url, &f.user_name, PASSWORD).await;
    assert_eq!(hop.status, 401, "{}", hop.body);
    assert_eq!(
        alert(&hop.body).as_deref(),
        Some("This user is disabled. Ask your administrator.")
    );
    assert_eq!(
        server
            .put(&admin, &user.replace("/disable", "/enable"), json!({}))
            .await
            .0,
        200
    );
    // No account at all: another user signed in through a fresh browser.
    let stranger = fixture(&mut server, json!({})).await;
    let other = Browser::new(&server);
    let hop = other.authorize(&url, &stranger.user_name, PASSWORD).await;
    refused(hop, "The user holds no account in this application.");
    // Every sign-in and refusal is audited with the user, the address and the outcome.
    let ops = sign_in_audit(&server, &admin, &f.app.application_id).await;
    assert!(
        ops.iter()
            .any(|o| o == &format!("SignIn application {}@127.0.0.1", f.user_id)),
        "{ops:?}"
    );
    assert!(
        ops.iter()
            .any(|o| o == &format!("SignInRefused LOGIN.0003 {}@127.0.0.1", stranger.user_id)),
        "{ops:?}"
    );
}

#[on_each_store]
async fn untrusted_clients_and_redirects_get_an_error_page_never_a_redirect(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, json!({})).await;
    let browser = Browser::new(&server);
    let cases = [
        format!(
            "/api/v1/oauth2/authorize?response_type=code&client_id=nobody&redirect_uri={REDIRECT}"
        ),
        format!("/api/v1/oauth2/authorize?response_type=code&redirect_uri={REDIRECT}"),
        // Look-alikes of the registered URL: another path, host, subdomain, scheme, userinfo.
        auth_with_redirect(&f.app.client_id, "https://wiki.example.com/oidc/callback/x"),
        auth_with_redirect(&f.app.client_id, "https://evil.example.com/oidc/callback"),
        auth_with_redirect(
            &f.app.client_id,
            "https://wiki.example.com.evil.io/oidc/callback",
        ),
        auth_with_redirect(&f.app.client_id, "http://wiki.example.com/oidc/callback"),
        auth_with_redirect(
            &f.app.client_id,
            "https://user@wiki.example.com/oidc/callback",
        ),
        auth_with_redirect(&f.app.client_id, "//evil.example.com/"),
    ];
    for url in &cases {
        let hop = browser.get(url).await;
        assert_eq!(hop.status, 400, "{url}: {}", hop.body);
        assert!(hop.location.is_none(), "{url}");
        assert!(
            hop.body.contains("<h1>"),
            "an HTML page for a browser: {}",
            hop.body
        );
    }
    // A program gets OAuth's error body, with Spring's words for a wrong redirect.
    let res = server
        .http
        .get(server.url(&auth_with_redirect(
            &f.app.client_id,
            "https://evil.example.com/",
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(
        read(res).await,
        (
            400,
            json!({"error": "invalid_request",
            "error_description": "Invalid redirect: https://evil.example.com/ does not match one of the registered values."})
        )
    );
    // A registered redirect with an unsupported response type: the error goes back to it.
    let url = authorize_url(&server, &f.app.client_id, "magic", "st");
    let hop = browser.get(&url).await;
    let location = hop.location.unwrap();
    assert!(location.starts_with(REDIRECT));
    assert_eq!(
        param(&location, "error").as_deref(),
        Some("unsupported_response_type")
    );
    assert_eq!(param(&location, "state").as_deref(), Some("st"));
    // The implicit flow is off by default: unauthorized_client, in the fragment.
    let url = authorize_url(&server, &f.app.client_id, "id_token", "st");
    let location = browser.get(&url).await.location.unwrap();
    assert_eq!(
        param(&location, "error").as_deref(),
        Some("unauthorized_client")
    );
    assert!(location.contains('#'), "{location}");
    // PKCE with `plain` is refused.
    let url = format!(
        "{}&code_challenge=abc&code_challenge_method=plain",
        authorize_url(&server, &f.app.client_id, "code", "st")
    );
    let location = browser.get(&url).await.location.unwrap();
    assert_eq!(
        param(&location, "error").as_deref(),
        Some("invalid_request")
    );
    // The login page returns only to this server's authorization requests.
    let page = browser
        .get("/login?return_to=https%3A%2F%2Fevil.example.com%2F")
        .await;
    assert!(hidden(&page.body, "return_to").is_none());
    let signed_in = browser.submit(&page.body, &f.user_name, PASSWORD).await;
    // With nowhere of its own to go, the portal.
    assert_eq!(signed_in.status, 303);
    assert_eq!(signed_in.location.as_deref(), Some("/portal"));
}

#[on_each_store]
async fn five_wrong_passwords_lock_the_user_until_enabled_again(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = server.admin().await;
    let f = fixture(&mut server, json!({})).await;
    let browser = Browser::new(&server);
    let url = authorize_url(&server, &f.app.client_id, "code", "s");
    let login = browser.get(&url).await.location.unwrap();
    let page = browser.get(&login).await.body;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..5 {
        let hop = browser.submit(&page, &f.user_name, "wrong-password").await;
        assert_eq!(hop.status, 401);
        known.push(alert(&hop.body).unwrap());
        let hop = browser
            .submit(&page, "nobody-has-this-name", "wrong-password")
            .await;
        unknown.push(alert(&hop.body).unwrap());
    }
    for (i, text) in known.iter().take(4).enumerate() {
        assert_eq!(
            text,
            &format!(
                "Invalid account name or password. Remaining attempts: {}",
                4 - i
            )
        );
    }
    assert!(
        known[4].starts_with(
            "The user is locked after too many failed sign-ins. It will be unlocked in 30 minutes"
        ),
        "{}",
        known[4]
    );
    // An unknown name is answered word for word as a known one.
    assert_eq!(known, unknown);
    // Locked: the right password is refused too, on the page and at the token endpoint.
    let hop = browser.submit(&page, &f.user_name, PASSWORD).await;
    assert_eq!(hop.status, 401);
    assert!(alert(&hop.body).unwrap().starts_with("The user is locked"));
    let (status, user) = server.get(&admin, &format!("/users/{}", f.user_id)).await;
    assert_eq!(status, 200);
    assert_eq!(user["locked"], true);
    // Each attempt is audited with the user (or `unknown`), the address, the outcome and the
    // application the login page was reached from; never the name typed.
    let seen = sign_in_audit(&server, &admin, &f.app.application_id).await;
    let known = format!("{}@127.0.0.1", f.user_id);
    let count = |line: String| seen.iter().filter(|s| **s == line).count();
    assert_eq!(
        count(format!("SignInRefused LOGIN.0002 {known}")),
        4,
        "{seen:?}"
    );
    assert_eq!(
        count(format!("SignInRefused LOGIN.0001 {known}")),
        2,
        "{seen:?}"
    );
    assert_eq!(
        count("SignInRefused LOGIN.0002 unknown@127.0.0.1".into()),
        4,
        "{seen:?}"
    );
    let (_, audit) = server
        .get(&admin, "/roster/v1/audit?offset=0&limit=100")
        .await;
    assert!(!audit.to_string().contains("nobody-has-this-name"));

    // EnableUser lifts the lock.
    assert_eq!(
        server
            .put(&admin, &format!("/users/{}/enable", f.user_id), json!({}))
            .await
            .0,
        200
    );
    assert_eq!(
        server.get(&admin, &format!("/users/{}", f.user_id)).await.1["locked"],
        false
    );
    let hop = browser.submit(&page, &f.user_name, PASSWORD).await;
    assert_eq!(hop.status, 303, "{}", hop.body);
}

#[on_each_store]
async fn the_form_needs_its_csrf_token_and_signing_in_changes_the_session(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, json!({})).await;
    let browser = Browser::new(&server);
    let page = browser.get("/login").await;
    // No token, or another one: the form again, and no session.
    for token in [None, Some("0".repeat(64))] {
        let mut form = vec![
            ("user_name", f.user_name.clone()),
            ("password", PASSWORD.to_owned()),
        ];
        if let Some(t) = &token {
            form.push(("csrf_token", t.clone()));
        }
        let res = browser
            .http
            .post(format!("{}/login", server.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        assert!(res
            .headers()
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("roster_session=")));
    }
    // A session id planted before signing in (fixation) is never the signed-in one.
    let planted = "a".repeat(64);
    let res = browser
        .http
        .post(format!("{}/login", server.base))
        .header(
            "cookie",
            format!(
                "roster_session={planted}; roster_csrf={}",
                hidden(&page.body, "csrf_token").unwrap()
            ),
        )
        .form(&[
            ("user_name", f.user_name.as_str()),
            ("password", PASSWORD),
            (
                "csrf_token",
                hidden(&page.body, "csrf_token").unwrap().as_str(),
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("roster_session="))
        .unwrap();
    assert!(!cookie.contains(&planted));
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "http public URL: no Secure flag: {cookie}"
    );
}

#[on_each_store]
async fn https_public_url_makes_cookies_secure_and_is_the_issuer(backend: Backend) {
    let server = Server::start_with(
        backend,
        Options {
            args: &["--public-url", "https://sso.example.com/"],
            ..Default::default()
        },
    )
    .await;
    let res = server
        .http
        .get(server.url("/api/v1/oauth2/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, 200);
    assert_eq!(body["issuer"], "https://sso.example.com");
    assert_eq!(
        body["jwks_uri"],
        "https://sso.example.com/api/v1/oauth2/keys"
    );
    // Request objects by reference are not served: said, as OpenID Discovery §3 asks.
    assert_eq!(body["request_uri_parameter_supported"], false);
    let res = server
        .http
        .get(format!("{}/login", server.base))
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[on_each_store]
async fn one_session_signs_in_to_a_second_application_and_logout_ends_it(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, json!({})).await;
    let second = server.create_app(&["user_read"]).await;
    let admin = server.admin().await;
    let path = format!("/roster/v1/applications/{}/sso", second.application_id);
    let redirect = "https://crm.example.com/cb";
    let (status, body) = server
        .put(
            &admin,
            &path,
            json!({"protocol": "oauth2", "redirect_uris": [redirect]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    server.authorize(&f.user_id, &second.application_id).await;

    let browser = Browser::new(&server);
    let first = browser
        .authorize(
            &authorize_url(&server, &f.app.client_id, "code", "a"),
            &f.user_name,
            PASSWORD,
        )
        .await;
    assert!(param(first.location.as_deref().unwrap(), "code").is_some());
    // No password asked the second time.
    let url = format!(
        "/api/v1/oauth2/authorize?response_type=code&client_id={}&state=b",
        second.client_id
    );
    let hop = browser.get(&url).await;
    let location = hop.location.unwrap();
    assert!(location.starts_with(redirect), "{location}");
    assert!(param(&location, "code").is_some());

    // Logout: to a registered logout URL only, and the session is gone.
    let hop = browser
        .get("/api/v1/logout?redirect_url=https%3A%2F%2Fevil.example.com%2F")
        .await;
    assert_eq!(hop.status, 400);
    assert!(hop.location.is_none());
    let hop = browser.get(&url).await;
    assert!(
        hop.location.unwrap().starts_with("/login"),
        "the first logout ended the session"
    );
    let first = browser
        .authorize(
            &authorize_url(&server, &f.app.client_id, "code", "a"),
            &f.user_name,
            PASSWORD,
        )
        .await;
    assert_eq!(first.status, 302);
    let hop = browser
        .get(&format!(
            "/api/v1/logout?redirect_url=https%3A%2F%2Fwiki.example.com%2Fbye&client_id={}",
            f.app.client_id
        ))
        .await;
    assert_eq!(hop.status, 302);
    assert_eq!(
        hop.location.as_deref(),
        Some("https://wiki.example.com/bye")
    );
    assert!(browser
        .get(&url)
        .await
        .location
        .unwrap()
        .starts_with("/login"));
}

#[on_each_store]
async fn implicit_password_and_client_credentials_grants_work_only_when_turned_on(
    backend: Backend,
) {
    let mut server = Server::start(backend).await;
    let f = fixture(
        &mut server,
        json!({"grants": ["authorization_code", "implicit", "password"], "id_token_alg": "RS384"}),
    )
    .await;
    let browser = Browser::new(&server);
    // Implicit, as an OpenID Connect client asks for it (`id_token token`): both in the
    // fragment, the id_token signed RS384 and checked by the library with its nonce.
    let http = oidc_http();
    let client = oidc_client(&server, &f, &http).await;
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::Implicit(true),
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let hop = browser
        .authorize(url.as_str(), &f.user_name, PASSWORD)
        .await;
    let location = hop.location.unwrap();
    assert!(location.starts_with(&format!("{REDIRECT}#")), "{location}");
    assert_eq!(param(&location, "token_type").as_deref(), Some("Bearer"));
    assert_eq!(
        param(&location, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let id_token: openidconnect::core::CoreIdToken =
        param(&location, "id_token").unwrap().parse().unwrap();
    let verifier = client.id_token_verifier().set_allowed_algs(vec![
        openidconnect::core::CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    ]);
    let claims = id_token.claims(&verifier, &nonce).unwrap();
    assert_eq!(claims.subject().as_str(), f.user_id);
    assert_eq!(jwt_header(&id_token.to_string())["alg"], "RS384");
    let access = param(&location, "access_token").unwrap();
    assert_eq!(
        bearer_get(&server, "/api/v1/oauth2/userinfo", &access)
            .await
            .0,
        200
    );
    // `id_token` alone: no access token.
    let url = format!(
        "{}&nonce=n-2",
        authorize_url(&server, &f.app.client_id, "id_token", "st")
    );
    let location = browser.get(&url).await.location.unwrap();
    assert!(param(&location, "id_token").is_some(), "{location}");
    assert!(param(&location, "access_token").is_none(), "{location}");

    // Password grant, through a real OAuth 2.0 client.
    let client = oauth2::basic::BasicClient::new(oauth2::ClientId::new(f.app.client_id.clone()))
        .set_client_secret(oauth2::ClientSecret::new(f.app.client_secret.clone()))
        .set_token_uri(oauth2::TokenUrl::new(server.url("/api/v1/oauth2/token")).unwrap());
    let http = oidc_http();
    let token = client
        .exchange_password(
            &oauth2::ResourceOwnerUsername::new(format!("{}@example.com", f.user_name)),
            &oauth2::ResourceOwnerPassword::new(PASSWORD.to_owned()),
        )
        .request_async(&http)
        .await
        .unwrap();
    use oauth2::TokenResponse as _;
    assert_eq!(
        bearer_get(
            &server,
            "/api/v1/oauth2/userinfo",
            token.access_token().secret()
        )
        .await
        .0,
        200
    );
    let wrong = client
        .exchange_password(
            &oauth2::ResourceOwnerUsername::new(f.user_name.clone()),
            &oauth2::ResourceOwnerPassword::new("wrong".to_owned()),
        )
        .request_async(&http)
        .await;
    assert!(wrong.is_err());
    // A malformed scope: RFC 6749's invalid_scope.
    let form = [
        ("grant_type", "password"),
        ("username", f.user_name.as_str()),
        ("password", PASSWORD),
        ("scope", "get_user_info \"quoted\""),
    ];
    let (status, body) = client_post(&server, "/api/v1/oauth2/token", creds(&f.app), &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope")),
        "{body}"
    );
    // Client credentials is still off: Spring's words.
    let form = [("grant_type", "client_credentials")];
    assert_eq!(
        client_post(&server, "/api/v1/oauth2/token", creds(&f.app), &form).await,
        (
            400,
            json!({"error": "unauthorized_client", "error_description": "Unauthorized grant type: client_credentials"})
        )
    );
}

#[on_each_store]
async fn codes_expire_and_must_match_their_redirect_and_verifier(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, json!({})).await;
    let other = fixture(&mut server, json!({})).await;
    let browser = Browser::new(&server);
    let code = || async {
        let hop = browser
            .authorize(
                &authorize_url(&server, &f.app.client_id, "code", "s"),
                &f.user_name,
                PASSWORD,
            )
            .await;
        param(hop.location.as_deref().unwrap(), "code").unwrap()
    };
    let exchange = |code: String, extra: Vec<(&'static str, String)>| {
        let server = &server;
        let app = &f.app;
        async move {
            let mut form = vec![("grant_type", "authorization_code"), ("code", &code)];
            form.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
            client_post(server, "/api/v1/oauth2/token", creds(app), &form).await
        }
    };
    let invalid =
        json!({"error": "invalid_grant", "error_description": "Invalid authorization code"});
    // Expired (the store's clock says so).
    let c = code().await;
    server.db.exec("UPDATE sso_codes SET expires_at = 0").await;
    assert_eq!(exchange(c, vec![]).await, (400, invalid.clone()));
    // Another redirect URI than the one the code went to.
    let c = code().await;
    let (status, body) = exchange(
        c,
        vec![("redirect_uri", "https://wiki.example.com/other".to_owned())],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Another client's code.
    let c = code().await;
    let form = [("grant_type", "authorization_code"), ("code", c.as_str())];
    assert_eq!(
        client_post(&server, "/api/v1/oauth2/token", creds(&other.app), &form).await,
        (400, invalid.clone())
    );
    // A PKCE code without its verifier, or with another.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let url = format!(
        "{}&code_challenge={}&code_challenge_method=S256",
        authorize_url(&server, &f.app.client_id, "code", "s"),
        challenge.as_str()
    );
    let c = param(browser.get(&url).await.location.as_deref().unwrap(), "code").unwrap();
    let (status, _) = exchange(c.clone(), vec![]).await;
    assert_eq!(status, 400);
    let (status, _) = exchange(c, vec![("code_verifier", "x".repeat(43))]).await;
    assert_eq!(status, 400);
    // A wrong client secret.
    let c = code().await;
    let form = [("grant_type", "authorization_code"), ("code", c.as_str())];
    let wrong = (f.app.client_id.as_str(), "wrong-secret");
    let (status, _) = client_post(&server, "/api/v1/oauth2/token", wrong, &form).await;
    assert_eq!(status, 401);
}

#[on_each_store]
async fn the_login_page_speaks_chinese_to_chinese_browsers(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, json!({})).await;
    let browser = Browser::new(&server);
    let get = |lang: &'static str| {
        let browser = &browser;
        let base = &server.base;
        async move {
            browser
                .http
                .get(format!("{base}/login"))
                .header("accept-language", lang)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let zh = get("zh-CN,zh;q=0.9,en;q=0.8").await;
    assert!(zh.contains("lang=\"zh-CN\"") && zh.contains("密码"), "{zh}");
    let en = get("en-US,en;q=0.9").await;
    assert!(en.contains("lang=\"en\"") && en.contains("Password"));
    // Labels name their inputs; the error is an alert the inputs point to.
    assert!(en.contains("<label for=\"user_name\">") && en.contains("<label for=\"password\">"));
    let res = browser
        .http
        .post(format!("{}/login", server.base))
        .header("accept-language", "zh")
        .form(&[
            ("user_name", f.user_name.as_str()),
            ("password", "wrong"),
            ("csrf_token", hidden(&zh, "csrf_token").unwrap().as_str()),
        ])
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert_eq!(
        alert(&page).as_deref(),
        Some("账号名或密码错误。剩余尝试次数：4")
    );
    assert!(page.contains("aria-describedby=\"error\""));
    // Every page in one language: an unknown client, an unregistered redirect, a logout URL
    // nobody registered.
    let chinese_page = |path: String| {
        let browser = &browser;
        let base = &server.base;
        async move {
            let res = browser
                .http
                .get(format!("{base}{path}"))
                .header("accept-language", "zh-CN")
                .header("accept", "text/html")
                .send()
                .await
                .unwrap();
            alert(&res.text().await.unwrap()).unwrap_or_default()
        }
    };
    let unknown = chinese_page(authorize_url(&server, "nobody-has-this-id", "code", "s")).await;
    assert_eq!(unknown, "没有 client_id 为 nobody-has-this-id 的应用。");
    let elsewhere = auth_with_redirect(&f.app.client_id, "https://evil.example.com/cb");
    let bad = chinese_page(elsewhere).await;
    assert!(bad.starts_with("无效的回调地址："), "{bad}");
    let out =
        chinese_page("/api/v1/logout?redirect_url=https%3A%2F%2Fevil.example.com%2F".into()).await;
    assert_eq!(out, "要跳转的地址不是已注册的退出地址，因此未跳转。");
    let nowhere = chinese_page("/api/v1/oauth2/nowhere".into()).await;
    assert_eq!(nowhere, "找不到该地址。");
}

#[on_each_store]
async fn an_old_key_still_verifies_after_rotation(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, json!({})).await;
    let http = oidc_http();
    let client = oidc_client(&server, &f, &http).await;
    let before = sign_in_with_code(&server, &client, &f, &http).await;
    let (ok, _, stderr) = roster(&["keys", "rotate", "--database", &server.db.url]).await;
    assert!(ok, "{stderr}");
    // A relying party that reads the key set again still verifies the old id_token.
    let fresh = oidc_client(&server, &f, &http).await;
    let token = before.id_token().unwrap();
    let payload = jwt_payload(&token.to_string());
    let nonce = Nonce::new(payload["nonce"].as_str().unwrap().to_owned());
    token.claims(&fresh.id_token_verifier(), &nonce).unwrap();
    let (_, keys) = read(
        server
            .http
            .get(server.url("/api/v1/oauth2/keys"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(keys["keys"].as_array().unwrap().len(), 2);
}

#[on_each_store]
async fn users_tokens_are_introspected_checked_and_revoked_with_their_grant(backend: Backend) {
    let mut server = Server::start(backend).await;
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
    let call = |path: &'static str, form: Vec<(&'static str, String)>| {
        let server = &server;
        let app = &f.app;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            client_post(server, path, creds(app), &form).await
        }
    };
    let (status, tokens) = call(
        "/api/v1/oauth2/token",
        vec![
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("redirect_uri", REDIRECT.into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let (_, seen) = call("/api/v1/oauth2/introspect", vec![("token", access.clone())]).await;
    assert_eq!(seen["active"], true);
    assert_eq!(seen["token_type"], "Bearer");
    assert_eq!(seen["sub"], f.user_id);
    assert_eq!(seen["username"], f.user_name);
    assert_eq!(seen["client_id"], f.app.client_id);
    // Spring's RemoteTokenServices reads the user from `user_name`.
    let (status, checked) = call(
        "/api/v1/oauth2/check_token",
        vec![("token", access.clone())],
    )
    .await;
    assert_eq!(status, 200, "{checked}");
    assert_eq!(checked["user_name"], f.user_name);
    let (_, seen) = call(
        "/api/v1/oauth2/introspect",
        vec![
            ("token", refresh.clone()),
            ("token_type_hint", "refresh_token".into()),
        ],
    )
    .await;
    assert_eq!(seen["active"], true, "{seen}");
    assert!(seen.get("token_type").is_none(), "{seen}");

    // Revoking the refresh token ends the grant: the access token issued with it too.
    let (status, _) = call("/api/v1/oauth2/revoke", vec![("token", refresh.clone())]).await;
    assert_eq!(status, 200);
    for token in [&access, &refresh] {
        let (_, seen) = call(
            "/api/v1/oauth2/introspect",
            vec![("token", token.to_string())],
        )
        .await;
        assert_eq!(seen, json!({"active": false}));
    }
    assert_eq!(
        bearer_get(&server, "/api/v1/oauth2/userinfo", &access)
            .await
            .0,
        401
    );
}

#[on_each_store]
async fn prompt_none_without_a_session_answers_login_required(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, json!({})).await;
    let browser = Browser::new(&server);
    let url = format!(
        "{}&prompt=none",
        authorize_url(&server, &f.app.client_id, "code", "q")
    );
    let location = browser.get(&url).await.location.unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(param(&location, "error").as_deref(), Some("login_required"));
    assert_eq!(param(&location, "state").as_deref(), Some("q"));
    // Signed in, the same request gives a code without a page.
    browser
        .authorize(
            &authorize_url(&server, &f.app.client_id, "code", "q"),
            &f.user_name,
            PASSWORD,
        )
        .await;
    let location = browser.get(&url).await.location.unwrap();
    assert!(param(&location, "code").is_some(), "{location}");
}

#[on_each_store]
async fn password_checks_are_limited_per_address(backend: Backend) {
    let mut server = Server::start_with(
        backend,
        Options {
            args: &["--sign-in-rate-per-address", "1"],
            ..Default::default()
        },
    )
    .await;
    let f = fixture(
        &mut server,
        json!({"grants": ["authorization_code", "password"]}),
    )
    .await;
    let browser = Browser::new(&server);
    let page = browser.get("/login").await.body;
    // A burst of two, then the page says to wait (429, Retry-After), before any hash is
    // checked: the right password is not even looked at.
    for _ in 0..2 {
        assert_eq!(
            browser.submit(&page, &f.user_name, "wrong").await.status,
            401
        );
    }
    let hop = browser.submit(&page, &f.user_name, PASSWORD).await;
    assert_eq!(hop.status, 429, "{}", hop.body);
    assert!(alert(&hop.body)
        .unwrap()
        .starts_with("Too many sign-in attempts"));
    // The password grant shares the budget: OAuth's words for it.
    let form = [
        ("grant_type", "password"),
        ("username", f.user_name.as_str()),
        ("password", PASSWORD),
    ];
    let (status, body) = client_post(&server, "/api/v1/oauth2/token", creds(&f.app), &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("temporarily_unavailable"))
    );
}

// ---- helpers ----

pub fn authorize_url(server: &Server, client_id: &str, response_type: &str, state: &str) -> String {
    let _ = server;
    format!(
        "/api/v1/oauth2/authorize?{}",
        form_urlencoded_pairs(&[
            ("response_type", response_type),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("state", state),
        ])
    )
}

fn auth_with_redirect(client_id: &str, redirect: &str) -> String {
    format!(
        "/api/v1/oauth2/authorize?{}",
        form_urlencoded_pairs(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect)
        ])
    )
}

fn form_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse("http://x/").unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    url.query().unwrap().to_owned()
}

/// The audit records about an application, each as `OPERATION TARGET_TYPE ACTOR`, once per
/// event a record counts (sign-in events are summed per interval).
async fn sign_in_audit(server: &Server, admin: &str, application_id: &str) -> Vec<String> {
    let query = format!("/roster/v1/audit?target_id={application_id}&offset=0&limit=100");
    let (status, audit) = server.get(admin, &query).await;
    assert_eq!(status, 200, "{audit}");
    audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            let line = format!(
                "{} {} {}",
                r["operation"].as_str().unwrap(),
                r["target_type"].as_str().unwrap(),
                r["actor"].as_str().unwrap()
            );
            let count = r["count"].as_u64().unwrap_or(1) as usize;
            std::iter::repeat_n(line, count)
        })
        .collect()
}

/// A form POST to a sign-in endpoint with HTTP Basic client authentication: status and body.
pub async fn client_post(
    server: &Server,
    path: &str,
    (client_id, secret): (&str, &str),
    form: &[(&str, &str)],
) -> (u16, Value) {
    let res = server
        .http
        .post(server.url(path))
        .basic_auth(client_id, Some(secret))
        .form(form)
        .send()
        .await
        .unwrap();
    read(res).await
}

/// An application's credentials, for [`client_post`].
pub fn creds(app: &AppCreds) -> (&str, &str) {
    (&app.client_id, &app.client_secret)
}

pub async fn bearer_get(server: &Server, path: &str, token: &str) -> (u16, Value) {
    let res = server
        .http
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    read(res).await
}

async fn refresh_by_hand(server: &Server, app: &AppCreds, token: &str) -> (u16, Value) {
    let form = [("grant_type", "refresh_token"), ("refresh_token", token)];
    client_post(server, "/api/v1/oauth2/token", creds(app), &form).await
}

fn jwt_part(token: &str, index: usize) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(index).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

pub fn jwt_header(token: &str) -> Value {
    jwt_part(token, 0)
}

pub fn jwt_payload(token: &str) -> Value {
    jwt_part(token, 1)
}

type OidcClient = openidconnect::core::CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

pub async fn oidc_client(
    server: &Server,
    f: &Fixture,
    http: &openidconnect::reqwest::Client,
) -> OidcClient {
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(server.base.clone()).unwrap(), http)
            .await
            .unwrap();
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(f.app.client_id.clone()),
        Some(ClientSecret::new(f.app.client_secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.to_owned()).unwrap())
}

/// A new browser in which `f`'s user signed in (through the login page, for `f`'s
/// application): it holds the session.
pub async fn signed_in_browser(server: &Server, f: &Fixture) -> Browser {
    let browser = Browser::new(server);
    let url = authorize_url(server, &f.app.client_id, "code", "s");
    browser.authorize(&url, &f.user_name, PASSWORD).await;
    browser
}

/// `f`'s user signs in through a new browser (the login page) and the application exchanges
/// the code: the browser, holding the session, and the token answer.
pub async fn signed_in_by_code(server: &Server, f: &Fixture) -> (Browser, Value) {
    let browser = Browser::new(server);
    let url = authorize_url(server, &f.app.client_id, "code", "s");
    let hop = browser.authorize(&url, &f.user_name, PASSWORD).await;
    let code = param(hop.location.as_deref().unwrap(), "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let (status, tokens) = client_post(server, "/api/v1/oauth2/token", creds(&f.app), &form).await;
    assert_eq!(status, 200, "{tokens}");
    (browser, tokens)
}

pub async fn sign_in_with_code(
    server: &Server,
    client: &OidcClient,
    f: &Fixture,
    http: &openidconnect::reqwest::Client,
) -> openidconnect::core::CoreTokenResponse {
    let (url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let browser = Browser::new(server);
    let hop = browser
        .authorize(url.as_str(), &f.user_name, PASSWORD)
        .await;
    let code = param(hop.location.as_deref().unwrap(), "code").unwrap();
    client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(http)
        .await
        .unwrap()
}

/// An unknown name costs what a known one does (a password hash is checked either way), so
/// the time of the answer does not tell which names exist. With production Argon2 costs, a
/// name check that skipped hashing would answer about a hundred times faster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_known_names_take_the_same_time() {
    let mut server = Server::start_with(
        Backend::Sqlite,
        Options {
            env: &[
                ("ROSTER_ARGON2_MEMORY_KIB", "19456"),
                ("ROSTER_ARGON2_ITERATIONS", "2"),
            ],
            args: &["--max-failed-sign-ins", "100"],
            ..Default::default()
        },
    )
    .await;
    let f = fixture(&mut server, json!({})).await;
    let browser = Browser::new(&server);
    let page = browser.get("/login").await.body;
    let attempt = |name: String| {
        let browser = &browser;
        let page = &page;
        async move {
            let started = std::time::Instant::now();
            let hop = browser.submit(page, &name, "wrong-password").await;
            assert_eq!(hop.status, 401);
            started.elapsed()
        }
    };
    // The first unknown name makes the decoy hash once; not measured.
    attempt("warm-up-name".to_owned()).await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..5 {
        known.push(attempt(f.user_name.clone()).await);
        unknown.push(attempt(format!("nobody-{i}")).await);
    }
    known.sort();
    unknown.sort();
    let ratio = unknown[2].as_secs_f64() / known[2].as_secs_f64();
    assert!(
        (0.5..2.0).contains(&ratio),
        "median unknown {:?} vs known {:?}",
        unknown[2],
        known[2]
    );
}
