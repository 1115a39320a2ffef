//! Starting servers on fresh databases, and small HTTP helpers.

use rand::Rng;
use serde_json::{json, Value};
use sqlx::Connection;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const ADMIN_ID: &str = "it-admin";
pub const ADMIN_SECRET: &str = "it-admin-secret-0123456789";
pub const TEST_SECRET_KEY: &str =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
/// The first signing key of every test server (`--signing-key-file`): generating an RSA key
/// at each start cost the suite a fifth of its time. A test of key generation unsets it.
pub const TEST_SIGNING_KEY_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/test-signing-key.pem"
);

/// Runs an `async fn name(backend: Backend)` test once on each store.
pub use roster_test_macros::on_each_store;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database of its own for one test, removed afterwards.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

fn postgres_admin_url() -> String {
    std::env::var("ROSTER_TEST_POSTGRES_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .expect("ROSTER_TEST_POSTGRES_URL must name a PostgreSQL server for the postgres tests")
}

impl TestDb {
    pub async fn fresh(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("roster.db").display());
                Self {
                    url,
                    backend,
                    dir: Some(dir),
                    pg: None,
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("roster_it_{:016x}", rand::thread_rng().gen::<u64>());
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let _ = conn.close().await;
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                let url = format!("{base}/{name}");
                Self {
                    url,
                    backend,
                    dir: None,
                    pg: Some((admin, name)),
                }
            }
        }
    }

    /// Another handle on a database some other `TestDb` owns (it drops nothing).
    pub fn borrowed(backend: Backend, url: String) -> Self {
        Self {
            url,
            backend,
            dir: None,
            pg: None,
        }
    }

    /// Drops the PostgreSQL database now, under a running server.
    pub async fn drop_now(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
                .execute(&mut c)
                .await
                .unwrap();
        }
    }

    /// The SQLite file, for tests that inspect it.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.path().join("roster.db"))
    }

    /// Runs a query returning one integer directly on the database (for checks that no
    /// interface exposes yet, such as the audit log).
    pub async fn scalar(&self, sql: &str) -> i64 {
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                let v: i64 = sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap();
                let _ = c.close().await;
                v
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                let v: i64 = sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap();
                let _ = c.close().await;
                v
            }
        }
    }
}

impl TestDb {
    /// Runs a statement directly on the database (to load large fixtures quickly).
    pub async fn exec(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
                let _ = c.close().await;
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
                let _ = c.close().await;
            }
        }
    }
}

impl TestDb {
    /// Runs a query returning one text column directly on the database.
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            // Drop runs outside any runtime we may block; use a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async {
                        if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                            let _ = sqlx::query(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .execute(&mut c)
                            .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

pub fn roster_bin() -> &'static str {
    env!("CARGO_BIN_EXE_roster")
}

/// Environment every test server gets: the bootstrap application, and cheap Argon2
/// parameters (an explicit test setting; production defaults are far costlier).
pub fn base_env(cmd: &mut Command) {
    cmd.env_remove("ROSTER_CONFIG")
        .env_remove("ROSTER_DATABASE")
        .env_remove("ROSTER_LISTEN")
        .env("ROSTER_BOOTSTRAP_CLIENT_ID", ADMIN_ID)
        .env("ROSTER_BOOTSTRAP_CLIENT_SECRET", ADMIN_SECRET)
        .env("ROSTER_ARGON2_MEMORY_KIB", "64")
        .env("ROSTER_ARGON2_ITERATIONS", "1")
        .env("ROSTER_ARGON2_ALLOW_WEAK", "true")
        // The tests were written against a lock after 5 wrong passwords, for 30 minutes
        // (the password policy's defaults are OneAccess's: 10, for 3 minutes).
        .env("ROSTER_MAX_FAILED_SIGN_INS", "5")
        .env("ROSTER_LOCK_MINUTES", "30")
        .env("ROSTER_SECRET_KEY", TEST_SECRET_KEY)
        .env_remove("ROSTER_SECRET_KEY_FILE")
        .env("ROSTER_SIGNING_KEY_FILE", TEST_SIGNING_KEY_FILE)
        .env("ROSTER_LOG", "warn");
}

pub struct Server {
    pub base: String,
    pub http: reqwest::Client,
    pub db: TestDb,
    child: Child,
    admin_token: Option<String>,
}

#[derive(Default)]
pub struct Options<'a> {
    pub args: &'a [&'a str],
    pub env: &'a [(&'a str, &'a str)],
    /// Variables to remove from the server's environment.
    pub unset: &'a [&'a str],
    /// Where the server's standard error goes (default: the test's).
    pub log_file: Option<&'a std::path::Path>,
}

