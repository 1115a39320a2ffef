//! A PostgreSQL connection (tokio-postgres) that sends a statement without waiting for the
//! answer to the one before: a write transaction's `BEGIN` goes out with its first statement,
//! and its `COMMIT` right behind its last (the rows it deferred). Two round trips fewer per
//! write, where a round trip costs more than the statement it carries (see
//! docs/performance.md); sqlx's driver waits for each answer before it sends the next.
//! Statements are prepared once per connection and cached, as sqlx did.

use super::decode::FromPgRow;
use crate::backend::{Arg, Args};
use crate::errors::DbError;
use futures::{Future, TryStreamExt};
use std::collections::HashMap;
use std::error::Error as StdError;
use tokio_postgres::types::{IsNull, ToSql, Type};
use tokio_postgres::{Client, Config, NoTls, Statement};

pub(crate) type PgError = tokio_postgres::Error;

/// Most prepared statements a connection keeps (the least recently used goes first): bulk
/// inserts differ by their number of rows, so their texts do not repeat for ever.
const CACHED_STATEMENTS: usize = 256;

/// Where a connection is in a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxState {
    /// None: each statement commits by itself.
    Idle,
    /// Begun, `BEGIN` not sent yet: it goes out with the first statement.
    Begun,
    /// `BEGIN` sent.
    Open,
}

/// One connection to PostgreSQL; its messages are written and read by a task of its own.
pub(crate) struct PgClient {
    client: Client,
    statements: StatementCache,
    state: TxState,
    /// Whether the next statement is the transaction's last, `COMMIT` going right behind it.
    commit_with_next: bool,
}

impl PgClient {
    /// Opens a connection with `config`.
    pub(crate) async fn connect(config: &Config) -> Result<Self, PgError> {
        let (client, connection) = config.connect(NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "a PostgreSQL connection ended");
            }
        });
        Ok(Self {
            client,
            statements: StatementCache::default(),
            state: TxState::Idle,
            commit_with_next: false,
        })
    }

    /// Whether the server or the network has closed the connection.
    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// A round trip, to see that the connection still works.
    pub(crate) async fn ping(&mut self) -> Result<(), PgError> {
        self.client.batch_execute("SELECT 1").await
    }

    /// Begins a transaction; `BEGIN` goes out with its first statement.
    pub(crate) fn begin(&mut self) {
        self.state = TxState::Begun;
        self.commit_with_next = false;
    }

    /// Says that the next statement is the transaction's last: `COMMIT` goes right behind it
    /// (or, if it is the transaction's only statement, neither `BEGIN` nor `COMMIT`: a
    /// statement alone is atomic).
    pub(crate) fn commit_with_next(&mut self) {
        self.commit_with_next = self.state != TxState::Idle;
    }

    /// Commits the transaction, unless its last statement already did.
    pub(crate) async fn commit(&mut self) -> Result<(), PgError> {
        self.end("COMMIT").await
    }

    /// Rolls the transaction back, unless it ended already (its last statement, failing,
    /// turned the `COMMIT` behind it into a rollback).
    pub(crate) async fn rollback(&mut self) -> Result<(), PgError> {
        self.end("ROLLBACK").await
    }

    async fn end(&mut self, how: &str) -> Result<(), PgError> {
        let state = std::mem::replace(&mut self.state, TxState::Idle);
        self.commit_with_next = false;
        match state {
            TxState::Open => self.client.batch_execute(how).await,
            TxState::Idle | TxState::Begun => Ok(()),
        }
    }

    /// Runs `sql` (statements without parameters, by the simple protocol); in the
    /// transaction, if one has begun.
    pub(crate) async fn batch(&mut self, sql: &str) -> Result<(), PgError> {
        let begin = self.state == TxState::Begun;
        if begin {
            self.state = TxState::Open;
        }
        let client = &self.client;
        pipelined(client, begin, false, client.batch_execute(sql)).await
    }

    /// Runs `sql`; the rows it touched.
    pub(crate) async fn execute(&mut self, sql: &str, args: &Args<'_>) -> Result<u64, PgError> {
        let statement = self.prepared(sql, args).await?;
        let (begin, commit) = self.next_statement();
        let client = &self.client;
        let run = client.execute_raw(&statement, params(args));
        pipelined(client, begin, commit, run).await
    }

    /// Hands each row `sql` returns to `each` as it arrives.
    pub(crate) async fn fetch_each<R: FromPgRow>(
        &mut self,
        sql: &str,
        args: &Args<'_>,
        mut each: impl FnMut(R),
    ) -> Result<(), PgError> {
        let statement = self.prepared(sql, args).await?;
        let (begin, commit) = self.next_statement();
        let client = &self.client;
        let run = async {
            let rows = client.query_raw(&statement, params(args)).await?;
            futures::pin_mut!(rows);
            while let Some(row) = rows.try_next().await? {
                each(R::from_pg_row(&row)?);
            }
            Ok(())
        };
        pipelined(client, begin, commit, run).await
    }

    /// Whether `BEGIN` goes out before the next statement and `COMMIT` behind it; the state
    /// after both.
    fn next_statement(&mut self) -> (bool, bool) {
        let commit = std::mem::take(&mut self.commit_with_next);
        match (self.state, commit) {
            (TxState::Begun, true) => {
                self.state = TxState::Idle;
                (false, false)
            }
            (TxState::Begun, false) => {
                self.state = TxState::Open;
                (true, false)
            }
            (TxState::Open, true) => {
                self.state = TxState::Idle;
                (false, true)
            }
            (TxState::Open, false) | (TxState::Idle, _) => (false, false),
        }
    }

    /// `sql` prepared for arguments of `args`' types: from the cache, or prepared now.
    async fn prepared(&mut self, sql: &str, args: &Args<'_>) -> Result<Statement, PgError> {
        let types: Vec<Type> = args.iter().map(|a| type_of(&a.arg())).collect();
        if let Some(statement) = self.statements.get(sql, &types) {
            return Ok(statement);
        }
        let statement = self.client.prepare_typed(sql, &types).await?;
        self.statements.put(sql, statement.clone());
        Ok(statement)
    }
}

