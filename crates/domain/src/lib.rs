//! Roster's domain: the entities a OneAccess directory holds, their ids and validation rules,
//! and the one catalog of errors every layer returns. Nothing here does I/O.

pub mod account;
pub mod application;
pub mod audit;
pub mod cas;
pub mod claims;
pub mod console;
pub mod error;
pub mod fixtures;
pub mod id;
pub mod logout;
pub mod message;
pub mod organization;
pub mod page;
pub mod password_policy;
pub mod permission;
pub mod role;
pub mod saml;
pub mod second_factor;
pub mod secret;
pub mod sign_in;
pub mod signing;
pub mod sso;
pub mod test_mode;
pub mod time;
pub mod user;
pub mod user_api;
pub mod validate;

pub use error::{Error, ErrorKind, Result};
