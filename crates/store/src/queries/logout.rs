//! The applications a session signed in to, and the back-channel logout outbox.

use crate::backend::Backend;
use crate::rows::{LogoutDeliveryRow, ParticipantRow};
use crate::store_tx::StoreTx;
use crate::tx::LogoutTx;
use async_trait::async_trait;
use roster_domain::logout::{LogoutDelivery, Participant};
use roster_domain::time::Millis;
use roster_domain::Result;
use std::sync::LazyLock;

#[async_trait]
impl<B: Backend> LogoutTx for StoreTx<'_, B> {
    async fn add_participant(&mut self, p: &Participant) -> Result<()> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "{} ON CONFLICT (sid, application_id, reference) DO NOTHING",
                ParticipantRow::insert_sql("session_participants")
            )
        });
        let row = ParticipantRow::of(p);
        self.execute(&SQL, &row.values()).await?;
        Ok(())
    }

    async fn participants(&mut self, sid: &str) -> Result<Vec<Participant>> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT {} FROM session_participants WHERE sid = $1 \
                 ORDER BY created_at, application_id, reference",
                ParticipantRow::COLUMNS
            )
        });
        let rows: Vec<ParticipantRow> = self.fetch_all(&SQL, &[&sid]).await?;
        rows.into_iter().map(ParticipantRow::into_domain).collect()
    }

    async fn delete_participants(&mut self, sid: &str) -> Result<u64> {
        self.execute("DELETE FROM session_participants WHERE sid = $1", &[&sid])
            .await
    }

    async fn insert_logout_delivery(&mut self, d: &LogoutDelivery) -> Result<()> {
        static SQL: LazyLock<String> =
            LazyLock::new(|| LogoutDeliveryRow::insert_sql("logout_deliveries"));
        let row = LogoutDeliveryRow::of(d);
        self.execute(&SQL, &row.values()).await?;
        Ok(())
    }

    async fn due_logout_deliveries(
        &mut self,
        now: Millis,
        limit: i64,
    ) -> Result<Vec<LogoutDelivery>> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT {} FROM logout_deliveries WHERE status = 'pending' \
                 AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
                LogoutDeliveryRow::COLUMNS
            )
        });
        let rows: Vec<LogoutDeliveryRow> = self.fetch_all(&SQL, &[&now, &limit]).await?;
        rows.into_iter()
            .map(LogoutDeliveryRow::into_domain)
            .collect()
    }

    async fn claim_logout_delivery(
        &mut self,
        d: &LogoutDelivery,
        lease_until: Millis,
    ) -> Result<bool> {
        let claimed = self
            .execute(
                "UPDATE logout_deliveries SET next_attempt_at = $2 \
                 WHERE id = $1 AND status = 'pending' AND next_attempt_at = $3",
                &[&d.id, &lease_until, &d.next_attempt_at],
            )
            .await?;
        Ok(claimed == 1)
    }

    async fn record_logout_delivery(&mut self, d: &LogoutDelivery) -> Result<()> {
        self.execute(
            "UPDATE logout_deliveries SET status = $2, attempts = $3, next_attempt_at = $4, \
             last_error = $5, delivered_at = $6 WHERE id = $1",
            &[
                &d.id,
                &d.status.as_str(),
                &d.attempts,
                &d.next_attempt_at,
                &d.last_error,
                &d.delivered_at,
            ],
        )
        .await?;
        Ok(())
    }

    async fn delete_logout_expired_before(
        &mut self,
        at: Millis,
        done_before: Millis,
    ) -> Result<u64> {
        let participants = self
            .execute(
                "DELETE FROM session_participants WHERE expires_at < $1",
                &[&at],
            )
            .await?;
        let deliveries = self
            .execute(
                "DELETE FROM logout_deliveries WHERE status <> 'pending' AND created_at < $1",
                &[&done_before],
            )
            .await?;
        Ok(participants + deliveries)
    }
}