/// Runs `statement` with `BEGIN` sent before it and `COMMIT` after it as asked, all three
/// written before any answer is awaited. The statement's error comes first: after it the
/// `COMMIT` is a rollback.
async fn pipelined<T>(
    client: &Client,
    begin: bool,
    commit: bool,
    statement: impl Future<Output = Result<T, PgError>>,
) -> Result<T, PgError> {
    // `join!` polls them in this order, and each sends its message when first polled.
    let (began, out, committed) = futures::join!(
        async {
            if begin {
                client.batch_execute("BEGIN").await
            } else {
                Ok(())
            }
        },
        statement,
        async {
            if commit {
                client.batch_execute("COMMIT").await
            } else {
                Ok(())
            }
        },
    );
    began?;
    let out = out?;
    committed?;
    Ok(out)
}

/// The PostgreSQL type a statement's parameter is prepared with (as sqlx declared them).
fn type_of(arg: &Arg<'_>) -> Type {
    match arg {
        Arg::Text(_) => Type::TEXT,
        Arg::Int(_) => Type::INT8,
        Arg::Bool(_) => Type::BOOL,
        Arg::Bytes(_) => Type::BYTEA,
    }
}

fn params<'a>(args: &'a Args<'a>) -> impl ExactSizeIterator<Item = PgArg<'a>> + 'a {
    args.iter().map(|a| PgArg(a.arg()))
}

/// A statement argument as tokio-postgres binds it.
#[derive(Debug)]
struct PgArg<'a>(Arg<'a>);

type BoxedError = Box<dyn StdError + Sync + Send>;

