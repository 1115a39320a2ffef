//! Application accounts.

use crate::backend::Backend;
use crate::errors::{map_unique, ACCOUNT_UNIQUES};
use crate::marks::{List, Scope};
use crate::queries::ACCOUNT_COLUMNS;
use crate::rows::{AccountRoleRow, AccountRow};
use crate::store_tx::{touched, StoreTx};
use crate::tx::AccountTx;
use async_trait::async_trait;
use roster_domain::account::{AccountId, AccountType, AppAccount};
use roster_domain::application::ApplicationId;
use roster_domain::page::{Page, PageRequest};
use roster_domain::role::Role;
use roster_domain::time::Millis;
use roster_domain::user::UserId;
use roster_domain::{ErrorKind, Result};
use std::sync::LazyLock;

impl<B: Backend> StoreTx<'_, B> {
    /// Records account `id` (of application `app`, of type `account_type`) joining
    /// (`delta` = 1) or leaving (-1) the account lists.
    fn account_joined(&mut self, id: &str, app: &str, account_type: &str, delta: i64) {
        let lists = &mut self.pending.lists;
        lists.add(List::Accounts, &[app], id, delta);
        lists.add(List::AccountsOfType, &[app, account_type], id, delta);
    }

    /// Records account `id` moving from one type's list to another's.
    fn account_retyped(&mut self, id: &str, app: &str, from: &str, to: &str) {
        let lists = &mut self.pending.lists;
        lists.add(List::AccountsOfType, &[app, from], id, -1);
        lists.add(List::AccountsOfType, &[app, to], id, 1);
    }

    /// Takes the accounts `condition` selects (bound to `value`) out of their roles, before
    /// they are deleted.
    async fn leave_roles(&mut self, condition: &str, value: &str) -> Result<()> {
        let sql =
            format!("DELETE FROM app_role_members WHERE {condition} RETURNING role_id, account_id");
        let left: Vec<(String, String)> = self.fetch_all(&sql, &[&value]).await?;
        for (role_id, account_id) in &left {
            self.pending
                .lists
                .add(List::RoleMembers, &[role_id], account_id, -1);
        }
        Ok(())
    }
}

