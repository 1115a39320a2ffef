//! The sign-in scenarios: `userinfo` (users' access tokens read back their claims),
//! `sso-code` (a signed-in browser's authorization request, then the application's code
//! exchange with an RS256 id_token) and `cas-ticket` (a signed-in browser's CAS login, then
//! the service's `p3/serviceValidate`) and `saml-sso` (a signed-in browser's SP-initiated
//! SAML request by HTTP-Redirect, answered with a signed Response).

use crate::load::{self, Answer, Call, Step};
use crate::server::{Database, Server};
use crate::{admin_token, report, Args, Scenario};
use anyhow::{bail, Context, Result};
use base64::Engine;
use hyper::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

pub const PASSWORD: &str = "Bench-password-1";
const REDIRECT: &str = "https://app.example.com/cb";
const CAS_SERVICE: &str = "https://portal.example.com/cas";
const SAML_ENTITY: &str = "https://sp.example.com/bench";
const SAML_ACS: &str = "https://sp.example.com/bench/acs";
/// What the page posting a response holds.
const SAML_POSTS: &[u8] = b"name=\"SAMLResponse\"";
/// What a successful CAS validation holds.
const SUCCESS: &[u8] = b"<cas:authenticationSuccess>";

/// An OpenID Connect application and `users` users with passwords and accounts in it.
pub struct Setup {
    pub client_id: String,
    pub client_secret: String,
    pub user_names: Vec<String>,
}

pub async fn setup(addr: &str, token: &str, users: usize) -> Result<Setup> {
    let sso = json!({"protocol": "oidc", "redirect_uris": [REDIRECT],
                     "grants": ["authorization_code", "password"]});
    setup_with(addr, token, users, sso).await
}

/// [`setup`] with the application's sign-in settings `sso`.
async fn setup_with(addr: &str, token: &str, users: usize, sso: Value) -> Result<Setup> {
    let app = json!({
        "name": "bench-sign-in",
        "api_permissions": ["user_read"],
        "sso": sso,
    });
    let (status, created) = load::once(
        addr,
        Some(token),
        Call::json(
            Method::POST,
            "/roster/v1/applications".into(),
            app.to_string(),
        ),
    )
    .await?;
    if status != 201 {
        bail!("application: {status} {created}");
    }
    let field = |name: &str| -> Result<String> {
        created
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("application {name}"))
    };
    let app_id = field("application_id")?;
    let mut user_names = Vec::new();
    for n in 0..users {
        let user_name = format!("signer{n}");
        let body = json!({"user_name": user_name, "mobile": format!("1{n:010}"),
                          "password": PASSWORD, "name": format!("Signer {n}"),
                          "pwd_must_modify": false,
                          "email": format!("signer{n}@example.com")});
        let (status, user) = load::once(
            addr,
            Some(token),
            Call::json(
                Method::POST,
                "/api/v2/tenant/users".into(),
                body.to_string(),
            ),
        )
        .await?;
        if status != 201 {
            bail!("user: {status} {user}");
        }
        let user_id = user
            .get("user_id")
            .and_then(Value::as_str)
            .context("user id")?;
        let path = format!("/api/v2/tenant/users/{user_id}/applications/{app_id}/accounts");
        let (status, account) = load::once(
            addr,
            Some(token),
            Call::json(Method::POST, path, "{}".into()),
        )
        .await?;
        if status != 200 {
            bail!("account: {status} {account}");
        }
        user_names.push(user_name);
    }
    Ok(Setup {
        client_id: field("client_id")?,
        client_secret: field("client_secret")?,
        user_names,
    })
}

