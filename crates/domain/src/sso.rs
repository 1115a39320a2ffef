//! An application's sign-in settings: how its users sign in to it through Roster (OAuth 2.0
//! or OpenID Connect), where Roster may send them back, which grants it may use, how long its
//! tokens live and which claims it receives. The defaults are the reference's: authorization
//! code on, implicit, password and client credentials off, access tokens for 7,200 s, no
//! refresh tokens until a lifetime is set, id_tokens signed with RS256.

pub use crate::claims::{
    claim_values, ClaimMapping, ClaimSource, Principal, ACCOUNT_ATTRIBUTES, USER_ATTRIBUTES,
};
use crate::validate::registered_url;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use url::Url;

/// An access token issued at the sign-in token endpoint, stored by digest only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoAccessToken {
    pub digest: String,
    pub application_id: crate::application::ApplicationId,
    /// The user it was issued for; none for the client credentials grant.
    pub user_id: Option<crate::user::UserId>,
    pub scope: String,
    pub expires_at: crate::time::Millis,
    pub created_at: crate::time::Millis,
    /// The application's token generation at issue.
    pub generation: i64,
    /// The grant (authorization code or password sign-in) it came from, so that a reused
    /// code or refresh token ends everything the grant issued.
    pub grant_id: Option<String>,
}

/// Most redirect URIs (and, separately, logout URLs) an application may register.
pub const MAX_URLS: usize = 20;
pub use crate::validate::MAX_URL_CHARS;
/// Most attribute mappings of one application.
pub const MAX_CLAIMS: usize = 50;
/// Access tokens live between a minute and a day.
pub const ACCESS_TOKEN_TTL_SECS: std::ops::RangeInclusive<u32> = 60..=86_400;
/// Refresh tokens live between a minute and a year.
pub const REFRESH_TOKEN_TTL_SECS: std::ops::RangeInclusive<u32> = 60..=31_536_000;
/// The reference's default access-token lifetime.
pub const DEFAULT_ACCESS_TOKEN_TTL_SECS: u32 = 7200;

/// Claims Roster sets itself; a mapping may not name them.
const RESERVED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "auth_time",
    "nonce",
    "at_hash",
    "azp",
    "id",
    "userName",
    // CAS 3.0's own attributes.
    "authenticationDate",
    "longTermAuthenticationRequestTokenUsed",
    "isFromNewLogin",
];

/// The protocol the application signs users in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// OAuth 2.0: access tokens and userinfo (scope `get_user_info`).
    Oauth2,
    /// OpenID Connect: OAuth 2.0 plus signed id_tokens (scope `openid`).
    Oidc,
    /// CAS 1.0 / 2.0 / 3.0 (`/api/v1/cas/*`): service tickets; the redirect URIs are the
    /// service URLs; no OAuth grants.
    Cas,
    /// SAML 2.0 (`/api/v1/saml2/idp/*`): signed assertions; the redirect URIs are the
    /// Assertion Consumer Service URLs (the first the default); no OAuth grants; the
    /// settings' `saml` holds the rest.
    Saml,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oauth2 => "oauth2",
            Self::Oidc => "oidc",
            Self::Cas => "cas",
            Self::Saml => "saml",
        }
    }
}

/// The OAuth 2.0 grants an application may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    AuthorizationCode,
    Implicit,
    Password,
    ClientCredentials,
}

impl Grant {
    pub const ALL: [Grant; 4] = [
        Grant::AuthorizationCode,
        Grant::Implicit,
        Grant::Password,
        Grant::ClientCredentials,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Grant::AuthorizationCode => "authorization_code",
            Grant::Implicit => "implicit",
            Grant::Password => "password",
            Grant::ClientCredentials => "client_credentials",
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        Grant::ALL
            .into_iter()
            .find(|g| g.as_str() == text)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "grant '{text}' is none of authorization_code, implicit, password, \
                     client_credentials."
                ))
            })
    }
}

