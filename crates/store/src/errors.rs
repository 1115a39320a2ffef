//! Database errors: both drivers' errors read as one [`DbError`] (by the driver's own module),
//! then turned into catalog errors here: a unique-constraint violation becomes the client
//! error it means; anything else is logged in full and shown as a server error.

use roster_domain::{Error, ErrorKind};

/// What a database said went wrong, whichever database and driver said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DbError {
    /// A unique constraint: PostgreSQL names it; SQLite's message names its columns.
    Unique {
        constraint: Option<String>,
        message: String,
    },
    /// A foreign key (PostgreSQL names it).
    ForeignKey {
        constraint: Option<String>,
        message: String,
    },
    /// The database cannot be reached or cannot take the work now: a retry may succeed.
    Unavailable(String),
    Other(String),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Unique { message, .. } | DbError::ForeignKey { message, .. } => {
                f.write_str(message)
            }
            DbError::Unavailable(message) | DbError::Other(message) => f.write_str(message),
        }
    }
}

impl DbError {
    /// A PostgreSQL server's error: its SQLSTATE, message and constraint.
    pub(crate) fn from_sqlstate(code: &str, message: &str, constraint: Option<&str>) -> Self {
        let message = format!("{message} (SQLSTATE {code})");
        let constraint = constraint.map(str::to_owned);
        match code {
            "23505" => DbError::Unique {
                constraint,
                message,
            },
            "23503" => DbError::ForeignKey {
                constraint,
                message,
            },
            code if is_unavailable(code) => DbError::Unavailable(message),
            _ => DbError::Other(message),
        }
    }

    /// A SQLite error: its extended result code and message.
    pub(crate) fn from_sqlite(extended_code: i32, message: &str) -> Self {
        use rusqlite::ffi;
        let message = format!("(code: {extended_code}) {message}");
        match extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => DbError::Unique {
                constraint: None,
                message,
            },
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => DbError::ForeignKey {
                constraint: None,
                message,
            },
            code if is_unavailable(&code.to_string()) => DbError::Unavailable(message),
            _ => DbError::Other(message),
        }
    }
}

/// sqlx still creates and migrates the databases.
impl From<sqlx::Error> for DbError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                DbError::Unavailable(err.to_string())
            }
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                if code.len() < 5 {
                    match code.parse::<i32>() {
                        Ok(sqlite) => DbError::from_sqlite(sqlite, db.message()),
                        Err(_) => DbError::Other(err.to_string()),
                    }
                } else {
                    DbError::from_sqlstate(&code, db.message(), db.constraint())
                }
            }
            _ => DbError::Other(err.to_string()),
        }
    }
}

/// A uniqueness rule of the schema and the client error its violation means.
pub(crate) struct Unique {
    /// Constraint name, as PostgreSQL reports it.
    pub constraint: &'static str,
    /// Column list, as SQLite reports it (`UNIQUE constraint failed: <columns>`).
    pub columns: &'static str,
    pub error: ErrorKind,
}

pub(crate) const USER_UNIQUES: &[Unique] = &[
    Unique {
        constraint: "users_user_name_folded",
        columns: "users.user_name_key",
        error: ErrorKind::UserNameExists,
    },
    Unique {
        constraint: "users_mobile_digits",
        columns: "users.mobile_key",
        error: ErrorKind::MobileExists,
    },
    Unique {
        constraint: "users_user_name_key",
        columns: "users.user_name",
        error: ErrorKind::UserNameExists,
    },
    Unique {
        constraint: "users_mobile_key",
        columns: "users.mobile",
        error: ErrorKind::MobileExists,
    },
];

pub(crate) const ACCOUNT_UNIQUES: &[Unique] = &[
    Unique {
        constraint: "app_accounts_user_key",
        columns: "app_accounts.application_id, app_accounts.user_id",
        error: ErrorKind::AppAccountExists,
    },
    Unique {
        constraint: "app_accounts_name_key",
        columns: "app_accounts.application_id, app_accounts.account_name",
        error: ErrorKind::AccountNameExists,
    },
];

pub(crate) const ORGANIZATION_UNIQUES: &[Unique] = &[
    Unique {
        constraint: "organizations_code_key",
        columns: "organizations.code",
        error: ErrorKind::OrganizationCodeExists,
    },
    Unique {
        constraint: "organizations_sibling_name_key",
        columns: "organizations.parent_key, organizations.name",
        error: ErrorKind::OrganizationNameExists,
    },
];

pub(crate) const APP_ORG_UNIQUES: &[Unique] = &[Unique {
    constraint: "app_organizations_code_key",
    columns: "app_organizations.application_id, app_organizations.code",
    error: ErrorKind::AppOrgCodeExists,
}];

