//! Signing keys: the list, rotation.

use super::*;

pub(super) async fn keys(State(service): State<Service>, console: Console) -> Response {
    show_keys(&service, &console, None, None, StatusCode::OK).await
}

pub(super) async fn show_keys(
    service: &Service,
    console: &Console,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let caller = &console.signed.person.caller;
    let listed = match service.signing_keys(caller).await {
        Ok(keys) => keys,
        Err(e) => return console.refused(service, &e).await,
    };
    let keys = listed
        .iter()
        .map(|k| page::KeyLine {
            kid: k.kid().to_owned(),
            created: when(k.created_at),
            state: if k.is_active() {
                console.t("Signing", "签名中")
            } else if k.is_staged() {
                console.t("Staged", "已预备")
            } else {
                console.t("Retired", "已停用")
            },
        })
        .collect();
    let frame = console.frame(service, "/console/keys", notice, error).await;
    app_html(
        status,
        render(&page::Keys {
            frame,
            keys,
            may_rotate: console.may(Access::Admin),
        }),
    )
}

pub(super) async fn rotate_key(
    State(service): State<Service>,
    Posted(console, Button {}): Posted<Button>,
) -> Response {
    match service
        .rotate_signing_key(&console.signed.person.caller)
        .await
    {
        Ok(_) => {
            let notice = done(&console, "A new key signs now.", "新密钥已开始签名。");
            show_keys(&service, &console, notice, None, StatusCode::OK).await
        }
        Err(e) => {
            let why = Some(describe(console.lang(), &e));
            show_keys(&service, &console, None, why, status_of(&e)).await
        }
    }
}
