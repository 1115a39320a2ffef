//! The message outbox.

use super::*;

pub(super) async fn messages(State(service): State<Service>, console: Console) -> Response {
    let caller = &console.signed.person.caller;
    let listed = match service.list_messages(caller, None, Some(100)).await {
        Ok(listed) => listed,
        Err(e) => return console.refused(&service, &e).await,
    };
    let word = |v: serde_json::Result<serde_json::Value>| {
        v.ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let messages = listed
        .into_iter()
        .map(|m| page::MessageLine {
            at: when(m.created_at),
            to: m.to,
            purpose: m.purpose,
            sender: word(serde_json::to_value(m.sender)),
            status: word(serde_json::to_value(m.status)),
            attempts: m.attempts,
            last_error: m.last_error.unwrap_or_default(),
        })
        .collect();
    let frame = console
        .frame(&service, "/console/messages", None, None)
        .await;
    app_html(StatusCode::OK, render(&page::Messages { frame, messages }))
}
