//! One module per route group of the reference, and one for Roster's own extension.

mod accounts;
mod admin;
mod app_orgs;
mod cas;
mod console;
mod health;
mod messages;
mod oauth2;
mod organizations;
mod password_policy;
mod portal;
mod roles;
mod saml;
mod second_factor;
pub(crate) mod sign_in;
mod sso_settings;
pub(crate) mod test_mode;
mod token;
mod user_api;
mod users;

use roster_service::Service;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .merge(health::router())
        .merge(admin::router())
        .merge(sso_settings::router())
        .merge(password_policy::router())
        .merge(second_factor::router())
        .merge(messages::router())
        .merge(oauth2::router())
        .merge(sign_in::router())
        .merge(cas::router())
        .merge(saml::router())
        .merge(console::router())
        .merge(portal::router())
        .merge(user_api::router())
        // Not an API operation: no place in the OpenAPI document.
        .route(
            "/assets/roster.css",
            axum::routing::get(crate::pages::stylesheet),
        )
        .nest(
            "/api/v2/tenant",
            OpenApiRouter::new()
                .merge(token::router())
                .merge(users::router())
                .merge(organizations::router())
                .merge(app_orgs::router())
                .merge(accounts::router())
                .merge(roles::router())
                .merge(user_api::tenant_router()),
        )
}
