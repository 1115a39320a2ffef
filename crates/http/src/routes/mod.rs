//! One module per route group of the reference, and one for Roster's own extension.

mod accounts;
mod admin;
mod app_orgs;
mod health;
mod organizations;
mod roles;
mod token;
mod users;

use axum::Router;
use roster_service::Service;

pub fn router() -> Router<Service> {
    Router::new()
        .merge(health::router())
        .merge(admin::router())
        .nest(
            "/api/v2/tenant",
            Router::new()
                .merge(token::router())
                .merge(users::router())
                .merge(organizations::router())
                .merge(app_orgs::router())
                .merge(accounts::router())
                .merge(roles::router()),
        )
}
