//! The queries, written once in the SQL both databases accept (`$n` placeholders, standard
//! types), and the per-capability `Tx` traits implemented by a macro for each backend.

pub(crate) mod accounts;
pub(crate) mod applications;
pub(crate) mod marks;
pub(crate) mod organizations;
pub(crate) mod roles;
pub(crate) mod users;

pub(crate) const APPLICATION_COLUMNS: &str =
    "id, name, client_id, secret_digest, permissions, disabled, token_generation, created_at, \
     updated_at";

pub(crate) const USER_COLUMNS: &str = "id, org_id, user_name, mobile, name, email, employee_id, \
     first_name, middle_name, last_name, password_hash, pwd_must_modify, pwd_change_at, \
     attr_gender, attr_birthday, attr_nick_name, attr_identity_type, attr_identity_number, \
     attr_area, attr_city, attr_manager_id, attr_user_type, attr_hire_date, attr_work_place, \
     extension, disabled, locked, grade, created_at, updated_at, org_relations";

/// The columns a user row is written with: `USER_COLUMNS` and the uniqueness keys.
pub(crate) const USER_INSERT_COLUMNS: &str = "id, org_id, user_name, mobile, name, email, \
     employee_id, first_name, middle_name, last_name, password_hash, pwd_must_modify, \
     pwd_change_at, attr_gender, attr_birthday, attr_nick_name, attr_identity_type, \
     attr_identity_number, attr_area, attr_city, attr_manager_id, attr_user_type, \
     attr_hire_date, attr_work_place, extension, disabled, locked, grade, created_at, \
     updated_at, org_relations, user_name_key, mobile_key";

pub(crate) const ACCOUNT_COLUMNS: &str = "id, application_id, user_id, account_name, \
     account_type, name, org_id, password_secret, disabled, disabled_by_user, extension, \
     created_at, updated_at";

pub(crate) const ORGANIZATION_COLUMNS: &str =
    "id, code, name, parent_id, category, created_at, updated_at";

pub(crate) const APP_ORG_COLUMNS: &str =
    "id, application_id, code, name, parent_id, created_at, updated_at";

pub(crate) const ROLE_COLUMNS: &str = "id, application_id, code, name, created_at, updated_at";

/// The row `$sql` selects (bound to `$binds`), if any; errors through `$map` (default
/// `errors::map`).
macro_rules! fetch_row {
    ($conn:expr, $row:ty, $sql:expr, [$($bind:expr),* $(,)?]) => {
        $crate::queries::fetch_row!($conn, $row, $sql, [$($bind),*], $crate::errors::map)
    };
    ($conn:expr, $row:ty, $sql:expr, [$($bind:expr),* $(,)?], $map:expr) => {
        sqlx::query_as::<_, $row>($sql)
            $(.bind($bind))*
            .fetch_optional(&mut *$conn)
            .await
            .map_err($map)
    };
}
pub(crate) use fetch_row;

/// Runs `$sql` (bound to `$binds`); the rows it touched, or its error through `$map`.
macro_rules! execute {
    ($conn:expr, $sql:expr, [$($bind:expr),* $(,)?], $map:expr) => {
        sqlx::query($sql)
            $(.bind($bind))*
            .execute(&mut *$conn)
            .await
            .map(|done| done.rows_affected())
            .map_err($map)
    };
}
pub(crate) use execute;

/// One page of `$row`s from `$select` (without LIMIT), and the count `$count` gives.
macro_rules! fetch_page {
    ($conn:expr, $row:ty, $select:expr, $count:expr, $page:expr, [$($bind:expr),*]) => {{
        let total: i64 = sqlx::query_scalar(&$count)
            $(.bind($bind))*
            .fetch_one(&mut *$conn)
            .await
            .map_err($crate::errors::map)?;
        let sql = format!("{} LIMIT {} OFFSET {}", $select, $page.limit, $page.skip());
        let rows = sqlx::query_as::<_, $row>(&sql)
            $(.bind($bind))*
            .fetch_all(&mut *$conn)
            .await
            .map_err($crate::errors::map)?;
        (total, rows)
    }};
}
pub(crate) use fetch_page;