#[async_trait]
impl<B: Backend> AccountTx for StoreTx<'_, B> {
    async fn insert_account(&mut self, a: &AppAccount) -> Result<()> {
        // Conflict on (application, user) first, whatever else conflicts too: a user who
        // already has an account hears that, even when racing another request.
        static SQL: LazyLock<String> = LazyLock::new(|| {
            let insert = AccountRow::insert_sql("app_accounts");
            format!("{insert} ON CONFLICT (application_id, user_id) DO NOTHING")
        });
        let row = AccountRow::of(a);
        let rows = self
            .execute_or(&SQL, &row.values(), |e| map_unique(e, ACCOUNT_UNIQUES))
            .await?;
        if rows == 0 {
            return Err(ErrorKind::AppAccountExists.into());
        }
        self.account_joined(&a.id, &a.application_id, a.account_type.as_str(), 1);
        Ok(())
    }

    async fn update_account(&mut self, a: &AppAccount) -> Result<()> {
        let before: Option<(String,)> = self
            .fetch_optional(
                "SELECT account_type FROM app_accounts WHERE application_id = $1 AND id = $2",
                &[&a.application_id, &a.id],
            )
            .await?;
        if let Some((old_type,)) = before.filter(|(t,)| t != a.account_type.as_str()) {
            self.account_retyped(&a.id, &a.application_id, &old_type, a.account_type.as_str());
        }
        const KEEP: &[&str] = &["id", "application_id", "created_at"];
        let row = AccountRow::of(a);
        static SQL: LazyLock<String> = LazyLock::new(|| {
            let set = AccountRow::set_sql(KEEP);
            format!(
                "UPDATE app_accounts SET {} WHERE application_id = ${} AND id = ${}",
                set.0,
                set.1 + 1,
                set.1 + 2
            )
        });
        let mut args = row.assigned_values(KEEP);
        args.push(&row.application_id);
        args.push(&row.id);
        let rows = self
            .execute_or(&SQL, &args, |e| map_unique(e, ACCOUNT_UNIQUES))
            .await?;
        touched(rows, ErrorKind::AppAccountNotFound)
    }

    async fn delete_account(
        &mut self,
        application_id: &ApplicationId,
        id: &AccountId,
    ) -> Result<()> {
        self.leave_roles("account_id = $1", id).await?;
        let (account_type,): (String,) = self
            .fetch_optional(
                "DELETE FROM app_accounts WHERE application_id = $1 AND id = $2 \
                 RETURNING account_type",
                &[&application_id, &id],
            )
            .await?
            .ok_or(ErrorKind::AppAccountNotFound)?;
        self.account_joined(id, application_id, &account_type, -1);
        Ok(())
    }

    async fn account(
        &mut self,
        application_id: &ApplicationId,
        id: &AccountId,
    ) -> Result<Option<AppAccount>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM app_accounts WHERE application_id = $1 AND id = $2{}",
            self.row_lock()
        );
        let row: Option<AccountRow> = self.fetch_optional(&sql, &[&application_id, &id]).await?;
        row.map(AccountRow::into_domain).transpose()
    }

    async fn account_with_roles(
        &mut self,
        application_id: &ApplicationId,
        id: &AccountId,
    ) -> Result<Option<(AppAccount, Vec<Role>)>> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            let columns = ACCOUNT_COLUMNS
                .split(',')
                .map(|c| format!("a.{}", c.trim()))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "SELECT {columns}, r.id AS role_id, r.code AS role_code, r.name AS role_name, \
                 r.created_at AS role_created_at, r.updated_at AS role_updated_at \
                 FROM app_accounts a \
                 LEFT JOIN app_role_members m ON m.account_id = a.id \
                 LEFT JOIN app_roles r ON r.id = m.role_id \
                 WHERE a.application_id = $1 AND a.id = $2 ORDER BY r.id"
            )
        });
        let rows: Vec<AccountRoleRow> = self.fetch_all(&SQL, &[&application_id, &id]).await?;
        let mut account = None;
        let mut roles = Vec::new();
        for row in rows {
            let (row_account, role) = row.into_parts();
            account.get_or_insert(row_account);
            roles.extend(role);
        }
        account.map(|a| Ok((a.into_domain()?, roles))).transpose()
    }

    async fn accounts_of_user(&mut self, user_id: &UserId) -> Result<Vec<AppAccount>> {
        let sql =
            format!("SELECT {ACCOUNT_COLUMNS} FROM app_accounts WHERE user_id = $1 ORDER BY id");
        let rows: Vec<AccountRow> = self.fetch_all(&sql, &[&user_id]).await?;
        rows.into_iter().map(AccountRow::into_domain).collect()
    }

    async fn list_accounts(
        &mut self,
        application_id: &ApplicationId,
        account_type: Option<AccountType>,
        page: PageRequest,
    ) -> Result<Page<AppAccount>> {
        let scope = match account_type {
            Some(t) => Scope::new(List::AccountsOfType, &[application_id, t.as_str()]),
            None => Scope::new(List::Accounts, &[application_id]),
        };
        let rows: Page<AccountRow> = self
            .marked_page(ACCOUNT_COLUMNS, "app_accounts", &scope, page)
            .await?;
        rows.try_map(AccountRow::into_domain)
    }

    async fn disable_accounts_of_user(&mut self, user_id: &UserId, at: Millis) -> Result<u64> {
        self.execute(
            "UPDATE app_accounts SET disabled = TRUE, disabled_by_user = TRUE, updated_at = $1 \
             WHERE user_id = $2 AND disabled = FALSE",
            &[&at, &user_id],
        )
        .await
    }

    async fn enable_accounts_of_user(&mut self, user_id: &UserId, at: Millis) -> Result<u64> {
        self.execute(
            "UPDATE app_accounts SET disabled = FALSE, disabled_by_user = FALSE, updated_at = $1 \
             WHERE user_id = $2 AND disabled_by_user = TRUE",
            &[&at, &user_id],
        )
        .await
    }

    async fn orphan_accounts_of_user(&mut self, user_id: &UserId, at: Millis) -> Result<u64> {
        let accounts: Vec<(String, String, String)> = self
            .fetch_all(
                "SELECT id, application_id, account_type FROM app_accounts WHERE user_id = $1",
                &[&user_id],
            )
            .await?;
        let orphan = AccountType::Orphan.as_str();
        for (id, app, old_type) in accounts.iter().filter(|(_, _, t)| t != orphan) {
            self.account_retyped(id, app, old_type, orphan);
        }
        self.execute(
            "UPDATE app_accounts SET user_id = NULL, account_type = $3, updated_at = $1 \
             WHERE user_id = $2",
            &[&at, &user_id, &orphan],
        )
        .await
    }

    async fn delete_accounts_of_user(&mut self, user_id: &UserId) -> Result<u64> {
        self.leave_roles(
            "account_id IN (SELECT id FROM app_accounts WHERE user_id = $1)",
            user_id,
        )
        .await?;
        let gone: Vec<(String, String, String)> = self
            .fetch_all(
                "DELETE FROM app_accounts WHERE user_id = $1 \
                 RETURNING id, application_id, account_type",
                &[&user_id],
            )
            .await?;
        for (id, app, account_type) in &gone {
            self.account_joined(id, app, account_type, -1);
        }
        Ok(gone.len() as u64)
    }

    async fn sealed_account_passwords(&mut self) -> Result<Vec<(AccountId, String)>> {
        let sealed: Vec<(String, String)> = self
            .fetch_all(
                "SELECT id, password_secret FROM app_accounts \
                 WHERE password_secret IS NOT NULL ORDER BY id",
                &[],
            )
            .await?;
        Ok(sealed
            .into_iter()
            .map(|(id, text)| (AccountId::new(id), text))
            .collect())
    }

    async fn set_sealed_account_password(&mut self, id: &AccountId, sealed: &str) -> Result<()> {
        self.execute(
            "UPDATE app_accounts SET password_secret = $1 WHERE id = $2",
            &[&sealed, &id],
        )
        .await?;
        Ok(())
    }
}
