//! `GET /api/v1/oauth2/authorize`: the request is checked first, as a pure function of the
//! request and the application it names (`check`, every exit unit-tested below); then, with
//! the browser's session, the signed-in user is admitted and a code or tokens are issued.

use super::issue::{Issue, Spend};
use super::{application_with_sso, requested_scope, scope_or_default};
use crate::sign_in::{actor, candidate, millis, needs_roles, Candidate};
use crate::Service;
use roster_domain::application::{Application, ApplicationId};
use roster_domain::audit::AuditRecord;
use roster_domain::sign_in::{AuthorizationCode, Since, SsoSession};
use roster_domain::sso::{url_admitted, Grant, Protocol, SsoSettings};
use roster_domain::time::Millis;
use roster_domain::user::UserId;
use roster_domain::{secret, Result};
use roster_store::prelude::*;
use roster_store::Appended;
use std::net::IpAddr;

/// Longest `state` and `nonce` carried.
const MAX_STATE_CHARS: usize = 2000;

/// The parameters of an authorization request (RFC 6749 §4.1.1, §4.2.1; OIDC Core §3.1.2.1;
/// RFC 7636 §4.3).
#[derive(Debug, Clone, Default)]
pub struct AuthorizeRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    /// OIDC's `prompt`: `none` asks for no page (an error when nobody is signed in);
    /// `login` asks for the password again.
    pub prompt: Option<String>,
    /// `query` (the code flow's default) or `fragment` (the implicit flow's, and its only).
    pub response_mode: Option<String>,
    /// OIDC's `max_age`: the password must have been typed within this many seconds.
    pub max_age: Option<String>,
    /// Roster's own: the password must have been typed at or after this time (milliseconds
    /// since the epoch). The login page is sent back with it when `prompt=login` or
    /// `max_age` asked for the password again, so that the request then goes on.
    pub auth_after: Option<String>,
}

/// Where an authorization request goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorize {
    /// The client or its redirect URI cannot be trusted: the browser gets an error page and
    /// is sent nowhere (RFC 6749 §4.1.2.1).
    Untrusted(Untrusted),
    /// Nobody is signed in, or the password must be typed again: the login page, then this
    /// request again, carrying `auth_after` when the password is asked for again.
    SignIn { auth_after: Option<Millis> },
    /// Back to the application: the code, the tokens or the error, in `url`.
    Redirect(String),
}

/// Why a client or its redirect URI cannot be trusted (the page says it in the browser's
/// language; `Display` gives the English words programs read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Untrusted {
    NoClientId,
    UnknownClient(String),
    /// The application (by name) has no sign-in settings.
    NoSettings(String),
    UnregisteredRedirect(String),
    NoRedirectRegistered,
}

impl std::fmt::Display for Untrusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoClientId => f.write_str("The client_id parameter names no application."),
            Self::UnknownClient(id) => write!(f, "No application has the client_id {id}."),
            Self::NoSettings(name) => {
                write!(f, "The application {name} has no sign-in settings.")
            }
            // Spring Security OAuth's words, which OneAccess users have seen.
            Self::UnregisteredRedirect(uri) => write!(
                f,
                "Invalid redirect: {uri} does not match one of the registered values."
            ),
            Self::NoRedirectRegistered => f.write_str("No redirect URI is registered."),
        }
    }
}

/// What `response_type` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseType {
    Code,
    /// The implicit flow: an access token, an id_token or both, in the fragment.
    Implicit {
        token: bool,
        id_token: bool,
    },
}

impl ResponseType {
    fn parse(text: &str) -> Option<Self> {
        let mut words: Vec<&str> = text.split(' ').collect();
        words.sort_unstable();
        let implicit = |token, id_token| Some(Self::Implicit { token, id_token });
        match words.as_slice() {
            ["code"] => Some(Self::Code),
            ["token"] => implicit(true, false),
            ["id_token"] => implicit(false, true),
            ["id_token", "token"] => implicit(true, true),
            _ => None,
        }
    }

    fn grant(self) -> Grant {
        match self {
            Self::Code => Grant::AuthorizationCode,
            Self::Implicit { .. } => Grant::Implicit,
        }
    }
}

