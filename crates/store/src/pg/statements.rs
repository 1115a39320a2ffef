//! Roster's statements on a PostgreSQL connection: PostgreSQL as a [`Backend`].

use super::client::{to_db_error, PgClient};
use crate::backend::{Args, Backend, Decoded};
use crate::errors::DbError;
use futures::future::BoxFuture;
use futures::{FutureExt, TryFutureExt};

/// PostgreSQL, over tokio-postgres (`client.rs`).
pub(crate) struct Pg;

impl Backend for Pg {
    type Connection = PgClient;
    const CONCURRENT: bool = true;
    const ROW_LOCK: &'static str = " FOR UPDATE";
    const ANNOUNCE_CHANGE: Option<&'static str> = Some("SELECT pg_notify('roster_changes', '')");
    const TRANSACTION_LOCK: Option<&'static str> = Some("SELECT pg_advisory_xact_lock($1)");
    const INSERT_IN_WITH: bool = true;

    fn placeholder(n: usize) -> String {
        format!("${n}")
    }

    fn commit_with_next(conn: &mut PgClient) {
        conn.commit_with_next();
    }

    fn execute<'a>(
        conn: &'a mut PgClient,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, Result<u64, DbError>> {
        conn.execute(sql, args).map_err(to_db_error).boxed()
    }

    fn fetch_optional<'a, R: Decoded>(
        conn: &'a mut PgClient,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, Result<Option<R>, DbError>> {
        async move {
            let mut first = None;
            conn.fetch_each(sql, args, |row| {
                first.get_or_insert(row);
            })
            .await
            .map_err(to_db_error)?;
            Ok(first)
        }
        .boxed()
    }

    fn fetch_all<'a, R: Decoded>(
        conn: &'a mut PgClient,
        sql: &'a str,
        args: &'a Args<'a>,
    ) -> BoxFuture<'a, Result<Vec<R>, DbError>> {
        async move {
            let mut rows = Vec::new();
            conn.fetch_each(sql, args, |row| rows.push(row))
                .await
                .map_err(to_db_error)?;
            Ok(rows)
        }
        .boxed()
    }

    fn fetch_each<'a, R: Decoded, F: FnMut(R) + Send + 'a>(
        conn: &'a mut PgClient,
        sql: &'a str,
        args: &'a Args<'a>,
        each: F,
    ) -> BoxFuture<'a, Result<(), DbError>> {
        conn.fetch_each(sql, args, each)
            .map_err(to_db_error)
            .boxed()
    }
}
