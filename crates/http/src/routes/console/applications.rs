//! Applications: creating one, API permissions, the secret, sign-in settings, SAML metadata, accounts, roles.

use super::*;

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
    csrf_token: Option<String>,
    name: Option<String>,
    protocol: Option<String>,
    redirect_uris: Option<String>,
    logout_urls: Option<String>,
    initiate_login_uri: Option<String>,
    sp_entity_id: Option<String>,
    metadata: Option<String>,
    user_name: Option<String>,
    org_code: Option<String>,
}

pub(super) async fn create_application(
    State(service): State<Service>,
    console: Console,
    Form(fields, _): Form<AppForm, PageRefused>,
) -> Response {
    if !console
        .signed
        .form_ok(&service, fields.csrf_token.as_deref())
    {
        return form_expired(&service, &console).await;
    }
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
    let sign_in = match &settings {
        Some(s) => page::SignInForm {
            protocol: protocol_name(s),
            redirect_uris: s.redirect_uris.join("\n"),
            logout_urls: s.logout_urls.join("\n"),
            initiate_login_uri: s.initiate_login_uri.clone().unwrap_or_default(),
            sp_entity_id: s
                .saml
                .as_ref()
                .map(|m| m.entity_id.clone())
                .unwrap_or_default(),
        },
        None => page::SignInForm {
            protocol: "oidc".to_owned(),
            ..Default::default()
        },
    };
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
    console: Console,
    Path((id, action)): Path<(String, String)>,
    Form(raw, _): Form<Vec<(String, String)>, PageRefused>,
) -> Response {
    let field = |name: &str| raw.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if !console
        .signed
        .form_ok(&service, field("csrf_token").as_deref())
    {
        return form_expired(&service, &console).await;
    }
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
        "sign-in" => {
            let form = AppForm {
                protocol: field("protocol"),
                redirect_uris: field("redirect_uris"),
                logout_urls: field("logout_urls"),
                initiate_login_uri: field("initiate_login_uri"),
                sp_entity_id: field("sp_entity_id"),
                ..AppForm::default()
            };
            set_sign_in(&service, caller, id.clone(), form)
                .await
                .map(|()| None)
        }
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

/// The sign-in settings form applied over what the application has (the fields the form
/// does not show keep their values).
pub(super) async fn set_sign_in(
    service: &Service,
    caller: &roster_service::Caller,
    id: ApplicationId,
    form: AppForm,
) -> Result<(), Error> {
    let current = service.show_sso(caller, id.clone()).await.ok();
    let protocol = form.protocol.clone().unwrap_or_else(|| "oidc".to_owned());
    let protocol: roster_domain::sso::Protocol =
        serde_json::from_value(serde_json::Value::String(protocol.clone()))
            .map_err(|_| Error::invalid(format!("Unknown protocol '{protocol}'.")))?;
    let mut fields = match current {
        Some(s) => SsoFields {
            protocol: Some(protocol),
            grants: Some(s.grants),
            access_token_ttl_secs: Some(s.access_token_ttl_secs),
            refresh_token_ttl_secs: s.refresh_token_ttl_secs,
            id_token_alg: Some(s.id_token_alg),
            claims: Some(s.claims),
            backchannel_logout_uri: s.backchannel_logout_uri,
            saml: s.saml,
            ..SsoFields::default()
        },
        None => SsoFields {
            protocol: Some(protocol),
            ..SsoFields::default()
        },
    };
    use roster_domain::sso::Protocol;
    if matches!(protocol, Protocol::Cas | Protocol::Saml) {
        fields.grants = None;
    }
    if protocol != Protocol::Oidc {
        fields.backchannel_logout_uri = None;
    }
    if protocol == Protocol::Saml {
        let entity_id = form.sp_entity_id.clone().unwrap_or_default();
        let mut saml = match fields.saml.take() {
            Some(saml) => saml,
            None => serde_json::from_value(serde_json::json!({ "entity_id": entity_id }))
                .map_err(|e| Error::invalid(format!("saml: {e}")))?,
        };
        if !entity_id.trim().is_empty() {
            saml.entity_id = entity_id.trim().to_owned();
        }
        fields.saml = Some(saml);
    } else {
        fields.saml = None;
    }
    fields.redirect_uris = Some(lines(form.redirect_uris));
    fields.logout_urls = Some(lines(form.logout_urls));
    fields.initiate_login_uri = form.initiate_login_uri.filter(|u| !u.trim().is_empty());
    service.set_sso(caller, id, fields).await.map(|_| ())
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
    console: Console,
    Path(id): Path<String>,
    Form(fields, _): Form<AppForm, PageRefused>,
) -> Response {
    if !console
        .signed
        .form_ok(&service, fields.csrf_token.as_deref())
    {
        return form_expired(&service, &console).await;
    }
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
