//! The password policy and users' recent passwords.

use crate::backend::Backend;
use crate::store_tx::StoreTx;
use crate::tx::PasswordPolicyTx;
use async_trait::async_trait;
use roster_domain::time::Millis;
use roster_domain::user::UserId;
use roster_domain::Result;

#[async_trait]
impl<B: Backend> PasswordPolicyTx for StoreTx<'_, B> {
    async fn password_policy(&mut self) -> Result<Option<String>> {
        let row: Option<(String,)> = self
            .fetch_optional("SELECT policy FROM password_policy WHERE id = 1", &[])
            .await?;
        Ok(row.map(|(policy,)| policy))
    }

    async fn put_password_policy(&mut self, policy: &str, at: Millis) -> Result<()> {
        self.execute(
            "INSERT INTO password_policy (id, policy, updated_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET policy = $1, updated_at = $2",
            &[&policy, &at],
        )
        .await?;
        Ok(())
    }

    async fn password_history(&mut self, user_id: &UserId, limit: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = self
            .fetch_all(
                "SELECT password_hash FROM password_history WHERE user_id = $1 \
                 ORDER BY changed_at DESC LIMIT $2",
                &[user_id, &limit],
            )
            .await?;
        Ok(rows.into_iter().map(|(hash,)| hash).collect())
    }

    async fn add_password_history(
        &mut self,
        user_id: &UserId,
        password_hash: &str,
        at: Millis,
        keep: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO password_history (user_id, password_hash, changed_at) \
             VALUES ($1, $2, $3)",
            &[user_id, &password_hash, &at],
        )
        .await?;
        // Older than the newest `keep`: no policy can ask for them.
        self.execute(
            "DELETE FROM password_history WHERE user_id = $1 AND changed_at < (\
             SELECT min(changed_at) FROM (SELECT changed_at FROM password_history \
             WHERE user_id = $1 ORDER BY changed_at DESC LIMIT $2) AS newest)",
            &[user_id, &keep],
        )
        .await?;
        Ok(())
    }
}
