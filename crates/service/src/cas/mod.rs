//! CAS 1.0 / 2.0 / 3.0 (`/api/v1/cas/*`, OneAccess's 基于CAS的应用认证集成): `login` sends a
//! signed-in browser back to the service with a one-time service ticket (or to the login page
//! first, the same page and session as OAuth); `validate` redeems the ticket, once, on any
//! node, for the user (and, CAS 3.0, their attributes); `logout` ends the session. Who may
//! sign in comes from `crate::sign_in`, as for every protocol.

mod login;
mod validate;

pub use login::{CasLogin, CasLoginRequest};
pub use validate::{CasValidation, ValidateRequest};

use crate::Service;
use roster_domain::application::Application;
use roster_domain::sso::{admitted_url, Protocol, SsoSettings};
use roster_domain::Result;
use roster_store::prelude::*;
use url::Url;

/// The CAS application that registered `service`, and the URL as read: an exact URL entry
/// first, then an origin entry.
pub(crate) struct Registered {
    pub app: Application,
    pub settings: SsoSettings,
    pub service: Url,
}

impl Service {
    /// The CAS application whose service URLs admit `service`.
    pub(crate) async fn cas_application_for(&self, service: &str) -> Result<Option<Registered>> {
        if service.len() > 2048 {
            return Ok(None);
        }
        let apps = self.read(read_cas_applications, ()).await?;
        let exact = apps.iter().position(|(_, s)| {
            s.redirect_uris
                .iter()
                .any(|e| Url::parse(e).ok() == Url::parse(service).ok())
        });
        let found = exact.or_else(|| {
            apps.iter()
                .position(|(_, s)| admitted_url(&s.redirect_uris, service).is_some())
        });
        let Some(index) = found else {
            return Ok(None);
        };
        let Some((app, settings)) = apps.into_iter().nth(index) else {
            return Ok(None);
        };
        let Some(service) = admitted_url(&settings.redirect_uris, service) else {
            return Ok(None);
        };
        Ok(Some(Registered {
            app,
            settings,
            service,
        }))
    }

    /// The client id of the CAS application that registered `service` (the login page shows
    /// its name, and the MFA policy names applications by client id).
    pub async fn cas_client_id(&self, service: &str) -> Result<Option<String>> {
        Ok(self
            .cas_application_for(service)
            .await?
            .map(|r| r.app.client_id))
    }

    /// `GET /api/v1/cas/logout`: where to go once the session ended: `service` when a CAS
    /// application registered it, else nowhere (the login page).
    pub async fn cas_logout_target(&self, service: Option<&str>) -> Result<Option<String>> {
        let Some(service) = service.filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        Ok(self
            .cas_application_for(service)
            .await?
            .map(|r| r.service.to_string()))
    }
}

async fn read_cas_applications(tx: &mut dyn Tx, (): ()) -> Result<Vec<(Application, SsoSettings)>> {
    tx.applications_signing_in_with(Protocol::Cas).await
}
