//! Rows of signing in: who may sign in, sessions, authorization codes, refresh tokens.

use super::{AccountRow, UserRow};
use roster_domain::id::Id;
use roster_domain::sign_in::{AuthorizationCode, RefreshToken, SignInLock, SsoSession};

row! {
    /// A user with their lock and their account in one application (`acc_*`, absent when the
    /// user holds none), read at once.
    pub(crate) struct CandidateRow {
        pub user: UserRow,
        pub failed_sign_ins: i64,
        pub locked_until: Option<i64>,
        pub sign_ins_ended_at: Option<i64>,
        pub acc_sign_ins_ended_at: Option<i64>,
        pub acc_id: Option<String>,
        pub acc_application_id: Option<String>,
        pub acc_account_name: Option<String>,
        pub acc_account_type: Option<String>,
        pub acc_name: Option<String>,
        pub acc_org_id: Option<String>,
        pub acc_password_secret: Option<String>,
        pub acc_disabled: Option<bool>,
        pub acc_disabled_by_user: Option<bool>,
        pub acc_extension: Option<String>,
        pub acc_created_at: Option<i64>,
        pub acc_updated_at: Option<i64>,
    }
}

impl CandidateRow {
    /// The account columns as an account row, when the user holds one.
    pub fn account(&mut self) -> Option<AccountRow> {
        Some(AccountRow {
            id: self.acc_id.take()?,
            application_id: self.acc_application_id.take()?,
            user_id: Some(self.user.id.clone()),
            account_name: self.acc_account_name.take()?,
            account_type: self.acc_account_type.take()?,
            name: self.acc_name.take(),
            org_id: self.acc_org_id.take(),
            password_secret: self.acc_password_secret.take(),
            disabled: self.acc_disabled?,
            disabled_by_user: self.acc_disabled_by_user?,
            extension: self.acc_extension.take(),
            created_at: self.acc_created_at?,
            updated_at: self.acc_updated_at?,
        })
    }
}

row! {
    /// A user's wrong passwords in a row and the lock they set.
    pub(crate) struct LockRow {
        pub failed_sign_ins: i64,
        pub locked_until: Option<i64>,
    }
}

impl LockRow {
    pub fn into_domain(self) -> SignInLock {
        SignInLock {
            failures: self.failed_sign_ins,
            locked_until: self.locked_until,
        }
    }
}

table_row! {
    /// A row of `sso_sessions`.
    pub(crate) struct SessionRow {
        pub digest: String,
        pub user_id: String,
        pub auth_time: i64,
        pub last_seen_at: i64,
        pub expires_at: i64,
        pub second_factor_at: Option<i64>,
    }
}

impl SessionRow {
    pub fn of(s: &SsoSession) -> Self {
        Self {
            digest: s.digest.clone(),
            user_id: s.user_id.as_str().to_owned(),
            auth_time: s.auth_time,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            second_factor_at: s.second_factor_at,
        }
    }

    pub fn into_domain(self) -> SsoSession {
        SsoSession {
            digest: self.digest,
            user_id: Id::new(self.user_id),
            auth_time: self.auth_time,
            last_seen_at: self.last_seen_at,
            expires_at: self.expires_at,
            second_factor_at: self.second_factor_at,
        }
    }
}

table_row! {
    /// A row of `sso_codes`.
    #[derive(Debug)]
    pub(crate) struct CodeRow {
        pub digest: String,
        pub application_id: String,
        pub user_id: String,
        pub redirect_uri: String,
        pub scope: String,
        pub nonce: Option<String>,
        pub code_challenge: Option<String>,
        pub auth_time: i64,
        pub expires_at: i64,
        pub used_at: Option<i64>,
        pub sid: Option<String>,
    }
}

impl CodeRow {
    pub fn of(c: &AuthorizationCode) -> Self {
        Self {
            digest: c.digest.clone(),
            application_id: c.application_id.as_str().to_owned(),
            user_id: c.user_id.as_str().to_owned(),
            // Stored as empty text when the request named none (the column predates that).
            redirect_uri: c.redirect_uri.clone().unwrap_or_default(),
            scope: c.scope.clone(),
            nonce: c.nonce.clone(),
            code_challenge: c.code_challenge.clone(),
            auth_time: c.auth_time,
            expires_at: c.expires_at,
            used_at: c.used_at,
            sid: c.sid.clone(),
        }
    }

