//! Application roles and their members (application accounts).

macro_rules! impl_roles {
    ($tx:ident, $ph:path) => {
        #[async_trait::async_trait]
        impl<'c> $crate::tx::RoleTx for $tx<'c> {
            async fn insert_role(
                &mut self,
                r: &roster_domain::role::Role,
            ) -> roster_domain::Result<()> {
                let sql = format!(
                    "INSERT INTO app_roles ({}) VALUES ($1, $2, $3, $4, $5, $6)",
                    $crate::queries::ROLE_COLUMNS
                );
                $crate::queries::execute!(self.conn, &sql, [&r.id, &r.application_id, &r.code, &r.name, r.created_at, r.updated_at], |e| $crate::errors::map_unique(e, $crate::errors::ROLE_UNIQUES))?;
                self.pending.lists.add($crate::queries::marks::List::Roles, &[&r.application_id], &r.id, 1);
                Ok(())
            }

            async fn update_role(
                &mut self,
                r: &roster_domain::role::Role,
            ) -> roster_domain::Result<()> {
                let rows = $crate::queries::execute!(
                    self.conn,
                    "UPDATE app_roles SET name = $1, updated_at = $2 WHERE id = $3",
                    [&r.name, r.updated_at, &r.id],
                    $crate::errors::map
                )?;
                $crate::queries::touched(rows, roster_domain::ErrorKind::RoleNotFound)?;
                Ok(())
            }

            async fn delete_role(&mut self, id: &str) -> roster_domain::Result<()> {
                // Members first: SQLite enforces ON DELETE CASCADE only with foreign keys on,
                // and this keeps both backends explicit.
                $crate::queries::execute!(self.conn, "DELETE FROM app_role_members WHERE role_id = $1", [id], $crate::errors::map)?;
                let (application_id,): (String,) = $crate::queries::fetch_row!(
                    self.conn,
                    (String,),
                    "DELETE FROM app_roles WHERE id = $1 RETURNING application_id",
                    [id]
                )?
                .ok_or(roster_domain::ErrorKind::RoleNotFound)?;
                use $crate::queries::marks::{List, Scope};
                self.pending.lists.add(List::Roles, &[&application_id], id, -1);
                self.pending.lists.dropped.push(Scope::new(List::RoleMembers, &[id]));
                Ok(())
            }

            async fn role(
                &mut self,
                application_id: &str,
                id: &str,
            ) -> roster_domain::Result<Option<roster_domain::role::Role>> {
                let sql = format!(
                    "SELECT {} FROM app_roles WHERE application_id = $1 AND id = $2",
                    $crate::queries::ROLE_COLUMNS
                );
                Ok($crate::queries::fetch_row!(
                    self.conn,
                    $crate::rows::RoleRow,
                    &sql,
                    [application_id, id]
                )?
                    .map(|r| r.into_domain()))
            }

            async fn list_roles(
                &mut self,
                application_id: &str,
                page: roster_domain::page::PageRequest,
            ) -> roster_domain::Result<roster_domain::page::Page<roster_domain::role::Role>> {
                let (total, rows) = $crate::queries::marks::marked_page!(
                    self.conn,
                    $crate::rows::RoleRow,
                    $crate::queries::ROLE_COLUMNS,
                    "app_roles",
                    $crate::queries::marks::Scope::new($crate::queries::marks::List::Roles, &[application_id]),
                    page
                );
                Ok(roster_domain::page::Page {
                    total,
                    items: rows.into_iter().map(|r| r.into_domain()).collect(),
                })
            }

            async fn add_role_member(
                &mut self,
                role_id: &str,
                account_id: &str,
                at: roster_domain::time::Millis,
            ) -> roster_domain::Result<bool> {
                let rows = $crate::queries::execute!(self.conn, "INSERT INTO app_role_members (role_id, account_id, created_at) \
                     VALUES ($1, $2, $3) ON CONFLICT (role_id, account_id) DO NOTHING", [role_id, account_id, at], $crate::errors::map)?;
                if rows == 1 {
                    self.pending.lists.add($crate::queries::marks::List::RoleMembers, &[role_id], account_id, 1);
                }
                Ok(rows == 1)
            }

            async fn remove_role_member(
                &mut self,
                role_id: &str,
                account_id: &str,
            ) -> roster_domain::Result<bool> {
                let rows = $crate::queries::execute!(self.conn, "DELETE FROM app_role_members WHERE role_id = $1 AND account_id = $2", [role_id, account_id], $crate::errors::map)?;
                if rows == 1 {
                    self.pending.lists.add($crate::queries::marks::List::RoleMembers, &[role_id], account_id, -1);
                }
                Ok(rows == 1)
            }

            async fn list_role_members(
                &mut self,
                role_id: &str,
                page: roster_domain::page::PageRequest,
            ) -> roster_domain::Result<roster_domain::page::Page<roster_domain::account::AppAccount>> {
                let (total, rows) = $crate::queries::marks::marked_page!(
                    self.conn,
                    $crate::rows::AccountRow,
                    $crate::queries::ACCOUNT_COLUMNS,
                    "app_accounts",
                    $crate::queries::marks::Scope::new($crate::queries::marks::List::RoleMembers, &[role_id]),
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

            async fn roles_of_accounts(
                &mut self,
                account_ids: &[String],
            ) -> roster_domain::Result<Vec<(String, roster_domain::role::Role)>> {
                if account_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let placeholders = (1..=account_ids.len())
                    .map($ph)
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "SELECT m.account_id, r.id, r.application_id, r.code, r.name, r.created_at, \
                     r.updated_at FROM app_role_members m JOIN app_roles r ON r.id = m.role_id \
                     WHERE m.account_id IN ({placeholders}) ORDER BY m.account_id, r.id"
                );
                let mut query = sqlx::query_as::<_, $crate::rows::MemberRoleRow>(&sql);
                for id in account_ids {
                    query = query.bind(id);
                }
                Ok(query
                    .fetch_all(&mut *self.conn)
                    .await
                    .map_err($crate::errors::map)?
                    .into_iter()
                    .map(|r| (r.account_id, r.role.into_domain()))
                    .collect())
            }
        }
    };
}
pub(crate) use impl_roles;
