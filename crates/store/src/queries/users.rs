//! Users.

use crate::backend::{values_list, Backend, ToArg};
use crate::errors::{map_delete, map_unique, USER_UNIQUES};
use crate::marks::{List, Scope};
use crate::pg::Pg;
use crate::queries::{prefixed, renamed, APPLICATION_COLUMNS};
use crate::rows::{UserApplicationRow, UserKeys, UserRow};
use crate::store_tx::{touched, StoreTx};
use crate::tx::UserTx;
use async_trait::async_trait;
use roster_domain::application::{Application, ApplicationId};
use roster_domain::page::{Page, PageRequest};
use roster_domain::time::Millis;
use roster_domain::user::{user_name_key, User, UserId};
use roster_domain::{ErrorKind, Result};
use std::sync::LazyLock;

impl<B: Backend> StoreTx<'_, B> {
    /// Records user `id` (of organization `org_id`) joining (`delta` = 1) or leaving (-1) the
    /// user lists.
    fn user_joined(&mut self, id: &str, org_id: Option<&str>, delta: i64) {
        self.pending.lists.add(List::Users, &[], id, delta);
        if let Some(org) = org_id {
            self.pending
                .lists
                .add(List::UsersOfOrganization, &[org], id, delta);
        }
    }

    /// Adds the rows of a user's secondary organizations (the foreign keys behind the copy
    /// kept in `users.org_relations`, which reads use).
    async fn insert_relations(&mut self, user_id: &str, org_ids: &[String]) -> Result<()> {
        for org_id in org_ids {
            self.execute(
                "INSERT INTO user_org_relations (user_id, org_id) VALUES ($1, $2)",
                &[&user_id, org_id],
            )
            .await?;
        }
        Ok(())
    }
}

/// `INSERT INTO users` of `rows` users: their rows and their keys.
fn insert_users_sql<B: Backend>(rows: usize) -> String {
    format!(
        "INSERT INTO users ({}, {}) VALUES {}",
        UserRow::COLUMNS,
        UserKeys::COLUMNS,
        values_list::<B>(0, rows, UserRow::COLUMN_COUNT + UserKeys::COLUMN_COUNT)
    )
}

