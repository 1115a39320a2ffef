//! Fresh databases for tests (feature `testing`): a SQLite file in a temporary folder, or a
//! PostgreSQL database of its own on the server `ROSTER_TEST_POSTGRES_URL` names.

use roster_domain::{Error, Result};
use sqlx::Connection;

/// A database that only one test uses. SQLite's goes with its folder when this is dropped;
/// PostgreSQL's with [`TestDatabase::remove`].
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A new, empty SQLite database.
    pub fn sqlite() -> Result<Self> {
        let dir = tempfile::tempdir().map_err(|e| Error::internal(e.to_string()))?;
        Ok(Self {
            url: format!("sqlite://{}", dir.path().join("roster.db").display()),
            _dir: Some(dir),
            postgres: None,
        })
    }

    /// A new, empty PostgreSQL database on the server of `ROSTER_TEST_POSTGRES_URL`.
    pub async fn postgres() -> Result<Self> {
        let admin = std::env::var("ROSTER_TEST_POSTGRES_URL")
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Error::invalid("set ROSTER_TEST_POSTGRES_URL to a PostgreSQL server"))?;
        let name = format!("roster_test_{:016x}", rand::random::<u64>());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .map_err(crate::errors::map)?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .map_err(crate::errors::map)?;
        let _ = conn.close().await;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Ok(Self {
            url: format!("{base}/{name}"),
            _dir: None,
            postgres: Some((admin, name)),
        })
    }

    /// Drops a PostgreSQL database (open connections included); nothing for SQLite.
    pub async fn remove(mut self) -> Result<()> {
        if let Some((admin, name)) = self.postgres.take() {
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .map_err(crate::errors::map)?;
            sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .map_err(crate::errors::map)?;
        }
        Ok(())
    }
}