pub(crate) const ROLE_UNIQUES: &[Unique] = &[Unique {
    constraint: "app_roles_code_key",
    columns: "app_roles.application_id, app_roles.code",
    error: ErrorKind::RoleCodeExists,
}];

pub(crate) const APPLICATION_UNIQUES: &[Unique] = &[
    Unique {
        constraint: "applications_client_id_key",
        columns: "applications.client_id",
        error: ErrorKind::ClientIdExists,
    },
    Unique {
        constraint: "applications_name_key",
        columns: "applications.name",
        error: ErrorKind::ApplicationNameExists,
    },
];

/// A foreign key of the schema (PostgreSQL's constraint name) and what its violation means:
/// on an insert or update, the row it names is gone (`missing`); on a delete, rows still
/// name the deleted one (`in_use`). Checks in the use cases find these first; the constraint
/// decides only for a concurrent change that lands between check and write.
struct Reference {
    constraint: &'static str,
    missing: ErrorKind,
    in_use: ErrorKind,
}

const REFERENCES: &[Reference] = &[
    Reference {
        constraint: "users_org_id_fkey",
        missing: ErrorKind::OrganizationNotFound,
        in_use: ErrorKind::OrganizationHasMembers,
    },
    Reference {
        constraint: "user_org_relations_org_id_fkey",
        missing: ErrorKind::OrganizationNotFound,
        in_use: ErrorKind::OrganizationHasMembers,
    },
    Reference {
        constraint: "user_org_relations_user_id_fkey",
        missing: ErrorKind::UserNotFound,
        in_use: ErrorKind::Unavailable,
    },
    Reference {
        constraint: "organizations_parent_id_fkey",
        missing: ErrorKind::ParentOrganizationNotFound,
        in_use: ErrorKind::OrganizationHasChildren,
    },
    Reference {
        constraint: "app_organizations_parent_id_fkey",
        missing: ErrorKind::ParentAppOrgNotFound,
        in_use: ErrorKind::AppOrgHasChildren,
    },
    Reference {
        constraint: "app_accounts_org_id_fkey",
        missing: ErrorKind::AppOrgNotFound,
        in_use: ErrorKind::AppOrgHasAccounts,
    },
    // A user deleted while an account was added for them: the delete may simply be retried.
    Reference {
        constraint: "app_accounts_user_id_fkey",
        missing: ErrorKind::UserNotFound,
        in_use: ErrorKind::Unavailable,
    },
    Reference {
        constraint: "app_accounts_application_id_fkey",
        missing: ErrorKind::ApplicationNotFound,
        in_use: ErrorKind::Unavailable,
    },
    Reference {
        constraint: "app_organizations_application_id_fkey",
        missing: ErrorKind::ApplicationNotFound,
        in_use: ErrorKind::Unavailable,
    },
    Reference {
        constraint: "sso_tokens_application_id_fkey",
        missing: ErrorKind::ApplicationNotFound,
        in_use: ErrorKind::Unavailable,
    },
    Reference {
        constraint: "app_sso_application_id_fkey",
        missing: ErrorKind::ApplicationNotFound,
        in_use: ErrorKind::Unavailable,
    },
    Reference {
        constraint: "app_roles_application_id_fkey",
        missing: ErrorKind::ApplicationNotFound,
        in_use: ErrorKind::Unavailable,
    },
    Reference {
        constraint: "access_tokens_application_id_fkey",
        missing: ErrorKind::ApplicationNotFound,
        in_use: ErrorKind::Unavailable,
    },
    Reference {
        constraint: "app_role_members_role_id_fkey",
        missing: ErrorKind::RoleNotFound,
        in_use: ErrorKind::Unavailable,
    },
    Reference {
        constraint: "app_role_members_account_id_fkey",
        missing: ErrorKind::AppAccountNotFound,
        in_use: ErrorKind::Unavailable,
    },
];

/// The foreign key `err` violates, if it is a foreign-key violation Roster knows.
fn violated_reference(err: &DbError) -> Option<&'static Reference> {
    let DbError::ForeignKey {
        constraint: Some(name),
        ..
    } = err
    else {
        return None;
    };
    REFERENCES.iter().find(|r| r.constraint == name)
}

/// Maps an error of a delete: a row that still names the deleted one is "in use".
pub(crate) fn map_delete(err: DbError) -> Error {
    match violated_reference(&err) {
        Some(r) if r.in_use == ErrorKind::Unavailable => {
            Error::with_detail(r.in_use, "rows were added for it concurrently; retry")
        }
        Some(r) => Error::new(r.in_use),
        None => map(err),
    }
}

/// Maps an error of a statement that may violate one of `uniques`.
pub(crate) fn map_unique(err: DbError, uniques: &[Unique]) -> Error {
    if let DbError::Unique {
        constraint,
        message,
    } = &err
    {
        for rule in uniques {
            let by_name = constraint.as_deref() == Some(rule.constraint);
            let by_columns = message.ends_with(rule.columns);
            if by_name || by_columns {
                return Error::new(rule.error);
            }
        }
    }
    map(err)
}