impl ToSql for PgArg<'_> {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxedError> {
        match self.0 {
            Arg::Text(text) => text.to_sql(ty, out),
            Arg::Int(int) => int.to_sql(ty, out),
            Arg::Bool(flag) => flag.to_sql(ty, out),
            Arg::Bytes(bytes) => bytes.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        [Type::TEXT, Type::INT8, Type::BOOL, Type::BYTEA].contains(ty)
    }

    fn to_sql_checked(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxedError> {
        match self.0 {
            Arg::Text(text) => text.to_sql_checked(ty, out),
            Arg::Int(int) => int.to_sql_checked(ty, out),
            Arg::Bool(flag) => flag.to_sql_checked(ty, out),
            Arg::Bytes(bytes) => bytes.to_sql_checked(ty, out),
        }
    }
}

/// Prepared statements by their text, the least recently used dropped (and closed on the
/// server) first.
#[derive(Default)]
struct StatementCache {
    entries: HashMap<String, (Statement, u64)>,
    uses: u64,
}

impl StatementCache {
    fn get(&mut self, sql: &str, types: &[Type]) -> Option<Statement> {
        self.uses += 1;
        let (statement, used) = self.entries.get_mut(sql)?;
        if statement.params() != types {
            return None;
        }
        *used = self.uses;
        Some(statement.clone())
    }

    fn put(&mut self, sql: &str, statement: Statement) {
        if self.entries.len() >= CACHED_STATEMENTS && !self.entries.contains_key(sql) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(sql, _)| sql.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(sql.to_owned(), (statement, self.uses));
    }
}

