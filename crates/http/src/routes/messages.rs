//! Roster extension: the messages Roster sent (SMS codes), newest first — the `log` sender's
//! mailbox, and the `webhook` sender's delivery record — for callers with the `all`
//! permission.

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorResponses};
use crate::extract::Query;
use axum::extract::State;
use axum::Json;
use roster_domain::message::Message;
use roster_service::Service;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
struct MessageFilter {
    /// Only messages to this number (any spelling of its digits).
    mobile: Option<String>,
    /// Most messages to list (1 to 1000). Default: 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct Messages {
    /// Newest first.
    messages: Vec<Message>,
}

/// The messages sent, newest first.
#[utoipa::path(
    get,
    path = "/roster/v1/messages",
    operation_id = "ListMessages",
    tag = "roster extension: messages",
    params(MessageFilter),
    responses((status = 200, description = "Success.", body = Messages), ErrorResponses),
    security(("bearer" = []))
)]
async fn list(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    Query(filter, _): Query<MessageFilter>,
) -> Result<Json<Messages>, ApiError> {
    let messages = service
        .list_messages(&caller, filter.mobile.as_deref(), filter.limit)
        .await?;
    Ok(Json(Messages { messages }))
}
