//! The web console and the portal: console roles, the tenant's name, user search by prefix,
//! locked users, sign-in counts and a user's sessions.

use crate::backend::Backend;
use crate::marks::{List, Scope};
use crate::queries::prefixed;
use crate::queries::prefixed as columns_of;
use crate::rows::{SessionPersonRow, SessionRow, UserRoleRow, UserRow};
use crate::store_tx::StoreTx;
use crate::tx::{ConsoleTx, SessionPerson};
use async_trait::async_trait;
use roster_domain::console::ConsoleRole;
use roster_domain::sign_in::SsoSession;
use roster_domain::sign_in::{SignInLock, SignInsEnded};
use roster_domain::time::Millis;
use roster_domain::user::{User, UserId};
use roster_domain::{Error, Result};

/// Above every text that begins with a prefix: the prefix followed by the last code point
/// (both databases compare these columns bytewise, and UTF-8 keeps code point order).
fn after_prefix(prefix: &str) -> String {
    format!("{prefix}{}", char::MAX)
}

fn role(code: &str) -> Result<ConsoleRole> {
    ConsoleRole::parse(code)
        .map_err(|_| Error::internal(format!("unknown console role '{code}' stored")))
}

#[async_trait]
impl<B: Backend> ConsoleTx for StoreTx<'_, B> {
    async fn session_person(&mut self, digest: &str) -> Result<Option<SessionPerson>> {
        let sql = format!(
            "SELECT {}, {}, u.failed_sign_ins, u.locked_until, u.sign_ins_ended_at, \
             r.role AS console_role FROM sso_sessions s JOIN users u ON u.id = s.user_id \
             LEFT JOIN console_roles r ON r.user_id = u.id WHERE s.digest = $1",
            columns_of("s", SessionRow::COLUMNS),
            columns_of("u", UserRow::COLUMNS)
        );
        let Some(row): Option<SessionPersonRow> = self.fetch_optional(&sql, &[&digest]).await?
        else {
            return Ok(None);
        };
        Ok(Some(SessionPerson {
            session: row.session.into_domain(),
            user: row.user.into_domain()?,
            lock: SignInLock {
                failures: row.failed_sign_ins,
                locked_until: row.locked_until,
            },
            ended: SignInsEnded {
                user: row.sign_ins_ended_at,
                account: None,
            },
            role: row.console_role.as_deref().map(role).transpose()?,
        }))
    }

    async fn console_role(&mut self, user_id: &UserId) -> Result<Option<ConsoleRole>> {
        let row: Option<(String,)> = self
            .fetch_optional(
                "SELECT role FROM console_roles WHERE user_id = $1",
                &[user_id],
            )
            .await?;
        row.map(|(code,)| role(&code)).transpose()
    }

    async fn put_console_role(
        &mut self,
        user_id: &UserId,
        role: ConsoleRole,
        at: Millis,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO console_roles (user_id, role, granted_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET role = $2, granted_at = $3",
            &[user_id, &role.code(), &at],
        )
        .await?;
        Ok(())
    }

    async fn delete_console_role(&mut self, user_id: &UserId) -> Result<bool> {
        let deleted = self
            .execute("DELETE FROM console_roles WHERE user_id = $1", &[user_id])
            .await?;
        Ok(deleted > 0)
    }

    async fn console_people(&mut self, limit: i64) -> Result<Vec<(User, ConsoleRole)>> {
        let sql = format!(
            "SELECT {}, r.role AS console_role FROM console_roles r JOIN users u ON u.id = r.user_id \
             ORDER BY u.user_name_key LIMIT $1",
            prefixed("u", UserRow::COLUMNS)
        );
        let rows: Vec<UserRoleRow> = self.fetch_all(&sql, &[&limit]).await?;
        rows.into_iter()
            .map(|row| Ok((row.user.into_domain()?, role(&row.console_role)?)))
            .collect()
    }

    async fn users_by_prefix(
        &mut self,
        user_name_key: Option<&str>,
        mobile_key: Option<&str>,
        email: Option<&str>,
        limit: i64,
    ) -> Result<Vec<User>> {
        // One range of one index each, in one statement: a union of three ranges (an absent
        // prefix is an empty range).
        let range = |prefix: Option<&str>| match prefix.filter(|p| !p.is_empty()) {
            Some(p) => (p.to_owned(), after_prefix(p)),
            None => (String::new(), String::new()),
        };
        let (name_from, name_to) = range(user_name_key);
        let (mobile_from, mobile_to) = range(mobile_key);
        let (email_from, email_to) = range(email);
        let branch = |column: &str, from: usize| {
            format!(
                "SELECT * FROM (SELECT {} FROM users WHERE {column} >= ${from} AND {column} < ${} \
                 ORDER BY {column} LIMIT $7) AS by_{}",
                UserRow::COLUMNS,
                from + 1,
                from
            )
        };
        let sql = format!(
            "{} UNION ALL {} UNION ALL {}",
            branch("user_name_key", 1),
            branch("mobile_key", 3),
            branch("lower(email)", 5)
        );
        let rows: Vec<UserRow> = self
            .fetch_all(
                &sql,
                &[
                    &name_from,
                    &name_to,
                    &mobile_from,
                    &mobile_to,
                    &email_from,
                    &email_to,
                    &limit,
                ],
            )
            .await?;
        let mut found: Vec<User> = Vec::new();
        for row in rows {
            let user = row.into_domain()?;
            if !found.iter().any(|u| u.id == user.id) {
                found.push(user);
            }
        }
        found.sort_by(|a, b| a.user_name.cmp(&b.user_name).then(a.id.cmp(&b.id)));
        found.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(found)
    }

    async fn user_count(&mut self) -> Result<i64> {
        self.marked_total(&Scope::new(List::Users, &[])).await
    }

    async fn users_from(
        &mut self,
        after: Option<&str>,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<User>> {
        // Keyset paging on the primary key: a page anywhere costs what the first does.
        let rows: Vec<UserRow> = match (after, before) {
            (_, Some(before)) => {
                let sql = format!(
                    "SELECT {} FROM users WHERE id < $1 ORDER BY id DESC LIMIT $2",
                    UserRow::COLUMNS
                );
                let mut rows: Vec<UserRow> = self.fetch_all(&sql, &[&before, &limit]).await?;
                rows.reverse();
                rows
            }
            (Some(after), None) => {
                let sql = format!(
                    "SELECT {} FROM users WHERE id > $1 ORDER BY id LIMIT $2",
                    UserRow::COLUMNS
                );
                self.fetch_all(&sql, &[&after, &limit]).await?
            }
            (None, None) => {
                let sql = format!(
                    "SELECT {} FROM users ORDER BY id LIMIT $1",
                    UserRow::COLUMNS
                );
                self.fetch_all(&sql, &[&limit]).await?
            }
        };
        rows.into_iter().map(UserRow::into_domain).collect()
    }

    async fn locked_users(&mut self, at: Millis, limit: i64) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {} FROM users WHERE locked_until > $1 ORDER BY locked_until LIMIT $2",
            UserRow::COLUMNS
        );
        let rows: Vec<UserRow> = self.fetch_all(&sql, &[&at, &limit]).await?;
        rows.into_iter().map(UserRow::into_domain).collect()
    }

    async fn audit_counts_per_hour(
        &mut self,
        operations: &[&str],
        since: Millis,
    ) -> Result<Vec<(i64, String, i64)>> {
        let mut counts = Vec::new();
        for operation in operations {
            let rows: Vec<(i64, i64)> = self
                .fetch_all(
                    "SELECT at / 3600000 AS hour, CAST(SUM(count) AS BIGINT) AS n \
                     FROM audit_log WHERE at >= $1 AND operation = $2 \
                     GROUP BY at / 3600000",
                    &[&since, operation],
                )
                .await?;
            counts.extend(
                rows.into_iter()
                    .map(|(hour, n)| (hour, (*operation).to_owned(), n)),
            );
        }
        Ok(counts)
    }

    async fn sessions_of_user(&mut self, user_id: &UserId, limit: i64) -> Result<Vec<SsoSession>> {
        let sql = format!(
            "SELECT {} FROM sso_sessions WHERE user_id = $1 ORDER BY last_seen_at DESC LIMIT $2",
            SessionRow::COLUMNS
        );
        let rows: Vec<SessionRow> = self.fetch_all(&sql, &[user_id, &limit]).await?;
        Ok(rows.into_iter().map(SessionRow::into_domain).collect())
    }

    async fn tenant_name(&mut self) -> Result<Option<String>> {
        let row: Option<(String,)> = self
            .fetch_optional("SELECT name FROM tenant_settings WHERE id = 1", &[])
            .await?;
        Ok(row.map(|(name,)| name))
    }

    async fn put_tenant_name(&mut self, name: &str, at: Millis) -> Result<()> {
        self.execute(
            "INSERT INTO tenant_settings (id, name, updated_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET name = $1, updated_at = $2",
            &[&name, &at],
        )
        .await?;
        Ok(())
    }
}
