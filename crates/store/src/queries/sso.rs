//! Applications' sign-in settings, one JSON document per application.

use crate::backend::Backend;
use crate::queries::APPLICATION_COLUMNS;
use crate::rows::ApplicationSsoRow;
use crate::store_tx::StoreTx;
use crate::tx::SsoTx;
use async_trait::async_trait;
use roster_domain::application::{Application, ApplicationId};
use roster_domain::sso::{Protocol, SsoSettings};
use roster_domain::time::Millis;
use roster_domain::{Error, Result};
use std::sync::LazyLock;

/// A stored settings document.
pub(crate) fn parse_settings(application_id: &str, text: &str) -> Result<SsoSettings> {
    serde_json::from_str(text)
        .map_err(|e| Error::internal(format!("stored sign-in settings of {application_id}: {e}")))
}

impl ApplicationSsoRow {
    pub(crate) fn into_domain(self) -> Result<(Application, Option<SsoSettings>)> {
        let settings = self
            .sso_settings
            .map(|text| parse_settings(&self.app.id, &text))
            .transpose()?;
        Ok((self.app.into_domain()?, settings))
    }
}

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
            .map(|(text,)| parse_settings(application_id.as_str(), &text))
            .transpose()
    }

    async fn applications_signing_in_with(
        &mut self,
        protocol: Protocol,
    ) -> Result<Vec<(Application, SsoSettings)>> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT {APPLICATION_COLUMNS}, (SELECT settings FROM app_sso \
                 WHERE app_sso.application_id = applications.id) AS sso_settings \
                 FROM applications WHERE id IN (SELECT application_id FROM app_sso) ORDER BY id"
            )
        });
        let rows: Vec<ApplicationSsoRow> = self.fetch_all(&SQL, &[]).await?;
        let mut found = Vec::new();
        for row in rows {
            if let (app, Some(settings)) = row.into_domain()? {
                if settings.protocol == protocol {
                    found.push((app, settings));
                }
            }
        }
        Ok(found)
    }

    async fn application_with_sso(
        &mut self,
        client_id: &str,
    ) -> Result<Option<(Application, Option<SsoSettings>)>> {
        let sql = format!(
            "SELECT {APPLICATION_COLUMNS}, (SELECT settings FROM app_sso \
             WHERE app_sso.application_id = applications.id) AS sso_settings \
             FROM applications WHERE client_id = $1"
        );
        let row: Option<ApplicationSsoRow> = self.fetch_optional(&sql, &[&client_id]).await?;
        row.map(ApplicationSsoRow::into_domain).transpose()
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
            urls.extend(parse_settings(&application_id, &text)?.logout_urls);
        }
        Ok(urls)
    }
}