impl Server {
    pub async fn start(backend: Backend) -> Self {
        Self::start_on(TestDb::fresh(backend).await, Options::default()).await
    }

    pub async fn start_with(backend: Backend, options: Options<'_>) -> Self {
        Self::start_on(TestDb::fresh(backend).await, options).await
    }

    /// Starts `roster serve` on `db` and waits for its "listening" line.
    pub async fn start_on(db: TestDb, options: Options<'_>) -> Self {
        let mut cmd = Command::new(roster_bin());
        base_env(&mut cmd);
        cmd.arg("serve").args(["--database", &db.url]);
        if !options.args.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        cmd.args(options.args)
            .envs(options.env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(match options.log_file {
                Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
                None => Stdio::inherit(),
            })
            .kill_on_drop(true);
        for name in options.unset {
            cmd.env_remove(name);
        }
        let mut child = cmd.spawn().expect("roster binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(addr) = line.strip_prefix("roster listening on ") {
                    return addr.to_owned();
                }
            }
            panic!("roster exited before listening");
        })
        .await
        .expect("roster listens within 30 s");
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            base: addr,
            http: reqwest::Client::new(),
            db,
            child,
            admin_token: None,
        }
    }

    /// Stops the server with SIGTERM, checks it exited cleanly, and hands back its database.
    pub async fn stop(mut self) -> TestDb {
        let pid = self.child.id().expect("server still running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("server stops within 30 s of SIGTERM")
            .unwrap();
        assert!(exit.success(), "server exit status {exit}");
        let Server { db, .. } = self;
        db
    }

    /// Kills the server with SIGKILL (no chance to clean up) and hands back its database.
    pub async fn kill(mut self) -> TestDb {
        self.child.kill().await.unwrap();
        let Server { db, .. } = self;
        db
    }

    /// A management path (`/users`) under `/api/v2/tenant`; Roster's own paths
    /// (`/roster/v1/…`), the sign-in paths (`/api/v1/…`) and the user APIs (`/api/v2/sdk/…`)
    /// as they are.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("/roster/")
            || path.starts_with("/api/v1/")
            || path.starts_with("/api/v2/sdk/")
        {
            format!("{}{}", self.base, path)
        } else {
            format!("{}/api/v2/tenant{}", self.base, path)
        }
    }

    /// Raw token call with form fields.
    pub async fn token_call(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let res = self
            .http
            .post(self.url("/token"))
            .form(form)
            .send()
            .await
            .unwrap();
        read(res).await
    }

    pub async fn token_for(&self, client_id: &str, secret: &str) -> String {
        let (status, body) = self
            .token_call(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
            ])
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A token of the bootstrap (`all`) application.
    pub async fn admin(&mut self) -> String {
        if self.admin_token.is_none() {
            self.admin_token = Some(self.token_for(ADMIN_ID, ADMIN_SECRET).await);
        }
        self.admin_token.clone().unwrap()
    }

    pub async fn call(
        &self,
        method: &str,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            req = req
                .header("Content-Type", "application/json;charset=utf8")
                .body(body.to_string());
        }
        read(req.send().await.unwrap()).await
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        self.call("GET", token, path, None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.call("POST", token, path, Some(body)).await
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.call("PUT", token, path, Some(body)).await
    }

    pub async fn delete(&self, token: &str, path: &str) -> (u16, Value) {
        self.call("DELETE", token, path, None).await
    }

    /// Registers an application and returns its id.
    pub async fn app_id(&self) -> String {
        self.create_app(&["app_all"]).await.application_id
    }

    /// Authorizes `user` into `app`; returns the account id.
    pub async fn authorize(&mut self, user: &str, app: &str) -> String {
        let token = self.admin().await;
        let (status, body) = self
            .post(
                &token,
                &format!("/users/{user}/applications/{app}/accounts"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["account_id"].as_str().unwrap().to_owned()
    }

    /// Creates a user named `name` with a mobile derived from it; returns its id.
    pub async fn create_user(&mut self, name: &str) -> String {
        let token = self.admin().await;
        let (status, body) = self
            .post(
                &token,
                "/users",
                json!({ "user_name": name, "mobile": mobile_for(name) }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["user_id"].as_str().unwrap().to_owned()
    }

    /// Registers an application through `roster app create` on this server's database.
    pub async fn create_app(&self, permissions: &[&str]) -> AppCreds {
        let mut cmd = Command::new(roster_bin());
        base_env(&mut cmd);
        cmd.args([
            "app",
            "create",
            "--database",
            &self.db.url,
            "--name",
            &unique_app_name(),
        ]);
        for p in permissions {
            cmd.args(["--api-permission", p]);
        }
        let out = cmd.output().await.unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        AppCreds {
            application_id: v["application_id"].as_str().unwrap().to_owned(),
            client_id: v["client_id"].as_str().unwrap().to_owned(),
            client_secret: v["client_secret"].as_str().unwrap().to_owned(),
        }
    }
}

/// Application names are unique: each test application gets its own.
pub fn unique_app_name() -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("test-app-{n}")
}

/// Runs `roster ARGS` with the test environment; its exit status, standard output (as JSON
/// when it is) and standard error.
pub async fn roster(args: &[&str]) -> (bool, Value, String) {
    let mut cmd = Command::new(roster_bin());
    base_env(&mut cmd);
    let out = cmd.args(args).stdin(Stdio::null()).output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::String(stdout));
    (
        out.status.success(),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[derive(Debug, Clone)]
pub struct AppCreds {
    pub application_id: String,
    pub client_id: String,
    pub client_secret: String,
}

/// A distinct, valid mobile number for each name.
pub fn mobile_for(name: &str) -> String {
    let h = name
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    format!("1{:010}", h % 10_000_000_000)
}

pub async fn read(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
    };
    (status, body)
}

/// Asserts an error answer: status, code, and the body shape every error has.
/// One request of a table of refusals: method, path, body (`Value::Null`: none), and the
/// status and catalog code it is refused with.
pub type Refusal<'a> = (&'a str, &'a str, Value, u16, &'a str);

impl Server {
    /// Sends each request of `cases` with `token`, and checks each is refused with its status
    /// and code, in the catalog's body; a failure names the case.
    pub async fn assert_refusals(&self, token: &str, cases: &[Refusal<'_>]) {
        for (method, path, body, status, code) in cases {
            let answer = match *method {
                "GET" => self.get(token, path).await,
                "POST" => self.post(token, path, body.clone()).await,
                "PUT" => self.put(token, path, body.clone()).await,
                "DELETE" => self.delete(token, path).await,
                other => panic!("no such method in a refusal table: {other}"),
            };
            assert_eq!(
                (answer.0, answer.1["error_code"].as_str()),
                (*status, Some(*code)),
                "{method} {path} {body}: {}",
                answer.1
            );
            assert_error(&answer, *status, code);
        }
    }
}

pub fn assert_error(answer: &(u16, Value), status: u16, code: &str) {
    let (s, body) = answer;
    assert_eq!(
        (*s, body["error_code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    assert!(
        body["error_msg"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(body.as_object().map(|o| o.len()), Some(2), "{body}");
}

pub fn is_id(v: &Value) -> bool {
    v.as_str().is_some_and(roster_domain::id::is_well_formed)
}

/// What the receiver saw of each request: its head (lowercased) and body.
pub type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// An HTTP receiver (an SMS webhook, an application's back-channel logout endpoint)
/// answering `statuses` in turn, then 200; its base URL (`http://127.0.0.1:PORT`, each
/// request's path after it) and what it saw.
pub async fn receiver(statuses: Vec<u16>) -> (String, Seen) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Seen = std::sync::Arc::default();
    let log = std::sync::Arc::clone(&seen);
    let statuses = std::sync::Arc::new(std::sync::Mutex::new(statuses.into_iter()));
    tokio::spawn(async move {
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            let log = std::sync::Arc::clone(&log);
            let statuses = std::sync::Arc::clone(&statuses);
            // Each connection on its own: a browser may open one it never uses (a
            // preconnect), which must not hold up the next.
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let (head, body) = loop {
                    let mut chunk = [0u8; 4096];
                    let n = conn.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        // Closed before a whole request: what came, as it is.
                        break (String::from_utf8_lossy(&buf).to_lowercase(), Vec::new());
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    if buf.len() >= end + 4 + length {
                        break (head, buf[end + 4..end + 4 + length].to_vec());
                    }
                };
                if head.is_empty() {
                    return;
                }
                log.lock().unwrap().push((head, body));
                let status = statuses.lock().unwrap().next().unwrap_or(200);
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = conn.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, seen)
}
