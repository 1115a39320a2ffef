//! Registering applications (the API's clients) and their credentials.

use crate::use_case::Cx;
use crate::{Caller, Service};
use roster_domain::application::ApplicationId;
use roster_domain::application::{self, Application};
use roster_domain::audit::SYSTEM_ACTOR;
use roster_domain::audit::{AuditEntry, AuditFilter};
use roster_domain::page::{Page, PageRequest};
use roster_domain::permission::{Access, Permission, Permissions};
use roster_domain::sso::{SsoFields, SsoSettings};
use roster_domain::time::Millis;
use roster_domain::{secret, Error, ErrorKind, Result};
use roster_store::prelude::*;

/// A registered application and its secret, which is shown this once and never again.
#[derive(Debug, Clone)]
pub struct NewCredentials {
    pub application_id: ApplicationId,
    pub client_id: String,
    pub client_secret: String,
}

impl Service {
    /// Registers an application with a generated client id and secret.
    pub async fn create_application(
        &self,
        caller: &Caller,
        name: Option<String>,
        permissions: Vec<Permission>,
        sso: Option<SsoFields>,
    ) -> Result<NewCredentials> {
        caller.require(Access::Admin)?;
        let name = application::validate_name(name)?;
        // Checked before anything is written: the application and its settings land together.
        let sso = sso.map(SsoFields::into_settings).transpose()?;
        if let Some(settings) = &sso {
            crate::saml::check_certificate(settings)?;
        }
        // A sign-in-only application needs no management-API permission at all.
        if permissions.is_empty() && sso.is_none() {
            return Err(Error::invalid(
                "an application needs at least one API permission (for example all or \
                 user_all), sign-in settings, or both.",
            ));
        }
        let new = NewApplication {
            name,
            client_id: secret::generate_client_id(),
            client_secret: secret::generate(),
            permissions: Permissions::new(permissions),
        };
        self.write(&caller.client_id, create, (new, sso)).await
    }

    /// Creates an `all`-permission application with operator-chosen credentials unless one
    /// with that client id exists. Safe when several nodes start at once. Says whether it
    /// created one.
    pub async fn bootstrap_application(
        &self,
        client_id: &str,
        client_secret: &str,
    ) -> Result<bool> {
        application::validate_client_id(client_id)?;
        application::validate_client_secret(client_secret)?;
        let new = NewApplication {
            // Names are unique: each bootstrap client gets its own.
            name: format!("bootstrap {client_id}"),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            permissions: Permissions::new(vec![Permission::All]),
        };
        self.write(SYSTEM_ACTOR, bootstrap, new).await
    }

    /// Every application, for administrators (Roster extension).
    pub async fn list_applications(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> Result<Page<Application>> {
        caller.require(Access::AdminRead)?;
        self.read(list, page).await
    }

    pub async fn show_application(
        &self,
        caller: &Caller,
        id: ApplicationId,
    ) -> Result<Application> {
        caller.require(Access::AdminRead)?;
        self.read(show, id).await
    }

    /// Applies `change` to an application in one transaction, audits it, and forgets what
    /// this node cached about tokens (other nodes forget within `token_cache_ttl`).
    async fn change_application<T, F>(
        &self,
        caller: &Caller,
        id: ApplicationId,
        operation: &'static str,
        change: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Application) -> Result<T> + Send + 'static,
    {
        caller.require(Access::Admin)?;
        let out = self
            .write(&caller.client_id, apply_change, (id, operation, change))
            .await?;
        self.forget_cached_tokens();
        Ok(out)
    }

    /// Disables or enables an application; disabling revokes its tokens.
    pub async fn set_application_disabled(
        &self,
        caller: &Caller,
        id: ApplicationId,
        disabled: bool,
    ) -> Result<()> {
        let operation = if disabled {
            "DisableApplication"
        } else {
            "EnableApplication"
        };
        self.change_application(caller, id, operation, move |app| {
            app.disabled = disabled;
            Ok(())
        })
        .await
    }

    /// Issues a new client secret; the old one and every token issued with it stop working.
    pub async fn rotate_client_secret(
        &self,
        caller: &Caller,
        id: ApplicationId,
    ) -> Result<NewCredentials> {
        let secret = secret::generate();
        let digest = secret::digest(&secret);
        self.change_application(caller, id, "RotateClientSecret", move |app| {
            app.secret_digest = digest;
            Ok(NewCredentials {
                application_id: app.id.clone(),
                client_id: app.client_id.clone(),
                client_secret: secret,
            })
        })
        .await
    }

    /// Replaces an application's API permissions.
    pub async fn set_application_permissions(
        &self,
        caller: &Caller,
        id: ApplicationId,
        codes: Vec<String>,
    ) -> Result<Application> {
        caller.require(Access::Admin)?;
        let permissions = codes
            .iter()
            .map(|c| Permission::parse(c))
            .collect::<Result<Vec<_>>>()?;
        if permissions.is_empty() {
            return Err(Error::invalid("api_permissions needs at least one code."));
        }
        self.change_application(caller, id, "UpdateApplicationPermissions", move |app| {
            app.permissions = Permissions::new(permissions);
            Ok(app.clone())
        })
        .await
    }

    /// Deletes audit records older than the retention period, in short batches; says how
    /// many. Nothing when records are kept for ever.
    pub async fn trim_audit_log(&self) -> Result<u64> {
        let Some(retention) = self.settings().audit_retention else {
            return Ok(0);
        };
        let cutoff = self
            .now()
            .saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX));
        let mut deleted = 0;
        loop {
            let batch = self.write(SYSTEM_ACTOR, trim_audit, cutoff).await?;
            deleted += batch;
            if batch < TRIM_BATCH as u64 {
                return Ok(deleted);
            }
            tokio::task::yield_now().await;
        }
    }

    /// Audit records, newest first, for administrators (Roster extension).
    pub async fn list_audit(
        &self,
        caller: &Caller,
        filter: AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>> {
        caller.require(Access::AdminRead)?;
        // What this node summed so far is written first, so that the list shows it.
        self.flush_counted_audits().await?;
        self.read(audit_entries, (filter, page)).await
    }
}

