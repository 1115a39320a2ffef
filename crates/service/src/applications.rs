//! Registering applications (the API's clients) and their credentials.

use crate::{audit, Service};
use roster_domain::application::ApplicationId;
use roster_domain::application::{self, Application};
use roster_domain::audit::SYSTEM_ACTOR;
use roster_domain::permission::{Permission, Permissions};
use roster_domain::sso::SsoFields;
use roster_domain::time::Millis;
use roster_domain::{secret, Error, Result};

/// A registered application and its secret, which is shown this once and never again.
#[derive(Debug, Clone)]
pub struct NewCredentials {
    pub application_id: ApplicationId,
    pub client_id: String,
    pub client_secret: String,
}

fn new_application(
    name: String,
    client_id: String,
    client_secret: &str,
    permissions: Permissions,
    now: Millis,
) -> Application {
    Application {
        id: ApplicationId::generate(now),
        name,
        client_id,
        secret_digest: secret::digest(client_secret),
        permissions,
        disabled: false,
        token_generation: 0,
        created_at: now,
        updated_at: now,
    }
}

impl Service {
    /// Registers an application with a generated client id and secret.
    pub async fn create_application(
        &self,
        caller: &crate::Caller,
        name: Option<String>,
        permissions: Vec<Permission>,
        sso: Option<SsoFields>,
    ) -> Result<NewCredentials> {
        caller.require(roster_domain::permission::Access::Admin)?;
        let name = application::validate_name(name)?;
        // Checked before anything is written: the application and its settings land together.
        let sso = sso.map(SsoFields::into_settings).transpose()?;
        if permissions.is_empty() {
            return Err(Error::invalid(
                "at least one API permission is needed (for example all or user_all).",
            ));
        }
        let client_secret = secret::generate();
        let app = new_application(
            name,
            secret::generate_client_id(),
            &client_secret,
            Permissions::new(permissions),
            self.now(),
        );
        let actor = caller.client_id.clone();
        let credentials = NewCredentials {
            application_id: app.id.clone(),
            client_id: app.client_id.clone(),
            client_secret,
        };
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    tx.insert_application(&app).await?;
                    if let Some(settings) = &sso {
                        tx.put_sso_settings(&app.id, settings, app.created_at)
                            .await?;
                    }
                    tx.insert_audit(&audit(
                        app.created_at,
                        &actor,
                        "CreateApplication",
                        "application",
                        &app.id,
                    ))
                    .await
                })
            })
            .await?;
        Ok(credentials)
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
        // Names are unique: each bootstrap client gets its own.
        let app = new_application(
            format!("bootstrap {client_id}"),
            client_id.to_owned(),
            client_secret,
            Permissions::new(vec![Permission::All]),
            self.now(),
        );
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    let created = tx.insert_application_if_absent(&app).await?;
                    // Not created: another node just did, or a different application holds
                    // the name; only the first is fine.
                    if !created && tx.application_by_client_id(&app.client_id).await?.is_none() {
                        return Err(Error::with_detail(
                            roster_domain::ErrorKind::ApplicationNameExists,
                            format!("another application is named '{}'.", app.name),
                        ));
                    }
                    if created {
                        tx.insert_audit(&audit(
                            app.created_at,
                            SYSTEM_ACTOR,
                            "BootstrapApplication",
                            "application",
                            &app.id,
                        ))
                        .await?;
                    }
                    Ok(created)
                })
            })
            .await
    }
}

impl Service {
    /// Every application, for administrators (Roster extension).
    pub async fn list_applications(
        &self,
        caller: &crate::Caller,
        page: roster_domain::page::PageRequest,
    ) -> Result<roster_domain::page::Page<Application>> {
        caller.require(roster_domain::permission::Access::Admin)?;
        self.store()
            .read(move |tx| Box::pin(async move { tx.list_applications(page).await }))
            .await
    }

    pub async fn show_application(
        &self,
        caller: &crate::Caller,
        id: ApplicationId,
    ) -> Result<Application> {
        caller.require(roster_domain::permission::Access::Admin)?;
        self.store()
            .read(move |tx| {
                Box::pin(async move { crate::lookups::existing_application(tx, &id).await })
            })
            .await
    }

    /// Applies `change` to an application in one transaction, audits it, and forgets what
    /// this node cached about tokens (other nodes forget within `token_cache_ttl`).
    async fn change_application<T, F>(
        &self,
        caller: &crate::Caller,
        id: ApplicationId,
        operation: &'static str,
        change: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Application) -> Result<T> + Send + 'static,
    {
        caller.require(roster_domain::permission::Access::Admin)?;
        let actor = caller.client_id.clone();
        let clock = self.clock();
        let out = self
            .store()
            .write(move |tx| {
                Box::pin(async move {
                    let mut app = tx
                        .application_for_update(&id)
                        .await?
                        .ok_or(roster_domain::ErrorKind::ApplicationNotFound)?;
                    let out = change(&mut app)?;
                    app.updated_at = clock.now();
                    let revokes = operation == "RotateClientSecret" || app.disabled;
                    if revokes {
                        // Also refuses tokens issued concurrently, which the delete below
                        // cannot see yet.
                        app.token_generation = app.token_generation.saturating_add(1);
                    }
                    tx.update_application(&app).await?;
                    if revokes {
                        tx.delete_tokens_of_application(&app.id).await?;
                    }
                    tx.insert_audit(&audit(
                        app.updated_at,
                        &actor,
                        operation,
                        "application",
                        &app.id,
                    ))
                    .await?;
                    Ok(out)
                })
            })
            .await?;
        self.forget_cached_tokens();
        Ok(out)
    }

    /// Disables or enables an application; disabling revokes its tokens.
    pub async fn set_application_disabled(
        &self,
        caller: &crate::Caller,
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
        caller: &crate::Caller,
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
        caller: &crate::Caller,
        id: ApplicationId,
        codes: Vec<String>,
    ) -> Result<Application> {
        caller.require(roster_domain::permission::Access::Admin)?;
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
}

/// Audit records deleted per transaction when trimming: short transactions, so that requests
/// are not held up behind one long delete.
const TRIM_BATCH: i64 = 5_000;

impl Service {
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
            let batch = self
                .store()
                .write(move |tx| {
                    Box::pin(async move { tx.delete_audit_before(cutoff, TRIM_BATCH).await })
                })
                .await?;
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
        caller: &crate::Caller,
        filter: roster_domain::audit::AuditFilter,
        page: roster_domain::page::PageRequest,
    ) -> Result<roster_domain::page::Page<roster_domain::audit::AuditEntry>> {
        caller.require(roster_domain::permission::Access::Admin)?;
        self.store()
            .read(move |tx| Box::pin(async move { tx.list_audit(&filter, page).await }))
            .await
    }
}
