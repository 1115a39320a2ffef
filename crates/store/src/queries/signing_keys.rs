//! The keys that sign id_tokens.

use crate::backend::Backend;
use crate::rows::SigningKeyRow;
use crate::store_tx::StoreTx;
use crate::tx::SigningKeyTx;
use async_trait::async_trait;
use roster_domain::signing::SigningKey;
use roster_domain::time::Millis;
use roster_domain::Result;
use std::sync::LazyLock;

#[async_trait]
impl<B: Backend> SigningKeyTx for StoreTx<'_, B> {
    async fn signing_keys(&mut self) -> Result<Vec<SigningKey>> {
        let sql = format!(
            "SELECT {} FROM signing_keys ORDER BY created_at DESC, kid",
            SigningKeyRow::COLUMNS
        );
        let rows: Vec<SigningKeyRow> = self.fetch_all(&sql, &[]).await?;
        rows.into_iter().map(SigningKeyRow::into_domain).collect()
    }

    async fn insert_signing_key(&mut self, key: &SigningKey) -> Result<()> {
        static SQL: LazyLock<String> = LazyLock::new(|| SigningKeyRow::insert_sql("signing_keys"));
        let row = SigningKeyRow::of(key)?;
        self.execute(&SQL, &row.values()).await?;
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
            "UPDATE signing_keys SET retired_at = $1 \
             WHERE retired_at IS NULL AND NOT staged",
            &[&at],
        )
        .await
    }

    async fn activate_signing_key(&mut self, kid: &str) -> Result<u64> {
        self.execute(
            "UPDATE signing_keys SET staged = FALSE WHERE kid = $1 AND staged",
            &[&kid],
        )
        .await
    }

    async fn delete_staged_signing_keys(&mut self) -> Result<u64> {
        self.execute(
            "DELETE FROM signing_keys WHERE staged AND retired_at IS NULL",
            &[],
        )
        .await
    }

    async fn delete_signing_keys_retired_before(&mut self, at: Millis) -> Result<u64> {
        self.execute("DELETE FROM signing_keys WHERE retired_at < $1", &[&at])
            .await
    }
}
