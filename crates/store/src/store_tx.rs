//! [`StoreTx`]: one use case's transaction (or, for a read, its connection) on either
//! database. The capability traits of `tx.rs` are implemented for it once, in `queries/`;
//! the statements run through the small helpers here, which map database errors to catalog
//! errors.

use crate::backend::{Args, Backend, Decoded};
use crate::errors::map;
use crate::errors::DbError;
use crate::inserts::{insert_statements, statement_count, Rows};
use crate::marks::delta_rows;
use crate::marks::ListChanges;
use crate::queries::{audit_rows, code_rows, sso_token_rows, token_rows};
use crate::rows::CodeRow;
use roster_domain::application::AccessToken;
use roster_domain::audit::AuditRecord;
use roster_domain::page::{Page, PageRequest};
use roster_domain::sso::SsoAccessToken;
use roster_domain::{Error, Result};

/// Writes a job leaves to its end, still in its transaction: on SQLite to the end of the
/// group commit, so that a batch of jobs writes them with a statement or two, not one each.
#[derive(Debug, Default)]
pub(crate) struct Deferred {
    /// Rows joining and leaving lists, for the page marks.
    pub lists: ListChanges,
    pub rows: DeferredRows,
}

/// Rows a job only adds, written together at its end.
#[derive(Debug, Default)]
pub(crate) struct DeferredRows {
    pub audits: Vec<AuditRecord>,
    pub tokens: Vec<AccessToken>,
    /// Sign-in access tokens and authorization codes.
    pub sso_tokens: Vec<SsoAccessToken>,
    pub sso_codes: Vec<CodeRow>,
}

impl DeferredRows {
    /// The rows to insert, by table.
    fn tables(&self) -> Vec<Rows<'_>> {
        vec![
            audit_rows(&self.audits),
            token_rows(&self.tokens),
            sso_token_rows(&self.sso_tokens),
            code_rows(&self.sso_codes),
        ]
    }
}

impl Deferred {
    /// Adds `other`'s writes after these.
    pub(crate) fn append(&mut self, mut other: Deferred) {
        self.lists.append(other.lists);
        let (rows, more) = (&mut self.rows, &mut other.rows);
        rows.audits.append(&mut more.audits);
        rows.tokens.append(&mut more.tokens);
        rows.sso_tokens.append(&mut more.sso_tokens);
        rows.sso_codes.append(&mut more.sso_codes);
    }

    /// Whether these are rows only, which `B` writes with one statement: atomic by itself,
    /// it needs no transaction around it.
    pub(crate) fn is_one_statement<B: Backend>(&self) -> bool {
        self.lists.is_empty() && statement_count::<B>(&self.rows.tables()) == 1
    }

    /// Adds rows to write.
    pub(crate) fn add(&mut self, rows: Vec<crate::Appended>) {
        for row in rows {
            match row {
                crate::Appended::Token(token) => self.rows.tokens.push(token),
                crate::Appended::Audit(record) => self.rows.audits.push(record),
                crate::Appended::SsoCode(code) => self.rows.sso_codes.push(CodeRow::of(&code)),
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
        on_error: impl FnOnce(DbError) -> Error + Send,
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
        on_error: impl FnOnce(DbError) -> Error + Send,
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

    /// Writes what the job deferred: what it changed in lists (see `marks`), then its rows
    /// (audit records, tokens, codes, delta rows) with as few statements as the database
    /// allows (see `inserts`).
    pub(crate) async fn apply_pending(&mut self) -> Result<()> {
        self.apply_pending_then(false).await
    }

    /// [`Self::apply_pending`] as the transaction's last writes: where the backend can, the
    /// commit goes right behind the last statement (see `pg/client.rs`). Nothing may fail after
    /// it: the transaction may have committed already.
    pub(crate) async fn apply_pending_and_commit(&mut self) -> Result<()> {
        self.apply_pending_then(true).await
    }

    async fn apply_pending_then(&mut self, commit: bool) -> Result<()> {
        let rows = std::mem::take(&mut self.pending.rows);
        let deltas = self.apply_list_changes().await?;
        let mut tables = rows.tables();
        tables.push(delta_rows(&deltas));
        self.insert_rows_then(&tables, commit).await
    }

    /// Tells the backend that the next statement is the transaction's last.
    pub(crate) fn commit_with_next(&mut self) {
        B::commit_with_next(self.conn);
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

impl<B: Backend> StoreTx<'_, B> {
    /// Inserts `tables`' rows with as few statements as the database allows.
    pub(crate) async fn insert_rows(&mut self, tables: &[Rows<'_>]) -> Result<()> {
        self.insert_rows_then(tables, false).await
    }

    /// [`Self::insert_rows`]; with `commit`, the last statement is the transaction's last.
    pub(crate) async fn insert_rows_then(
        &mut self,
        tables: &[Rows<'_>],
        commit: bool,
    ) -> Result<()> {
        let statements = insert_statements::<B>(tables);
        let count = statements.len();
        for (n, (sql, args)) in statements.iter().enumerate() {
            if commit && n + 1 == count {
                self.commit_with_next();
            }
            self.execute(sql, args).await?;
        }
        Ok(())
    }
}
