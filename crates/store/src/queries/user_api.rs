//! The user APIs: session tokens, state tokens, SSO tickets, signature keys and nonces.

use crate::backend::Backend;
use crate::rows::{SsoTicketRow, StateTokenRow, UserApiKeyRow, UserApiSessionRow};
use crate::store_tx::StoreTx;
use crate::tx::UserApiTx;
use async_trait::async_trait;
use roster_domain::application::ApplicationId;
use roster_domain::time::Millis;
use roster_domain::user_api::{SsoTicket, StateToken, UserApiSession};
use roster_domain::Result;
use std::sync::LazyLock;

#[async_trait]
impl<B: Backend> UserApiTx for StoreTx<'_, B> {
    async fn user_api_key(
        &mut self,
        application_id: &ApplicationId,
    ) -> Result<Option<(String, String)>> {
        let row: Option<UserApiKeyRow> = self
            .fetch_optional(
                "SELECT public_key, sealed_private_key FROM user_api_keys \
                 WHERE application_id = $1",
                &[application_id],
            )
            .await?;
        Ok(row.map(|r| (r.public_key, r.sealed_private_key)))
    }

    async fn insert_user_api_key_if_absent(
        &mut self,
        application_id: &ApplicationId,
        public_key: &str,
        sealed_private_key: &str,
        at: Millis,
    ) -> Result<bool> {
        let stored = self
            .execute(
                "INSERT INTO user_api_keys \
                 (application_id, public_key, sealed_private_key, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (application_id) DO NOTHING",
                &[application_id, &public_key, &sealed_private_key, &at],
            )
            .await?;
        Ok(stored == 1)
    }

    async fn insert_user_api_session(&mut self, s: &UserApiSession) -> Result<()> {
        static SQL: LazyLock<String> =
            LazyLock::new(|| UserApiSessionRow::insert_sql("user_api_sessions"));
        let row = UserApiSessionRow::of(s);
        self.execute(&SQL, &row.values()).await?;
        Ok(())
    }

    async fn user_api_session(&mut self, digest: &str) -> Result<Option<UserApiSession>> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT {} FROM user_api_sessions WHERE digest = $1",
                UserApiSessionRow::COLUMNS
            )
        });
        let row: Option<UserApiSessionRow> = self.fetch_optional(&SQL, &[&digest]).await?;
        Ok(row.map(UserApiSessionRow::into_domain))
    }

    async fn delete_user_api_session(&mut self, digest: &str) -> Result<bool> {
        let deleted = self
            .execute(
                "DELETE FROM user_api_sessions WHERE digest = $1",
                &[&digest],
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn insert_state_token(&mut self, t: &StateToken) -> Result<()> {
        static SQL: LazyLock<String> =
            LazyLock::new(|| StateTokenRow::insert_sql("user_api_state_tokens"));
        let row = StateTokenRow::of(t);
        self.execute(&SQL, &row.values()).await?;
        Ok(())
    }

    async fn state_token(&mut self, digest: &str) -> Result<Option<StateToken>> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT {} FROM user_api_state_tokens WHERE digest = $1",
                StateTokenRow::COLUMNS
            )
        });
        let row: Option<StateTokenRow> = self.fetch_optional(&SQL, &[&digest]).await?;
        row.map(StateTokenRow::into_domain).transpose()
    }

    async fn delete_state_token(&mut self, digest: &str) -> Result<bool> {
        let deleted = self
            .execute(
                "DELETE FROM user_api_state_tokens WHERE digest = $1",
                &[&digest],
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn spend_nonce(
        &mut self,
        application_id: &ApplicationId,
        nonce_digest: &str,
        expires_at: Millis,
    ) -> Result<bool> {
        // One statement: two nodes spending the same nonce at once cannot both insert it.
        let spent = self
            .execute(
                "INSERT INTO user_api_nonces (application_id, nonce_digest, expires_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (application_id, nonce_digest) DO NOTHING",
                &[application_id, &nonce_digest, &expires_at],
            )
            .await?;
        Ok(spent == 1)
    }

    async fn insert_sso_ticket(&mut self, t: &SsoTicket) -> Result<()> {
        static SQL: LazyLock<String> = LazyLock::new(|| SsoTicketRow::insert_sql("sso_tickets"));
        let row = SsoTicketRow::of(t);
        self.execute(&SQL, &row.values()).await?;
        Ok(())
    }

    async fn take_sso_ticket(&mut self, digest: &str) -> Result<Option<SsoTicket>> {
        // Deleted and read in one statement: of two redemptions at once, one gets the row.
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "DELETE FROM sso_tickets WHERE digest = $1 RETURNING {}",
                SsoTicketRow::COLUMNS
            )
        });
        let row: Option<SsoTicketRow> = self.fetch_optional(&SQL, &[&digest]).await?;
        Ok(row.map(SsoTicketRow::into_domain))
    }

    async fn delete_user_api_expired_before(&mut self, at: Millis) -> Result<u64> {
        let mut deleted = 0;
        for table in [
            "user_api_sessions",
            "user_api_state_tokens",
            "user_api_nonces",
            "sso_tickets",
        ] {
            deleted += self
                .execute(
                    &format!("DELETE FROM {table} WHERE expires_at < $1"),
                    &[&at],
                )
                .await?;
        }
        Ok(deleted)
    }

    async fn sealed_user_api_keys(&mut self) -> Result<Vec<(ApplicationId, String)>> {
        let rows: Vec<(String, String)> = self
            .fetch_all(
                "SELECT application_id, sealed_private_key FROM user_api_keys \
                 ORDER BY application_id",
                &[],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, sealed)| (ApplicationId::new(id), sealed))
            .collect())
    }

    async fn set_sealed_user_api_key(
        &mut self,
        application_id: &ApplicationId,
        sealed: &str,
    ) -> Result<()> {
        self.execute(
            "UPDATE user_api_keys SET sealed_private_key = $2 WHERE application_id = $1",
            &[application_id, &sealed],
        )
        .await?;
        Ok(())
    }
}
