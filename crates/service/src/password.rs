//! User passwords: Argon2id, stored as PHC strings (so parameters can be raised later and old
//! hashes still verify). Hashing takes tens of milliseconds of CPU on purpose, so it runs on
//! the blocking pool with at most one hash per core at a time.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use roster_domain::{Error, Result};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Argon2id cost parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Argon2Settings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Allows parameters below the recommended minimum. Only for tests, where hashing
    /// cost is wasted time; never for a directory holding real passwords.
    pub allow_weak: bool,
}

/// The recommended minimum (OWASP): 19 MiB and 2 iterations.
pub const MIN_MEMORY_KIB: u32 = 19 * 1024;
pub const MIN_ITERATIONS: u32 = 2;

impl Default for Argon2Settings {
    /// OWASP's recommended minimum for Argon2id: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: MIN_MEMORY_KIB,
            iterations: MIN_ITERATIONS,
            parallelism: 1,
            allow_weak: false,
        }
    }
}

pub(crate) struct Hasher {
    params: Params,
    permits: Arc<Semaphore>,
}

impl Hasher {
    pub fn new(settings: &Argon2Settings) -> Result<Self> {
        let weak = settings.memory_kib < MIN_MEMORY_KIB || settings.iterations < MIN_ITERATIONS;
        if weak && !settings.allow_weak {
            return Err(Error::invalid(format!(
                "argon2 parameters below {MIN_MEMORY_KIB} KiB and {MIN_ITERATIONS} iterations \
                 are allowed only with allow_weak (ROSTER_ARGON2_ALLOW_WEAK=true), for tests."
            )));
        }
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|e| Error::invalid(format!("argon2 parameters are not valid: {e}")))?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(cores)),
        })
    }

    pub async fn hash(&self, password: String) -> Result<String> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::internal("password hasher closed"))?;
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| Error::internal(format!("argon2: {e}")))
        })
        .await
        .map_err(|e| Error::internal(format!("password hashing task: {e}")))?
    }

    /// Whether `password` matches the PHC string `phc` (with the parameters stored in it).
    pub async fn verify(&self, password: String, phc: String) -> Result<bool> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::internal("password hasher closed"))?;
        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&phc)
                .map_err(|e| Error::internal(format!("stored password hash: {e}")))?;
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await
        .map_err(|e| Error::internal(format!("password verification task: {e}")))?
    }
}
