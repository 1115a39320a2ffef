//! [`StoreTx`]: one use case's transaction (or, for a read, its connection) on either
//! database. The capability traits of `tx.rs` are implemented for it once, in `queries/`;
//! the statements run through the small helpers here, which map database errors to catalog
//! errors.

use crate::backend::{Args, Backend, Decoded};
use crate::errors::map;
use crate::marks::ListChanges;
use roster_domain::application::AccessToken;
use roster_domain::audit::AuditRecord;
use roster_domain::page::{Page, PageRequest};
use roster_domain::sign_in::AuthorizationCode;
use roster_domain::sso::SsoAccessToken;
use roster_domain::{Error, Result};

/// Writes a job leaves to its end, still in its transaction: on SQLite to the end of the
/// group commit, so that a batch of jobs writes them with a statement or two, not one each.
#[derive(Debug, Default)]
pub(crate) struct Deferred {
    /// Rows joining and leaving lists, for the page marks.
    pub lists: ListChanges,
    /// Audit records, written together.
    pub audits: Vec<AuditRecord>,
    /// Access tokens, written together.
    pub tokens: Vec<AccessToken>,
    /// Sign-in access tokens and authorization codes, written together.
    pub sso_tokens: Vec<SsoAccessToken>,
    pub sso_codes: Vec<AuthorizationCode>,
}

impl Deferred {
    /// Adds `other`'s writes after these.
    pub(crate) fn append(&mut self, mut other: Deferred) {
        self.lists.append(other.lists);
        self.audits.append(&mut other.audits);
        self.tokens.append(&mut other.tokens);
        self.sso_tokens.append(&mut other.sso_tokens);
        self.sso_codes.append(&mut other.sso_codes);
    }

    /// Whether these are rows of one table, few enough for one multi-row insert (the inserts
    /// write up to 500 rows a statement): a statement atomic by itself, which needs no
    /// transaction around it.
    pub(crate) fn is_one_insert(&self) -> bool {
        let rows = [
            self.audits.len(),
            self.tokens.len(),
            self.sso_tokens.len(),
            self.sso_codes.len(),
        ];
        self.lists.is_empty()
            && rows.iter().filter(|n| **n > 0).count() == 1
            && rows.iter().all(|n| *n <= 500)
    }

    /// Adds rows to write.
    pub(crate) fn add(&mut self, rows: Vec<crate::Appended>) {
        for row in rows {
            match row {
                crate::Appended::Token(token) => self.tokens.push(token),
                crate::Appended::Audit(record) => self.audits.push(record),
                crate::Appended::SsoCode(code) => self.sso_codes.push(code),
            }
        }
    }
}

/// A use case's transaction on backend `B`.
pub struct StoreTx<'c, B: Backend> {
    conn: &'c mut B::Connection,
    /// What the job's writes left to do at its end.
    pub(crate) pending: Deferred,
    /// Whether this is a write transaction, whose reads of rows it may change lock them; a
    /// read job locks nothing (a row lock is a write on PostgreSQL).
    writing: bool,
}

impl<'c, B: Backend> StoreTx<'c, B> {
    /// A read job on `conn`.
    pub(crate) fn read(conn: &'c mut B::Connection) -> Self {
        Self {
            conn,
            pending: Deferred::default(),
            writing: false,
        }
    }

    /// A write transaction on `conn`, which may have `pending` writes of jobs before it to do.
    pub(crate) fn write(conn: &'c mut B::Connection, pending: Deferred) -> Self {
        Self {
            conn,
            pending,
            writing: true,
        }
    }