/// Maps any other database error: a known foreign-key violation to the catalog's "does not
/// exist"; unavailable when the database cannot be reached or cannot take the write now,
/// internal otherwise. The detail goes to logs only.
pub(crate) fn map(err: impl Into<DbError>) -> Error {
    let err = err.into();
    if let Some(reference) = violated_reference(&err) {
        return Error::new(reference.missing);
    }
    match err {
        DbError::Unavailable(message) => Error::with_detail(ErrorKind::Unavailable, message),
        other => Error::internal(other.to_string()),
    }
}

/// PostgreSQL SQLSTATEs of a database that is unreachable or refusing work (connection
/// exceptions 08, insufficient resources 53, operator intervention 57P, invalid
/// authorization 28, database gone 3D000), or that gave up a transaction the client may
/// simply retry (serialization failure 40001, deadlock 40P01); SQLite result codes BUSY,
/// LOCKED, IOERR, FULL, CANTOPEN (extended codes carry the primary code in their low byte).
/// A SQLSTATE is always five characters, often all digits; SQLite's codes have at most four.
fn is_unavailable(code: &str) -> bool {
    if code.len() < 5 {
        return code
            .parse::<i64>()
            .is_ok_and(|sqlite| matches!(sqlite & 0xff, 5 | 6 | 10 | 13 | 14));
    }
    ["08", "53", "57P", "28"]
        .iter()
        .any(|p| code.starts_with(p))
        || matches!(code, "3D000" | "40001" | "40P01")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_databases_errors_read_as_one_kind() {
        use rusqlite::ffi;
        let pg = |code| DbError::from_sqlstate(code, "m", Some("users_mobile_key"));
        assert!(
            matches!(pg("23505"), DbError::Unique { constraint: Some(c), .. } if c == "users_mobile_key")
        );
        assert!(matches!(pg("23503"), DbError::ForeignKey { .. }));
        assert!(matches!(pg("57P01"), DbError::Unavailable(_)));
        assert!(matches!(pg("42601"), DbError::Other(_)));
        let lite = |code| DbError::from_sqlite(code, "UNIQUE constraint failed: users.mobile_key");
        assert!(matches!(
            lite(ffi::SQLITE_CONSTRAINT_UNIQUE),
            DbError::Unique { .. }
        ));
        assert!(matches!(
            lite(ffi::SQLITE_CONSTRAINT_PRIMARYKEY),
            DbError::Unique { .. }
        ));
        assert!(matches!(
            lite(ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
            DbError::ForeignKey { .. }
        ));
        assert!(matches!(lite(ffi::SQLITE_FULL), DbError::Unavailable(_)));
        assert!(matches!(
            lite(ffi::SQLITE_IOERR_FSYNC),
            DbError::Unavailable(_)
        ));
        assert!(matches!(
            lite(ffi::SQLITE_CONSTRAINT_CHECK),
            DbError::Other(_)
        ));
    }

    #[test]
    fn violations_become_the_client_errors_they_mean() {
        // By constraint name (PostgreSQL) and by the columns in the message (SQLite).
        let by_name = DbError::from_sqlstate("23505", "duplicate", Some("users_mobile_key"));
        assert_eq!(
            map_unique(by_name, USER_UNIQUES).kind(),
            ErrorKind::MobileExists
        );
        let by_columns =
            DbError::from_sqlite(2067, "UNIQUE constraint failed: users.user_name_key");
        assert_eq!(
            map_unique(by_columns, USER_UNIQUES).kind(),
            ErrorKind::UserNameExists
        );
        let fk = || DbError::from_sqlstate("23503", "fk", Some("users_org_id_fkey"));
        assert_eq!(map(fk()).kind(), ErrorKind::OrganizationNotFound);
        assert_eq!(map_delete(fk()).kind(), ErrorKind::OrganizationHasMembers);
        let gone = DbError::Unavailable("connection closed".into());
        assert_eq!(map(gone).kind(), ErrorKind::Unavailable);
        assert!(map(DbError::Other("syntax".into())).is_server_side());
    }

    #[test]
    fn retryable_and_unreachable_database_codes_are_unavailable() {
        // Deadlock and serialization failure: the client may retry (503), not a bug (500).
        for code in [
            "40P01", "40001", "08006", "53300", "57P01", "28P01", "3D000", "5", "261",
        ] {
            assert!(is_unavailable(code), "{code}");
        }
        // A constraint or syntax error is not a passing condition.
        for code in ["23505", "42601", "19", "1"] {
            assert!(!is_unavailable(code), "{code}");
        }
    }
}
