//! Applications' sign-in settings (Roster extension: the reference sets them in its admin
//! console).

use crate::lookups::existing_application;
use crate::{audit, Caller, Service};
use roster_domain::application::ApplicationId;
use roster_domain::permission::Access;
use roster_domain::sso::{SsoFields, SsoSettings};
use roster_domain::{ErrorKind, Result};

impl Service {
    /// The application's sign-in settings; `APP.0006` when none are set.
    pub async fn show_sso(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
    ) -> Result<SsoSettings> {
        caller.require(Access::Admin)?;
        self.store()
            .read(move |tx| {
                Box::pin(async move {
                    existing_application(tx, &application_id).await?;
                    tx.sso_settings(&application_id)
                        .await?
                        .ok_or_else(|| ErrorKind::SsoNotConfigured.into())
                })
            })
            .await
    }

    /// Sets (creates or replaces) the application's sign-in settings; absent fields take the
    /// defaults. Audited as `UpdateApplicationSso`.
    pub async fn set_sso(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        fields: SsoFields,
    ) -> Result<SsoSettings> {
        caller.require(Access::Admin)?;
        let settings = fields.into_settings()?;
        let actor = caller.client_id.clone();
        let now = self.now();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    existing_application(tx, &application_id).await?;
                    tx.put_sso_settings(&application_id, &settings, now).await?;
                    tx.insert_audit(&audit(
                        now,
                        &actor,
                        "UpdateApplicationSso",
                        "application",
                        &application_id,
                    ))
                    .await?;
                    Ok(settings)
                })
            })
            .await
    }
}
