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
        caller.require(Access::AdminRead)?;
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

impl Service {
    /// Roster extension: makes the application a SAML application of the service provider
    /// whose metadata is `xml` (entity ID, ACS URLs, certificate, logout services, Name ID
    /// format), keeping its claims and its other SAML choices. Audited as
    /// `UpdateApplicationSso`.
    pub async fn set_sso_from_sp_metadata(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        xml: &str,
    ) -> Result<SsoSettings> {
        caller.require(Access::Admin)?;
        let read = crate::saml::read_sp_metadata(xml)?;
        self.write(&caller.client_id, set_from_metadata, (application_id, read))
            .await
    }
}

async fn set_from_metadata(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (application_id, read): (ApplicationId, crate::saml::SpMetadata),
) -> Result<SsoSettings> {
    existing_application(tx, &application_id).await?;
    let current = tx.sso_settings(&application_id).await?;
    let mut saml = read.settings;
    let mut fields = roster_domain::sso::SsoFields {
        protocol: Some(roster_domain::sso::Protocol::Saml),
        redirect_uris: Some(read.acs_urls),
        ..Default::default()
    };
    if let Some(current) = current {
        fields.logout_urls = Some(current.logout_urls);
        fields.claims = Some(current.claims);
        // What the metadata does not say stays as it was chosen.
        if let Some(before) = current.saml {
            saml.name_id = before.name_id;
            saml.audience = before.audience;
            saml.signed = before.signed;
            saml.signature_algorithm = before.signature_algorithm;
            saml.require_signed_requests |=
                before.require_signed_requests && saml.sp_certificate.is_some();
        }
    }
    fields.saml = Some(saml);
    let settings = fields.into_settings()?;
    crate::saml::check_certificate(&settings)?;
    tx.put_sso_settings(&application_id, &settings, cx.now)
        .await?;
    cx.audit("UpdateApplicationSso", "application", &application_id);
    Ok(settings)
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