/// How id_tokens are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IdTokenAlg {
    #[default]
    RS256,
    RS384,
    RS512,
}

/// An application's sign-in settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SsoSettings {
    pub protocol: Protocol,
    /// Where users may be sent back after signing in: a full URL, matched exactly, or an
    /// origin (`https://app.example.com`), which admits any path on that scheme, host and port.
    pub redirect_uris: Vec<String>,
    /// Where `GET /api/v1/logout` may send users afterwards (matched as redirect URIs are).
    pub logout_urls: Vec<String>,
    /// The grants the application may use.
    pub grants: Vec<Grant>,
    /// Access-token lifetime, seconds.
    pub access_token_ttl_secs: u32,
    /// Refresh-token lifetime, seconds; none: no refresh tokens are issued.
    pub refresh_token_ttl_secs: Option<u32>,
    pub id_token_alg: IdTokenAlg,
    /// Claims added to userinfo and the id_token.
    pub claims: Vec<ClaimMapping>,
    /// OpenID Connect Back-Channel Logout 1.0: where a `logout_token` is posted when a
    /// session the application was signed in to ends (OIDC applications only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// SAML applications: the service provider and what its assertions carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saml: Option<crate::saml::SamlSettings>,
    /// OAuth 2.0 / OIDC applications: where the portal's tile sends a user to begin signing in
    /// (OpenID Connect Core §4, third-party-initiated login: sent `iss`). Unset: the tile opens
    /// the first redirect URI's site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiate_login_uri: Option<String>,
}

/// Body of `PUT /roster/v1/applications/{id}/sso`: absent fields take the defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SsoFields {
    pub protocol: Option<Protocol>,
    pub redirect_uris: Option<Vec<String>>,
    pub logout_urls: Option<Vec<String>>,
    /// Default: `["authorization_code"]`.
    pub grants: Option<Vec<Grant>>,
    /// Default: 7200.
    pub access_token_ttl_secs: Option<u32>,
    pub refresh_token_ttl_secs: Option<u32>,
    /// Default: RS256.
    pub id_token_alg: Option<IdTokenAlg>,
    pub claims: Option<Vec<ClaimMapping>>,
    /// OpenID Connect applications: where a back-channel `logout_token` is posted.
    pub backchannel_logout_uri: Option<String>,
    /// SAML applications (`"protocol": "saml"`): the service provider's settings.
    pub saml: Option<crate::saml::SamlSettings>,
    /// OAuth 2.0 / OIDC applications: where the portal starts a sign-in (third-party-initiated
    /// login).
    pub initiate_login_uri: Option<String>,
}

impl SsoFields {
    /// The settings these fields describe, checked.
    pub fn into_settings(self) -> Result<SsoSettings> {
        let protocol = self
            .protocol
            .ok_or_else(|| Error::invalid("protocol is required: oauth2, oidc, cas or saml."))?;
        let default_grants = match protocol {
            Protocol::Cas | Protocol::Saml => vec![],
            Protocol::Oauth2 | Protocol::Oidc => vec![Grant::AuthorizationCode],
        };
        let mut grants = self.grants.unwrap_or(default_grants);
        grants.sort();
        grants.dedup();
        let settings = SsoSettings {
            protocol,
            redirect_uris: self.redirect_uris.unwrap_or_default(),
            logout_urls: self.logout_urls.unwrap_or_default(),
            grants,
            access_token_ttl_secs: self
                .access_token_ttl_secs
                .unwrap_or(DEFAULT_ACCESS_TOKEN_TTL_SECS),
            refresh_token_ttl_secs: self.refresh_token_ttl_secs,
            id_token_alg: self.id_token_alg.unwrap_or_default(),
            claims: self.claims.unwrap_or_default(),
            backchannel_logout_uri: self.backchannel_logout_uri.filter(|u| !u.is_empty()),
            saml: self.saml,
            initiate_login_uri: self.initiate_login_uri.filter(|u| !u.is_empty()),
        };
        settings.validate()?;
        Ok(settings)
    }
}

