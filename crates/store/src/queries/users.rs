//! Users.

/// Binds every column of `USER_INSERT_COLUMNS` of user `$u`, in that order.
macro_rules! bind_user {
    ($query:expr, $u:expr) => {
        $query
            .bind(&$u.id)
            .bind(&$u.org_id)
            .bind(&$u.user_name)
            .bind(&$u.mobile)
            .bind(&$u.name)
            .bind(&$u.email)
            .bind(&$u.employee_id)
            .bind(&$u.first_name)
            .bind(&$u.middle_name)
            .bind(&$u.last_name)
            .bind(&$u.password_hash)
            .bind($u.pwd_must_modify)
            .bind($u.pwd_change_at)
            .bind(&$u.attrs.gender)
            .bind(&$u.attrs.birthday)
            .bind(&$u.attrs.nick_name)
            .bind(&$u.attrs.identity_type)
            .bind(&$u.attrs.identity_number)
            .bind(&$u.attrs.area)
            .bind(&$u.attrs.city)
            .bind(&$u.attrs.manager_id)
            .bind(&$u.attrs.user_type)
            .bind(&$u.attrs.hire_date)
            .bind(&$u.attrs.work_place)
            .bind($crate::rows::to_json(&$u.extension))
            .bind($u.disabled)
            .bind($u.locked)
            .bind($u.grade)
            .bind($u.created_at)
            .bind($u.updated_at)
            .bind($crate::rows::secondary_json(&$u.secondary_org_ids))
            .bind(roster_domain::user::user_name_key(&$u.user_name))
            .bind(roster_domain::user::mobile_key(&$u.mobile))
    };
}
pub(crate) use bind_user;

/// Records user `$id` (of organization `$org_id`) joining (`$delta` = 1) or leaving (-1) the
/// user lists.
macro_rules! joined {
    ($tx:expr, $id:expr, $org_id:expr, $delta:expr) => {{
        use $crate::queries::marks::List;
        $tx.pending.lists.add(List::Users, &[], $id, $delta);
        if let Some(org) = $org_id {
            $tx.pending
                .lists
                .add(List::UsersOfOrganization, &[org], $id, $delta);
        }
    }};
}
pub(crate) use joined;

