//! What differs between the two databases, and nothing else. The queries are written once, in
//! SQL both accept (`$n` placeholders, standard types), against [`StoreTx<B>`]; a [`Backend`]
//! says how a statement runs on its connection and the few things the SQL cannot hide: how
//! writers take locks, whether they run concurrently, how bulk statements number parameters.
//!
//! [`StoreTx<B>`]: crate::store_tx::StoreTx

use crate::sqlite::FromColumns;
use futures::future::BoxFuture;
use futures::{FutureExt, TryFutureExt, TryStreamExt};
use roster_domain::id::Id;
use sqlx::encode::Encode;
use sqlx::postgres::{PgConnection, PgRow, Postgres};
use sqlx::{Arguments, Database, Executor, FromRow, IntoArguments, Type};
use std::marker::PhantomData;

/// A value bound to a statement parameter: the few types the schema uses.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    Bool(bool),
    Bytes(&'a [u8]),
}

/// A Rust value a statement parameter takes, so that a query's arguments read as a plain list:
/// `&[&user.id, &user.created_at]`.
pub(crate) trait ToArg: Sync {
    fn arg(&self) -> Arg<'_>;
}

impl ToArg for String {
    fn arg(&self) -> Arg<'_> {
        Arg::Text(Some(self))
    }
}

impl ToArg for str {
    fn arg(&self) -> Arg<'_> {
        Arg::Text(Some(self))
    }
}

/// A borrowed value binds as the value (`&[&id]` where `id` is a `&str` or a `&UserId`).
impl<T: ToArg + ?Sized> ToArg for &T {
    fn arg(&self) -> Arg<'_> {
        (**self).arg()
    }
}

impl ToArg for Option<String> {
    fn arg(&self) -> Arg<'_> {
        Arg::Text(self.as_deref())
    }
}

impl ToArg for Option<&str> {
    fn arg(&self) -> Arg<'_> {
        Arg::Text(*self)
    }
}

impl<K> ToArg for Id<K> {
    fn arg(&self) -> Arg<'_> {
        Arg::Text(Some(self.as_str()))
    }
}

impl<K> ToArg for Option<Id<K>> {
    fn arg(&self) -> Arg<'_> {
        Arg::Text(self.as_ref().map(Id::as_str))
    }
}

impl ToArg for i64 {
    fn arg(&self) -> Arg<'_> {
        Arg::Int(Some(*self))
    }
}

impl ToArg for Option<i64> {
    fn arg(&self) -> Arg<'_> {
        Arg::Int(*self)
    }
}

impl ToArg for bool {
    fn arg(&self) -> Arg<'_> {
        Arg::Bool(*self)
    }
}

impl ToArg for Vec<u8> {
    fn arg(&self) -> Arg<'_> {
        Arg::Bytes(self)
    }
}

/// A statement's arguments, in placeholder order.
pub(crate) type Args<'a> = [&'a dyn ToArg];

/// A row type both databases can decode (`rows::row!` structs, tuples).
pub(crate) trait Decoded:
    FromColumns + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

impl<T> Decoded for T where T: FromColumns + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static {}

/// One of the two databases Roster stores in.
pub(crate) trait Backend: Send + Sync + Sized + 'static {
    type Connection: Send;

    /// Whether writers run concurrently (PostgreSQL: many connections, many nodes). Their
    /// reads of rows they may change then lock them, tree moves take a lock, and page marks
    /// change by delta rows folded later (see `marks`). With one writer (SQLite) none of this
    /// is needed.
    const CONCURRENT: bool;

    /// Appended, in a write transaction, to a read of a row the use case may then change.
    const ROW_LOCK: &'static str;

    /// Takes a lock (by number) until the transaction ends, where writers run concurrently.
    const TRANSACTION_LOCK: Option<&'static str>;

    /// Whether an insert may stand in a `WITH` (PostgreSQL), so that one statement inserts
    /// into several tables.
    const INSERT_IN_WITH: bool;

    /// The `n`-th (from 1) placeholder of a statement with many parameters (bulk inserts, IN
    /// lists).
    fn placeholder(n: usize) -> String;

    /// Runs `sql`; the rows it touched.
    fn execute<'a>(
        conn: &'a mut Self::Connection,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, sqlx::Result<u64>>;

    /// The first row `sql` returns, if any.
    fn fetch_optional<'a, R: Decoded>(
        conn: &'a mut Self::Connection,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, sqlx::Result<Option<R>>>;

    /// Every row `sql` returns.
    fn fetch_all<'a, R: Decoded>(
        conn: &'a mut Self::Connection,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, sqlx::Result<Vec<R>>>;

    /// Hands each row `sql` returns to `each` as it arrives, without holding them all.
    fn fetch_each<'a, R: Decoded, F: FnMut(R) + Send + 'a>(
        conn: &'a mut Self::Connection,
        sql: &'a str,
        args: &'a Args<'a>,
        each: F,
    ) -> BoxFuture<'a, sqlx::Result<()>>;
}