/// A redirect back to the application, its parameters in the query (code flow) or the
/// fragment (implicit flow, RFC 6749 §4.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reply {
    redirect_uri: String,
    in_fragment: bool,
    state: Option<String>,
}

impl Reply {
    fn with(&self, params: &[(&str, &str)]) -> String {
        let mut url = match url::Url::parse(&self.redirect_uri) {
            Ok(url) => url,
            Err(_) => return self.redirect_uri.clone(),
        };
        let state = self.state.as_deref().map(|s| ("state", s));
        let all = params.iter().copied().chain(state);
        if self.in_fragment {
            let fragment = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(all)
                .finish();
            url.set_fragment(Some(&fragment));
        } else {
            url.query_pairs_mut().extend_pairs(all);
        }
        url.into()
    }

    fn error(&self, error: &str, description: &str) -> Authorize {
        Authorize::Redirect(self.with(&[("error", error), ("error_description", description)]))
    }
}

/// An authorization request that passed every check: what to issue, and where to.
#[derive(Debug)]
struct Checked {
    app: Application,
    settings: SsoSettings,
    reply: Reply,
    response_type: ResponseType,
    scope: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    /// `prompt=none`: no login page; an error when nobody is signed in.
    no_page: bool,
    /// Whether the request named its redirect URI (the exchange must then name it too).
    redirect_uri_sent: bool,
    /// The password must have been typed at or after this time (`prompt=login`, `max_age`).
    auth_after: Option<Millis>,
}

impl Checked {
    /// Nobody signed in: the login page, unless the client asked for no page at all.
    fn sign_in(&self) -> Authorize {
        if self.no_page {
            self.reply
                .error("login_required", "The user is not signed in.")
        } else {
            Authorize::SignIn {
                auth_after: self.auth_after,
            }
        }
    }
}

/// The client id of a request, unless it cannot name an application.
fn client_id(request: &AuthorizeRequest) -> Result<&str, Authorize> {
    match request.client_id.as_deref() {
        Some(id)
            if !id.is_empty() && id.len() <= roster_domain::application::MAX_CLIENT_ID_CHARS =>
        {
            Ok(id)
        }
        _ => Err(Authorize::Untrusted(Untrusted::NoClientId)),
    }
}

/// Checks an authorization request against what its client id found; every refusal is the
/// answer to give: a page for an untrusted client or redirect, else an error sent back.
fn check(
    request: &AuthorizeRequest,
    now: Millis,
    client_id: &str,
    found: Option<(Application, Option<SsoSettings>)>,
) -> Result<Checked, Authorize> {
    let (app, settings) = found
        .ok_or_else(|| Authorize::Untrusted(Untrusted::UnknownClient(client_id.to_owned())))?;
    let settings =
        settings.ok_or_else(|| Authorize::Untrusted(Untrusted::NoSettings(app.name.clone())))?;
    let redirect_uri = registered_redirect(request, &settings)?;
    let response_type = request
        .response_type
        .as_deref()
        .and_then(ResponseType::parse);
    let implicit = matches!(response_type, Some(ResponseType::Implicit { .. }));
    let mut reply = Reply {
        redirect_uri,
        in_fragment: implicit || request.response_mode.as_deref() == Some("fragment"),
        state: request.state.clone(),
    };
    if reply
        .state
        .as_ref()
        .is_some_and(|s| s.len() > MAX_STATE_CHARS)
    {
        reply.state = None;
        return Err(reply.error("invalid_request", "state is too long."));
    }
    let Some(response_type) = response_type else {
        return Err(match request.response_type.as_deref() {
            None | Some("") => reply.error("invalid_request", "response_type is required."),
            Some(_) => reply.error(
                "unsupported_response_type",
                "response_type must be code, token, id_token or id_token token.",
            ),
        });
    };
    response_mode(request, implicit).map_err(|why| reply.error("invalid_request", why))?;
    let grant = response_type.grant();
    if !settings.allows_grant(grant) {
        return Err(reply.error(
            "unauthorized_client",
            &format!("Unauthorized grant type: {}", grant.as_str()),
        ));
    }
    if matches!(response_type, ResponseType::Implicit { id_token: true, .. })
        && settings.protocol != Protocol::Oidc
    {
        return Err(reply.error(
            "unsupported_response_type",
            "id_tokens are issued to OpenID Connect applications only.",
        ));
    }
    let scope = match requested_scope(request.scope.as_deref()) {
        Ok(s) => scope_or_default(s, settings.protocol),
        Err(e) => return Err(reply.error("invalid_scope", e.detail().unwrap_or_default())),
    };
    if request
        .nonce
        .as_ref()
        .is_some_and(|n| n.len() > MAX_STATE_CHARS)
    {
        return Err(reply.error("invalid_request", "nonce is too long."));
    }
    let code_challenge = code_challenge(request, response_type)
        .map_err(|why| reply.error("invalid_request", why))?;
    let no_page = prompts(request, "none");
    let auth_after =
        password_typed_after(request, now).map_err(|why| reply.error("invalid_request", why))?;
    Ok(Checked {
        app,
        settings,
        reply,
        response_type,
        scope,
        nonce: request.nonce.clone(),
        code_challenge,
        no_page,
        redirect_uri_sent: request.redirect_uri.is_some(),
        auth_after,
    })
}