    pub fn into_domain(self) -> AuthorizationCode {
        AuthorizationCode {
            digest: self.digest,
            application_id: Id::new(self.application_id),
            user_id: Id::new(self.user_id),
            redirect_uri: Some(self.redirect_uri).filter(|u| !u.is_empty()),
            scope: self.scope,
            nonce: self.nonce,
            code_challenge: self.code_challenge,
            auth_time: self.auth_time,
            expires_at: self.expires_at,
            used_at: self.used_at,
            sid: self.sid,
        }
    }
}

table_row! {
    /// A row of `sso_refresh_tokens`.
    pub(crate) struct RefreshTokenRow {
        pub digest: String,
        pub application_id: String,
        pub user_id: String,
        pub grant_id: String,
        pub scope: String,
        pub auth_time: i64,
        pub expires_at: i64,
        pub created_at: i64,
        pub generation: i64,
        pub used_at: Option<i64>,
        pub sid: Option<String>,
    }
}

impl RefreshTokenRow {
    pub fn of(t: &RefreshToken) -> Self {
        Self {
            digest: t.digest.clone(),
            application_id: t.application_id.as_str().to_owned(),
            user_id: t.user_id.as_str().to_owned(),
            grant_id: t.grant_id.clone(),
            scope: t.scope.clone(),
            auth_time: t.auth_time,
            expires_at: t.expires_at,
            created_at: t.created_at,
            generation: t.generation,
            used_at: t.used_at,
            sid: t.sid.clone(),
        }
    }

    pub fn into_domain(self) -> RefreshToken {
        RefreshToken {
            digest: self.digest,
            application_id: Id::new(self.application_id),
            user_id: Id::new(self.user_id),
            grant_id: self.grant_id,
            scope: self.scope,
            auth_time: self.auth_time,
            expires_at: self.expires_at,
            created_at: self.created_at,
            generation: self.generation,
            used_at: self.used_at,
            sid: self.sid,
        }
    }
}

#[cfg(test)]
mod table_row_tests {
    use super::*;

    fn session() -> SessionRow {
        SessionRow {
            digest: "d".into(),
            user_id: "u".into(),
            auth_time: 1,
            last_seen_at: 2,
            expires_at: 3,
            second_factor_at: None,
        }
    }

    #[test]
    fn a_table_lists_its_columns_once_for_reads_inserts_and_updates() {
        assert_eq!(
            SessionRow::COLUMNS,
            "digest, user_id, auth_time, last_seen_at, expires_at, second_factor_at"
        );
        assert_eq!(SessionRow::COLUMN_COUNT, 6);
        assert_eq!(session().values().len(), 6);
        assert_eq!(
            SessionRow::insert_sql("sso_sessions"),
            "INSERT INTO sso_sessions \
             (digest, user_id, auth_time, last_seen_at, expires_at, second_factor_at) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        );
        let keep = ["digest", "auth_time", "second_factor_at"];
        let (set, count) = SessionRow::set_sql(&keep);
        assert_eq!(set, "user_id = $1, last_seen_at = $2, expires_at = $3");
        assert_eq!((count, session().assigned_values(&keep).len()), (3, 3));
    }

    #[test]
    fn a_user_row_carries_every_stored_column_and_its_keys_apart() {
        let columns: Vec<&str> = UserRow::COLUMNS.split(", ").collect();
        assert_eq!(columns.len(), UserRow::COLUMN_COUNT);
        for stored in ["id", "org_relations", "locked"] {
            assert!(columns.contains(&stored), "{stored}");
        }
        // The folded keys are written beside the row, never read back.
        assert!(!columns.contains(&"user_name_key"));
        assert_eq!(super::super::UserKeys::COLUMNS, "user_name_key, mobile_key");
    }
}
