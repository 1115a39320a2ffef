//! Access tokens of the sign-in endpoints.

use crate::backend::Backend;
use crate::inserts::Rows;
use crate::queries::APPLICATION_COLUMNS;
use crate::rows::SsoTokenAppRow;
use crate::store_tx::StoreTx;
use crate::tx::{SsoTokenTx, TokenTx};
use async_trait::async_trait;
use roster_domain::application::{Application, ApplicationId};
use roster_domain::id::Id;
use roster_domain::sso::{SsoAccessToken, SsoSettings};
use roster_domain::time::Millis;
use roster_domain::Result;

/// `tokens` as rows to insert.
pub(crate) fn sso_token_rows(tokens: &[SsoAccessToken]) -> Rows<'_> {
    Rows::new(
        "sso_tokens (digest, application_id, user_id, scope, expires_at, created_at, \
         generation, grant_id)",
        tokens,
        |t| {
            [
                &t.digest,
                &t.application_id,
                &t.user_id,
                &t.scope,
                &t.expires_at,
                &t.created_at,
                &t.generation,
                &t.grant_id,
            ]
        },
    )
}

#[async_trait]
impl<B: Backend> SsoTokenTx for StoreTx<'_, B> {
    async fn insert_sso_token(&mut self, token: &SsoAccessToken) -> Result<()> {
        // Written with the job's other deferred writes, at its end.
        self.pending.rows.sso_tokens.push(token.clone());
        Ok(())
    }

    async fn sso_token(
        &mut self,
        digest: &str,
    ) -> Result<Option<(SsoAccessToken, Application, Option<SsoSettings>)>> {
        let app_columns = APPLICATION_COLUMNS
            .split(", ")
            .map(|c| format!("a.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT t.digest AS t_digest, t.user_id AS t_user_id, \
             t.scope AS t_scope, t.expires_at AS t_expires_at, \
             t.created_at AS t_created_at, t.generation AS t_generation, \
             t.grant_id AS t_grant_id, {app_columns}, \
             (SELECT settings FROM app_sso WHERE app_sso.application_id = a.id) AS sso_settings \
             FROM sso_tokens t JOIN applications a ON a.id = t.application_id \
             WHERE t.digest = $1"
        );
        let row: Option<SsoTokenAppRow> = self.fetch_optional(&sql, &[&digest]).await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let token = SsoAccessToken {
            digest: row.t_digest,
            application_id: Id::new(row.app.app.id.clone()),
            user_id: row.t_user_id.map(Id::new),
            scope: row.t_scope,
            expires_at: row.t_expires_at,
            created_at: row.t_created_at,
            generation: row.t_generation,
            grant_id: row.t_grant_id,
        };
        let (app, settings) = row.app.into_domain()?;
        Ok(Some((token, app, settings)))
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
        if deleted > 0 {
            self.announce_change().await?;
        }
        Ok(deleted > 0)
    }

    async fn delete_sso_tokens_expired_before(&mut self, at: Millis) -> Result<u64> {
        self.execute("DELETE FROM sso_tokens WHERE expires_at < $1", &[&at])
            .await
    }
}