/// Whether `prompt` holds `value`.
fn prompts(request: &AuthorizeRequest, value: &str) -> bool {
    request
        .prompt
        .as_deref()
        .is_some_and(|p| p.split(' ').any(|v| v == value))
}

/// A request's `response_mode`, if it is one Roster answers in; else why not.
fn response_mode(request: &AuthorizeRequest, implicit: bool) -> Result<(), &'static str> {
    match request.response_mode.as_deref() {
        None | Some("fragment") => Ok(()),
        Some("query") if !implicit => Ok(()),
        Some("query") => Err("response_mode=query cannot carry tokens: use fragment."),
        Some(_) => Err("response_mode must be query or fragment."),
    }
}

/// The time the password must have been typed after, when the request asks for it again:
/// back from the login page (`auth_after`: what was asked is known), `prompt=login`, or
/// `max_age`; else why the request is bad.
fn password_typed_after(
    request: &AuthorizeRequest,
    now: Millis,
) -> Result<Option<Millis>, &'static str> {
    if prompts(request, "none") && prompts(request, "login") {
        return Err("prompt=none cannot be combined with another prompt.");
    }
    match (request.auth_after.as_deref(), request.max_age.as_deref()) {
        (Some(after), _) => after
            .parse::<Millis>()
            .map(Some)
            .map_err(|_| "auth_after is not a time."),
        _ if prompts(request, "login") => Ok(Some(now)),
        (None, Some(max_age)) => max_age
            .parse::<u32>()
            .map(|secs| Some(now.saturating_sub(Millis::from(secs) * 1000)))
            .map_err(|_| "max_age is a number of seconds."),
        (None, None) => Ok(None),
    }
}

/// The redirect URI a request names, if registered, or the first registered one; else the
/// page that says so.
fn registered_redirect(
    request: &AuthorizeRequest,
    settings: &SsoSettings,
) -> Result<String, Authorize> {
    match request.redirect_uri.as_deref() {
        Some(uri) if url_admitted(&settings.redirect_uris, uri) => Ok(uri.to_owned()),
        Some(uri) => Err(Authorize::Untrusted(Untrusted::UnregisteredRedirect(
            uri.to_owned(),
        ))),
        None => settings
            .redirect_uris
            .first()
            .cloned()
            .ok_or(Authorize::Untrusted(Untrusted::NoRedirectRegistered)),
    }
}

/// The PKCE challenge of a request (RFC 7636 §4.3), if it has one; else why it is refused.
fn code_challenge(
    request: &AuthorizeRequest,
    response_type: ResponseType,
) -> Result<Option<String>, &'static str> {
    let challenge = match (&request.code_challenge, &request.code_challenge_method) {
        (None, None) => return Ok(None),
        (Some(c), Some(m)) if m == "S256" && well_formed_challenge(c) => c.clone(),
        (Some(_), Some(m)) if m == "S256" => {
            return Err("code_challenge must be 43 base64url characters (RFC 7636).")
        }
        _ => {
            return Err(
                "PKCE needs code_challenge with code_challenge_method S256 (plain is \
                        not accepted).",
            )
        }
    };
    if response_type != ResponseType::Code {
        return Err("PKCE applies to the authorization code flow only.");
    }
    Ok(Some(challenge))
}