/// A PostgreSQL error as the store reads database errors: a server's error by its SQLSTATE
/// and constraint; an unreachable or closed connection as unavailable.
pub(crate) fn to_db_error(err: PgError) -> DbError {
    if let Some(db) = err.as_db_error() {
        return DbError::from_sqlstate(db.code().code(), db.message(), db.constraint());
    }
    let io = err
        .source()
        .is_some_and(|source| source.is::<std::io::Error>());
    if err.is_closed() || io {
        DbError::Unavailable(err.to_string())
    } else {
        DbError::Other(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// The server of `ROSTER_TEST_POSTGRES_URL`.
    fn server() -> Config {
        let url = std::env::var("ROSTER_TEST_POSTGRES_URL").unwrap_or_default();
        Config::from_str(&url).unwrap_or_else(|e| panic!("ROSTER_TEST_POSTGRES_URL: {e}"))
    }

    /// Round trips: how many times the client spoke after the server had answered.
    #[derive(Default)]
    struct Turns {
        count: AtomicUsize,
        answered: AtomicBool,
    }

    /// A connection to the server through a proxy that counts its round trips.
    async fn counted_connection() -> (PgClient, Arc<Turns>) {
        let config = server();
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let proxy = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let turns = Arc::new(Turns::default());
        let counting = Arc::clone(&turns);
        tokio::spawn(async move {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let Ok(server) = TcpStream::connect(("127.0.0.1", port)).await else {
                return;
            };
            let (mut from_client, mut to_client) = client.into_split();
            let (mut from_server, mut to_server) = server.into_split();
            let up = Arc::clone(&counting);
            tokio::spawn(async move {
                let mut buf = vec![0; 65536];
                while let Ok(n @ 1..) = from_client.read(&mut buf).await {
                    if up.answered.swap(false, Ordering::SeqCst) {
                        up.count.fetch_add(1, Ordering::SeqCst);
                    }
                    if to_server
                        .write_all(buf.get(..n).unwrap_or_default())
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
            let mut buf = vec![0; 65536];
            while let Ok(n @ 1..) = from_server.read(&mut buf).await {
                counting.answered.store(true, Ordering::SeqCst);
                if to_client
                    .write_all(buf.get(..n).unwrap_or_default())
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
        let mut via_proxy = Config::new();
        via_proxy.host("127.0.0.1").port(proxy.port());
        if let Some(user) = config.get_user() {
            via_proxy.user(user);
        }
        if let Some(password) = config.get_password() {
            via_proxy.password(password);
        }
        if let Some(dbname) = config.get_dbname() {
            via_proxy.dbname(dbname);
        }
        let conn = PgClient::connect(&via_proxy)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        (conn, turns)
    }

    /// A table of its own for one test, on a second connection that sees only what commits.
    async fn table(name: &str) -> PgClient {
        let mut other = PgClient::connect(&server())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let create = format!("DROP TABLE IF EXISTS {name}; CREATE TABLE {name} (n BIGINT UNIQUE)");
        other.batch(&create).await.unwrap_or_else(|e| panic!("{e}"));
        other
    }

    async fn committed(other: &mut PgClient, name: &str) -> Vec<i64> {
        let sql = format!("SELECT n FROM {name} ORDER BY n");
        let mut rows = Vec::new();
        other
            .fetch_each(&sql, &[], |(n,): (i64,)| rows.push(n))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        rows
    }

    #[tokio::test]
    #[cfg_attr(
        not(roster_pg),
        ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
    )]
    async fn begin_goes_with_the_first_statement_and_commit_behind_the_last() {
        let name = "pg_client_pipelined";
        let mut other = table(name).await;
        let (mut conn, turns) = counted_connection().await;
        let insert = format!("INSERT INTO {name} VALUES ($1)");
        // Prepared (a round trip of its own) once, outside what is counted.
        assert_eq!(conn.execute(&insert, &[&0_i64]).await.ok(), Some(1));
        let before = turns.count.load(Ordering::SeqCst);
        conn.begin();
        assert_eq!(conn.execute(&insert, &[&1_i64]).await.ok(), Some(1));
        assert_eq!(conn.execute(&insert, &[&2_i64]).await.ok(), Some(1));
        assert_eq!(committed(&mut other, name).await, [0], "not committed yet");
        conn.commit_with_next();
        assert_eq!(conn.execute(&insert, &[&3_i64]).await.ok(), Some(1));
        assert_eq!(turns.count.load(Ordering::SeqCst) - before, 3, "not 5");
        assert!(conn.commit().await.is_ok());
        assert_eq!(committed(&mut other, name).await, [0, 1, 2, 3]);

        // A transaction of one statement needs neither BEGIN nor COMMIT.
        let before = turns.count.load(Ordering::SeqCst);
        conn.begin();
        conn.commit_with_next();
        assert_eq!(conn.execute(&insert, &[&4_i64]).await.ok(), Some(1));
        assert!(conn.commit().await.is_ok());
        assert_eq!(turns.count.load(Ordering::SeqCst) - before, 1);
        assert_eq!(committed(&mut other, name).await, [0, 1, 2, 3, 4]);
        let _ = other.batch(&format!("DROP TABLE {name}")).await;
    }

    #[tokio::test]
    #[cfg_attr(
        not(roster_pg),
        ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
    )]
    async fn a_failing_last_statement_rolls_its_transaction_back() {
        let name = "pg_client_rolled_back";
        let mut other = table(name).await;
        let (mut conn, _) = counted_connection().await;
        let insert = format!("INSERT INTO {name} VALUES ($1)");
        assert!(conn.execute(&insert, &[&1_i64]).await.is_ok());
        conn.begin();
        assert!(conn.execute(&insert, &[&2_i64]).await.is_ok());
        conn.commit_with_next();
        let failed = conn.execute(&insert, &[&1_i64]).await.map_err(to_db_error);
        let unique = matches!(failed, Err(DbError::Unique { .. }));
        assert!(unique, "the statement's own error, not the COMMIT's");
        assert!(conn.rollback().await.is_ok());
        assert_eq!(committed(&mut other, name).await, [1], "2 rolled back");
        // The connection is out of the transaction: its next statement commits by itself.
        assert!(conn.execute(&insert, &[&3_i64]).await.is_ok());
        assert_eq!(committed(&mut other, name).await, [1, 3]);
        let _ = other.batch(&format!("DROP TABLE {name}")).await;
    }
}
