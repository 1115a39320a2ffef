//! The password and MFA policies, edited as the API's JSON.

use super::*;

pub(super) async fn policies(State(service): State<Service>, console: Console) -> Response {
    show_policies(&service, &console, None, None, StatusCode::OK, None).await
}

/// The policies page; `typed` keeps what was typed into a form that was refused.
pub(super) async fn show_policies(
    service: &Service,
    console: &Console,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
    typed: Option<(&str, String)>,
) -> Response {
    let caller = &console.signed.person.caller;
    let pretty = |v: serde_json::Result<serde_json::Value>| {
        v.ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_default()
    };
    let password = match service.show_password_policy(caller).await {
        Ok(p) => pretty(serde_json::to_value(p)),
        Err(e) => return console.refused(service, &e).await,
    };
    let mfa = match service.show_mfa_policy(caller).await {
        Ok(p) => pretty(serde_json::to_value(p)),
        Err(e) => return console.refused(service, &e).await,
    };
    let (password, mfa) = match typed {
        Some(("password", text)) => (text, mfa),
        Some((_, text)) => (password, text),
        None => (password, mfa),
    };
    let frame = console
        .frame(service, "/console/policies", notice, error)
        .await;
    app_html(
        status,
        render(&page::Policies {
            frame,
            password,
            mfa,
            may_change: console.may(Access::Admin),
        }),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PolicyForm {
    policy: String,
}

pub(super) async fn set_policy(
    State(service): State<Service>,
    Path(which): Path<String>,
    Posted(console, form): Posted<PolicyForm>,
) -> Response {
    let caller = &console.signed.person.caller;
    let not_json = |e: serde_json::Error| Error::invalid(format!("The policy is not valid: {e}"));
    let outcome = match which.as_str() {
        "password" => match serde_json::from_str(&form.policy) {
            Ok(fields) => service
                .set_password_policy(caller, fields)
                .await
                .map(|_| ()),
            Err(e) => Err(not_json(e)),
        },
        "mfa" => match serde_json::from_str(&form.policy) {
            Ok(fields) => service.set_mfa_policy(caller, fields).await.map(|_| ()),
            Err(e) => Err(not_json(e)),
        },
        _ => return not_found(&service, &console).await,
    };
    match outcome {
        Ok(()) => {
            let notice = done(&console, "Saved.", "已保存。");
            show_policies(&service, &console, notice, None, StatusCode::OK, None).await
        }
        Err(e) => {
            let why = Some(describe(console.lang(), &e));
            let typed = Some((which.as_str(), form.policy));
            show_policies(&service, &console, None, why, status_of(&e), typed).await
        }
    }
}
