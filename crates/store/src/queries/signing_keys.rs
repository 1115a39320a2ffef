//! The keys that sign id_tokens.

use crate::backend::Backend;
use crate::store_tx::StoreTx;
use crate::tx::SigningKeyTx;
use async_trait::async_trait;
use roster_domain::signing::SigningKey;
use roster_domain::time::Millis;
use roster_domain::{Error, Result};

#[async_trait]
impl<B: Backend> SigningKeyTx for StoreTx<'_, B> {
    async fn signing_keys(&mut self) -> Result<Vec<SigningKey>> {
        let rows: Vec<(String, String, i64, Option<i64>)> = self
            .fetch_all(
                "SELECT private_key, public_jwk, created_at, retired_at FROM signing_keys \
                 ORDER BY created_at DESC, kid",
                &[],
            )
            .await?;
        rows.into_iter()
            .map(|(sealed_private_key, jwk, created_at, retired_at)| {
                Ok(SigningKey {
                    public: serde_json::from_str(&jwk)
                        .map_err(|e| Error::internal(format!("stored public key: {e}")))?,
                    sealed_private_key,
                    created_at,
                    retired_at,
                })
            })
            .collect()
    }

    async fn insert_signing_key(&mut self, key: &SigningKey) -> Result<()> {
        let jwk = serde_json::to_string(&key.public)
            .map_err(|e| Error::internal(format!("public key as JSON: {e}")))?;
        self.execute(
            "INSERT INTO signing_keys (kid, private_key, public_jwk, created_at, retired_at) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &key.kid(),
                &key.sealed_private_key,
                &jwk,
                &key.created_at,
                &key.retired_at,
            ],
        )
        .await?;
        Ok(())
    }

    async fn set_sealed_signing_key(&mut self, kid: &str, sealed: &str) -> Result<()> {
        self.execute(
            "UPDATE signing_keys SET private_key = $1 WHERE kid = $2",
            &[&sealed, &kid],
        )
        .await?;
        Ok(())
    }

    async fn retire_signing_keys(&mut self, at: Millis) -> Result<u64> {
        self.execute(
            "UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL",
            &[&at],
        )
        .await
    }

    async fn delete_signing_keys_retired_before(&mut self, at: Millis) -> Result<u64> {
        self.execute("DELETE FROM signing_keys WHERE retired_at < $1", &[&at])
            .await
    }
}
