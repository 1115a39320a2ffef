//! Messages sent, as the senders keep and deliver them.

use crate::backend::Backend;
use crate::rows::MessageRow;
use crate::store_tx::StoreTx;
use crate::tx::MessageTx;
use async_trait::async_trait;
use roster_domain::message::Message;
use roster_domain::time::Millis;
use roster_domain::Result;
use std::sync::LazyLock;

#[async_trait]
impl<B: Backend> MessageTx for StoreTx<'_, B> {
    async fn insert_message(&mut self, message: &Message, recipient_key: &str) -> Result<()> {
        static SQL: LazyLock<String> = LazyLock::new(|| MessageRow::insert_sql("messages"));
        let row = MessageRow::of(message, recipient_key);
        self.execute(&SQL, &row.values()).await?;
        Ok(())
    }

    async fn messages(&mut self, recipient_key: Option<&str>, limit: i64) -> Result<Vec<Message>> {
        static ALL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT {} FROM messages ORDER BY created_at DESC, id DESC LIMIT $1",
                MessageRow::COLUMNS
            )
        });
        static TO: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT {} FROM messages WHERE recipient_key = $2 \
                 ORDER BY created_at DESC, id DESC LIMIT $1",
                MessageRow::COLUMNS
            )
        });
        let rows: Vec<MessageRow> = match recipient_key {
            Some(key) => self.fetch_all(&TO, &[&limit, &key]).await?,
            None => self.fetch_all(&ALL, &[&limit]).await?,
        };
        rows.into_iter().map(MessageRow::into_domain).collect()
    }

    async fn count_messages_to(&mut self, recipient_key: &str, since: Millis) -> Result<i64> {
        let (n,): (i64,) = self
            .fetch_optional(
                "SELECT count(*) FROM messages WHERE recipient_key = $1 AND created_at > $2",
                &[&recipient_key, &since],
            )
            .await?
            .unwrap_or_default();
        Ok(n)
    }

    async fn count_messages_from(&mut self, address: &str, since: Millis) -> Result<i64> {
        let (n,): (i64,) = self
            .fetch_optional(
                "SELECT count(*) FROM messages WHERE requested_from = $1 AND created_at > $2",
                &[&address, &since],
            )
            .await?
            .unwrap_or_default();
        Ok(n)
    }

    async fn first_message_to_since(
        &mut self,
        recipient_key: &str,
        since: Millis,
    ) -> Result<Option<Millis>> {
        let row: Option<(Option<i64>,)> = self
            .fetch_optional(
                "SELECT min(created_at) FROM messages \
                 WHERE recipient_key = $1 AND created_at > $2",
                &[&recipient_key, &since],
            )
            .await?;
        Ok(row.and_then(|(at,)| at))
    }

    async fn due_messages(&mut self, now: Millis, limit: i64) -> Result<Vec<Message>> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT {} FROM messages WHERE status = 'pending' AND next_attempt_at <= $1 \
                 ORDER BY next_attempt_at, id LIMIT $2",
                MessageRow::COLUMNS
            )
        });
        let rows: Vec<MessageRow> = self.fetch_all(&SQL, &[&now, &limit]).await?;
        rows.into_iter().map(MessageRow::into_domain).collect()
    }

    async fn claim_message(&mut self, message: &Message, lease_until: Millis) -> Result<bool> {
        let claimed = self
            .execute(
                "UPDATE messages SET next_attempt_at = $2 \
                 WHERE id = $1 AND status = 'pending' AND next_attempt_at = $3",
                &[&message.id, &lease_until, &message.next_attempt_at],
            )
            .await?;
        Ok(claimed == 1)
    }

    async fn record_delivery(&mut self, m: &Message) -> Result<()> {
        self.execute(
            "UPDATE messages SET status = $2, attempts = $3, next_attempt_at = $4, \
             last_error = $5, delivered_at = $6 WHERE id = $1",
            &[
                &m.id,
                &m.status.as_str(),
                &m.attempts,
                &m.next_attempt_at,
                &m.last_error,
                &m.delivered_at,
            ],
        )
        .await?;
        Ok(())
    }

    async fn delete_messages_before(&mut self, at: Millis) -> Result<u64> {
        self.execute("DELETE FROM messages WHERE created_at < $1", &[&at])
            .await
    }
}
