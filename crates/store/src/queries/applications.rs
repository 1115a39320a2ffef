//! Applications.

use crate::backend::Backend;
use crate::errors::{map_unique, APPLICATION_UNIQUES};
use crate::marks::{List, Scope};
use crate::queries::APPLICATION_COLUMNS;
use crate::rows::ApplicationRow;
use crate::store_tx::{touched, StoreTx};
use crate::tx::ApplicationTx;
use async_trait::async_trait;
use roster_domain::application::{Application, ApplicationId};
use roster_domain::page::{Page, PageRequest};
use roster_domain::{ErrorKind, Result};

impl<B: Backend> StoreTx<'_, B> {
    /// The application whose `column` (unique) is `value`, its read ended by `lock`.
    async fn application_where(
        &mut self,
        column: &str,
        value: &str,
        lock: &str,
    ) -> Result<Option<Application>> {
        let sql =
            format!("SELECT {APPLICATION_COLUMNS} FROM applications WHERE {column} = $1{lock}");
        let row: Option<ApplicationRow> = self.fetch_optional(&sql, &[&value]).await?;
        row.map(ApplicationRow::into_domain).transpose()
    }

    /// Inserts `app`, with `on_conflict` appended to the statement; says whether it did.
    async fn add_application(&mut self, app: &Application, on_conflict: &str) -> Result<bool> {
        let sql = format!(
            "INSERT INTO applications ({APPLICATION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9){on_conflict}"
        );
        let rows = self
            .execute_or(
                &sql,
                &[
                    &app.id,
                    &app.name,
                    &app.client_id,
                    &app.secret_digest,
                    &app.permissions.scope(),
                    &app.disabled,
                    &app.token_generation,
                    &app.created_at,
                    &app.updated_at,
                ],
                |e| map_unique(e, APPLICATION_UNIQUES),
            )
            .await?;
        if rows == 1 {
            self.pending.lists.add(List::Applications, &[], &app.id, 1);
        }
        Ok(rows == 1)
    }
}

#[async_trait]
impl<B: Backend> ApplicationTx for StoreTx<'_, B> {
    async fn insert_application(&mut self, app: &Application) -> Result<()> {
        // A taken client id or name is the catalog's APP.0004 or APP.0005.
        self.add_application(app, "").await.map(|_| ())
    }

    async fn insert_application_if_absent(&mut self, app: &Application) -> Result<bool> {
        // Nodes starting together bootstrap the same application: any of them may win.
        self.add_application(app, " ON CONFLICT DO NOTHING").await
    }

    async fn update_application(&mut self, app: &Application) -> Result<()> {
        let rows = self
            .execute_or(
                "UPDATE applications SET name = $1, secret_digest = $2, permissions = $3, \
                 disabled = $4, token_generation = $5, updated_at = $6 WHERE id = $7",
                &[
                    &app.name,
                    &app.secret_digest,
                    &app.permissions.scope(),
                    &app.disabled,
                    &app.token_generation,
                    &app.updated_at,
                    &app.id,
                ],
                |e| map_unique(e, APPLICATION_UNIQUES),
            )
            .await?;
        touched(rows, ErrorKind::ApplicationNotFound)
    }

    async fn application(&mut self, id: &ApplicationId) -> Result<Option<Application>> {
        self.application_where("id", id, "").await
    }

    async fn application_for_update(&mut self, id: &ApplicationId) -> Result<Option<Application>> {
        let lock = self.row_lock();
        self.application_where("id", id, lock).await
    }

    async fn application_by_client_id(&mut self, client_id: &str) -> Result<Option<Application>> {
        self.application_where("client_id", client_id, "").await
    }

    async fn list_applications(&mut self, page: PageRequest) -> Result<Page<Application>> {
        let scope = Scope::new(List::Applications, &[]);
        let rows: Page<ApplicationRow> = self
            .marked_page(APPLICATION_COLUMNS, "applications", &scope, page)
            .await?;
        rows.try_map(ApplicationRow::into_domain)
    }
}