#[async_trait]
impl<B: Backend> UserTx for StoreTx<'_, B> {
    async fn insert_user(&mut self, u: &User) -> Result<()> {
        // Numbered `$n` as PostgreSQL numbers them, which SQLite reads too: one text for both.
        static SQL: LazyLock<String> = LazyLock::new(|| insert_users_sql::<Pg>(1));
        let (row, keys) = (UserRow::of(u), UserKeys::of(u));
        let args: Vec<&dyn ToArg> = row.values().into_iter().chain(keys.values()).collect();
        self.execute_or(&SQL, &args, |e| map_unique(e, USER_UNIQUES))
            .await?;
        self.user_joined(&u.id, u.org_id.as_deref(), 1);
        self.insert_relations(&u.id, &u.secondary_org_ids).await
    }

    async fn insert_users(&mut self, users: &[User]) -> Result<()> {
        // 500 rows of a user's columns stay under both databases' parameter limits.
        for chunk in users.chunks(500) {
            let sql = insert_users_sql::<B>(chunk.len());
            let rows: Vec<(UserRow, UserKeys)> = chunk
                .iter()
                .map(|u| (UserRow::of(u), UserKeys::of(u)))
                .collect();
            let args: Vec<&dyn ToArg> = rows
                .iter()
                .flat_map(|(row, keys)| row.values().into_iter().chain(keys.values()))
                .collect();
            self.execute_or(&sql, &args, |e| map_unique(e, USER_UNIQUES))
                .await?;
            for u in chunk {
                self.user_joined(&u.id, u.org_id.as_deref(), 1);
                self.insert_relations(&u.id, &u.secondary_org_ids).await?;
            }
            // Now, not at the end of the job: an import's changes would fill memory.
            self.apply_pending().await?;
        }
        Ok(())
    }

    async fn update_user(&mut self, u: &User) -> Result<()> {
        let row = UserRow::of(u);
        let before: Option<(Option<String>, Option<String>)> = self
            .fetch_optional(
                "SELECT org_id, org_relations FROM users WHERE id = $1",
                &[&u.id],
            )
            .await?;
        let relations_changed = before
            .as_ref()
            .is_some_and(|(_, old)| *old != row.org_relations);
        if relations_changed {
            self.execute(
                "DELETE FROM user_org_relations WHERE user_id = $1",
                &[&u.id],
            )
            .await?;
            self.insert_relations(&u.id, &u.secondary_org_ids).await?;
        }
        if let Some((old_org, _)) = before.filter(|(old_org, _)| *old_org != u.org_id) {
            if let Some(old_org) = &old_org {
                self.pending
                    .lists
                    .add(List::UsersOfOrganization, &[old_org], &u.id, -1);
            }
            if let Some(org) = &u.org_id {
                self.pending
                    .lists
                    .add(List::UsersOfOrganization, &[org], &u.id, 1);
            }
        }
        // `locked` is not written here: only the sign-in lock changes it
        // (`set_sign_in_lock`), so an update cannot undo a lock set meanwhile.
        const KEEP: &[&str] = &["id", "locked", "created_at"];
        static SQL: LazyLock<String> = LazyLock::new(|| {
            let (set, n) = UserRow::set_sql(KEEP);
            format!(
                "UPDATE users SET {set}, user_name_key = ${}, mobile_key = ${} WHERE id = ${}",
                n + 1,
                n + 2,
                n + 3
            )
        });
        let keys = UserKeys::of(u);
        let mut args = row.assigned_values(KEEP);
        args.extend(keys.values());
        args.push(&row.id);
        let rows = self
            .execute_or(&SQL, &args, |e| map_unique(e, USER_UNIQUES))
            .await?;
        touched(rows, ErrorKind::UserNotFound)
    }

    async fn delete_user(&mut self, id: &UserId) -> Result<()> {
        let (org_id,): (Option<String>,) = self
            .fetch_optional_or(
                "DELETE FROM users WHERE id = $1 RETURNING org_id",
                &[&id],
                map_delete,
            )
            .await?
            .ok_or(ErrorKind::UserNotFound)?;
        self.user_joined(id, org_id.as_deref(), -1);
        Ok(())
    }

    async fn user(&mut self, id: &UserId) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {} FROM users WHERE id = $1{}",
            UserRow::COLUMNS,
            self.row_lock()
        );
        let row: Option<UserRow> = self.fetch_optional(&sql, &[&id]).await?;
        row.map(UserRow::into_domain).transpose()
    }

    async fn user_and_application(
        &mut self,
        id: &UserId,
        application_id: &ApplicationId,
    ) -> Result<Option<(User, Application)>> {
        let lock = if self.row_lock().is_empty() {
            ""
        } else {
            " FOR UPDATE OF u"
        };
        let sql = format!(
            "SELECT {}, {} FROM users u JOIN applications a ON a.id = $2 WHERE u.id = $1{lock}",
            prefixed("u", UserRow::COLUMNS),
            renamed("a", APPLICATION_COLUMNS, "app_"),
        );
        let row: Option<UserApplicationRow> =
            self.fetch_optional(&sql, &[&id, &application_id]).await?;
        row.map(|row| {
            let (user, app) = row.into_parts();
            Ok((user.into_domain()?, app.into_domain()?))
        })
        .transpose()
    }

    async fn user_by_name(&mut self, user_name: &str) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {} FROM users WHERE user_name_key = $1",
            UserRow::COLUMNS
        );
        let row: Option<UserRow> = self
            .fetch_optional(&sql, &[&user_name_key(user_name)])
            .await?;
        row.map(UserRow::into_domain).transpose()
    }

    async fn list_users_updated_after(
        &mut self,
        org_id: Option<&str>,
        after: Millis,
        page: PageRequest,
    ) -> Result<Page<User>> {
        // In the order they changed: a sync that pages through sees each change once, and a
        // user changed meanwhile moves to the end rather than off a page.
        let filter = match org_id {
            Some(_) => "updated_at > $1 AND org_id = $2",
            None => "updated_at > $1 AND $2 IS NULL",
        };
        let rows: Page<UserRow> = self
            .fetch_page(
                &format!(
                    "SELECT {} FROM users WHERE {filter} ORDER BY updated_at, id",
                    UserRow::COLUMNS
                ),
                &format!("SELECT COUNT(*) FROM users WHERE {filter}"),
                page,
                &[&after, &org_id],
            )
            .await?;
        rows.try_map(UserRow::into_domain)
    }

    async fn list_users(&mut self, org_id: Option<&str>, page: PageRequest) -> Result<Page<User>> {
        let scope = match org_id {
            Some(org_id) => Scope::new(List::UsersOfOrganization, &[org_id]),
            None => Scope::new(List::Users, &[]),
        };
        let rows: Page<UserRow> = self
            .marked_page(UserRow::COLUMNS, "users", &scope, page)
            .await?;
        rows.try_map(UserRow::into_domain)
    }
}
