//! The server under test: the `roster` code itself (`roster::run`), started by this binary
//! in a child process on a temporary database, so that load and server do not share a
//! process.

use anyhow::{bail, Context, Result};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const CLIENT_ID: &str = "bench";
pub const CLIENT_SECRET: &str = "bench-secret-0123456789abcdef";
/// First argument that makes this binary act as `roster` (see `main`).
pub const AS_ROSTER: &str = "__roster";

/// Where the data lives: a temporary SQLite file, or a PostgreSQL database.
pub struct Database {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Database {
    pub fn new(postgres: Option<&str>) -> Result<Self> {
        match postgres {
            Some(url) => Ok(Self {
                url: url.to_owned(),
                _dir: None,
            }),
            None => {
                let dir = tempfile::tempdir()?;
                let url = format!("sqlite://{}", dir.path().join("bench.db").display());
                Ok(Self {
                    url,
                    _dir: Some(dir),
                })
            }
        }
    }

    pub fn backend(&self) -> &'static str {
        if self.url.starts_with("sqlite:") {
            "sqlite"
        } else {
            "postgres"
        }
    }
}

/// Seals account passwords in benchmark databases (throwaway data).
const BENCH_SECRET_KEY: &str = "6265e3c3f2d1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5";

pub fn roster_command() -> Result<Command> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg(AS_ROSTER)
        .env("ROSTER_BOOTSTRAP_CLIENT_ID", CLIENT_ID)
        .env("ROSTER_BOOTSTRAP_CLIENT_SECRET", CLIENT_SECRET)
        .env("ROSTER_LOG", "error")
        // Its own key, so that PostgreSQL runs need nothing exported by hand.
        .env("ROSTER_SECRET_KEY", BENCH_SECRET_KEY)
        .env_remove("ROSTER_SECRET_KEY_FILE")
        // The load comes from one client id and one address; limits would measure themselves.
        .env("ROSTER_TOKEN_RATE_PER_CLIENT", "0")
        .env("ROSTER_TOKEN_RATE_PER_ADDRESS", "0")
        // Likewise password checks (the password grants that give `userinfo` its tokens).
        .env("ROSTER_SIGN_IN_RATE_PER_ADDRESS", "0")
        .kill_on_drop(true);
    Ok(cmd)
}

pub struct Server {
    pub addr: String,
    child: Child,
}

impl Server {
    pub async fn start(db: &Database) -> Result<Self> {
        Self::start_with(db, &[]).await
    }

    /// Starts the server with `extra` flags.
    pub async fn start_with(db: &Database, extra: &[&str]) -> Result<Self> {
        let mut cmd = roster_command()?;
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--database", &db.url])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().context("starting the server")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(addr) = line.strip_prefix("roster listening on http://") {
                    return Ok(addr.to_owned());
                }
            }
            bail!("the server exited before listening")
        })
        .await
        .context("the server did not listen within 60 s")??;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { addr, child })
    }

    /// Resident set size of the server process, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let Some(pid) = self.child.id() else { return 0 };
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0)
    }

    pub async fn stop(mut self) -> Result<()> {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        let _ = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await;
        Ok(())
    }
}

/// Loads `rows` users named `{prefix}{n}` through `roster import users`; returns seconds.
pub async fn import_users(db: &Database, prefix: &str, rows: u64) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("users.jsonl");
    {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
        for n in 0..rows {
            writeln!(
                out,
                r#"{{"user_name":"{prefix}{n}","mobile":"1{n:010}","email":"{prefix}{n}@example.com"}}"#
            )?;
        }
        out.flush()?;
    }
    // Admin commands never create a database (only `roster serve` does): make it first, as an
    // operator would by starting the server once, outside the measured time.
    roster_store::open(&db.url, roster_store::PgStoreOptions::default())
        .await
        .map_err(|e| anyhow::anyhow!("creating the database: {e}"))?
        .close()
        .await;
    let started = std::time::Instant::now();
    let mut cmd = roster_command()?;
    let out = cmd
        .args(["import", "users", "--database", &db.url])
        .arg(&file)
        .output()
        .await?;
    if !out.status.success() {
        bail!("import failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Ids of the users whose name starts with `prefix`, in id order.
pub async fn user_ids(db: &Database, prefix: &str) -> Result<Vec<String>> {
    use sqlx::Connection;
    let sql = "SELECT id FROM users WHERE user_name LIKE $1 ORDER BY id";
    let pattern = format!("{prefix}%");
    if db.backend() == "sqlite" {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await?;
        Ok(sqlx::query_scalar(sql)
            .bind(pattern)
            .fetch_all(&mut c)
            .await?)
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await?;
        Ok(sqlx::query_scalar(sql)
            .bind(pattern)
            .fetch_all(&mut c)
            .await?)
    }
}
