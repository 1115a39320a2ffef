//! The login form's anti-forgery token: a random nonce and the server's MAC of it, so that
//! only a token this server issued (on any node: the key comes from the secret key) is taken.
//! A value planted in the browser's cookie by someone else is refused.

use crate::secrets::SecretKey;
use crate::Service;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Makes and checks form tokens.
pub(crate) struct FormTokens {
    key: [u8; 32],
}

impl FormTokens {
    /// Keyed by `secret_key` (the same on every node), or by a random key of this process
    /// when there is none.
    pub(crate) fn new(secret_key: Option<&SecretKey>) -> Self {
        let material = match secret_key {
            Some(key) => key.derive("roster login form token"),
            None => {
                let mut random = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut random);
                random
            }
        };
        Self { key: material }
    }

    fn mac(&self, nonce: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(nonce.as_bytes());
        mac
    }

    fn issue(&self) -> String {
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let nonce = hex::encode(nonce);
        let tag = self.mac(&nonce).finalize().into_bytes();
        format!("{nonce}.{}", hex::encode(tag))
    }

    /// A token bound to `value` (e.g. a session): only who holds the value can make it.
    pub(crate) fn bind(&self, value: &str) -> String {
        hex::encode(self.mac(value).finalize().into_bytes())
    }

    fn issued(&self, token: &str) -> bool {
        let Some((nonce, tag)) = token.split_once('.') else {
            return false;
        };
        let Ok(tag) = hex::decode(tag) else {
            return false;
        };
        nonce.len() == 32 && self.mac(nonce).verify_slice(&tag).is_ok()
    }
}

impl Service {
    /// A new token for the login form (and its cookie).
    pub fn login_form_token(&self) -> String {
        self.inner.sign_in.form_tokens.issue()
    }

    /// Whether `token` is one this server issued.
    pub fn login_form_token_issued(&self, token: &str) -> bool {
        self.inner.sign_in.form_tokens.issued(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_issued_tokens_are_taken() {
        let tokens = FormTokens::new(None);
        let token = tokens.issue();
        assert!(tokens.issued(&token));
        assert!(!tokens.issued(&"0".repeat(64)));
        // One hex digit of the MAC changed (to another digit, whatever it was).
        let last = if token.ends_with('0') { '1' } else { '0' };
        assert!(!tokens.issued(&format!("{}{last}", &token[..token.len() - 1])));
        // Another server's key: not ours.
        assert!(!FormTokens::new(None).issued(&token));
    }
}
