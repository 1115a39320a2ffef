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
use std::sync::LazyLock;

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
        static SQL: LazyLock<String> = LazyLock::new(|| ApplicationRow::insert_sql("applications"));
        let sql = format!("{}{on_conflict}", *SQL);
        let row = ApplicationRow::of(app);
        let rows = self
            .execute_or(&sql, &row.values(), |e| map_unique(e, APPLICATION_UNIQUES))
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
        const KEEP: &[&str] = &["id", "client_id", "created_at"];
        let row = ApplicationRow::of(app);
        static SQL: LazyLock<String> = LazyLock::new(|| {
            let set = ApplicationRow::set_sql(KEEP);
            format!(
                "UPDATE applications SET {} WHERE id = ${}",
                set.0,
                set.1 + 1
            )
        });
        let mut args = row.assigned_values(KEEP);
        args.push(&row.id);
        let rows = self
            .execute_or(&SQL, &args, |e| map_unique(e, APPLICATION_UNIQUES))
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
