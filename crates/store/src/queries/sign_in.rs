//! Signing users in: who a login name is, wrong-password counts and locks, browser sessions,
//! authorization codes and refresh tokens.

use crate::backend::Backend;
use crate::inserts::Rows;
use crate::queries::{prefixed, ACCOUNT_COLUMNS};
use crate::rows::{
    AccountRow, CandidateRow, CodeRow, LockRow, RefreshTokenRow, SessionRow, UserRow,
};
use crate::store_tx::StoreTx;
use crate::tx::{SignInTx, TokenTx};
use async_trait::async_trait;
use roster_domain::application::ApplicationId;
use roster_domain::sign_in::{
    AuthorizationCode, Guessed, RefreshToken, Reservation, SignInLock, SignInsEnded, SsoSession,
    Standing,
};
use roster_domain::time::Millis;
use roster_domain::user::{login_mobile_key, user_name_key, User, UserId};
use roster_domain::Result;
use std::sync::LazyLock;

/// `codes` as rows to insert.
pub(crate) fn code_rows(codes: &[CodeRow]) -> Rows<'_> {
    Rows::of_table("sso_codes", CodeRow::COLUMNS, codes, CodeRow::values)
}

#[async_trait]
impl<B: Backend> SignInTx for StoreTx<'_, B> {
    async fn users_by_login(&mut self, login: &str) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {} FROM users WHERE user_name_key = $1 OR mobile_key = $2 \
             OR lower(email) = lower($3) ORDER BY id LIMIT 3",
            UserRow::COLUMNS
        );
        let rows: Vec<UserRow> = self
            .fetch_all(
                &sql,
                &[&user_name_key(login), &login_mobile_key(login), &login],
            )
            .await?;
        rows.into_iter().map(UserRow::into_domain).collect()
    }

    async fn reserve_password_check(
        &mut self,
        who: &Guessed,
        max: i64,
        at: Millis,
    ) -> Result<Reservation> {
        // One conditional statement: checks running at once cannot all see room for one more.
        // Only unindexed columns are set, so the statement costs what an unknown name's does
        // (setting `updated_at` would rewrite two index entries each time on SQLite).
        let reserved: Option<(i64,)> = match who {
            Guessed::User(user_id) => {
                let row: Option<(i64, bool)> = self
                    .fetch_optional(
                        "UPDATE users SET failed_sign_ins = failed_sign_ins + 1, \
                         locked_until = NULL WHERE id = $1 AND failed_sign_ins < $2 \
                         AND (locked_until IS NULL OR locked_until <= $3) \
                         RETURNING failed_sign_ins, locked",
                        &[user_id, &max, &at],
                    )
                    .await?;
                if let Some((_, true)) = row {
                    // A lock that ran out: ShowUser says unlocked from now.
                    self.execute(
                        "UPDATE users SET locked = FALSE, updated_at = $2 WHERE id = $1",
                        &[user_id, &at],
                    )
                    .await?;
                }
                row.map(|(n, _)| (n,))
            }
            Guessed::UnknownName(digest) => {
                self.fetch_optional(
                    "INSERT INTO sign_in_unknown_names \
                     (name_digest, failed_sign_ins, locked_until, last_attempt_at) \
                     VALUES ($1, 1, NULL, $3) ON CONFLICT (name_digest) DO UPDATE SET \
                     failed_sign_ins = sign_in_unknown_names.failed_sign_ins + 1, \
                     locked_until = NULL, last_attempt_at = $3 \
                     WHERE sign_in_unknown_names.failed_sign_ins < $2 \
                     AND (sign_in_unknown_names.locked_until IS NULL \
                     OR sign_in_unknown_names.locked_until <= $3) \
                     RETURNING failed_sign_ins",
                    &[&digest, &max, &at],
                )
                .await?
            }
        };
        if let Some((n,)) = reserved {
            return Ok(Reservation::Granted(n));
        }
        let lock: Option<LockRow> = match who {
            Guessed::User(user_id) => {
                self.fetch_optional(
                    "SELECT failed_sign_ins, locked_until FROM users WHERE id = $1",
                    &[user_id],
                )
                .await?
            }
            Guessed::UnknownName(digest) => {
                self.fetch_optional(
                    "SELECT failed_sign_ins, locked_until FROM sign_in_unknown_names \
                     WHERE name_digest = $1",
                    &[&digest],
                )
                .await?
            }
        };
        let until = lock.and_then(|l| l.into_domain().locked_until);
        Ok(Reservation::Refused(until.filter(|&t| t > at)))
    }

    async fn lock_sign_in(&mut self, who: &Guessed, until: Millis, at: Millis) -> Result<()> {
        match who {
            Guessed::User(user_id) => {
                let lock = SignInLock {
                    failures: 0,
                    locked_until: Some(until),
                };
                self.set_sign_in_lock(user_id, lock, at).await
            }
            Guessed::UnknownName(digest) => {
                self.execute(
                    "UPDATE sign_in_unknown_names SET failed_sign_ins = 0, locked_until = $2 \
                     WHERE name_digest = $1",
                    &[&digest, &until],
                )
                .await?;
                Ok(())
            }
        }
    }

    async fn release_password_check(&mut self, user_id: &UserId, n: i64) -> Result<()> {
        self.execute(
            "UPDATE users SET failed_sign_ins = \
             CASE WHEN failed_sign_ins > $2 THEN failed_sign_ins - $2 ELSE 0 END WHERE id = $1",
            &[user_id, &n],
        )
        .await?;
        Ok(())
    }

    async fn delete_unknown_names_tried_before(&mut self, at: Millis) -> Result<u64> {
        self.execute(
            "DELETE FROM sign_in_unknown_names WHERE last_attempt_at < $1",
            &[&at],
        )
        .await
    }

    async fn sign_in_candidate(
        &mut self,
        application_id: &ApplicationId,
        user_id: &UserId,
    ) -> Result<Option<Standing>> {
        let user_columns = prefixed("u", UserRow::COLUMNS);
        let account_columns = ACCOUNT_COLUMNS
            .split(',')
            .map(str::trim)
            .filter(|c| *c != "user_id")
            .map(|c| format!("a.{c} AS acc_{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {user_columns}, u.failed_sign_ins, u.locked_until, u.sign_ins_ended_at, \
             a.sign_ins_ended_at AS acc_sign_ins_ended_at, {account_columns} \
             FROM users u LEFT JOIN app_accounts a \
             ON a.user_id = u.id AND a.application_id = $2 WHERE u.id = $1"
        );
        let row: Option<CandidateRow> = self
            .fetch_optional(&sql, &[user_id, application_id])
            .await?;
        let Some(mut row) = row else {
            return Ok(None);
        };
        let account = row.account().map(AccountRow::into_domain).transpose()?;
        Ok(Some(Standing {
            lock: SignInLock {
                failures: row.failed_sign_ins,
                locked_until: row.locked_until,
            },
            ended: SignInsEnded {
                user: row.sign_ins_ended_at,
                account: row.acc_sign_ins_ended_at,
            },
            account,
            user: row.user.into_domain()?,
        }))
    }

    async fn end_sign_ins(
        &mut self,
        user_id: &UserId,
        application_id: Option<&ApplicationId>,
        at: Millis,
    ) -> Result<u64> {
        // Codes and refresh tokens first: an exchange spending one at the same time holds its
        // row, so the access tokens it issues are committed before they are looked for.
        let mut ended = 0;
        self.announce_change().await?;
        match application_id {
            None => {
                self.execute(
                    "UPDATE users SET sign_ins_ended_at = $2 WHERE id = $1",
                    &[user_id, &at],
                )
                .await?;
                for table in [
                    "sso_codes",
                    "sso_refresh_tokens",
                    "sso_tokens",
                    "sso_sessions",
                    "user_api_sessions",
                    "user_api_state_tokens",
                    "sso_tickets",
                    "cas_tickets",
                ] {
                    let sql = format!("DELETE FROM {table} WHERE user_id = $1");
                    ended += self.execute(&sql, &[user_id]).await?;
                }
            }
            Some(app) => {
                self.execute(
                    "UPDATE app_accounts SET sign_ins_ended_at = $3 \
                     WHERE user_id = $1 AND application_id = $2",
                    &[user_id, app, &at],
                )
                .await?;
                for table in [
                    "sso_codes",
                    "sso_refresh_tokens",
                    "sso_tokens",
                    "user_api_sessions",
                    "user_api_state_tokens",
                    "sso_tickets",
                    "cas_tickets",
                ] {
                    let sql =
                        format!("DELETE FROM {table} WHERE user_id = $1 AND application_id = $2");
                    ended += self.execute(&sql, &[user_id, app]).await?;
                }
            }
        }
        Ok(ended)
    }

    async fn set_sign_in_lock(
        &mut self,
        user_id: &UserId,
        lock: SignInLock,
        at: Millis,
    ) -> Result<()> {
        // `locked` is what ShowUser shows; a change of it is a change of the user.
        let locked = lock.locked_until.is_some();
        self.execute(
            "UPDATE users SET failed_sign_ins = $2, locked_until = $3, \
             updated_at = CASE WHEN locked = $4 THEN updated_at ELSE $5 END, locked = $4 \
             WHERE id = $1",
            &[user_id, &lock.failures, &lock.locked_until, &locked, &at],
        )
        .await?;
        Ok(())
    }

    async fn unlock_users_locked_until(&mut self, at: Millis) -> Result<u64> {
        self.execute(
            "UPDATE users SET locked = FALSE, locked_until = NULL, failed_sign_ins = 0, \
             updated_at = $1 WHERE locked_until IS NOT NULL AND locked_until <= $1",
            &[&at],
        )
        .await
    }

    async fn insert_session(&mut self, s: &SsoSession) -> Result<()> {
        static SQL: LazyLock<String> = LazyLock::new(|| SessionRow::insert_sql("sso_sessions"));
        let row = SessionRow::of(s);
        self.execute(&SQL, &row.values()).await?;
        Ok(())
    }

    async fn session(&mut self, digest: &str) -> Result<Option<SsoSession>> {
        let sql = format!(
            "SELECT {} FROM sso_sessions WHERE digest = $1",
            SessionRow::COLUMNS
        );
        let row: Option<SessionRow> = self.fetch_optional(&sql, &[&digest]).await?;
        Ok(row.map(SessionRow::into_domain))
    }

    async fn touch_session(&mut self, digest: &str, at: Millis) -> Result<()> {
        self.execute(
            "UPDATE sso_sessions SET last_seen_at = $2 WHERE digest = $1",
            &[&digest, &at],
        )
        .await?;
        Ok(())
    }

    async fn delete_session(&mut self, digest: &str) -> Result<bool> {
        let deleted = self
            .execute("DELETE FROM sso_sessions WHERE digest = $1", &[&digest])
            .await?;
        Ok(deleted > 0)
    }

    async fn insert_code(&mut self, code: &AuthorizationCode) -> Result<()> {
        // Written with the job's other deferred writes, at its end.
        self.pending.rows.sso_codes.push(CodeRow::of(code));
        Ok(())
    }

    async fn code(&mut self, digest: &str) -> Result<Option<AuthorizationCode>> {
        let sql = format!(
            "SELECT {} FROM sso_codes WHERE digest = $1",
            CodeRow::COLUMNS
        );
        let row: Option<CodeRow> = self.fetch_optional(&sql, &[&digest]).await?;
        Ok(row.map(CodeRow::into_domain))
    }

    async fn use_code(&mut self, digest: &str, at: Millis) -> Result<bool> {
        let marked = self
            .execute(
                "UPDATE sso_codes SET used_at = $2 WHERE digest = $1 AND used_at IS NULL",
                &[&digest, &at],
            )
            .await?;
        Ok(marked == 1)
    }

    async fn insert_refresh_token(&mut self, t: &RefreshToken) -> Result<()> {
        static SQL: LazyLock<String> =
            LazyLock::new(|| RefreshTokenRow::insert_sql("sso_refresh_tokens"));
        let row = RefreshTokenRow::of(t);
        self.execute(&SQL, &row.values()).await?;
        Ok(())
    }

    async fn refresh_token(&mut self, digest: &str) -> Result<Option<RefreshToken>> {
        let sql = format!(
            "SELECT {} FROM sso_refresh_tokens WHERE digest = $1",
            RefreshTokenRow::COLUMNS
        );
        let row: Option<RefreshTokenRow> = self.fetch_optional(&sql, &[&digest]).await?;
        Ok(row.map(RefreshTokenRow::into_domain))
    }

    async fn use_refresh_token(&mut self, digest: &str, at: Millis) -> Result<bool> {
        let marked = self
            .execute(
                "UPDATE sso_refresh_tokens SET used_at = $2 WHERE digest = $1 AND used_at IS NULL",
                &[&digest, &at],
            )
            .await?;
        Ok(marked == 1)
    }

    async fn revoke_grant(&mut self, grant_id: &str) -> Result<u64> {
        self.announce_change().await?;
        let access = self
            .execute("DELETE FROM sso_tokens WHERE grant_id = $1", &[&grant_id])
            .await?;
        let refresh = self
            .execute(
                "DELETE FROM sso_refresh_tokens WHERE grant_id = $1",
                &[&grant_id],
            )
            .await?;
        Ok(access + refresh)
    }

    async fn delete_sign_ins_expired_before(&mut self, at: Millis) -> Result<u64> {
        let mut deleted = 0;
        for table in ["sso_sessions", "sso_codes", "sso_refresh_tokens"] {
            deleted += self
                .execute(
                    &format!("DELETE FROM {table} WHERE expires_at < $1"),
                    &[&at],
                )
                .await?;
        }
        Ok(deleted)
    }
}
