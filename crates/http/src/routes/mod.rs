//! One module per route group of the reference.

mod accounts;
mod health;
mod token;
mod users;

use axum::Router;
use roster_service::Service;

pub fn router() -> Router<Service> {
    Router::new().merge(health::router()).nest(
        "/api/v2/tenant",
        Router::new()
            .merge(token::router())
            .merge(users::router())
            .merge(accounts::router()),
    )
}