/// An application to register, before it has an id.
pub(crate) struct NewApplication {
    pub(crate) name: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) permissions: Permissions,
}

impl NewApplication {
    fn into_application(self, now: Millis) -> (Application, String) {
        let app = Application {
            id: ApplicationId::generate(now),
            name: self.name,
            client_id: self.client_id,
            secret_digest: secret::digest(&self.client_secret),
            permissions: self.permissions,
            disabled: false,
            token_generation: 0,
            created_at: now,
            updated_at: now,
        };
        (app, self.client_secret)
    }
}

pub(crate) async fn create(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (new, sso): (NewApplication, Option<SsoSettings>),
) -> Result<NewCredentials> {
    let (app, client_secret) = new.into_application(cx.now);
    tx.insert_application(&app).await?;
    if let Some(settings) = &sso {
        tx.put_sso_settings(&app.id, settings, cx.now).await?;
    }
    cx.audit("CreateApplication", "application", &app.id);
    Ok(NewCredentials {
        application_id: app.id,
        client_id: app.client_id,
        client_secret,
    })
}

async fn bootstrap(tx: &mut dyn Tx, cx: &mut Cx, new: NewApplication) -> Result<bool> {
    let (app, _) = new.into_application(cx.now);
    let created = tx.insert_application_if_absent(&app).await?;
    // Not created: another node just did, or a different application holds the name; only
    // the first is fine.
    if !created && tx.application_by_client_id(&app.client_id).await?.is_none() {
        return Err(Error::with_detail(
            ErrorKind::ApplicationNameExists,
            format!("another application is named '{}'.", app.name),
        ));
    }
    if created {
        cx.audit("BootstrapApplication", "application", &app.id);
    }
    Ok(created)
}

pub(crate) async fn apply_change<T, F>(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (id, operation, change): (ApplicationId, &'static str, F),
) -> Result<T>
where
    F: FnOnce(&mut Application) -> Result<T>,
{
    let mut app = tx
        .application_for_update(&id)
        .await?
        .ok_or(ErrorKind::ApplicationNotFound)?;
    let secret_before = app.secret_digest.clone();
    let out = change(&mut app)?;
    app.updated_at = cx.now;
    // A new secret or a disabled application: every token issued before stops working.
    let revokes = app.secret_digest != secret_before || app.disabled;
    if revokes {
        // Also refuses tokens issued concurrently, which the delete below cannot see yet.
        app.token_generation = app.token_generation.saturating_add(1);
    }
    tx.update_application(&app).await?;
    if revokes {
        tx.delete_tokens_of_application(&app.id).await?;
    }
    // Other nodes' cached checks of its tokens hold its permissions and state: stale now.
    tx.announce_change().await?;
    cx.audit(operation, "application", &app.id);
    Ok(out)
}

async fn list(tx: &mut dyn Tx, page: PageRequest) -> Result<Page<Application>> {
    tx.list_applications(page).await
}

async fn show(tx: &mut dyn Tx, id: ApplicationId) -> Result<Application> {
    crate::lookups::existing_application(tx, &id).await
}

/// Audit records deleted per transaction when trimming: short transactions, so that requests
/// are not held up behind one long delete.
const TRIM_BATCH: i64 = 5_000;

async fn trim_audit(tx: &mut dyn Tx, _cx: &mut Cx, before: Millis) -> Result<u64> {
    tx.delete_audit_before(before, TRIM_BATCH).await
}

async fn audit_entries(
    tx: &mut dyn Tx,
    (filter, page): (AuditFilter, PageRequest),
) -> Result<Page<AuditEntry>> {
    tx.list_audit(&filter, page).await
}
