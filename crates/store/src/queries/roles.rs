//! Application roles and their members (application accounts).

use crate::backend::Backend;
use crate::errors::{map_unique, ROLE_UNIQUES};
use crate::marks::{List, Scope};
use crate::queries::{ACCOUNT_COLUMNS, ROLE_COLUMNS};
use crate::rows::{AccountRow, MemberRoleRow, RoleRow};
use crate::store_tx::{touched, StoreTx};
use crate::tx::RoleTx;
use async_trait::async_trait;
use roster_domain::account::{AccountId, AppAccount};
use roster_domain::application::ApplicationId;
use roster_domain::id::Id;
use roster_domain::page::{Page, PageRequest};
use roster_domain::role::Role;
use roster_domain::time::Millis;
use roster_domain::{ErrorKind, Result};
use std::sync::LazyLock;

#[async_trait]
impl<B: Backend> RoleTx for StoreTx<'_, B> {
    async fn insert_role(&mut self, r: &Role) -> Result<()> {
        static SQL: LazyLock<String> = LazyLock::new(|| RoleRow::insert_sql("app_roles"));
        let row = RoleRow::of(r);
        self.execute_or(&SQL, &row.values(), |e| map_unique(e, ROLE_UNIQUES))
            .await?;
        self.pending
            .lists
            .add(List::Roles, &[&r.application_id], &r.id, 1);
        Ok(())
    }

    async fn update_role(&mut self, r: &Role) -> Result<()> {
        // The code cannot change, nor the application.
        const KEEP: &[&str] = &["id", "application_id", "code", "created_at"];
        let row = RoleRow::of(r);
        static SQL: LazyLock<String> = LazyLock::new(|| {
            let set = RoleRow::set_sql(KEEP);
            format!("UPDATE app_roles SET {} WHERE id = ${}", set.0, set.1 + 1)
        });
        let mut args = row.assigned_values(KEEP);
        args.push(&row.id);
        let rows = self.execute(&SQL, &args).await?;
        touched(rows, ErrorKind::RoleNotFound)
    }

    async fn delete_role(&mut self, id: &str) -> Result<()> {
        // Members first: SQLite enforces ON DELETE CASCADE only with foreign keys on, and this
        // keeps both backends explicit.
        self.execute("DELETE FROM app_role_members WHERE role_id = $1", &[&id])
            .await?;
        let (application_id,): (String,) = self
            .fetch_optional(
                "DELETE FROM app_roles WHERE id = $1 RETURNING application_id",
                &[&id],
            )
            .await?
            .ok_or(ErrorKind::RoleNotFound)?;
        self.pending
            .lists
            .add(List::Roles, &[&application_id], id, -1);
        self.pending
            .lists
            .dropped
            .push(Scope::new(List::RoleMembers, &[id]));
        Ok(())
    }

    async fn role(&mut self, application_id: &ApplicationId, id: &str) -> Result<Option<Role>> {
        let sql =
            format!("SELECT {ROLE_COLUMNS} FROM app_roles WHERE application_id = $1 AND id = $2");
        let row: Option<RoleRow> = self.fetch_optional(&sql, &[&application_id, &id]).await?;
        Ok(row.map(RoleRow::into_domain))
    }

    async fn list_roles(
        &mut self,
        application_id: &ApplicationId,
        page: PageRequest,
    ) -> Result<Page<Role>> {
        let scope = Scope::new(List::Roles, &[application_id]);
        let rows: Page<RoleRow> = self
            .marked_page(ROLE_COLUMNS, "app_roles", &scope, page)
            .await?;
        Ok(rows.map(RoleRow::into_domain))
    }

    async fn add_role_member(
        &mut self,
        role_id: &str,
        account_id: &AccountId,
        at: Millis,
    ) -> Result<bool> {
        let rows = self
            .execute(
                "INSERT INTO app_role_members (role_id, account_id, created_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (role_id, account_id) DO NOTHING",
                &[&role_id, &account_id, &at],
            )
            .await?;
        if rows == 1 {
            self.pending
                .lists
                .add(List::RoleMembers, &[role_id], account_id, 1);
        }
        Ok(rows == 1)
    }

    async fn remove_role_member(&mut self, role_id: &str, account_id: &AccountId) -> Result<bool> {
        let rows = self
            .execute(
                "DELETE FROM app_role_members WHERE role_id = $1 AND account_id = $2",
                &[&role_id, &account_id],
            )
            .await?;
        if rows == 1 {
            self.pending
                .lists
                .add(List::RoleMembers, &[role_id], account_id, -1);
        }
        Ok(rows == 1)
    }

    async fn list_role_members(
        &mut self,
        role_id: &str,
        page: PageRequest,
    ) -> Result<Page<AppAccount>> {
        let scope = Scope::new(List::RoleMembers, &[role_id]);
        let rows: Page<AccountRow> = self
            .marked_page(ACCOUNT_COLUMNS, "app_accounts", &scope, page)
            .await?;
        rows.try_map(AccountRow::into_domain)
    }

    async fn roles_of_accounts(
        &mut self,
        account_ids: &[AccountId],
    ) -> Result<Vec<(AccountId, Role)>> {
        if account_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = (1..=account_ids.len())
            .map(B::placeholder)
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT m.account_id, r.id, r.application_id, r.code, r.name, r.created_at, \
             r.updated_at FROM app_role_members m JOIN app_roles r ON r.id = m.role_id \
             WHERE m.account_id IN ({placeholders}) ORDER BY m.account_id, r.id"
        );
        let args: Vec<&dyn crate::backend::ToArg> = account_ids.iter().map(|id| id as _).collect();
        let rows: Vec<MemberRoleRow> = self.fetch_all(&sql, &args).await?;
        Ok(rows
            .into_iter()
            .map(|r| (Id::new(r.account_id), r.role.into_domain()))
            .collect())
    }
}
