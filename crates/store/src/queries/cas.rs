//! CAS: service tickets.

use crate::backend::Backend;
use crate::rows::CasTicketRow;
use crate::store_tx::StoreTx;
use crate::tx::CasTx;
use async_trait::async_trait;
use roster_domain::cas::ServiceTicket;
use roster_domain::time::Millis;
use roster_domain::Result;
use std::sync::LazyLock;

#[async_trait]
impl<B: Backend> CasTx for StoreTx<'_, B> {
    async fn insert_service_ticket(&mut self, ticket: &ServiceTicket) -> Result<()> {
        static SQL: LazyLock<String> = LazyLock::new(|| CasTicketRow::insert_sql("cas_tickets"));
        let row = CasTicketRow::of(ticket);
        self.execute(&SQL, &row.values()).await?;
        Ok(())
    }

    async fn take_service_ticket(&mut self, digest: &str) -> Result<Option<ServiceTicket>> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "DELETE FROM cas_tickets WHERE digest = $1 RETURNING {}",
                CasTicketRow::COLUMNS
            )
        });
        let row: Option<CasTicketRow> = self.fetch_optional(&SQL, &[&digest]).await?;
        Ok(row.map(CasTicketRow::into_domain))
    }

    async fn delete_cas_expired_before(&mut self, at: Millis) -> Result<u64> {
        self.execute("DELETE FROM cas_tickets WHERE expires_at < $1", &[&at])
            .await
    }
}
