//! Access tokens of the sign-in endpoints.

use crate::backend::Backend;
use crate::queries::APPLICATION_COLUMNS;
use crate::rows::ApplicationRow;
use crate::store_tx::StoreTx;
use crate::tx::SsoTokenTx;
use async_trait::async_trait;
use roster_domain::application::{Application, ApplicationId};
use roster_domain::id::Id;
use roster_domain::sso::SsoAccessToken;
use roster_domain::time::Millis;
use roster_domain::Result;

/// A token's own columns, as read.
type TokenColumns = (
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
    i64,
    Option<String>,
);

#[async_trait]
impl<B: Backend> SsoTokenTx for StoreTx<'_, B> {
    async fn insert_sso_token(&mut self, t: &SsoAccessToken) -> Result<()> {
        self.execute(
            "INSERT INTO sso_tokens (digest, application_id, user_id, scope, expires_at, \
             created_at, generation, grant_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &t.digest,
                &t.application_id,
                &t.user_id,
                &t.scope,
                &t.expires_at,
                &t.created_at,
                &t.generation,
                &t.grant_id,
            ],
        )
        .await?;
        Ok(())
    }

    async fn sso_token(&mut self, digest: &str) -> Result<Option<(SsoAccessToken, Application)>> {
        let token: Option<TokenColumns> = self
            .fetch_optional(
                "SELECT digest, application_id, user_id, scope, expires_at, created_at, \
                 generation, grant_id FROM sso_tokens WHERE digest = $1",
                &[&digest],
            )
            .await?;
        let Some((
            digest,
            application_id,
            user_id,
            scope,
            expires_at,
            created_at,
            generation,
            grant_id,
        )) = token
        else {
            return Ok(None);
        };
        let sql = format!("SELECT {APPLICATION_COLUMNS} FROM applications WHERE id = $1");
        let app: Option<ApplicationRow> = self.fetch_optional(&sql, &[&application_id]).await?;
        let Some(app) = app else {
            return Ok(None);
        };
        let token = SsoAccessToken {
            digest,
            application_id: Id::new(application_id),
            user_id: user_id.map(Id::new),
            scope,
            expires_at,
            created_at,
            generation,
            grant_id,
        };
        Ok(Some((token, app.into_domain()?)))
    }

    async fn delete_sso_token(
        &mut self,
        application_id: &ApplicationId,
        digest: &str,
    ) -> Result<bool> {
        let deleted = self
            .execute(
                "DELETE FROM sso_tokens WHERE digest = $1 AND application_id = $2",
                &[&digest, application_id],
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn delete_sso_tokens_expired_before(&mut self, at: Millis) -> Result<u64> {
        self.execute("DELETE FROM sso_tokens WHERE expires_at < $1", &[&at])
            .await
    }
}