/// Writes a job leaves to its end, still in its transaction: on SQLite to the end of the
/// group commit, so that a batch of jobs writes them with a statement or two, not one each.
#[derive(Debug, Default)]
pub(crate) struct Deferred {
    /// Rows joining and leaving lists, for the page marks.
    pub lists: marks::ListChanges,
    /// Audit records, written together.
    pub audits: Vec<roster_domain::audit::AuditRecord>,
    /// Access tokens, written together.
    pub tokens: Vec<roster_domain::application::AccessToken>,
}

impl Deferred {
    /// Adds `other`'s writes after these.
    pub(crate) fn append(&mut self, mut other: Deferred) {
        self.lists.append(other.lists);
        self.audits.append(&mut other.audits);
        self.tokens.append(&mut other.tokens);
    }

    /// Adds rows to write.
    pub(crate) fn add(&mut self, rows: Vec<crate::Appended>) {
        for row in rows {
            match row {
                crate::Appended::Token(token) => self.tokens.push(token),
                crate::Appended::Audit(record) => self.audits.push(record),
            }
        }
    }
}

/// Placeholders for statements with many parameters (bulk inserts, IN lists). SQLite looks
/// named parameters up one by one in a list, so thousands of `$n` make binding quadratic;
/// its anonymous `?` binds in order at no cost. PostgreSQL takes `$n`.
pub(crate) fn sqlite_placeholder(_: usize) -> String {
    "?".to_owned()
}

pub(crate) fn postgres_placeholder(n: usize) -> String {
    format!("${n}")
}

/// The `VALUES` list of a statement inserting `rows` rows of `columns` columns, with the
/// placeholders `placeholder` makes: `($1, $2), ($3, $4)`.
pub(crate) fn values_list(rows: usize, columns: usize, placeholder: fn(usize) -> String) -> String {
    (0..rows)
        .map(|r| {
            let params = (1..=columns)
                .map(|c| placeholder(r * columns + c))
                .collect::<Vec<_>>()
                .join(", ");
            format!("({params})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Defines `$tx<'c>` over `&'c mut $conn` and implements every capability trait for it.
/// `$lock` is the statement that takes a transaction-scoped lock, if the backend needs one;
/// `$ph` makes the n-th (from 1) placeholder of a bulk statement; `$for_update` is appended, in
/// write transactions, to reads of rows a use case may then change (a row lock where writers
/// run concurrently).
macro_rules! impl_tx {
    ($tx:ident, $conn:ty, $lock:expr, $ph:path, $for_update:expr) => {
        pub struct $tx<'c> {
            conn: &'c mut $conn,
            /// What the job's writes left to do at its end.
            pending: $crate::queries::Deferred,
            /// Whether this is a write transaction, whose reads of rows it may change lock
            /// them; a read job locks nothing (a row lock is a write on PostgreSQL).
            writing: bool,
        }

        impl<'c> $tx<'c> {
            /// A read job on `conn`.
            pub fn new(conn: &'c mut $conn) -> Self {
                Self {
                    conn,
                    pending: Default::default(),
                    writing: false,
                }
            }

            /// A write transaction on `conn`, which may have `pending` writes of jobs before
            /// it to do.
            pub(crate) fn for_write(
                conn: &'c mut $conn,
                pending: $crate::queries::Deferred,
            ) -> Self {
                Self {
                    conn,
                    pending,
                    writing: true,
                }
            }

            /// What ends a read of a row the transaction may then change.
            fn row_lock(&self) -> &'static str {
                if self.writing {
                    $for_update
                } else {
                    ""
                }
            }

            /// The deferred writes not done yet, to do later in the same transaction.
            #[allow(dead_code)] // used by one backend only
            pub(crate) fn take_pending(&mut self) -> $crate::queries::Deferred {
                std::mem::take(&mut self.pending)
            }
        }

        $crate::queries::marks::impl_marks!($tx, $lock);

        $crate::queries::applications::impl_applications!($tx, $ph);
        $crate::queries::users::impl_users!($tx, $ph);
        $crate::queries::organizations::impl_organizations!($tx, $lock);
        $crate::queries::accounts::impl_accounts!($tx);
        $crate::queries::roles::impl_roles!($tx, $ph);
    };
}
pub(crate) use impl_tx;

/// Fails with `missing` when a write touched no row: the row was deleted meanwhile.
pub(crate) fn touched(rows: u64, missing: roster_domain::ErrorKind) -> roster_domain::Result<()> {
    if rows == 0 {
        Err(missing.into())
    } else {
        Ok(())
    }
}
