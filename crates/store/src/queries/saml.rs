//! SAML: the request IDs answered, so that a request is answered once on any node.

use crate::backend::Backend;
use crate::store_tx::StoreTx;
use crate::tx::SamlTx;
use async_trait::async_trait;
use roster_domain::saml::SpentRequest;
use roster_domain::time::Millis;
use roster_domain::Result;

#[async_trait]
impl<B: Backend> SamlTx for StoreTx<'_, B> {
    async fn spend_saml_request(&mut self, spent: &SpentRequest) -> Result<bool> {
        let inserted = self
            .execute(
                "INSERT INTO saml_requests (application_id, request_id, expires_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (application_id, request_id) DO NOTHING",
                &[&spent.application_id, &spent.request_id, &spent.expires_at],
            )
            .await?;
        Ok(inserted == 1)
    }

    async fn delete_saml_requests_expired_before(&mut self, at: Millis) -> Result<u64> {
        self.execute("DELETE FROM saml_requests WHERE expires_at < $1", &[&at])
            .await
    }
}
