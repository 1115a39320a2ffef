//! Client authentication at a token endpoint (RFC 6749 §2.3.1), for every token endpoint Roster
//! serves: the credentials come in an HTTP Basic `Authorization` header (`client_secret_basic`,
//! what most OAuth libraries send) or as form fields (`client_secret_post`), never in the query
//! string, where proxies and access logs would keep them.

use axum::http::{header, HeaderMap};
use base64::Engine;
use roster_domain::{Error, ErrorKind};

/// The client credentials of a token request, from whichever method the client used.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// Names that carry a credential, refused in the query string.
const CREDENTIAL_NAMES: [&str; 2] = ["client_id", "client_secret"];

/// The client credentials of a token request: from the Basic header and the form fields
/// (`form_id`, `form_secret`). Both methods at once are accepted only when they agree.
pub fn client_credentials(
    headers: &HeaderMap,
    query: Option<&str>,
    form_id: Option<String>,
    form_secret: Option<String>,
) -> Result<ClientCredentials, Error> {
    if let Some(query) = query {
        if form_urlencoded::parse(query.as_bytes())
            .any(|(name, _)| CREDENTIAL_NAMES.contains(&name.as_ref()))
        {
            return Err(ErrorKind::ClientCredentialsInQuery.into());
        }
    }
    let form = ClientCredentials {
        client_id: form_id.filter(|v| !v.is_empty()),
        client_secret: form_secret.filter(|v| !v.is_empty()),
    };
    let Some(basic) = basic_credentials(headers)? else {
        return Ok(form);
    };
    let disagree = |sent: &Option<String>, in_header: &str| {
        sent.as_deref().is_some_and(|sent| sent != in_header)
    };
    if disagree(&form.client_id, &basic.0) || disagree(&form.client_secret, &basic.1) {
        return Err(ErrorKind::ClientCredentialsDisagree.into());
    }
    Ok(ClientCredentials {
        client_id: Some(basic.0).filter(|v| !v.is_empty()),
        client_secret: Some(basic.1),
    })
}

/// `Authorization: Basic base64(client_id ":" client_secret)`, each part form-urlencoded first
/// as RFC 6749 §2.3.1 asks (a no-op for ids and secrets of letters, digits, `-`, `_`, `.`).
/// Another scheme (a stale `Bearer`) is not a client credential and is ignored.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, Error> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        Error::with_detail(
            ErrorKind::InvalidClient,
            "The Authorization header is not HTTP Basic credentials: Basic base64(client_id:client_secret).",
        )
    };
    let value = value.to_str().map_err(|_| malformed())?.trim();
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    Ok(Some((form_decode(id), form_decode(secret))))
}

fn form_decode(part: &str) -> String {
    form_urlencoded::parse(format!("v={part}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn basic(id: &str, secret: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        headers
    }

    fn kind(r: Result<ClientCredentials, Error>) -> Option<ErrorKind> {
        r.err().map(|e| e.kind())
    }

    #[test]
    fn basic_header_is_form_decoded() {
        let got = client_credentials(&basic("app%3A1", "s%2Bcret"), None, None, None).unwrap();
        assert_eq!(got.client_id.as_deref(), Some("app:1"));
        assert_eq!(got.client_secret.as_deref(), Some("s+cret"));
    }

    #[test]
    fn both_methods_must_agree() {
        let headers = basic("app", "secret");
        let same = client_credentials(&headers, None, Some("app".into()), Some("secret".into()));
        assert_eq!(same.unwrap().client_id.as_deref(), Some("app"));
        let other_id = client_credentials(&headers, None, Some("other".into()), None);
        assert_eq!(kind(other_id), Some(ErrorKind::ClientCredentialsDisagree));
        let other_secret = client_credentials(&headers, None, None, Some("nope".into()));
        assert_eq!(
            kind(other_secret),
            Some(ErrorKind::ClientCredentialsDisagree)
        );
    }

    #[test]
    fn query_credentials_are_refused() {
        let q = client_credentials(
            &HeaderMap::new(),
            Some("grant_type=x&client_secret=s"),
            None,
            None,
        );
        assert_eq!(kind(q), Some(ErrorKind::ClientCredentialsInQuery));
        let grant_only = client_credentials(&HeaderMap::new(), Some("grant_type=x"), None, None);
        assert_eq!(grant_only.unwrap(), ClientCredentials::default());
    }

    #[test]
    fn malformed_basic_and_other_schemes() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert_eq!(
            kind(client_credentials(&headers, None, None, None)),
            Some(ErrorKind::InvalidClient)
        );
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        let form = client_credentials(&headers, None, Some("app".into()), Some("s".into()));
        assert_eq!(form.unwrap().client_id.as_deref(), Some("app"));
    }
}
