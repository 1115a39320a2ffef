//! Applications' sign-in settings (Roster extension: the reference sets them in its admin
//! console).

use crate::lookups::existing_application;
use crate::use_case::Cx;
use crate::{Caller, Service};
use roster_domain::application::ApplicationId;
use roster_domain::permission::Access;
use roster_domain::sso::{SsoFields, SsoSettings};
use roster_domain::{ErrorKind, Result};
use roster_store::prelude::*;

impl Service {
    /// The application's sign-in settings; `APP.0006` when none are set.
    pub async fn show_sso(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
    ) -> Result<SsoSettings> {
        caller.require(Access::Admin)?;
        self.read(show, application_id).await
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
        crate::saml::check_certificate(&settings)?;
        self.write(&caller.client_id, set, (application_id, settings))
            .await
    }
}

async fn show(tx: &mut dyn Tx, application_id: ApplicationId) -> Result<SsoSettings> {
    existing_application(tx, &application_id).await?;
    tx.sso_settings(&application_id)
        .await?
        .ok_or_else(|| ErrorKind::SsoNotConfigured.into())
}

async fn set(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (application_id, settings): (ApplicationId, SsoSettings),
) -> Result<SsoSettings> {
    existing_application(tx, &application_id).await?;
    tx.put_sso_settings(&application_id, &settings, cx.now)
        .await?;
    cx.audit("UpdateApplicationSso", "application", &application_id);
    Ok(settings)
}
