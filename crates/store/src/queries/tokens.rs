//! Access tokens.

use crate::backend::Backend;
use crate::inserts::Rows;
use crate::rows::TokenRow;
use crate::store_tx::StoreTx;
use crate::tx::TokenTx;
use async_trait::async_trait;
use roster_domain::application::{AccessToken, Application, ApplicationId};
use roster_domain::time::Millis;
use roster_domain::Result;

/// `tokens` as rows to insert (deferred to the end of a job, or of a group commit).
pub(crate) fn token_rows(tokens: &[AccessToken]) -> Rows<'_> {
    Rows::new(
        "access_tokens (lookup_key, application_id, scope, expires_at, created_at, generation)",
        tokens,
        |t| {
            [
                &t.key,
                &t.application_id,
                &t.scope,
                &t.expires_at,
                &t.created_at,
                &t.generation,
            ]
        },
    )
}

#[async_trait]
impl<B: Backend> TokenTx for StoreTx<'_, B> {
    async fn token(
        &mut self,
        key: &str,
        key_before_0009: &str,
    ) -> Result<Option<(AccessToken, Application)>> {
        let row: Option<TokenRow> = self
            .fetch_optional(
                "SELECT t.lookup_key, t.application_id, t.scope, t.expires_at, \
                 t.created_at AS token_created_at, t.generation, a.name, a.client_id, \
                 a.secret_digest, a.permissions, a.disabled, a.token_generation, \
                 a.created_at, a.updated_at \
                 FROM access_tokens t JOIN applications a ON a.id = t.application_id \
                 WHERE t.lookup_key IN ($1, $2)",
                &[&key, &key_before_0009],
            )
            .await?;
        row.map(TokenRow::into_domain).transpose()
    }

    async fn delete_tokens_expired_before(&mut self, at: Millis) -> Result<u64> {
        self.execute("DELETE FROM access_tokens WHERE expires_at < $1", &[&at])
            .await
    }

    async fn delete_tokens_of_application(
        &mut self,
        application_id: &ApplicationId,
    ) -> Result<u64> {
        self.execute(
            "DELETE FROM access_tokens WHERE application_id = $1",
            &[&application_id],
        )
        .await
    }

    async fn announce_change(&mut self) -> Result<()> {
        if let Some(sql) = B::ANNOUNCE_CHANGE {
            self.execute(sql, &[]).await?;
        }
        Ok(())
    }
}
