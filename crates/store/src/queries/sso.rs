//! Applications' sign-in settings, one JSON document per application.

use crate::backend::Backend;
use crate::store_tx::StoreTx;
use crate::tx::SsoTx;
use async_trait::async_trait;
use roster_domain::application::ApplicationId;
use roster_domain::sso::SsoSettings;
use roster_domain::time::Millis;
use roster_domain::{Error, Result};

#[async_trait]
impl<B: Backend> SsoTx for StoreTx<'_, B> {
    async fn sso_settings(
        &mut self,
        application_id: &ApplicationId,
    ) -> Result<Option<SsoSettings>> {
        let stored: Option<(String,)> = self
            .fetch_optional(
                "SELECT settings FROM app_sso WHERE application_id = $1",
                &[application_id],
            )
            .await?;
        stored
            .map(|(text,)| {
                serde_json::from_str(&text).map_err(|e| {
                    Error::internal(format!("stored sign-in settings of {application_id}: {e}"))
                })
            })
            .transpose()
    }

    async fn put_sso_settings(
        &mut self,
        application_id: &ApplicationId,
        settings: &SsoSettings,
        at: Millis,
    ) -> Result<()> {
        let text = serde_json::to_string(settings)
            .map_err(|e| Error::internal(format!("sign-in settings as JSON: {e}")))?;
        self.execute(
            "INSERT INTO app_sso (application_id, settings, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (application_id) DO UPDATE \
             SET settings = excluded.settings, updated_at = excluded.updated_at",
            &[application_id, &text, &at],
        )
        .await?;
        Ok(())
    }

    async fn all_logout_urls(&mut self) -> Result<Vec<String>> {
        let mut urls = Vec::new();
        let rows: Vec<(String, String)> = self
            .fetch_all("SELECT application_id, settings FROM app_sso", &[])
            .await?;
        for (application_id, text) in rows {
            let settings: SsoSettings = serde_json::from_str(&text).map_err(|e| {
                Error::internal(format!("stored sign-in settings of {application_id}: {e}"))
            })?;
            urls.extend(settings.logout_urls);
        }
        Ok(urls)
    }
}