/// A PKCE code challenge (RFC 7636 §4.2): 43 base64url characters, a SHA-256 digest.
fn well_formed_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Service {
    /// `GET /api/v1/oauth2/authorize`, given the browser's session (if any).
    pub async fn authorize(
        &self,
        request: AuthorizeRequest,
        session_cookie: Option<&str>,
        source: IpAddr,
        issuer: &str,
    ) -> Result<Authorize> {
        let client_id = match client_id(&request) {
            Ok(id) => id.to_owned(),
            Err(answer) => return Ok(answer),
        };
        let found = self.read(application_with_sso, client_id.clone()).await?;
        let checked = match check(&request, self.now(), &client_id, found) {
            Ok(checked) => checked,
            Err(answer) => return Ok(answer),
        };
        let Some(digest) = session_cookie.and_then(crate::sign_in::session_digest) else {
            return Ok(checked.sign_in());
        };
        // The session and, if it is one, who may sign in: read at once. Only the implicit
        // flow's tokens carry claims now; a code's are read at its exchange.
        let with_roles =
            checked.response_type != ResponseType::Code && needs_roles(&checked.settings);
        let admitted_at = self.now();
        let (found, candidate) = self
            .read(
                session_and_candidate,
                (digest, checked.app.id.clone(), with_roles),
            )
            .await?;
        let (Some(session), Some(candidate)) = (self.live_session(found).await?, candidate) else {
            return Ok(checked.sign_in());
        };
        if checked.auth_after.is_some_and(|t| session.auth_time < t) {
            // Signed in, but not recently enough for this request: the password again.
            return Ok(checked.sign_in());
        }
        if session.second_factor_at.is_none()
            && self.second_factor_applies(Some(&client_id)).await?
        {
            // Signed in with the password alone, and this application asks for a code too.
            return Ok(checked.sign_in());
        }
        // Each request writes a code: a session repeating them is held to the sign-in rate.
        if self
            .sign_in_state()
            .limits
            .check_session(&session.digest)
            .is_err()
        {
            return Ok(checked.reply.error(
                "temporarily_unavailable",
                "Too many authorization requests from this session; try again in a moment.",
            ));
        }
        let now = self.now();
        let since = Since::signed_in(session.auth_time);
        let principal = match candidate.admit(&checked.app, now, since) {
            Ok(principal) => principal,
            Err(why) => {
                self.audit_refused_sign_in(&session.user_id, &checked.app, source)
                    .await?;
                return Ok(checked.reply.error("access_denied", why));
            }
        };
        let record = signed_in(now, &session.user_id, &checked.app.id, source);
        match checked.response_type {
            ResponseType::Code => self.issue_code(checked, &session, record).await,
            ResponseType::Implicit { token, id_token } => {
                let issue = Issue {
                    principal,
                    scope: checked.scope.clone(),
                    auth_time: session.auth_time,
                    admitted_at,
                    nonce: checked.nonce.clone(),
                    grant_id: secret::generate(),
                    access_token: token,
                    refresh_token: false,
                    id_token,
                    issuer: issuer.to_owned(),
                    sid: Some(session.sid()),
                };
                self.issue_implicit(checked, issue, record).await
            }
        }
    }

    /// The code flow: a code for the signed-in user, back to the application.
    async fn issue_code(
        &self,
        checked: Checked,
        session: &SsoSession,
        record: AuditRecord,
    ) -> Result<Authorize> {
        let now = self.now();
        let code = secret::generate();
        let row = AuthorizationCode {
            digest: secret::digest(&code),
            application_id: checked.app.id.clone(),
            user_id: session.user_id.clone(),
            // None when the request named none: the exchange need not name one either.
            redirect_uri: checked
                .redirect_uri_sent
                .then(|| checked.reply.redirect_uri.clone()),
            scope: checked.scope,
            nonce: checked.nonce,
            code_challenge: checked.code_challenge,
            auth_time: session.auth_time,
            expires_at: now.saturating_add(millis(self.sign_in_settings().code_ttl)),
            used_at: None,
            sid: Some(session.sid()),
        };
        // Nothing to read or check: the row joins the next group commit; the sign-in is
        // summed with the session's others of this interval.
        self.store().append(vec![Appended::SsoCode(row)]).await?;
        self.sign_in_state().events.count(record);
        super::signed_in_to_application();
        Ok(Authorize::Redirect(checked.reply.with(&[("code", &code)])))
    }

    /// The implicit flow: the tokens themselves, in the fragment.
    async fn issue_implicit(
        &self,
        checked: Checked,
        issue: Issue,
        record: AuditRecord,
    ) -> Result<Authorize> {
        let issued = self
            .issue_user_tokens(
                &checked.app,
                &checked.settings,
                issue,
                Spend::Nothing,
                Some(record),
            )
            .await?;
        let expires_in = issued.expires_in.to_string();
        let mut params: Vec<(&str, &str)> = Vec::new();
        if let Some(access) = &issued.access_token {
            params.extend([
                ("access_token", access.as_str()),
                ("token_type", "Bearer"),
                ("expires_in", expires_in.as_str()),
            ]);
        }
        if let Some(id) = &issued.id_token {
            params.push(("id_token", id.as_str()));
        }
        params.push(("scope", issued.scope.as_str()));
        Ok(Authorize::Redirect(checked.reply.with(&params)))
    }
}

