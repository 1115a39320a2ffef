//! CAS: service tickets, and the applications that sign in with CAS.

use crate::backend::Backend;
use crate::queries::APPLICATION_COLUMNS;
use crate::rows::{ApplicationSsoRow, CasTicketRow};
use crate::store_tx::StoreTx;
use crate::tx::CasTx;
use async_trait::async_trait;
use roster_domain::application::Application;
use roster_domain::cas::ServiceTicket;
use roster_domain::sso::{Protocol, SsoSettings};
use roster_domain::time::Millis;
use roster_domain::Result;
use std::sync::LazyLock;

#[async_trait]
impl<B: Backend> CasTx for StoreTx<'_, B> {
    async fn cas_applications(&mut self) -> Result<Vec<(Application, SsoSettings)>> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT {APPLICATION_COLUMNS}, (SELECT settings FROM app_sso \
                 WHERE app_sso.application_id = applications.id) AS sso_settings \
                 FROM applications WHERE id IN (SELECT application_id FROM app_sso) ORDER BY id"
            )
        });
        let rows: Vec<ApplicationSsoRow> = self.fetch_all(&SQL, &[]).await?;
        let mut cas = Vec::new();
        for row in rows {
            if let (app, Some(settings)) = row.into_domain()? {
                if settings.protocol == Protocol::Cas {
                    cas.push((app, settings));
                }
            }
        }
        Ok(cas)
    }

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