    /// What ends a read of a row the transaction may then change.
    pub(crate) fn row_lock(&self) -> &'static str {
        if self.writing {
            B::ROW_LOCK
        } else {
            ""
        }
    }

    /// The deferred writes not done yet, to do later in the same transaction.
    pub(crate) fn take_pending(&mut self) -> Deferred {
        std::mem::take(&mut self.pending)
    }

    /// Runs `sql`; the rows it touched.
    pub(crate) async fn execute(&mut self, sql: &str, args: &Args<'_>) -> Result<u64> {
        B::execute(self.conn, sql, args).await.map_err(map)
    }

    /// [`Self::execute`], its error mapped by `on_error` (a uniqueness or reference rule).
    pub(crate) async fn execute_or(
        &mut self,
        sql: &str,
        args: &Args<'_>,
        on_error: impl FnOnce(sqlx::Error) -> Error + Send,
    ) -> Result<u64> {
        B::execute(self.conn, sql, args).await.map_err(on_error)
    }

    /// The first row `sql` returns, if any.
    pub(crate) async fn fetch_optional<R: Decoded>(
        &mut self,
        sql: &str,
        args: &Args<'_>,
    ) -> Result<Option<R>> {
        B::fetch_optional(self.conn, sql, args).await.map_err(map)
    }

    /// [`Self::fetch_optional`], its error mapped by `on_error`.
    pub(crate) async fn fetch_optional_or<R: Decoded>(
        &mut self,
        sql: &str,
        args: &Args<'_>,
        on_error: impl FnOnce(sqlx::Error) -> Error + Send,
    ) -> Result<Option<R>> {
        B::fetch_optional(self.conn, sql, args)
            .await
            .map_err(on_error)
    }

    /// Every row `sql` returns.
    pub(crate) async fn fetch_all<R: Decoded>(
        &mut self,
        sql: &str,
        args: &Args<'_>,
    ) -> Result<Vec<R>> {
        B::fetch_all(self.conn, sql, args).await.map_err(map)
    }

    /// Hands each row `sql` returns to `each`, without holding them all.
    pub(crate) async fn fetch_each<R: Decoded>(
        &mut self,
        sql: &str,
        args: &Args<'_>,
        each: impl FnMut(R) + Send,
    ) -> Result<()> {
        B::fetch_each(self.conn, sql, args, each).await.map_err(map)
    }

    /// One page of the rows `select` (without LIMIT) returns, and the count `count` gives;
    /// both take `args`. For lists without page marks (filtered, or subtrees).
    pub(crate) async fn fetch_page<R: Decoded>(
        &mut self,
        select: &str,
        count: &str,
        page: PageRequest,
        args: &Args<'_>,
    ) -> Result<Page<R>> {
        let (total,): (i64,) = self.fetch_optional(count, args).await?.unwrap_or_default();
        let select = format!("{select} LIMIT {} OFFSET {}", page.limit, page.skip());
        let items = self.fetch_all(&select, args).await?;
        Ok(Page { total, items })
    }

    /// Takes lock `key` until the transaction ends, where writers run concurrently.
    pub(crate) async fn lock_until_end(&mut self, key: i64) -> Result<()> {
        if let Some(sql) = B::TRANSACTION_LOCK {
            self.execute(sql, &[&key]).await?;
        }
        Ok(())
    }

    /// Writes what the job deferred: its audit records and tokens (a statement each), then
    /// what it changed in lists (see `marks`).
    pub(crate) async fn apply_pending(&mut self) -> Result<()> {
        if !self.pending.audits.is_empty() {
            let audits = std::mem::take(&mut self.pending.audits);
            self.insert_audit_rows(&audits).await?;
        }
        if !self.pending.tokens.is_empty() {
            let tokens = std::mem::take(&mut self.pending.tokens);
            self.insert_token_rows(&tokens).await?;
        }
        if !self.pending.sso_tokens.is_empty() {
            let tokens = std::mem::take(&mut self.pending.sso_tokens);
            self.insert_sso_token_rows(&tokens).await?;
        }
        if !self.pending.sso_codes.is_empty() {
            let codes = std::mem::take(&mut self.pending.sso_codes);
            self.insert_code_rows(&codes).await?;
        }
        self.apply_list_changes().await
    }
}

/// Fails with `missing` when a write touched no row: the row was deleted meanwhile.
pub(crate) fn touched(rows: u64, missing: roster_domain::ErrorKind) -> Result<()> {
    if rows == 0 {
        Err(missing.into())
    } else {
        Ok(())
    }
}

/// The `VALUES` list of a statement inserting `rows` rows of `columns` columns, numbered as
/// `B` numbers the parameters of bulk statements: `($1, $2), ($3, $4)`.
pub(crate) fn values_list<B: Backend>(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let params = (1..=columns)
                .map(|c| B::placeholder(r * columns + c))
                .collect::<Vec<_>>()
                .join(", ");
            format!("({params})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}
