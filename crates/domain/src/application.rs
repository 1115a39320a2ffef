//! Applications: the clients that call the management API with their own credentials.

use crate::permission::Permissions;
use crate::time::Millis;
use crate::{validate, Result};

/// An application's id.
pub type ApplicationId = crate::id::Id<Application>;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Application {
    pub id: ApplicationId,
    pub name: String,
    pub client_id: String,
    /// SHA-256 of the client secret; the secret itself is shown once and never stored.
    pub secret_digest: String,
    pub permissions: Permissions,
    pub disabled: bool,
    /// Moves on when the secret is rotated or the application disabled: tokens issued under
    /// an earlier generation are refused.
    pub token_generation: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

pub const MAX_NAME_CHARS: usize = 128;
/// Longest client id there can be; longer ones are refused (or not looked up) unread.
pub const MAX_CLIENT_ID_CHARS: usize = 128;

pub fn validate_name(name: Option<String>) -> Result<String> {
    validate::required("name", name, MAX_NAME_CHARS)
}

/// A client id chosen by the operator (bootstrap): printable ASCII without spaces.
pub fn validate_client_id(client_id: &str) -> Result<()> {
    let ok = (1..=MAX_CLIENT_ID_CHARS).contains(&client_id.len())
        && client_id.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(crate::Error::invalid(
            "client_id must be 1 to 128 printable ASCII characters without spaces.",
        ))
    }
}

/// A client secret chosen by the operator (bootstrap) must be hard to guess.
pub fn validate_client_secret(secret: &str) -> Result<()> {
    if secret.len() < 16 || secret.chars().any(char::is_control) {
        return Err(crate::Error::invalid(
            "client_secret must be at least 16 characters without control characters.",
        ));
    }
    Ok(())
}

/// An issued access token, stored by its key only ([`crate::secret::token_key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub key: String,
    pub application_id: ApplicationId,
    pub scope: String,
    pub expires_at: Millis,
    pub created_at: Millis,
    /// The application's token generation when the token was issued.
    pub generation: i64,
}