macro_rules! impl_users {
    ($tx:ident, $ph:path) => {
        impl<'c> $tx<'c> {
            /// Adds the rows of a user's secondary organizations (the foreign keys behind the
            /// copy kept in `users.org_relations`, which reads use).
            async fn insert_relations(
                &mut self,
                user_id: &str,
                org_ids: &[String],
            ) -> roster_domain::Result<()> {
                for org_id in org_ids {
                    $crate::queries::execute!(
                        self.conn,
                        "INSERT INTO user_org_relations (user_id, org_id) VALUES ($1, $2)",
                        [user_id, org_id],
                        $crate::errors::map
                    )?;
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl<'c> $crate::tx::UserTx for $tx<'c> {
            async fn insert_user(
                &mut self,
                u: &roster_domain::user::User,
            ) -> roster_domain::Result<()> {
                let sql = format!(
                    "INSERT INTO users ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
                     $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, \
                     $25, $26, $27, $28, $29, $30, $31, $32, $33)",
                    $crate::queries::USER_INSERT_COLUMNS
                );
                $crate::queries::users::bind_user!(sqlx::query(&sql), u)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(|e| $crate::errors::map_unique(e, $crate::errors::USER_UNIQUES))?;
                $crate::queries::users::joined!(self, &u.id, &u.org_id, 1);
                self.insert_relations(&u.id, &u.secondary_org_ids).await
            }

            async fn insert_users(
                &mut self,
                users: &[roster_domain::user::User],
            ) -> roster_domain::Result<()> {
                const COLUMNS: usize = 33;
                // 500 rows × 33 columns stays under both databases' parameter limits.
                for chunk in users.chunks(500) {
                    let rows = $crate::queries::values_list(chunk.len(), COLUMNS, $ph);
                    let sql = format!(
                        "INSERT INTO users ({}) VALUES {rows}",
                        $crate::queries::USER_INSERT_COLUMNS
                    );
                    let mut query = sqlx::query(&sql);
                    for u in chunk {
                        query = $crate::queries::users::bind_user!(query, u);
                    }
                    query
                        .execute(&mut *self.conn)
                        .await
                        .map_err(|e| $crate::errors::map_unique(e, $crate::errors::USER_UNIQUES))?;
                    for u in chunk {
                        $crate::queries::users::joined!(self, &u.id, &u.org_id, 1);
                        self.insert_relations(&u.id, &u.secondary_org_ids).await?;
                    }
                    // Now, not at the end of the job: an import's changes would fill memory.
                    self.apply_pending().await?;
                }
                Ok(())
            }

            async fn update_user(
                &mut self,
                u: &roster_domain::user::User,
            ) -> roster_domain::Result<()> {
                let before: Option<(Option<String>, Option<String>)> = $crate::queries::fetch_row!(
                    self.conn,
                    (Option<String>, Option<String>),
                    "SELECT org_id, org_relations FROM users WHERE id = $1",
                    [&u.id]
                )?;
                let relations_changed = before.as_ref().is_some_and(|(_, old)| {
                    *old != $crate::rows::secondary_json(&u.secondary_org_ids)
                });
                if relations_changed {
                    $crate::queries::execute!(
                        self.conn,
                        "DELETE FROM user_org_relations WHERE user_id = $1",
                        [&u.id],
                        $crate::errors::map
                    )?;
                    self.insert_relations(&u.id, &u.secondary_org_ids).await?;
                }
                if let Some((old_org, _)) = before.filter(|(old_org, _)| *old_org != u.org_id) {
                    use $crate::queries::marks::List;
                    if let Some(old_org) = &old_org {
                        self.pending.lists.add(List::UsersOfOrganization, &[old_org], &u.id, -1);
                    }
                    if let Some(org) = &u.org_id {
                        self.pending.lists.add(List::UsersOfOrganization, &[org], &u.id, 1);
                    }
                }
                let rows = $crate::queries::execute!(
                    self.conn,
                    "UPDATE users SET org_id = $1, user_name = $2, mobile = $3, name = $4, \
                     email = $5, employee_id = $6, first_name = $7, middle_name = $8, \
                     last_name = $9, password_hash = $10, pwd_must_modify = $11, \
                     pwd_change_at = $12, attr_gender = $13, attr_birthday = $14, \
                     attr_nick_name = $15, attr_identity_type = $16, attr_identity_number = $17, \
                     attr_area = $18, attr_city = $19, attr_manager_id = $20, \
                     attr_user_type = $21, attr_hire_date = $22, attr_work_place = $23, \
                     extension = $24, disabled = $25, locked = $26, grade = $27, \
                     updated_at = $28, user_name_key = $30, mobile_key = $31, \
                     org_relations = $32 WHERE id = $29",
                    [&u.org_id, &u.user_name, &u.mobile, &u.name, &u.email, &u.employee_id, &u.first_name, &u.middle_name, &u.last_name, &u.password_hash, u.pwd_must_modify, u.pwd_change_at, &u.attrs.gender, &u.attrs.birthday, &u.attrs.nick_name, &u.attrs.identity_type, &u.attrs.identity_number, &u.attrs.area, &u.attrs.city, &u.attrs.manager_id, &u.attrs.user_type, &u.attrs.hire_date, &u.attrs.work_place, $crate::rows::to_json(&u.extension), u.disabled, u.locked, u.grade, u.updated_at, &u.id, roster_domain::user::user_name_key(&u.user_name), roster_domain::user::mobile_key(&u.mobile), $crate::rows::secondary_json(&u.secondary_org_ids)],
                    |e| $crate::errors::map_unique(e, $crate::errors::USER_UNIQUES)
                )?;
                $crate::queries::touched(rows, roster_domain::ErrorKind::UserNotFound)?;
                Ok(())
            }

            async fn delete_user(&mut self, id: &str) -> roster_domain::Result<()> {
                let (org_id,): (Option<String>,) = $crate::queries::fetch_row!(
                    self.conn,
                    (Option<String>,),
                    "DELETE FROM users WHERE id = $1 RETURNING org_id",
                    [id],
                    $crate::errors::map_delete
                )?
                .ok_or(roster_domain::ErrorKind::UserNotFound)?;
                $crate::queries::users::joined!(self, id, &org_id, -1);
                Ok(())
            }

            async fn user(
                &mut self,
                id: &str,
            ) -> roster_domain::Result<Option<roster_domain::user::User>> {
                let sql = format!(
                    "SELECT {} FROM users WHERE id = $1{}",
                    $crate::queries::USER_COLUMNS,
                    self.row_lock()
                );
                $crate::queries::fetch_row!(
                    self.conn,
                    $crate::rows::UserRow,
                    &sql,
                    [id]
                )?
                    .map(|r| r.into_domain())
                    .transpose()
            }

            async fn user_by_name(
                &mut self,
                user_name: &str,
            ) -> roster_domain::Result<Option<roster_domain::user::User>> {
                let sql = format!(
                    "SELECT {} FROM users WHERE user_name_key = $1",
                    $crate::queries::USER_COLUMNS
                );
                $crate::queries::fetch_row!(
                    self.conn,
                    $crate::rows::UserRow,
                    &sql,
                    [roster_domain::user::user_name_key(user_name)]
                )?
                    .map(|r| r.into_domain())
                    .transpose()
            }

            async fn list_users_updated_after(
                &mut self,
                org_id: Option<&str>,
                after: roster_domain::time::Millis,
                page: roster_domain::page::PageRequest,
            ) -> roster_domain::Result<roster_domain::page::Page<roster_domain::user::User>> {
                // In the order they changed: a sync that pages through sees each change once,
                // and a user changed meanwhile moves to the end rather than off a page.
                let filter = match org_id {
                    Some(_) => "updated_at > $1 AND org_id = $2",
                    None => "updated_at > $1 AND $2 IS NULL",
                };
                let select = format!(
                    "SELECT {} FROM users WHERE {filter} ORDER BY updated_at, id",
                    $crate::queries::USER_COLUMNS
                );
                let count = format!("SELECT COUNT(*) FROM users WHERE {filter}");
                let (total, rows) = $crate::queries::fetch_page!(
                    self.conn,
                    $crate::rows::UserRow,
                    select,
                    count,
                    page,
                    [after, org_id]
                );
                Ok(roster_domain::page::Page {
                    total,
                    items: rows
                        .into_iter()
                        .map(|r| r.into_domain())
                        .collect::<roster_domain::Result<Vec<_>>>()?,
                })
            }

            async fn list_users(
                &mut self,
                org_id: Option<&str>,
                page: roster_domain::page::PageRequest,
            ) -> roster_domain::Result<roster_domain::page::Page<roster_domain::user::User>> {
                use $crate::queries::marks::{List, Scope};
                let scope = match org_id {
                    Some(org_id) => Scope::new(List::UsersOfOrganization, &[org_id]),
                    None => Scope::new(List::Users, &[]),
                };
                let (total, rows) = $crate::queries::marks::marked_page!(
                    self.conn,
                    $crate::rows::UserRow,
                    $crate::queries::USER_COLUMNS,
                    "users",
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
        }
    };
}
pub(crate) use impl_users;
