//! Applications: creating one, API permissions, the secret, sign-in settings, SAML metadata, accounts, roles.

use super::*;
use roster_domain::sso::{Grant, Protocol, SsoSettings};

pub(super) async fn applications(State(service): State<Service>, console: Console) -> Response {
    show_applications(&service, &console, None, StatusCode::OK).await
}

pub(super) async fn show_applications(
    service: &Service,
    console: &Console,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let caller = &console.signed.person.caller;
    if let Err(e) = caller.require(Access::AppRead) {
        return console.refused(service, &e).await;
    }
    let mut apps = Vec::new();
    for offset in 0..10 {
        match service
            .list_applications(caller, PageRequest { offset, limit: 100 })
            .await
        {
            Ok(found) => {
                let full = found.items.len() == 100;
                for app in found.items {
                    let protocol = service
                        .show_sso(caller, app.id.clone())
                        .await
                        .map_or_else(|_| "-".to_owned(), |s| protocol_name(&s));
                    apps.push(AppLine {
                        id: app.id.as_str().to_owned(),
                        name: app.name,
                        client_id: app.client_id,
                        protocol,
                        disabled: app.disabled,
                    });
                }
                if !full {
                    break;
                }
            }
            Err(e) => return console.refused(service, &e).await,
        }
    }
    let frame = console
        .frame(service, "/console/applications", None, error)
        .await;
    app_html(
        status,
        render(&page::Applications {
            frame,
            apps,
            may_create: console.may(Access::Admin),
        }),
    )
}