fn basic(setup: &Setup) -> String {
    let pair = format!("{}:{}", setup.client_id, setup.client_secret);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// A session cookie for `user_name`, through the login form as a browser gets it.
pub async fn session_cookie(addr: &str, user_name: &str) -> Result<String> {
    let page = load::exchange(addr, None, Call::get("/login".into())).await?;
    let csrf_cookie = page
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .context("the login page's CSRF cookie")?
        .to_owned();
    let csrf = csrf_cookie
        .split_once('=')
        .map(|(_, v)| v.to_owned())
        .context("CSRF token")?;
    let form = format!("user_name={user_name}&password={PASSWORD}&csrf_token={csrf}");
    let mut call = Call::form("/login".into(), form);
    call.cookie = Some(csrf_cookie);
    let signed_in = load::exchange(addr, None, call).await?;
    signed_in
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("roster_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .with_context(|| format!("no session: {}", signed_in.status))
}

pub async fn run(args: &Args) -> Result<()> {
    let db = Database::new(args.database.as_deref())?;
    let server = Server::start(&db).await?;
    let addr = server.addr.clone();
    let token = admin_token(&addr).await?;
    let users = usize::try_from(args.rows.unwrap_or(64))?;
    let setup = match args.scenario {
        Scenario::CasTicket => {
            let sso = json!({"protocol": "cas", "redirect_uris": [CAS_SERVICE],
                             "claims": [{"claim": "email", "source": {"type": "user", "value": "email"}}]});
            setup_with(&addr, &token, users.max(1), sso).await?
        }
        Scenario::SamlSso => {
            let sso = json!({"protocol": "saml", "redirect_uris": [SAML_ACS],
                             "saml": {"entity_id": SAML_ENTITY},
                             "claims": [{"claim": "mail", "source": {"type": "user", "value": "email"}}]});
            setup_with(&addr, &token, users.max(1), sso).await?
        }
        _ => setup(&addr, &token, users.max(1)).await?,
    };
    let basic = basic(&setup);
    let duration = Duration::from_secs(args.duration);
    let rss_start = server.rss_kib();
    let (name, stats) = match args.scenario {
        Scenario::Userinfo => {
            let mut bearers = Vec::new();
            for user_name in &setup.user_names {
                let form = format!("grant_type=password&username={user_name}&password={PASSWORD}");
                let mut call = Call::form("/api/v1/oauth2/token".into(), form);
                call.authorization = Some(basic.clone());
                let answer = load::exchange(&addr, None, call).await?;
                let access = answer
                    .json()
                    .get("access_token")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .with_context(|| format!("password grant: {}", answer.status))?;
                bearers.push(format!("Bearer {access}"));
            }
            let bearers = Arc::new(bearers);
            let factory: load::Factory = Arc::new(move |n| {
                let i = usize::try_from(n).ok()? % bearers.len();
                let mut call = Call::get("/api/v1/oauth2/userinfo".into());
                call.authorization = Some(bearers.get(i)?.clone());
                Some(call)
            });
            let stats = load::run(&addr, None, args.connections, duration, factory).await?;
            ("userinfo", stats)
        }
        Scenario::CasTicket => {
            let first = setup.user_names.first().context("a user")?;
            let cookie = session_cookie(&addr, first).await?;
            let service = "https%3A%2F%2Fportal.example.com%2Fcas";
            let login = format!("/api/v1/cas/login?service={service}");
            let step: Step = Arc::new(move |last: Option<&Answer>| match last {
                None => {
                    let mut call = Call::get(login.clone());
                    call.cookie = Some(cookie.clone());
                    Ok(Some(call))
                }
                Some(answer) if answer.status == 302 => {
                    let location = answer.header("location").unwrap_or_default();
                    let ticket = location
                        .split_once("ticket=")
                        .map(|(_, rest)| rest.split('&').next().unwrap_or_default())
                        .ok_or_else(|| format!("no ticket in {location}"))?;
                    let validate =
                        format!("/api/v1/cas/p3/serviceValidate?service={service}&ticket={ticket}");
                    Ok(Some(Call::get(validate)))
                }
                Some(answer)
                    if answer.status == 200
                        && answer.body.windows(SUCCESS.len()).any(|w| w == SUCCESS) =>
                {
                    Ok(None)
                }
                Some(answer) => Err(format!(
                    "not validated: {} {}",
                    answer.status,
                    String::from_utf8_lossy(&answer.body)
                )),
            });
            let stats = load::run_flows(&addr, args.connections, duration, step).await?;
            ("cas-ticket", stats)
        }
        Scenario::SamlSso => {
            let first = setup.user_names.first().context("a user")?;
            let cookie = session_cookie(&addr, first).await?;
            let now = roster_domain::time::rfc3339(roster_domain::time::now_millis());
            let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
            let step: Step = Arc::new(move |last: Option<&Answer>| match last {
                None => {
                    let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let request = saml_request(&format!("_bench{n}"), &now)
                        .map_err(|e| format!("deflating: {e}"))?;
                    let mut call = Call::get(format!("/api/v1/saml2/idp/sso?{request}"));
                    call.cookie = Some(cookie.clone());
                    Ok(Some(call))
                }
                Some(answer)
                    if answer.status == 200
                        && answer
                            .body
                            .windows(SAML_POSTS.len())
                            .any(|w| w == SAML_POSTS) =>
                {
                    Ok(None)
                }
                Some(answer) => Err(format!(
                    "no response posted: {} {}",
                    answer.status,
                    String::from_utf8_lossy(&answer.body)
                )),
            });
            let stats = load::run_flows(&addr, args.connections, duration, step).await?;
            ("saml-sso", stats)
        }
        _ => {
            let first = setup.user_names.first().context("a user")?;
            let cookie = session_cookie(&addr, first).await?;
            let authorize = format!(
                "/api/v1/oauth2/authorize?response_type=code&client_id={}&state=s",
                setup.client_id
            );
            let step: Step = Arc::new(move |last: Option<&Answer>| match last {
                None => {
                    let mut call = Call::get(authorize.clone());
                    call.cookie = Some(cookie.clone());
                    Ok(Some(call))
                }
                Some(answer) if answer.status == 302 => {
                    let location = answer.header("location").unwrap_or_default();
                    let code = location
                        .split_once("code=")
                        .map(|(_, rest)| rest.split('&').next().unwrap_or_default())
                        .ok_or_else(|| format!("no code in {location}"))?;
                    let form = format!("grant_type=authorization_code&code={code}");
                    let mut call = Call::form("/api/v1/oauth2/token".into(), form);
                    call.authorization = Some(basic.clone());
                    Ok(Some(call))
                }
                Some(answer) if answer.json().get("id_token").is_some_and(Value::is_string) => {
                    Ok(None)
                }
                Some(answer) => Err(format!("no id_token: {}", answer.status)),
            });
            let stats = load::run_flows(&addr, args.connections, duration, step).await?;
            ("sso-code", stats)
        }
    };
    let extra = json!({"rss_start_kib": rss_start, "rss_end_kib": server.rss_kib()});
    report(name, args, db.backend(), users as u64, &stats, extra);
    server.stop().await
}

/// The query of an HTTP-Redirect AuthnRequest with ID `id`, as a service provider sends it.
fn saml_request(id: &str, now: &str) -> std::io::Result<String> {
    use std::io::Write;
    let xml = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
         xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" \
         IssueInstant=\"{now}\" AssertionConsumerServiceURL=\"{SAML_ACS}\">\
         <saml:Issuer>{SAML_ENTITY}</saml:Issuer></samlp:AuthnRequest>"
    );
    let mut deflater = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    deflater.write_all(xml.as_bytes())?;
    let deflated = deflater.finish()?;
    let value = base64::engine::general_purpose::STANDARD.encode(deflated);
    let encoded: String = value
        .chars()
        .map(|c| match c {
            '+' => "%2B".to_owned(),
            '/' => "%2F".to_owned(),
            '=' => "%3D".to_owned(),
            c => c.to_string(),
        })
        .collect();
    Ok(format!("SAMLRequest={encoded}&RelayState=bench"))
}