impl Backend for Postgres {
    type Connection = PgConnection;
    const CONCURRENT: bool = true;
    const ROW_LOCK: &'static str = " FOR UPDATE";
    const TRANSACTION_LOCK: Option<&'static str> = Some("SELECT pg_advisory_xact_lock($1)");
    const INSERT_IN_WITH: bool = true;

    fn placeholder(n: usize) -> String {
        format!("${n}")
    }

    fn execute<'a>(
        conn: &'a mut PgConnection,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, sqlx::Result<u64>> {
        Statements::<Postgres>::execute(conn, sql, args)
            .map_ok(|done| done.rows_affected())
            .boxed()
    }

    fn fetch_optional<'a, R: Decoded>(
        conn: &'a mut PgConnection,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, sqlx::Result<Option<R>>> {
        Statements::<Postgres>::fetch_optional(conn, sql, args)
    }

    fn fetch_all<'a, R: Decoded>(
        conn: &'a mut PgConnection,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, sqlx::Result<Vec<R>>> {
        Statements::<Postgres>::fetch_all(conn, sql, args)
    }

    fn fetch_each<'a, R: Decoded, F: FnMut(R) + Send + 'a>(
        conn: &'a mut PgConnection,
        sql: &'a str,
        args: &'a Args<'a>,
        each: F,
    ) -> BoxFuture<'a, sqlx::Result<()>> {
        Statements::<Postgres>::fetch_each(conn, sql, args, each)
    }
}

/// Running a statement with Roster's arguments on a sqlx database (PostgreSQL; SQLite runs
/// its statements on rusqlite, in `sqlite::statements`).
struct Statements<DB>(PhantomData<DB>);

impl<DB> Statements<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
{
    /// `args` bound for the database.
    fn arguments<'q>(args: &'q Args<'q>) -> sqlx::Result<DB::Arguments<'q>> {
        let mut bound = DB::Arguments::<'q>::default();
        for arg in args {
            let added = match arg.arg() {
                Arg::Text(text) => bound.add(text),
                Arg::Int(int) => bound.add(int),
                Arg::Bool(flag) => bound.add(flag),
                Arg::Bytes(bytes) => bound.add(bytes),
            };
            added.map_err(sqlx::Error::Encode)?;
        }
        Ok(bound)
    }

    fn execute<'a>(
        conn: &'a mut DB::Connection,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, sqlx::Result<DB::QueryResult>> {
        async move {
            let bound = Self::arguments(args)?;
            sqlx::query_with(sql, bound).execute(conn).await
        }
        .boxed()
    }

    fn fetch_optional<'a, R>(
        conn: &'a mut DB::Connection,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, sqlx::Result<Option<R>>>
    where
        R: for<'r> FromRow<'r, DB::Row> + Send + Unpin,
    {
        async move {
            let bound = Self::arguments(args)?;
            sqlx::query_as_with(sql, bound).fetch_optional(conn).await
        }
        .boxed()
    }

    fn fetch_all<'a, R>(
        conn: &'a mut DB::Connection,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, sqlx::Result<Vec<R>>>
    where
        R: for<'r> FromRow<'r, DB::Row> + Send + Unpin,
    {
        async move {
            let bound = Self::arguments(args)?;
            sqlx::query_as_with(sql, bound).fetch_all(conn).await
        }
        .boxed()
    }

    fn fetch_each<'a, R, F>(
        conn: &'a mut DB::Connection,
        sql: &'a str,
        args: &'a Args<'a>,
        mut each: F,
    ) -> BoxFuture<'a, sqlx::Result<()>>
    where
        R: for<'r> FromRow<'r, DB::Row> + Send + Unpin,
        F: FnMut(R) + Send + 'a,
    {
        async move {
            let bound = Self::arguments(args)?;
            let mut rows = sqlx::query_as_with(sql, bound).fetch(conn);
            while let Some(row) = rows.try_next().await? {
                each(row);
            }
            Ok(())
        }
        .boxed()
    }
}
