//! Roster's persistence. The service layer sees only [`Store`] and [`Tx`]; SQL and migrations
//! live here. Two implementations share one set of queries: embedded SQLite (the default, with
//! group commit) and PostgreSQL (for several nodes on one database).

mod errors;
mod postgres;
mod rows;
mod sql;
mod sqlite;

pub use postgres::{PgStore, PgStoreOptions};
pub use sqlite::SqliteStore;

use async_trait::async_trait;
use futures::future::BoxFuture;
use roster_domain::account::AppAccount;
use roster_domain::application::{AccessToken, Application};
use roster_domain::audit::AuditRecord;
use roster_domain::organization::Organization;
use roster_domain::time::Millis;
use roster_domain::user::User;
use roster_domain::{Error, Result};
use std::any::Any;
use std::sync::Arc;

/// The reads and writes one use case may perform inside its transaction.
#[async_trait]
pub trait Tx: Send {
    async fn insert_application(&mut self, app: &Application) -> Result<()>;
    /// Inserts unless an application with that client id exists; says whether it inserted.
    async fn insert_application_if_absent(&mut self, app: &Application) -> Result<bool>;
    async fn application(&mut self, id: &str) -> Result<Option<Application>>;
    async fn application_by_client_id(&mut self, client_id: &str) -> Result<Option<Application>>;

    async fn insert_token(&mut self, token: &AccessToken) -> Result<()>;
    /// The token with this digest and the application that holds it.
    async fn token(&mut self, digest: &str) -> Result<Option<(AccessToken, Application)>>;
    async fn delete_tokens_expired_before(&mut self, at: Millis) -> Result<u64>;

    async fn organization_by_code(&mut self, code: &str) -> Result<Option<Organization>>;
    /// The oldest top-level organization, where users without an `org_code` go.
    async fn first_root_organization(&mut self) -> Result<Option<Organization>>;

    async fn insert_user(&mut self, user: &User) -> Result<()>;
    async fn user(&mut self, id: &str) -> Result<Option<User>>;

    async fn insert_account(&mut self, account: &AppAccount) -> Result<()>;
    async fn update_account(&mut self, account: &AppAccount) -> Result<()>;
    async fn account(&mut self, application_id: &str, id: &str) -> Result<Option<AppAccount>>;
    /// Id of the user's account in the application, if there is one.
    async fn account_id_for_user(
        &mut self,
        application_id: &str,
        user_id: &str,
    ) -> Result<Option<String>>;
    /// Id of the account with that name in the application, if there is one.
    async fn account_id_by_name(
        &mut self,
        application_id: &str,
        account_name: &str,
    ) -> Result<Option<String>>;
    async fn accounts_of_user(&mut self, user_id: &str) -> Result<Vec<AppAccount>>;

    async fn insert_audit(&mut self, record: &AuditRecord) -> Result<()>;
}

/// What a unit of work hands back, type-erased so that [`Store`] stays object-safe.
pub type Output = Box<dyn Any + Send>;
/// A unit of work: runs inside one transaction (writes) or on one connection (reads).
pub type Job = Box<dyn for<'t> FnOnce(&'t mut dyn Tx) -> BoxFuture<'t, Result<Output>> + Send>;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Runs `job` in a transaction. `Ok` means committed and durable; `Err` means nothing
    /// of the job was written.
    async fn run_write(&self, job: Job) -> Result<Output>;
    /// Runs `job` on a read connection. It must not write.
    async fn run_read(&self, job: Job) -> Result<Output>;
    /// Whether the database answers.
    async fn ping(&self) -> Result<()>;
    /// Finishes queued writes and closes connections.
    async fn close(&self);
    /// Backend name for logs and `/health`.
    fn backend(&self) -> &'static str;
}

impl dyn Store {
    /// Runs a write use case in one transaction and returns its result once committed.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut dyn Tx) -> BoxFuture<'t, Result<T>> + Send + 'static,
    {
        let job: Job = Box::new(move |tx| {
            Box::pin(async move { work(tx).await.map(|v| Box::new(v) as Output) })
        });
        downcast(self.run_write(job).await?)
    }

    /// Runs a read use case on one connection.
    pub async fn read<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut dyn Tx) -> BoxFuture<'t, Result<T>> + Send + 'static,
    {
        let job: Job = Box::new(move |tx| {
            Box::pin(async move { work(tx).await.map(|v| Box::new(v) as Output) })
        });
        downcast(self.run_read(job).await?)
    }
}

fn downcast<T: 'static>(out: Output) -> Result<T> {
    out.downcast::<T>()
        .map(|b| *b)
        .map_err(|_| Error::internal("store returned a value of the wrong type"))
}

/// Opens the store a database URL names: `sqlite://…` or `postgres://…`; runs migrations.
pub async fn open(url: &str, pg: PgStoreOptions) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url, pg).await?))
    } else {
        Err(Error::invalid(format!(
            "database URL must start with sqlite:// or postgres://, not '{}'.",
            url.split(':').next().unwrap_or_default()
        )))
    }
}