/// The audit record of `user` signing in to an application.
pub(super) fn signed_in(
    at: roster_domain::time::Millis,
    user: &UserId,
    application_id: &ApplicationId,
    source: IpAddr,
) -> AuditRecord {
    AuditRecord {
        at,
        actor: actor(Some(user), source),
        operation: "SignIn",
        target_type: "application",
        target_id: application_id.as_str().to_owned(),
        count: 1,
    }
}

async fn session_and_candidate(
    tx: &mut dyn Tx,
    (digest, app_id, with_roles): (String, ApplicationId, bool),
) -> Result<(Option<SsoSession>, Option<Candidate>)> {
    let Some(session) = tx.session(&digest).await? else {
        return Ok((None, None));
    };
    let found = candidate(tx, &app_id, &session.user_id, with_roles).await?;
    Ok((Some(session), Some(found)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_domain::permission::Permissions;
    use roster_domain::sso::SsoFields;

    const CALLBACK: &str = "https://app.example.com/cb";
    const NOW: Millis = 1_700_000_000_000;

    fn app() -> Application {
        Application {
            id: ApplicationId::new("app-1".to_owned()),
            name: "Wiki".into(),
            client_id: "wiki".into(),
            secret_digest: String::new(),
            permissions: Permissions::new(vec![]),
            disabled: false,
            token_generation: 0,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn settings(protocol: Protocol, grants: &[Grant]) -> SsoSettings {
        SsoFields {
            protocol: Some(protocol),
            redirect_uris: Some(vec![CALLBACK.into()]),
            grants: Some(grants.to_vec()),
            ..Default::default()
        }
        .into_settings()
        .unwrap()
    }

    /// What a client id found: the application and its sign-in settings.
    type Found = Option<(Application, Option<SsoSettings>)>;

    fn oidc() -> Found {
        Some((
            app(),
            Some(settings(
                Protocol::Oidc,
                &[Grant::AuthorizationCode, Grant::Implicit],
            )),
        ))
    }

    fn request(pairs: &[(&str, &str)]) -> AuthorizeRequest {
        let mut r = AuthorizeRequest {
            response_type: Some("code".into()),
            client_id: Some("wiki".into()),
            ..Default::default()
        };
        for (k, v) in pairs {
            let v = Some((*v).to_owned());
            match *k {
                "response_type" => r.response_type = v,
                "client_id" => r.client_id = v,
                "redirect_uri" => r.redirect_uri = v,
                "scope" => r.scope = v,
                "state" => r.state = v,
                "nonce" => r.nonce = v,
                "code_challenge" => r.code_challenge = v,
                "code_challenge_method" => r.code_challenge_method = v,
                "prompt" => r.prompt = v,
                "response_mode" => r.response_mode = v,
                "max_age" => r.max_age = v,
                "auth_after" => r.auth_after = v,
                "no response_type" => r.response_type = None,
                other => panic!("unknown parameter {other}"),
            }
        }
        r
    }

    /// The error a refused request is sent back with, or the page's words.
    /// One case: the request's parameters, what its client id found, the expected answer.
    type Case<'a> = (&'a [(&'a str, &'a str)], Found, &'a str);

    fn refusal(pairs: &[(&str, &str)], found: Found) -> String {
        match check(&request(pairs), NOW, "wiki", found) {
            Ok(_) => "accepted".into(),
            Err(Authorize::Untrusted(why)) => format!("page: {why}"),
            Err(Authorize::Redirect(url)) => {
                let url = url::Url::parse(&url).unwrap();
                let pairs: std::collections::HashMap<_, _> = match url.fragment() {
                    Some(f) => form_urlencoded::parse(f.as_bytes()).into_owned().collect(),
                    None => url.query_pairs().into_owned().collect(),
                };
                pairs["error"].clone()
            }
            Err(Authorize::SignIn { .. }) => "sign in".into(),
        }
    }

    #[test]
    fn a_client_id_that_cannot_name_an_application_gets_a_page() {
        for id in [None, Some(String::new()), Some("x".repeat(129))] {
            let r = AuthorizeRequest {
                client_id: id,
                ..Default::default()
            };
            assert!(matches!(client_id(&r), Err(Authorize::Untrusted(_))));
        }
        assert_eq!(client_id(&request(&[])).ok(), Some("wiki"));
    }

    #[test]
    fn every_exit_of_the_check() {
        let code_only = Some((
            app(),
            Some(settings(Protocol::Oauth2, &[Grant::AuthorizationCode])),
        ));
        let no_redirects = {
            let mut s = settings(Protocol::Oidc, &[Grant::AuthorizationCode]);
            s.redirect_uris.clear();
            Some((app(), Some(s)))
        };
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let long = "x".repeat(MAX_STATE_CHARS + 1);
        let cases: &[Case] = &[
            (&[], None, "page: No application has the client_id wiki."),
            (&[], Some((app(), None)), "page: The application Wiki has no sign-in settings."),
            (
                &[("redirect_uri", "https://evil.example.com/cb")],
                oidc(),
                "page: Invalid redirect: https://evil.example.com/cb does not match one of the registered values.",
            ),
            (&[], no_redirects, "page: No redirect URI is registered."),
            (&[("state", &long)], oidc(), "invalid_request"),
            (&[("response_type", "code token")], oidc(), "unsupported_response_type"),
            (&[("no response_type", "")], oidc(), "invalid_request"),
            (&[("response_type", "")], oidc(), "invalid_request"),
            (&[("response_mode", "form_post")], oidc(), "invalid_request"),
            (&[("response_type", "token"), ("response_mode", "query")], oidc(), "invalid_request"),
            (&[("max_age", "soon")], oidc(), "invalid_request"),
            (&[("auth_after", "then")], oidc(), "invalid_request"),
            (&[("prompt", "none login")], oidc(), "invalid_request"),
            (&[("response_type", "token")], code_only.clone(), "unauthorized_client"),
            (&[("response_type", "id_token")], code_only, "unauthorized_client"),
            (&[("scope", "a\"b")], oidc(), "invalid_scope"),
            (&[("nonce", &long)], oidc(), "invalid_request"),
            (&[("code_challenge", "short"), ("code_challenge_method", "S256")], oidc(), "invalid_request"),
            (&[("code_challenge", challenge), ("code_challenge_method", "plain")], oidc(), "invalid_request"),
            (&[("code_challenge", challenge)], oidc(), "invalid_request"),
            (
                &[("response_type", "token"), ("code_challenge", challenge), ("code_challenge_method", "S256")],
                oidc(),
                "invalid_request",
            ),
            (&[], oidc(), "accepted"),
            (&[("response_mode", "fragment")], oidc(), "accepted"),
            (&[("response_mode", "query")], oidc(), "accepted"),
            (&[("response_type", "id_token token"), ("nonce", "n")], oidc(), "accepted"),
            (&[("code_challenge", challenge), ("code_challenge_method", "S256")], oidc(), "accepted"),
        ];
        for (pairs, found, expected) in cases {
            assert_eq!(refusal(pairs, found.clone()), *expected, "{pairs:?}");
        }
    }

    #[test]
    fn id_tokens_go_to_openid_connect_applications_only() {
        // Settings offer the implicit grant to OpenID Connect only; the check holds anyway.
        let mut settings = settings(Protocol::Oidc, &[Grant::Implicit]);
        settings.protocol = Protocol::Oauth2;
        let oauth2 = Some((app(), Some(settings)));
        assert_eq!(
            refusal(&[("response_type", "id_token")], oauth2.clone()),
            "unsupported_response_type"
        );
        assert_eq!(refusal(&[("response_type", "token")], oauth2), "accepted");
    }

    #[test]
    fn an_accepted_request_has_its_defaults() {
        let checked = check(&request(&[("state", "s")]), NOW, "wiki", oidc()).unwrap();
        assert_eq!(checked.reply.redirect_uri, CALLBACK);
        assert!(!checked.redirect_uri_sent);
        assert_eq!(checked.scope, "openid");
        assert!(!checked.reply.in_fragment);
        assert_eq!(checked.sign_in(), Authorize::SignIn { auth_after: None });
        let checked = check(
            &request(&[
                ("response_type", "token"),
                ("prompt", "none"),
                ("scope", " a  b "),
            ]),
            NOW,
            "wiki",
            oidc(),
        )
        .unwrap();
        assert!(checked.reply.in_fragment);
        assert_eq!(checked.scope, "a b");
        assert!(
            matches!(checked.sign_in(), Authorize::Redirect(url) if url.contains("error=login_required"))
        );
    }

    #[test]
    fn the_password_is_asked_again_for_prompt_login_and_max_age() {
        let after = |pairs: &[(&str, &str)]| {
            check(&request(pairs), NOW, "wiki", oidc())
                .unwrap()
                .auth_after
        };
        assert_eq!(after(&[]), None);
        assert_eq!(after(&[("prompt", "login")]), Some(NOW));
        assert_eq!(after(&[("max_age", "60")]), Some(NOW - 60_000));
        // Back from the login page, what it was sent with holds, whatever else is asked.
        let back = [("prompt", "login"), ("max_age", "0"), ("auth_after", "5")];
        assert_eq!(after(&back), Some(5));
        let fragment = check(
            &request(&[("response_mode", "fragment")]),
            NOW,
            "wiki",
            oidc(),
        );
        assert!(fragment.unwrap().reply.in_fragment);
        let named = check(&request(&[("redirect_uri", CALLBACK)]), NOW, "wiki", oidc());
        assert!(named.unwrap().redirect_uri_sent);
    }

    #[test]
    fn response_types_are_read_in_any_order() {
        assert_eq!(ResponseType::parse("code"), Some(ResponseType::Code));
        assert_eq!(
            ResponseType::parse("token id_token"),
            Some(ResponseType::Implicit {
                token: true,
                id_token: true
            })
        );
        assert_eq!(ResponseType::parse("code id_token"), None);
        assert_eq!(ResponseType::parse(""), None);
    }

    #[test]
    fn replies_carry_state_in_the_query_or_the_fragment() {
        let reply = Reply {
            redirect_uri: "https://app.example.com/cb?x=1".into(),
            in_fragment: false,
            state: Some("a b".into()),
        };
        assert_eq!(
            reply.with(&[("code", "c")]),
            "https://app.example.com/cb?x=1&code=c&state=a+b"
        );
        let reply = Reply {
            in_fragment: true,
            ..reply
        };
        assert_eq!(
            reply.with(&[("id_token", "t")]),
            "https://app.example.com/cb?x=1#id_token=t&state=a+b"
        );
    }
}
