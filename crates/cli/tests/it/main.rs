//! Roster's integration tests: one test binary (linking is slow on small machines). Each test
//! starts the real `roster` binary on a free loopback port and a fresh database, and talks
//! HTTP to it. Tests marked `#[on_each_store]` run once on SQLite and once on PostgreSQL;
//! the PostgreSQL runs are reported as ignored unless `ROSTER_TEST_POSTGRES_URL` is set.
// clippy.toml lets #[test] functions unwrap; the helpers of a test crate need this too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

mod accounts;
mod accounts_admin;
mod app_orgs;
mod applications;
mod audit;
mod auth;
mod bad_input;
mod browser;
mod cas;
mod cli;
mod connections;
mod console;
mod console_browser;
mod crash;
mod docs;
mod durability;
mod import;
mod lists;
mod logout;
mod metrics;
mod nodes;
mod oidc_clients;
mod openapi;
mod organizations;
mod password_policy;
mod proxies;
mod races;
mod request_logs;
mod revocation;
mod roles;
mod saml;
mod second_factor;
mod secret_key;
mod security;
mod sign_in;
mod sign_in_attacks;
mod sign_in_standards;
mod sign_in_tokens;
mod signing_keys;
mod sso_settings;
mod sync;
mod test_mode;
mod token;
mod transfer;
mod user_api;
mod users;
mod users_admin;
