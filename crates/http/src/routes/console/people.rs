//! Console people (who holds a role) and the tenant's name.

use super::*;

pub(super) async fn people(State(service): State<Service>, console: Console) -> Response {
    show_people(&service, &console, None, None, StatusCode::OK).await
}

pub(super) async fn show_people(
    service: &Service,
    console: &Console,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let caller = &console.signed.person.caller;
    let listed = match service.console_people(caller).await {
        Ok(people) => people,
        Err(e) => return console.refused(service, &e).await,
    };
    let people = listed
        .into_iter()
        .map(|(user, role)| (user.user_name, user.name, role.code()))
        .collect();
    let tenant = service
        .tenant_name()
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let frame = console
        .frame(service, "/console/people", notice, error)
        .await;
    app_html(
        status,
        render(&page::People {
            frame,
            people,
            tenant,
            may_change: console.may(Access::Admin),
        }),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PeopleForm {
    user_name: Option<String>,
    role: Option<String>,
    name: Option<String>,
}

pub(super) async fn people_action(
    State(service): State<Service>,
    Path(action): Path<String>,
    Posted(console, fields): Posted<PeopleForm>,
) -> Response {
    let caller = &console.signed.person.caller;
    let user_name = fields.user_name.unwrap_or_default();
    let outcome = match action.as_str() {
        "grant" => match ConsoleRole::parse(fields.role.as_deref().unwrap_or_default()) {
            Ok(role) => service
                .grant_console_role(caller, &user_name, role)
                .await
                .map(|_| ("The role was granted.", "角色已授予。")),
            Err(e) => Err(e),
        },
        "revoke" => service
            .revoke_console_role(caller, &user_name)
            .await
            .map(|_| ("The role was revoked.", "角色已撤销。")),
        "tenant" => service
            .set_tenant_name(caller, fields.name.as_deref().unwrap_or_default())
            .await
            .map(|()| ("Saved.", "已保存。")),
        _ => return not_found(&service, &console).await,
    };
    match outcome {
        Ok((en, zh)) => {
            // Revoking one's own role ends one's own session: the login page is next.
            if service
                .person(Some(&console.signed.cookie))
                .await
                .ok()
                .flatten()
                .is_none()
            {
                return redirect(StatusCode::SEE_OTHER, "/login?signed_out=1");
            }
            show_people(
                &service,
                &console,
                done(&console, en, zh),
                None,
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let why = Some(describe(console.lang(), &e));
            show_people(&service, &console, None, why, status_of(&e)).await
        }
    }
}