/// Whether a registered entry is an origin only (no path beyond `/`, no query).
fn is_origin(url: &Url) -> bool {
    url.path() == "/" && url.query().is_none()
}

/// Whether `candidate` is admitted by the registered `entries`: equal to a full URL entry or
/// to its origin alone, or on the scheme, host and port of an origin entry (the reference's
/// "the registered URL or its domain"). Subdomains are not admitted: `https://example.com`
/// does not admit `https://evil.example.com`.
pub fn url_admitted(entries: &[String], candidate: &str) -> bool {
    admitted_url(entries, candidate).is_some()
}

/// [`url_admitted`]'s check, giving the URL as it was read: what to send a browser to is
/// this URL written out again, never the text as it came (which a browser and a program may
/// read differently, e.g. `http://a\@b/`).
pub fn admitted_url(entries: &[String], candidate: &str) -> Option<Url> {
    let candidate = Url::parse(candidate).ok()?;
    if candidate.fragment().is_some()
        || !candidate.username().is_empty()
        || candidate.password().is_some()
    {
        return None;
    }
    entries
        .iter()
        .filter_map(|e| Url::parse(e).ok())
        .any(|entry| {
            if is_origin(&entry) || is_origin(&candidate) {
                entry.origin() == candidate.origin()
            } else {
                entry == candidate
            }
        })
        .then_some(candidate)
}

impl SsoSettings {
    /// Checks every field (the fields' own rules and the sizes of lists).
    pub fn validate(&self) -> Result<()> {
        if self.redirect_uris.is_empty() {
            return Err(Error::invalid(
                "redirect_uris: register at least one URL users may be sent back to.",
            ));
        }
        for (field, list) in [
            ("redirect_uris", &self.redirect_uris),
            ("logout_urls", &self.logout_urls),
        ] {
            if list.len() > MAX_URLS {
                return Err(Error::invalid(format!("{field}: at most {MAX_URLS} URLs.")));
            }
            for text in list {
                registered_url(field, text)?;
            }
        }
        if let Some(uri) = &self.initiate_login_uri {
            if !matches!(self.protocol, Protocol::Oauth2 | Protocol::Oidc) {
                return Err(Error::invalid(
                    "initiate_login_uri: OAuth 2.0 and OpenID Connect applications only (the \
                     portal starts a CAS sign-in at the service URL and a SAML one itself).",
                ));
            }
            registered_url("initiate_login_uri", uri)?;
        }
        if let Some(uri) = &self.backchannel_logout_uri {
            if self.protocol != Protocol::Oidc {
                return Err(Error::invalid(
                    "backchannel_logout_uri: OpenID Connect applications only (a CAS service \
                     is sent its logoutRequest at its service URL).",
                ));
            }
            registered_url("backchannel_logout_uri", uri)?;
        }
        match (&self.saml, self.protocol) {
            (None, Protocol::Saml) => {
                return Err(Error::invalid(
                    "saml: a SAML application needs its service provider's settings \
                     (at least saml.entity_id).",
                ))
            }
            (Some(saml), Protocol::Saml) => saml.validate()?,
            (Some(_), _) => {
                return Err(Error::invalid(
                    "saml: only for applications with \"protocol\": \"saml\".",
                ))
            }
            (None, _) => {}
        }
        match (self.protocol, self.grants.is_empty()) {
            (Protocol::Cas, false) => {
                return Err(Error::invalid(
                    "grants: a CAS application uses service tickets, no OAuth grants.",
                ))
            }
            (Protocol::Saml, false) => {
                return Err(Error::invalid(
                    "grants: a SAML application uses assertions, no OAuth grants.",
                ))
            }
            (Protocol::Oauth2 | Protocol::Oidc, true) => {
                return Err(Error::invalid("grants: turn on at least one grant."))
            }
            _ => {}
        }
        if self.grants.contains(&Grant::Implicit) && self.protocol != Protocol::Oidc {
            return Err(Error::invalid(
                "grants: the implicit grant is offered to OpenID Connect applications only.",
            ));
        }
        if !ACCESS_TOKEN_TTL_SECS.contains(&self.access_token_ttl_secs) {
            return Err(Error::invalid(
                "access_token_ttl_secs is from 60 to 86400 seconds.",
            ));
        }
        if let Some(ttl) = self.refresh_token_ttl_secs {
            if !REFRESH_TOKEN_TTL_SECS.contains(&ttl) {
                return Err(Error::invalid(
                    "refresh_token_ttl_secs is from 60 to 31536000 seconds.",
                ));
            }
        }
        if self.claims.len() > MAX_CLAIMS {
            return Err(Error::invalid(format!(
                "claims: at most {MAX_CLAIMS} mappings."
            )));
        }
        let mut names = std::collections::HashSet::new();
        for mapping in &self.claims {
            let name = mapping.claim.as_str();
            // A SAML attribute's name is often a URI (`urn:oid:…`, `http://…/claims/email`).
            let well_formed = if self.protocol == Protocol::Saml {
                !name.is_empty() && name.len() <= 256 && name.chars().all(|c| c.is_ascii_graphic())
            } else {
                !name.is_empty()
                    && name.len() <= 64
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
            };
            if let Some(friendly) = &mapping.friendly_name {
                if self.protocol != Protocol::Saml || friendly.chars().count() > 256 {
                    return Err(Error::invalid(format!(
                        "claims: '{name}': friendly_name is for SAML applications, up to 256 \
                         characters."
                    )));
                }
            }
            if mapping.name_format.is_some() && self.protocol != Protocol::Saml {
                return Err(Error::invalid(format!(
                    "claims: '{name}': name_format is for SAML applications."
                )));
            }
            if !well_formed {
                return Err(Error::invalid(format!(
                    "claims: '{name}' is no claim name (1 to 64 letters, digits, _ - . :)."
                )));
            }
            if RESERVED_CLAIMS.contains(&name) {
                return Err(Error::invalid(format!(
                    "claims: Roster sets '{name}' itself."
                )));
            }
            if !names.insert(name) {
                return Err(Error::invalid(format!("claims: '{name}' is mapped twice.")));
            }
            mapping.source.validate()?;
        }
        Ok(())
    }

