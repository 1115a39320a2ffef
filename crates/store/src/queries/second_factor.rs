//! The MFA policy and the SMS codes sent and not yet used.

use crate::backend::Backend;
use crate::rows::VerifyCodeRow;
use crate::store_tx::StoreTx;
use crate::tx::SecondFactorTx;
use async_trait::async_trait;
use roster_domain::second_factor::{CodePurpose, VerifyCode};
use roster_domain::time::Millis;
use roster_domain::Result;
use std::sync::LazyLock;

#[async_trait]
impl<B: Backend> SecondFactorTx for StoreTx<'_, B> {
    async fn mfa_policy(&mut self) -> Result<Option<String>> {
        let row: Option<(String,)> = self
            .fetch_optional("SELECT policy FROM mfa_policy WHERE id = 1", &[])
            .await?;
        Ok(row.map(|(policy,)| policy))
    }

    async fn put_mfa_policy(&mut self, policy: &str, at: Millis) -> Result<()> {
        self.execute(
            "INSERT INTO mfa_policy (id, policy, updated_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET policy = $1, updated_at = $2",
            &[&policy, &at],
        )
        .await?;
        Ok(())
    }

    async fn put_verify_code(&mut self, code: &VerifyCode, resend_after: Millis) -> Result<bool> {
        // One statement, so that two nodes sending at once store one code, not two.
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "{} ON CONFLICT (mobile_key, purpose) DO UPDATE SET code_digest = $3, \
                 sent_at = $4, expires_at = $5, tries_left = $6 \
                 WHERE verify_codes.sent_at <= $7 OR verify_codes.expires_at <= $4",
                VerifyCodeRow::insert_sql("verify_codes")
            )
        });
        let row = VerifyCodeRow::of(code);
        let [a, b, c, d, e, f] = row.values();
        let stored = self
            .execute(&SQL, &[a, b, c, d, e, f, &resend_after])
            .await?;
        Ok(stored == 1)
    }

    async fn verify_code_sent_at(
        &mut self,
        mobile_key: &str,
        purpose: CodePurpose,
    ) -> Result<Option<Millis>> {
        let row: Option<(i64,)> = self
            .fetch_optional(
                "SELECT sent_at FROM verify_codes WHERE mobile_key = $1 AND purpose = $2",
                &[&mobile_key, &purpose.as_str()],
            )
            .await?;
        Ok(row.map(|(at,)| at))
    }

    async fn try_verify_code(
        &mut self,
        mobile_key: &str,
        purpose: CodePurpose,
        now: Millis,
    ) -> Result<Option<VerifyCode>> {
        // The try is spent before the code is compared: concurrent guesses each spend one.
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "UPDATE verify_codes SET tries_left = tries_left - 1 \
                 WHERE mobile_key = $1 AND purpose = $2 AND tries_left > 0 AND expires_at > $3 \
                 RETURNING {}",
                VerifyCodeRow::COLUMNS
            )
        });
        let row: Option<VerifyCodeRow> = self
            .fetch_optional(&SQL, &[&mobile_key, &purpose.as_str(), &now])
            .await?;
        row.map(VerifyCodeRow::into_domain).transpose()
    }

    async fn delete_verify_code(
        &mut self,
        mobile_key: &str,
        purpose: CodePurpose,
        code_digest: &str,
    ) -> Result<bool> {
        let deleted = self
            .execute(
                "DELETE FROM verify_codes \
                 WHERE mobile_key = $1 AND purpose = $2 AND code_digest = $3",
                &[&mobile_key, &purpose.as_str(), &code_digest],
            )
            .await?;
        Ok(deleted == 1)
    }

    async fn delete_verify_codes_expired_before(&mut self, at: Millis) -> Result<u64> {
        self.execute("DELETE FROM verify_codes WHERE expires_at < $1", &[&at])
            .await
    }
}