pub(super) fn protocol_name(settings: &roster_domain::sso::SsoSettings) -> String {
    serde_json::to_value(settings.protocol)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AppForm {
    name: Option<String>,
    protocol: Option<String>,
    redirect_uris: Option<String>,
    logout_urls: Option<String>,
    metadata: Option<String>,
    user_name: Option<String>,
    org_code: Option<String>,
}

pub(super) async fn create_application(
    State(service): State<Service>,
    Posted(console, fields): Posted<AppForm>,
) -> Response {
    let caller = &console.signed.person.caller;
    match service
        .create_application(caller, fields.name, Vec::new(), None)
        .await
    {
        Ok(created) => {
            // The secret is shown once, on the application's page.
            let frame = console
                .frame(&service, "/console/applications", None, None)
                .await;
            show_application_with(
                &service,
                &console,
                frame,
                created.application_id,
                Some(created.client_secret),
                StatusCode::CREATED,
            )
            .await
        }
        Err(e) => {
            let why = Some(describe(console.lang(), &e));
            show_applications(&service, &console, why, status_of(&e)).await
        }
    }
}

pub(super) async fn application_page(
    State(service): State<Service>,
    console: Console,
    Path(id): Path<String>,
    Query(query, _): Query<DoneQuery, PageRefused>,
) -> Response {
    let notice = match query.done.as_deref() {
        Some("saved") => done(&console, "Saved.", "已保存。"),
        Some("granted") => done(&console, "Accounts were granted.", "账号已授予。"),
        Some("revoked") => done(&console, "The account was revoked.", "账号已撤销。"),
        _ => None,
    };
    let frame = console
        .frame(&service, "/console/applications", notice, None)
        .await;
    show_application_with(
        &service,
        &console,
        frame,
        ApplicationId::new(id),
        None,
        StatusCode::OK,
    )
    .await
}

pub(super) async fn show_application_with(
    service: &Service,
    console: &Console,
    frame: Frame,
    id: ApplicationId,
    new_secret: Option<String>,
    status: StatusCode,
) -> Response {
    let caller = &console.signed.person.caller;
    if let Err(e) = caller.require(Access::AppRead) {
        return console.refused(service, &e).await;
    }
    let app = match service.show_application(caller, id.clone()).await {
        Ok(app) => app,
        Err(e) => return console.refused(service, &e).await,
    };
    let settings = service.show_sso(caller, id.clone()).await.ok();
    let sign_in = sign_in_form(settings.as_ref());
    let accounts = service
        .list_accounts(
            caller,
            id.clone(),
            None,
            PageRequest {
                offset: 0,
                limit: 100,
            },
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default()
        .into_iter()
        .map(|d| AccountLine {
            id: d.account.id.as_str().to_owned(),
            application: String::new(),
            account_name: d.account.account_name,
            disabled: d.account.disabled,
        })
        .collect();
    let roles = service
        .list_roles(
            caller,
            id,
            PageRequest {
                offset: 0,
                limit: 100,
            },
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.code, r.name.unwrap_or_default()))
        .collect();
    let permissions = Permission::ALL
        .iter()
        .map(|p| {
            (
                p.code(),
                app.permissions.scope().split(' ').any(|c| c == p.code()),
            )
        })
        .collect();
    app_html(
        status,
        render(&page::Application {
            frame,
            app: AppLine {
                id: app.id.as_str().to_owned(),
                name: app.name.clone(),
                client_id: app.client_id.clone(),
                protocol: sign_in.protocol.clone(),
                disabled: app.disabled,
            },
            permissions,
            sign_in,
            accounts,
            roles,
            new_secret,
            may_change: console.may(Access::Admin),
            may_grant: console.may(Access::UserWrite),
        }),
    )
}

/// The lines of a text area, blank ones left out.
pub(super) fn lines(text: Option<String>) -> Vec<String> {
    text.unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(super) async fn application_action(
    State(service): State<Service>,
    Path((id, action)): Path<(String, String)>,
    Posted(console, raw): Posted<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| raw.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let id = ApplicationId::new(id);
    let caller = &console.signed.person.caller;
    let outcome: Result<Option<String>, Error> = match action.as_str() {
        "secret" => service
            .rotate_client_secret(caller, id.clone())
            .await
            .map(|c| Some(c.client_secret)),
        "permissions" => {
            let codes = raw
                .iter()
                .filter(|(k, _)| k == "permission")
                .map(|(_, v)| v.clone())
                .collect();
            service
                .set_application_permissions(caller, id.clone(), codes)
                .await
                .map(|_| None)
        }
        "sign-in" => match sign_in_fields(&raw) {
            Ok(fields) => service
                .set_sso(caller, id.clone(), fields)
                .await
                .map(|_| None),
            Err(e) => Err(e),
        },
        "saml-metadata" => service
            .set_sso_from_sp_metadata(caller, id.clone(), &field("metadata").unwrap_or_default())
            .await
            .map(|_| None),
        "revoke" => {
            let account =
                roster_domain::account::AccountId::new(field("account_id").unwrap_or_default());
            service
                .delete_account(caller, id.clone(), account)
                .await
                .map(|()| None)
        }
        "accounts" => match field("user_name") {
            Some(name) => grant_to_user(&service, caller, id.clone(), &name)
                .await
                .map(|()| None),
            None => Err(Error::invalid("Name the user to grant an account to.")),
        },
        _ => return not_found(&service, &console).await,
    };
    match outcome {
        Ok(None) => {
            let done = if action == "accounts" {
                "granted"
            } else {
                "saved"
            };
            redirect(
                StatusCode::SEE_OTHER,
                &format!("/console/applications/{}?done={done}", id.as_str()),
            )
        }
        Ok(Some(secret)) => {
            let frame = console
                .frame(&service, "/console/applications", None, None)
                .await;
            show_application_with(&service, &console, frame, id, Some(secret), StatusCode::OK).await
        }
        Err(e) => {
            let frame = console
                .frame(
                    &service,
                    "/console/applications",
                    None,
                    Some(describe(console.lang(), &e)),
                )
                .await;
            show_application_with(&service, &console, frame, id, None, status_of(&e)).await
        }
    }
}

/// The sign-in settings as the form shows them (an application without any: an OIDC form).
fn sign_in_form(settings: Option<&SsoSettings>) -> page::SignInForm {
    let json = |v: serde_json::Result<serde_json::Value>| {
        v.ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_default()
    };
    let Some(s) = settings else {
        return page::SignInForm {
            protocol: "oidc".to_owned(),
            grants: Grant::ALL
                .iter()
                .map(|g| (g.as_str(), *g == Grant::AuthorizationCode))
                .collect(),
            id_token_alg: "RS256".to_owned(),
            claims: "[]".to_owned(),
            ..Default::default()
        };
    };
    page::SignInForm {
        protocol: protocol_name(s),
        redirect_uris: s.redirect_uris.join("\n"),
        logout_urls: s.logout_urls.join("\n"),
        initiate_login_uri: s.initiate_login_uri.clone().unwrap_or_default(),
        grants: Grant::ALL
            .iter()
            .map(|g| (g.as_str(), s.grants.contains(g)))
            .collect(),
        access_token_ttl_secs: s.access_token_ttl_secs.to_string(),
        refresh_token_ttl_secs: s
            .refresh_token_ttl_secs
            .map(|t| t.to_string())
            .unwrap_or_default(),
        id_token_alg: json(serde_json::to_value(s.id_token_alg))
            .trim_matches('"')
            .to_owned(),
        backchannel_logout_uri: s.backchannel_logout_uri.clone().unwrap_or_default(),
        claims: json(serde_json::to_value(&s.claims)),
        saml: s
            .saml
            .as_ref()
            .map(|m| json(serde_json::to_value(m)))
            .unwrap_or_default(),
    }
}

/// The sign-in settings the form's fields describe, as the API's body: what a protocol does
/// not use is left out; the service checks the rest. A pure step, so it is tested alone.
fn sign_in_fields(raw: &[(String, String)]) -> Result<SsoFields, Error> {
    let field = |name: &str| {
        raw.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let parse = |name: &str, text: String| -> Result<serde_json::Value, Error> {
        serde_json::from_str(&text)
            .map_err(|e| Error::invalid(format!("{name} is not valid JSON: {e}")))
    };
    let number = |name: &str| -> Result<Option<u32>, Error> {
        field(name)
            .map(|t| {
                t.parse::<u32>()
                    .map_err(|_| Error::invalid(format!("{name}: a number of seconds, not '{t}'.")))
            })
            .transpose()
    };
    let protocol = field("protocol").unwrap_or_else(|| "oidc".to_owned());
    let protocol: Protocol = serde_json::from_value(serde_json::Value::String(protocol.clone()))
        .map_err(|_| Error::invalid(format!("Unknown protocol '{protocol}'.")))?;
    let oauth = matches!(protocol, Protocol::Oauth2 | Protocol::Oidc);
    let grants = raw
        .iter()
        .filter(|(k, _)| k == "grant")
        .map(|(_, v)| {
            serde_json::from_value(serde_json::Value::String(v.clone()))
                .map_err(|_| Error::invalid(format!("Unknown grant '{v}'.")))
        })
        .collect::<Result<Vec<Grant>, Error>>()?;
    let claims = match field("claims") {
        Some(text) => Some(
            serde_json::from_value(parse("claims", text)?)
                .map_err(|e| Error::invalid(format!("claims: {e}")))?,
        ),
        None => None,
    };
    let saml = match (protocol, field("saml")) {
        (Protocol::Saml, Some(text)) => Some(
            serde_json::from_value(parse("saml", text)?)
                .map_err(|e| Error::invalid(format!("saml: {e}")))?,
        ),
        _ => None,
    };
    let id_token_alg = match field("id_token_alg") {
        Some(alg) => Some(
            serde_json::from_value(serde_json::Value::String(alg.clone()))
                .map_err(|_| Error::invalid(format!("Unknown id_token_alg '{alg}'.")))?,
        ),
        None => None,
    };
    Ok(SsoFields {
        protocol: Some(protocol),
        redirect_uris: Some(lines(field("redirect_uris"))),
        logout_urls: Some(lines(field("logout_urls"))),
        grants: oauth.then_some(grants),
        access_token_ttl_secs: number("access_token_ttl_secs")?,
        refresh_token_ttl_secs: number("refresh_token_ttl_secs")?,
        id_token_alg,
        claims,
        backchannel_logout_uri: field("backchannel_logout_uri")
            .filter(|_| protocol == Protocol::Oidc),
        saml,
        initiate_login_uri: field("initiate_login_uri").filter(|_| oauth),
    })
}

pub(super) async fn grant_to_user(
    service: &Service,
    caller: &roster_service::Caller,
    application_id: ApplicationId,
    user_name: &str,
) -> Result<(), Error> {
    // Who may not grant learns nothing of who exists.
    caller.require(Access::UserWrite)?;
    let user = service
        .show_user_by_name(
            caller,
            roster_domain::user::UserNameFields {
                user_name: Some(user_name.trim().to_owned()),
            },
        )
        .await?;
    service
        .authorize_account(caller, user.id, application_id, Default::default())
        .await
        .map(|_| ())
}

pub(super) async fn grant_to_organization(
    State(service): State<Service>,
    Path(id): Path<String>,
    Posted(console, fields): Posted<AppForm>,
) -> Response {
    let id = ApplicationId::new(id);
    let caller = &console.signed.person.caller;
    let code = fields.org_code.unwrap_or_default();
    match service
        .grant_accounts_to_organization(caller, id.clone(), code)
        .await
    {
        Ok(_) => redirect(
            StatusCode::SEE_OTHER,
            &format!("/console/applications/{}?done=granted", id.as_str()),
        ),
        Err(e) => {
            let frame = console
                .frame(
                    &service,
                    "/console/applications",
                    None,
                    Some(describe(console.lang(), &e)),
                )
                .await;
            show_application_with(&service, &console, frame, id, None, status_of(&e)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_sign_in_form_reads_as_the_apis_body() {
        let fields = sign_in_fields(&form(&[
            ("protocol", "oidc"),
            (
                "redirect_uris",
                "https://a.example/cb\n\n https://b.example/cb ",
            ),
            ("grant", "authorization_code"),
            ("grant", "password"),
            ("access_token_ttl_secs", "600"),
            ("refresh_token_ttl_secs", ""),
            ("id_token_alg", "RS384"),
            (
                "claims",
                r#"[{"claim": "mail", "source": {"type": "user", "value": "email"}}]"#,
            ),
            ("saml", r#"{"entity_id": "ignored for OIDC"}"#),
            ("initiate_login_uri", "https://a.example/login"),
        ]))
        .unwrap();
        assert_eq!(
            fields.redirect_uris.as_deref(),
            Some(
                &[
                    "https://a.example/cb".to_owned(),
                    "https://b.example/cb".to_owned()
                ][..]
            )
        );
        assert_eq!(
            fields.grants,
            Some(vec![Grant::AuthorizationCode, Grant::Password])
        );
        assert_eq!(fields.access_token_ttl_secs, Some(600));
        assert_eq!(fields.refresh_token_ttl_secs, None);
        assert_eq!(fields.claims.as_ref().map(Vec::len), Some(1));
        assert!(fields.saml.is_none());
        let settings = fields.into_settings().unwrap();
        assert_eq!(
            settings.initiate_login_uri.as_deref(),
            Some("https://a.example/login")
        );

        // SAML: its settings from the JSON; no grants, no initiate-login URI.
        let saml = sign_in_fields(&form(&[
            ("protocol", "saml"),
            ("redirect_uris", "https://sp.example/acs"),
            ("grant", "authorization_code"),
            ("initiate_login_uri", "https://sp.example/"),
            ("saml", r#"{"entity_id": "https://sp.example/metadata"}"#),
        ]))
        .unwrap();
        assert_eq!(saml.grants, None);
        assert_eq!(saml.initiate_login_uri, None);
        assert!(saml.into_settings().is_ok());
    }

    #[test]
    fn what_the_form_cannot_mean_is_refused_naming_the_field() {
        for (pairs, says) in [
            (vec![("protocol", "ldap")], "protocol"),
            (vec![("grant", "magic")], "grant"),
            (
                vec![("access_token_ttl_secs", "soon")],
                "access_token_ttl_secs",
            ),
            (vec![("claims", "[not json")], "claims"),
            (vec![("protocol", "saml"), ("saml", "{}")], "saml"),
            (vec![("id_token_alg", "none")], "id_token_alg"),
        ] {
            let error = sign_in_fields(&form(&pairs)).unwrap_err();
            assert!(
                error.client_message().contains(says),
                "{pairs:?}: {}",
                error.client_message()
            );
        }
    }
}
