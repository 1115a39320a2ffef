//! Application accounts.

/// Records account `$id` (of application `$app`, of type `$type`) joining (`$delta` = 1) or
/// leaving (-1) the account lists.
macro_rules! joined {
    ($tx:expr, $id:expr, $app:expr, $type:expr, $delta:expr) => {{
        use $crate::queries::marks::List;
        $tx.pending.lists.add(List::Accounts, &[$app], $id, $delta);
        $tx.pending
            .lists
            .add(List::AccountsOfType, &[$app, $type], $id, $delta);
    }};
}
pub(crate) use joined;

macro_rules! impl_accounts {
    ($tx:ident) => {
        impl<'c> $tx<'c> {
            /// Takes the accounts `$condition` selects (bound to `value`) out of their roles,
            /// before they are deleted.
            async fn leave_roles(&mut self, condition: &str, value: &str) -> roster_domain::Result<()> {
                let sql = format!("DELETE FROM app_role_members WHERE {condition} RETURNING role_id, account_id");
                let left: Vec<(String, String)> = sqlx::query_as(&sql)
                    .bind(value)
                    .fetch_all(&mut *self.conn)
                    .await
                    .map_err($crate::errors::map)?;
                for (role_id, account_id) in &left {
                    self.pending.lists.add($crate::queries::marks::List::RoleMembers, &[role_id], account_id, -1);
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl<'c> $crate::tx::AccountTx for $tx<'c> {
            async fn insert_account(
                &mut self,
                a: &roster_domain::account::AppAccount,
            ) -> roster_domain::Result<()> {
                // Conflict on (application, user) first, whatever else conflicts too: a user
                // who already has an account hears that, even when racing another request.
                let sql = format!(
                    "INSERT INTO app_accounts ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                     $10, $11, $12, $13) ON CONFLICT (application_id, user_id) DO NOTHING",
                    $crate::queries::ACCOUNT_COLUMNS
                );
                let rows = $crate::queries::execute!(self.conn, &sql, [&a.id, &a.application_id, &a.user_id, &a.account_name, a.account_type.as_str(), &a.name, &a.org_id, &a.password, a.disabled, a.disabled_by_user, $crate::rows::to_json(&a.extension), a.created_at, a.updated_at], |e| $crate::errors::map_unique(e, $crate::errors::ACCOUNT_UNIQUES))?;
                if rows == 0 {
                    return Err(roster_domain::ErrorKind::AppAccountExists.into());
                }
                $crate::queries::accounts::joined!(self, &a.id, &a.application_id, a.account_type.as_str(), 1);
                Ok(())
            }

            async fn update_account(
                &mut self,
                a: &roster_domain::account::AppAccount,
            ) -> roster_domain::Result<()> {
                let before: Option<(String,)> = $crate::queries::fetch_row!(
                    self.conn,
                    (String,),
                    "SELECT account_type FROM app_accounts WHERE application_id = $1 AND id = $2",
                    [&a.application_id, &a.id]
                )?;
                if let Some((old_type,)) = before.filter(|(t,)| t != a.account_type.as_str()) {
                    use $crate::queries::marks::List;
                    self.pending.lists.add(List::AccountsOfType, &[&a.application_id, &old_type], &a.id, -1);
                    self.pending.lists.add(List::AccountsOfType, &[&a.application_id, a.account_type.as_str()], &a.id, 1);
                }
                let rows = $crate::queries::execute!(
                    self.conn,
                    "UPDATE app_accounts SET account_name = $1, name = $2, org_id = $3, \
                     password_secret = $4, disabled = $5, disabled_by_user = $6, extension = $7, \
                     updated_at = $8, user_id = $9, account_type = $10 \
                     WHERE application_id = $11 AND id = $12",
                    [&a.account_name, &a.name, &a.org_id, &a.password, a.disabled, a.disabled_by_user, $crate::rows::to_json(&a.extension), a.updated_at, &a.user_id, a.account_type.as_str(), &a.application_id, &a.id],
                    |e| $crate::errors::map_unique(e, $crate::errors::ACCOUNT_UNIQUES)
                )?;
                $crate::queries::touched(rows, roster_domain::ErrorKind::AppAccountNotFound)?;
                Ok(())
            }

            async fn delete_account(
                &mut self,
                application_id: &str,
                id: &str,
            ) -> roster_domain::Result<()> {
                self.leave_roles("account_id = $1", id).await?;
                let (account_type,): (String,) = $crate::queries::fetch_row!(
                    self.conn,
                    (String,),
                    "DELETE FROM app_accounts WHERE application_id = $1 AND id = $2 RETURNING account_type",
                    [application_id, id]
                )?
                .ok_or(roster_domain::ErrorKind::AppAccountNotFound)?;
                $crate::queries::accounts::joined!(self, id, application_id, &account_type, -1);
                Ok(())
            }

            async fn account(
                &mut self,
                application_id: &str,
                id: &str,
            ) -> roster_domain::Result<Option<roster_domain::account::AppAccount>> {
                let sql = format!(
                    "SELECT {} FROM app_accounts WHERE application_id = $1 AND id = $2{}",
                    $crate::queries::ACCOUNT_COLUMNS,
                    self.row_lock()
                );
                $crate::queries::fetch_row!(
                    self.conn,
                    $crate::rows::AccountRow,
                    &sql,
                    [application_id, id]
                )?
                    .map(|r| r.into_domain())
                    .transpose()
            }

            async fn accounts_of_user(
                &mut self,
                user_id: &str,
            ) -> roster_domain::Result<Vec<roster_domain::account::AppAccount>> {
                let sql = format!(
                    "SELECT {} FROM app_accounts WHERE user_id = $1 ORDER BY id",
                    $crate::queries::ACCOUNT_COLUMNS
                );
                sqlx::query_as::<_, $crate::rows::AccountRow>(&sql)
                    .bind(user_id)
                    .fetch_all(&mut *self.conn)
                    .await
                    .map_err($crate::errors::map)?
                    .into_iter()
                    .map(|r| r.into_domain())
                    .collect()
            }

            async fn list_accounts(
                &mut self,
                application_id: &str,
                account_type: Option<roster_domain::account::AccountType>,
                page: roster_domain::page::PageRequest,
            ) -> roster_domain::Result<roster_domain::page::Page<roster_domain::account::AppAccount>> {
                use $crate::queries::marks::{List, Scope};
                let scope = match account_type {
                    Some(t) => Scope::new(List::AccountsOfType, &[application_id, t.as_str()]),
                    None => Scope::new(List::Accounts, &[application_id]),
                };
                let (total, rows) = $crate::queries::marks::marked_page!(
                    self.conn,
                    $crate::rows::AccountRow,
                    $crate::queries::ACCOUNT_COLUMNS,
                    "app_accounts",
                    scope,
                    page
                );
                Ok(roster_domain::page::Page {
                    total,
                    items: rows
                        .into_iter()
                        .map(|r| r.into_domain())
                        .collect::<roster_domain::Result<Vec<_>>>()?,
                })
            }

            async fn disable_accounts_of_user(
                &mut self,
                user_id: &str,
                at: roster_domain::time::Millis,
            ) -> roster_domain::Result<u64> {
                let rows = $crate::queries::execute!(self.conn, "UPDATE app_accounts SET disabled = TRUE, disabled_by_user = TRUE, \
                     updated_at = $1 WHERE user_id = $2 AND disabled = FALSE", [at, user_id], $crate::errors::map)?;
                Ok(rows)
            }

            async fn enable_accounts_of_user(
                &mut self,
                user_id: &str,
                at: roster_domain::time::Millis,
            ) -> roster_domain::Result<u64> {
                let rows = $crate::queries::execute!(self.conn, "UPDATE app_accounts SET disabled = FALSE, disabled_by_user = FALSE, \
                     updated_at = $1 WHERE user_id = $2 AND disabled_by_user = TRUE", [at, user_id], $crate::errors::map)?;
                Ok(rows)
            }

            async fn orphan_accounts_of_user(
                &mut self,
                user_id: &str,
                at: roster_domain::time::Millis,
            ) -> roster_domain::Result<u64> {
                let accounts: Vec<(String, String, String)> = sqlx::query_as(
                    "SELECT id, application_id, account_type FROM app_accounts WHERE user_id = $1",
                )
                .bind(user_id)
                .fetch_all(&mut *self.conn)
                .await
                .map_err($crate::errors::map)?;
                let orphan = roster_domain::account::AccountType::Orphan.as_str();
                for (id, app, old_type) in accounts.iter().filter(|(_, _, t)| t != orphan) {
                    use $crate::queries::marks::List;
                    self.pending.lists.add(List::AccountsOfType, &[app, old_type], id, -1);
                    self.pending.lists.add(List::AccountsOfType, &[app, orphan], id, 1);
                }
                let rows = $crate::queries::execute!(self.conn, "UPDATE app_accounts SET user_id = NULL, account_type = $3, \
                     updated_at = $1 WHERE user_id = $2", [at, user_id, orphan], $crate::errors::map)?;
                Ok(rows)
            }

            async fn delete_accounts_of_user(&mut self, user_id: &str) -> roster_domain::Result<u64> {
                self.leave_roles("account_id IN (SELECT id FROM app_accounts WHERE user_id = $1)", user_id)
                    .await?;
                let gone: Vec<(String, String, String)> = sqlx::query_as(
                    "DELETE FROM app_accounts WHERE user_id = $1 RETURNING id, application_id, account_type",
                )
                .bind(user_id)
                .fetch_all(&mut *self.conn)
                .await
                .map_err($crate::errors::map)?;
                for (id, app, account_type) in &gone {
                    $crate::queries::accounts::joined!(self, id, app, account_type, -1);
                }
                Ok(gone.len() as u64)
            }

            async fn sealed_account_passwords(
                &mut self,
            ) -> roster_domain::Result<Vec<(String, String)>> {
                sqlx::query_as::<_, (String, String)>(
                    "SELECT id, password_secret FROM app_accounts \
                     WHERE password_secret IS NOT NULL ORDER BY id",
                )
                .fetch_all(&mut *self.conn)
                .await
                .map_err($crate::errors::map)
            }

            async fn set_sealed_account_password(
                &mut self,
                id: &str,
                sealed: &str,
            ) -> roster_domain::Result<()> {
                $crate::queries::execute!(self.conn, "UPDATE app_accounts SET password_secret = $1 WHERE id = $2", [sealed, id], $crate::errors::map)?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_accounts;
