//! Roster's statements on a rusqlite connection, run where the caller is (a store thread or a
//! read on the request's own thread): parameters bound by number (`$n`) or in order (`?`),
//! rows decoded by column name (`decode.rs`), and errors read as [`DbError`]s, so that
//! `errors.rs` maps both databases' errors in one place.

use super::decode::{decode, FromColumns};
use crate::backend::{Arg, Args, Backend, Decoded};
use crate::errors::DbError;
use futures::future::{self, BoxFuture, FutureExt};
use rusqlite::{Connection, Statement};

/// What a statement gives, or what the database said.
type Result<T> = std::result::Result<T, DbError>;

/// The embedded database as a [`Backend`]: one SQLite file, one writer.
pub(crate) struct SqliteFile;

impl Backend for SqliteFile {
    type Connection = Connection;
    const CONCURRENT: bool = false;
    const ROW_LOCK: &'static str = "";
    const ANNOUNCE_CHANGE: Option<&'static str> = None;
    const TRANSACTION_LOCK: Option<&'static str> = None;
    const INSERT_IN_WITH: bool = false;

    /// SQLite looks named parameters up one by one in a list, so thousands of `$n` make
    /// binding quadratic; its anonymous `?` binds in order at no cost.
    fn placeholder(_: usize) -> String {
        "?".to_owned()
    }

    fn execute<'a>(
        conn: &'a mut Connection,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, Result<u64>> {
        future::ready(execute(conn, sql, args)).boxed()
    }

    fn fetch_optional<'a, R: Decoded>(
        conn: &'a mut Connection,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, Result<Option<R>>> {
        let first = with_statement(conn, sql, args, |stmt| {
            let mut rows = stmt.raw_query();
            rows.next()?.map(decode).transpose()
        });
        future::ready(first).boxed()
    }

    fn fetch_all<'a, R: Decoded>(
        conn: &'a mut Connection,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, Result<Vec<R>>> {
        let mut all = Vec::new();
        let all = for_each_row(conn, sql, args, |row| all.push(row)).map(|()| all);
        future::ready(all).boxed()
    }

    fn fetch_each<'a, R: Decoded, F: FnMut(R) + Send + 'a>(
        conn: &'a mut Connection,
        sql: &'a str,
        args: &'a Args<'a>,
        each: F,
    ) -> BoxFuture<'a, Result<()>> {
        let done = for_each_row(conn, sql, args, each);
        future::ready(done).boxed()
    }
}

/// Hands each row `sql` returns to `each`, decoded.
fn for_each_row<R: FromColumns>(
    conn: &Connection,
    sql: &str,
    args: &Args<'_>,
    mut each: impl FnMut(R),
) -> Result<()> {
    with_statement(conn, sql, args, |stmt| {
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next()? {
            each(decode(row)?);
        }
        Ok(())
    })
}

/// Runs `sql` to its end; the rows it changed.
pub(crate) fn execute(conn: &Connection, sql: &str, args: &Args<'_>) -> Result<u64> {
    with_statement(conn, sql, args, |stmt| {
        // Stepped through rather than `execute`d: a statement may return rows (`RETURNING`,
        // some PRAGMAs), which `execute` refuses.
        let mut rows = stmt.raw_query();
        while rows.next()?.is_some() {}
        Ok(())
    })?;
    Ok(conn.changes())
}

/// Prepares `sql` (kept in the connection's cache: bulk inserts too, which repeat at the same
/// sizes, and whose parsing is what costs), binds `args` and hands it to `run`.
fn with_statement<T>(
    conn: &Connection,
    sql: &str,
    args: &Args<'_>,
    run: impl FnOnce(&mut Statement<'_>) -> rusqlite::Result<T>,
) -> Result<T> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| bind(&mut stmt, args).and_then(|()| run(&mut stmt)))
        .map_err(to_db_error)
}

/// Binds each parameter of `stmt`: `$n` (or `?n`) to the `n`-th argument, wherever and however
/// often it appears; an anonymous `?` to the argument of its position.
fn bind(stmt: &mut Statement<'_>, args: &Args<'_>) -> rusqlite::Result<()> {
    let count = stmt.parameter_count();
    for index in 1..=count {
        let position = match stmt.parameter_name(index) {
            Some(name) => name
                .strip_prefix(['$', '?'])
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| {
                    rusqlite::Error::InvalidParameterName(format!("{name}: use $n or ?"))
                })?,
            None => index,
        };
        let arg = position
            .checked_sub(1)
            .and_then(|at| args.get(at))
            .ok_or(rusqlite::Error::InvalidParameterCount(position, args.len()))?;
        match arg.arg() {
            Arg::Text(text) => stmt.raw_bind_parameter(index, text)?,
            Arg::Int(int) => stmt.raw_bind_parameter(index, int)?,
            Arg::Bool(flag) => stmt.raw_bind_parameter(index, flag)?,
            Arg::Bytes(bytes) => stmt.raw_bind_parameter(index, bytes)?,
        }
    }
    Ok(())
}

/// A rusqlite error as the store reads database errors.
pub(crate) fn to_db_error(err: rusqlite::Error) -> DbError {
    match err {
        rusqlite::Error::SqliteFailure(failure, message) => DbError::from_sqlite(
            failure.extended_code,
            &message.unwrap_or_else(|| failure.to_string()),
        ),
        other => DbError::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::ApplicationRow;
    use futures::executor::block_on;

    #[test]
    fn numbered_parameters_bind_wherever_and_however_often_they_appear() {
        let mut conn = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        let row: Option<(String, i64, String)> = block_on(SqliteFile::fetch_optional(
            &mut conn,
            "SELECT $2, $1 + $1, ?3",
            &[&20_i64, &"second", &"third"],
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(row, Some(("second".to_owned(), 40, "third".to_owned())));
    }

    #[test]
    fn rows_decode_by_column_name_in_any_order() {
        let mut conn = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        let app: Option<ApplicationRow> = block_on(SqliteFile::fetch_optional(
            &mut conn,
            "SELECT 5 AS updated_at, 'i' AS id, 'n' AS name, 'c' AS client_id, \
             'd' AS secret_digest, 'all' AS permissions, 1 AS disabled, \
             2 AS token_generation, 4 AS created_at",
            &[],
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let app = app.unwrap_or_else(|| panic!("no row"));
        assert_eq!((app.id.as_str(), app.name.as_str()), ("i", "n"));
        assert!(app.disabled);
        assert_eq!(
            (app.token_generation, app.created_at, app.updated_at),
            (2, 4, 5)
        );
    }

    #[test]
    fn a_unique_violation_reads_as_one() {
        let mut conn = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        let create = "CREATE TABLE t (name TEXT UNIQUE)";
        block_on(SqliteFile::execute(&mut conn, create, &[])).unwrap_or_else(|e| panic!("{e}"));
        let insert = "INSERT INTO t (name) VALUES ($1)";
        block_on(SqliteFile::execute(&mut conn, insert, &[&"a"])).unwrap_or_else(|e| panic!("{e}"));
        let err = block_on(SqliteFile::execute(&mut conn, insert, &[&"a"]))
            .err()
            .unwrap_or_else(|| panic!("no database error"));
        assert!(
            matches!(&err, DbError::Unique { message, .. } if message.ends_with("t.name")),
            "{err:?}"
        );
    }
}
