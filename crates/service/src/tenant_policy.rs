//! A tenant-wide policy (the password policy, the MFA policy): set by configuration, changed
//! over HTTP and stored (JSON, one row) so that every node holds the same, and kept in memory
//! while no change was heard from other nodes.

use crate::use_case::ReadCase;
use crate::Service;
use roster_domain::time::Millis;
use roster_domain::{Error, Result};
use serde::de::DeserializeOwned;
use std::sync::{Arc, Mutex};

/// How long a node keeps a policy it read where it cannot hear other nodes' changes.
const POLICY_CACHE_MS: Millis = 10_000;
/// A tenant-wide policy as last read (the password policy, the MFA policy): kept while no
/// change was heard from other nodes, or for 10 s where none can be heard.
pub(crate) struct PolicyCache<T>(Mutex<Option<ReadPolicy<T>>>);

impl<T> Default for PolicyCache<T> {
    fn default() -> Self {
        Self(Mutex::new(None))
    }
}

/// A policy, when it was read, and the changes heard from other nodes then.
struct ReadPolicy<T> {
    at: Millis,
    heard: Option<u64>,
    policy: Arc<T>,
}

impl<T> PolicyCache<T> {
    pub(crate) fn get(&self, now: Millis, heard: Option<u64>) -> Option<Arc<T>> {
        let cached = self.0.lock().unwrap_or_else(|p| p.into_inner());
        cached
            .as_ref()
            .filter(|read| match heard {
                Some(_) => read.heard == heard,
                None => now.saturating_sub(read.at) < POLICY_CACHE_MS,
            })
            .map(|read| Arc::clone(&read.policy))
    }

    pub(crate) fn put(&self, at: Millis, heard: Option<u64>, policy: Arc<T>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(ReadPolicy { at, heard, policy });
    }

    pub(crate) fn clear(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

impl Service {
    /// The policy in force: the stored one (`read` gives its JSON), else `configured`.
    pub(crate) async fn policy_in_force<T, F>(
        &self,
        cache: &PolicyCache<T>,
        read: F,
        configured: &T,
        what: &str,
    ) -> Result<Arc<T>>
    where
        T: DeserializeOwned + Clone,
        F: for<'t> ReadCase<'t, (), Option<String>>,
    {
        let now = self.now();
        let heard = roster_store::Store::changes_heard(self.inner.store.as_ref());
        if let Some(policy) = cache.get(now, heard) {
            return Ok(policy);
        }
        let policy = match self.read(read, ()).await? {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| Error::internal(format!("the stored {what}: {e}")))?,
            None => configured.clone(),
        };
        let policy = Arc::new(policy);
        cache.put(now, heard, Arc::clone(&policy));
        Ok(policy)
    }
}