    pub fn allows_grant(&self, grant: Grant) -> bool {
        self.grants.contains(&grant)
    }

    /// Whether users may be sent back to `uri` after signing in.
    pub fn allows_redirect(&self, uri: &str) -> bool {
        url_admitted(&self.redirect_uris, uri)
    }

    /// Whether users may be sent to `url` after logging out.
    pub fn allows_logout_url(&self, url: &str) -> bool {
        url_admitted(&self.logout_urls, url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(redirects: &[&str]) -> SsoFields {
        SsoFields {
            protocol: Some(Protocol::Oidc),
            redirect_uris: Some(redirects.iter().map(|s| (*s).to_owned()).collect()),
            ..SsoFields::default()
        }
    }

    #[test]
    fn defaults_are_the_references() {
        let s = fields(&["https://app.example.com/cb"])
            .into_settings()
            .unwrap();
        assert_eq!(s.grants, vec![Grant::AuthorizationCode]);
        assert_eq!(s.access_token_ttl_secs, 7200);
        assert_eq!(s.refresh_token_ttl_secs, None);
        assert_eq!(s.id_token_alg, IdTokenAlg::RS256);
    }

    #[test]
    fn a_full_url_matches_exactly_and_an_origin_any_path_on_it() {
        let entries = vec![
            "https://app.example.com/callback".to_owned(),
            "https://other.example.com".to_owned(),
        ];
        assert!(url_admitted(&entries, "https://app.example.com/callback"));
        assert!(!url_admitted(
            &entries,
            "https://app.example.com/callback/x"
        ));
        assert!(!url_admitted(&entries, "https://app.example.com/callbackx"));
        // A full URL's origin alone ("or its domain"), and no other path on it.
        assert!(url_admitted(&entries, "https://app.example.com/"));
        assert!(url_admitted(&entries, "https://app.example.com"));
        assert!(!url_admitted(&entries, "https://app.example.com/?x=1"));
        assert!(!url_admitted(&entries, "https://app.example.com/other"));
        assert!(url_admitted(
            &entries,
            "https://other.example.com/any/path?x=1"
        ));
        assert!(url_admitted(&entries, "https://other.example.com"));
        // Not another scheme, port or host, not a subdomain, no smuggled user information.
        assert!(!url_admitted(&entries, "http://other.example.com/"));
        assert!(!url_admitted(&entries, "https://other.example.com:8443/"));
        assert!(!url_admitted(&entries, "https://evil.other.example.com/"));
        assert!(!url_admitted(
            &entries,
            "https://other.example.com.evil.io/"
        ));
        assert!(!url_admitted(
            &entries,
            "https://other.example.com@evil.io/"
        ));
        assert!(!url_admitted(
            &entries,
            "https://app.example.com/callback#frag"
        ));
        assert!(!url_admitted(&entries, "https://:pw@other.example.com/"));
        assert!(!url_admitted(&entries, "//other.example.com/"));
        assert!(!url_admitted(&entries, "javascript:alert(1)"));
        // What is sent on is the URL as read, written out again.
        let sent = admitted_url(&entries, "https://other.example.com\\@evil.io/").map(String::from);
        assert_eq!(sent.as_deref(), Some("https://other.example.com/@evil.io/"));
    }

    #[test]
    fn registered_urls_must_be_absolute_http_without_fragment() {
        for bad in [
            "/relative",
            "javascript:alert(1)",
            "https://a.example.com/cb#x",
            "https://user:pw@a.example.com/",
            "ftp://a.example.com/",
            "",
        ] {
            assert!(fields(&[bad]).into_settings().is_err(), "{bad}");
        }
        assert!(
            fields(&[]).into_settings().is_err(),
            "at least one redirect URI"
        );
        assert!(fields(&["http://localhost:8080/cb"])
            .into_settings()
            .is_ok());
    }

    #[test]
    fn claims_are_named_once_from_known_sources() {
        let with = |claims: Vec<ClaimMapping>| {
            let mut f = fields(&["https://a.example.com/"]);
            f.claims = Some(claims);
            f.into_settings()
        };
        let claim = |name: &str, source: ClaimSource| ClaimMapping {
            claim: name.to_owned(),
            source,
            friendly_name: None,
            name_format: None,
        };
        assert!(with(vec![
            claim("department", ClaimSource::User("extension.dept".into())),
            claim("login", ClaimSource::Account("account_name".into())),
            claim("roles", ClaimSource::Roles),
            claim("tenant", ClaimSource::Constant("acme".into())),
        ])
        .is_ok());
        assert!(with(vec![claim("sub", ClaimSource::Roles)]).is_err());
        assert!(with(vec![claim("x", ClaimSource::User("password_hash".into()))]).is_err());
        assert!(with(vec![
            claim("x", ClaimSource::Roles),
            claim("x", ClaimSource::Roles)
        ])
        .is_err());
        assert!(with(vec![claim("bad name", ClaimSource::Roles)]).is_err());
    }

    #[test]
    fn implicit_is_for_oidc_and_lifetimes_are_bounded() {
        let mut f = fields(&["https://a.example.com/"]);
        f.protocol = Some(Protocol::Oauth2);
        f.grants = Some(vec![Grant::Implicit]);
        assert!(f.clone().into_settings().is_err());
        f.protocol = Some(Protocol::Oidc);
        assert!(f.clone().into_settings().is_ok());
        f.access_token_ttl_secs = Some(10);
        assert!(f.clone().into_settings().is_err());
        f.access_token_ttl_secs = None;
        f.refresh_token_ttl_secs = Some(31_536_001);
        assert!(f.into_settings().is_err());
    }
}
