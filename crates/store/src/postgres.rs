//! The PostgreSQL store, for several Roster nodes on one database. Each write job is one
//! transaction on a pooled connection; PostgreSQL itself serializes conflicting writes and
//! enforces the unique constraints.

use crate::errors::map;
use crate::queries::impl_tx;
use crate::{Job, Output, Store};
use async_trait::async_trait;
use roster_domain::{Error, Result};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};
use std::str::FromStr;
use std::time::Duration;

impl_tx!(
    PgTx,
    PgConnection,
    Some("SELECT pg_advisory_xact_lock($1)"),
    crate::queries::postgres_placeholder,
    " FOR UPDATE"
);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Pool and timeout settings of the PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PgStoreOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
}

impl Default for PgStoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(10),
        }
    }
}

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects and migrates. Migrations hold an advisory lock, so nodes starting together
    /// apply them once.
    pub async fn open(url: &str, options: PgStoreOptions) -> Result<Self> {
        let connect = PgConnectOptions::from_str(url)
            .map_err(|e| {
                Error::invalid(format!("database URL is not a valid PostgreSQL URL: {e}"))
            })?
            .options([(
                "statement_timeout",
                format!("{}ms", options.statement_timeout.as_millis()),
            )])
            .disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(map)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| Error::internal(format!("migrating PostgreSQL: {e}")))?;
        let mut upkeep = pool.begin().await.map_err(map)?;
        PgTx::new(&mut upkeep).run_maintenance().await?;
        upkeep.commit().await.map_err(map)?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl Store for PgStore {
    async fn run_write(&self, job: Job) -> Result<Output> {
        let mut tx = self.pool.begin().await.map_err(map)?;
        let outcome = {
            let mut work = PgTx::new(&mut tx);
            match job(&mut work).await {
                Ok(out) => work.apply_marks().await.map(|()| out),
                Err(e) => Err(e),
            }
        };
        match outcome {
            Ok(out) => {
                tx.commit().await.map_err(map)?;
                Ok(out)
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    async fn run_read(&self, job: Job) -> Result<Output> {
        let mut conn = self.pool.acquire().await.map_err(map)?;
        job(&mut PgTx::new(&mut conn)).await
    }

    async fn ping(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(map)?;
        conn.ping().await.map_err(map)
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}
