//! Each application's organizations.

use crate::backend::Backend;
use crate::errors::{map_delete, map_unique, APP_ORG_UNIQUES};
use crate::marks::{List, Scope};
use crate::queries::APP_ORG_COLUMNS;
use crate::rows::AppOrgRow;
use crate::store_tx::{touched, StoreTx};
use crate::tx::AppOrgTx;
use async_trait::async_trait;
use roster_domain::application::ApplicationId;
use roster_domain::organization::AppOrganization;
use roster_domain::page::{Page, PageRequest};
use roster_domain::{ErrorKind, Result};
use std::sync::LazyLock;

#[async_trait]
impl<B: Backend> AppOrgTx for StoreTx<'_, B> {
    async fn insert_app_org(&mut self, o: &AppOrganization) -> Result<()> {
        static SQL: LazyLock<String> = LazyLock::new(|| AppOrgRow::insert_sql("app_organizations"));
        let row = AppOrgRow::of(o);
        self.execute_or(&SQL, &row.values(), |e| map_unique(e, APP_ORG_UNIQUES))
            .await?;
        self.pending
            .lists
            .add(List::AppOrganizations, &[&o.application_id], &o.id, 1);
        Ok(())
    }

    async fn update_app_org(&mut self, o: &AppOrganization) -> Result<()> {
        // The code cannot change, nor the application.
        const KEEP: &[&str] = &["id", "application_id", "code", "created_at"];
        let row = AppOrgRow::of(o);
        static SQL: LazyLock<String> = LazyLock::new(|| {
            let set = AppOrgRow::set_sql(KEEP);
            format!(
                "UPDATE app_organizations SET {} WHERE id = ${}",
                set.0,
                set.1 + 1
            )
        });
        let mut args = row.assigned_values(KEEP);
        args.push(&row.id);
        let rows = self.execute(&SQL, &args).await?;
        touched(rows, ErrorKind::AppOrgNotFound)
    }

    async fn delete_app_org(&mut self, id: &str) -> Result<()> {
        let (application_id,): (String,) = self
            .fetch_optional_or(
                "DELETE FROM app_organizations WHERE id = $1 RETURNING application_id",
                &[&id],
                map_delete,
            )
            .await?
            .ok_or(ErrorKind::AppOrgNotFound)?;
        self.pending
            .lists
            .add(List::AppOrganizations, &[&application_id], id, -1);
        Ok(())
    }

    async fn app_org(
        &mut self,
        application_id: &ApplicationId,
        id: &str,
    ) -> Result<Option<AppOrganization>> {
        let sql = format!(
            "SELECT {APP_ORG_COLUMNS} FROM app_organizations WHERE application_id = $1 AND id = $2"
        );
        let row: Option<AppOrgRow> = self.fetch_optional(&sql, &[&application_id, &id]).await?;
        Ok(row.map(AppOrgRow::into_domain))
    }

    async fn app_org_by_code(
        &mut self,
        application_id: &ApplicationId,
        code: &str,
    ) -> Result<Option<AppOrganization>> {
        let sql = format!(
            "SELECT {APP_ORG_COLUMNS} FROM app_organizations \
             WHERE application_id = $1 AND code = $2"
        );
        let row: Option<AppOrgRow> = self.fetch_optional(&sql, &[&application_id, &code]).await?;
        Ok(row.map(AppOrgRow::into_domain))
    }

    async fn app_org_has_children(&mut self, id: &str) -> Result<bool> {
        self.any_row("app_organizations", "parent_id", id).await
    }

    async fn app_org_has_accounts(&mut self, id: &str) -> Result<bool> {
        self.any_row("app_accounts", "org_id", id).await
    }

    async fn app_org_in_subtree(&mut self, root: &str, candidate: &str) -> Result<bool> {
        self.in_subtree("app_organizations", root, candidate).await
    }

    async fn list_app_orgs(
        &mut self,
        application_id: &ApplicationId,
        page: PageRequest,
    ) -> Result<Page<AppOrganization>> {
        let scope = Scope::new(List::AppOrganizations, &[application_id]);
        let rows: Page<AppOrgRow> = self
            .marked_page(APP_ORG_COLUMNS, "app_organizations", &scope, page)
            .await?;
        Ok(rows.map(AppOrgRow::into_domain))
    }
}
