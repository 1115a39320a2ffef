//! The dashboard: counts, locked users, sign-ins and refusals per hour.

use super::*;

pub(super) async fn dashboard(State(service): State<Service>, console: Console) -> Response {
    show_dashboard(&service, &console, None, None).await
}

pub(super) async fn show_dashboard(
    service: &Service,
    console: &Console,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let caller = &console.signed.person.caller;
    let board = match service.dashboard(caller).await {
        Ok(board) => board,
        Err(e) => return console.refused(service, &e).await,
    };
    let top = board
        .hours
        .iter()
        .map(|(_, ok, refused)| (*ok).max(*refused))
        .max()
        .unwrap_or(0)
        .max(1);
    let height = |n: i64| n * page::CHART_HEIGHT / top;
    let bars = board
        .hours
        .iter()
        .zip(0..)
        .map(|((at, ok, refused), i)| Bar {
            x: i * 20,
            ok_y: page::CHART_HEIGHT - height(*ok),
            ok_h: height(*ok),
            refused_y: page::CHART_HEIGHT - height(*refused),
            refused_h: height(*refused),
            hour: when(*at).get(11..16).unwrap_or_default().to_owned(),
            ok: *ok,
            refused: *refused,
        })
        .collect();
    let frame = console.frame(service, "/console", notice, error).await;
    app_html(
        StatusCode::OK,
        render(&page::Dashboard {
            frame,
            users: board.users,
            applications: board.applications,
            locked: board.locked.iter().map(UserLine::of).collect(),
            sign_ins: board.hours.iter().map(|h| h.1).sum(),
            refused: board.hours.iter().map(|h| h.2).sum(),
            bars,
            may_unlock: console.may(Access::UserSupport),
        }),
    )
}
