//! What differs between the two databases, and nothing else; each database's [`Backend`] is
//! implemented beside its driver (`sqlite/statements.rs`, `pg/statements.rs`). The queries are written once, in
//! SQL both accept (`$n` placeholders, standard types), against [`StoreTx<B>`]; a [`Backend`]
//! says how a statement runs on its connection and the few things the SQL cannot hide: how
//! writers take locks, whether they run concurrently, how bulk statements number parameters.
//!
//! [`StoreTx<B>`]: crate::store_tx::StoreTx

use crate::errors::DbError;
use crate::pg::decode::FromPgRow;
use crate::sqlite::decode::FromColumns;
use futures::future::BoxFuture;
use roster_domain::id::Id;

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
pub(crate) trait Decoded: FromColumns + FromPgRow + Send + Unpin + 'static {}

impl<T> Decoded for T where T: FromColumns + FromPgRow + Send + Unpin + 'static {}

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

    /// The statement that tells other nodes of a change when the transaction commits, where
    /// there can be other nodes.
    const ANNOUNCE_CHANGE: Option<&'static str>;

    /// Takes a lock (by number) until the transaction ends, where writers run concurrently.
    const TRANSACTION_LOCK: Option<&'static str>;

    /// Whether an insert may stand in a `WITH` (PostgreSQL), so that one statement inserts
    /// into several tables.
    const INSERT_IN_WITH: bool;

    /// The `n`-th (from 1) placeholder of a statement with many parameters (bulk inserts, IN
    /// lists).
    fn placeholder(n: usize) -> String;

    /// Says that the next statement is the transaction's last, so that a backend that can
    /// sends the commit right behind it, without waiting for the statement's answer first.
    fn commit_with_next(_conn: &mut Self::Connection) {}

    /// Runs `sql`; the rows it touched.
    fn execute<'a>(
        conn: &'a mut Self::Connection,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, Result<u64, DbError>>;

    /// The first row `sql` returns, if any.
    fn fetch_optional<'a, R: Decoded>(
        conn: &'a mut Self::Connection,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, Result<Option<R>, DbError>>;

    /// Every row `sql` returns.
    fn fetch_all<'a, R: Decoded>(
        conn: &'a mut Self::Connection,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, Result<Vec<R>, DbError>>;

    /// Hands each row `sql` returns to `each` as it arrives, without holding them all.
    fn fetch_each<'a, R: Decoded, F: FnMut(R) + Send + 'a>(
        conn: &'a mut Self::Connection,
        sql: &'a str,
        args: &'a Args<'a>,
        each: F,
    ) -> BoxFuture<'a, Result<(), DbError>>;
}

/// The `VALUES` list of a statement inserting `rows` rows of `columns` columns, numbered as
/// `B` numbers the parameters of bulk statements, after the statement's first `before`
/// parameters: `($1, $2), ($3, $4)` after none.
pub(crate) fn values_list<B: Backend>(before: usize, rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let params = (1..=columns)
                .map(|c| B::placeholder(before + r * columns + c))
                .collect::<Vec<_>>()
                .join(", ");
            format!("({params})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}
