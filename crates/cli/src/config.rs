//! Configuration, in layers: built-in defaults, then a TOML file (`--config`), then `ROSTER_*`
//! environment variables, then command-line flags. Secrets may also come from a file named by
//! the `…_FILE` variable, and never appear in `Debug` output.

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE: &str = "sqlite://roster-data/roster.db";

/// A secret value: printed as `***`.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The TOML file. Every key is optional; see `docs/configuration.md`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub database: Option<String>,
    pub token_ttl_secs: Option<u64>,
    pub token_cache_ttl_ms: Option<u64>,
    pub token_rate_per_client: Option<u32>,
    pub token_rate_per_address: Option<u32>,
    pub max_body_bytes: Option<usize>,
    pub request_timeout_secs: Option<u64>,
    pub header_timeout_secs: Option<u64>,
    pub max_connections: Option<usize>,
    pub max_connections_per_address: Option<usize>,
    pub trusted_proxies: Option<Vec<String>>,
    pub public_url: Option<String>,
    pub session_idle_minutes: Option<u64>,
    pub session_lifetime_hours: Option<u64>,
    pub max_failed_sign_ins: Option<u32>,
    pub lock_minutes: Option<u64>,
    pub sign_in_rate_per_address: Option<u32>,
    pub log_format: Option<LogFormat>,
    pub on_user_delete: Option<OnUserDelete>,
    pub audit_retention_days: Option<u64>,
    pub bootstrap_client_id: Option<String>,
    pub bootstrap_client_secret: Option<Secret>,
    pub secret_key: Option<Secret>,
    pub metrics_token: Option<Secret>,
    pub signing_key_file: Option<PathBuf>,
    #[serde(default)]
    pub argon2: Argon2File,
    #[serde(default)]
    pub postgres: PostgresFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Argon2File {
    pub memory_kib: Option<u32>,
    pub iterations: Option<u32>,
    pub parallelism: Option<u32>,
    pub allow_weak: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresFile {
    pub max_connections: Option<u32>,
    pub acquire_timeout_ms: Option<u64>,
    pub statement_timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// What happens to a deleted user's application accounts.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OnUserDelete {
    /// Delete them (the reference's default).
    Delete,
    /// Keep them as orphan accounts.
    Orphan,
}

/// Flags shared by every command that opens the database.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://PATH (embedded; a relative PATH is relative to the current
    /// folder) or postgres://USER@HOST:PORT/DB. Default: sqlite://roster-data/roster.db.
    #[arg(long, env = "ROSTER_DATABASE")]
    pub database: Option<String>,
    /// TOML configuration file.
    #[arg(long, env = "ROSTER_CONFIG")]
    pub config: Option<PathBuf>,
}

/// How user passwords are hashed, for `roster serve` and `roster import users`; each flag also
/// reads its `ROSTER_*` variable, then the `[argon2]` table of the configuration file.
#[derive(Debug, Args)]
pub struct Argon2Args {
    /// Argon2id memory cost in KiB (user passwords). Default: 19456.
    #[arg(long, env = "ROSTER_ARGON2_MEMORY_KIB")]
    pub argon2_memory_kib: Option<u32>,
    /// Argon2id iterations. Default: 2.
    #[arg(long, env = "ROSTER_ARGON2_ITERATIONS")]
    pub argon2_iterations: Option<u32>,
    /// Argon2id lanes. Default: 1.
    #[arg(long, env = "ROSTER_ARGON2_PARALLELISM")]
    pub argon2_parallelism: Option<u32>,
    /// Allow Argon2 parameters below the recommended minimum (tests only). Default: false.
    #[arg(long, env = "ROSTER_ARGON2_ALLOW_WEAK")]
    pub argon2_allow_weak: Option<bool>,
}

impl Argon2Args {
    /// Flags and variables over the file's `[argon2]`, over the defaults.
    pub fn settings(&self, file: &FileConfig) -> roster_service::Argon2Settings {
        let defaults = roster_service::Argon2Settings::default();
        roster_service::Argon2Settings {
            memory_kib: self
                .argon2_memory_kib
                .or(file.argon2.memory_kib)
                .unwrap_or(defaults.memory_kib),
            iterations: self
                .argon2_iterations
                .or(file.argon2.iterations)
                .unwrap_or(defaults.iterations),
            parallelism: self
                .argon2_parallelism
                .or(file.argon2.parallelism)
                .unwrap_or(defaults.parallelism),
            allow_weak: self
                .argon2_allow_weak
                .or(file.argon2.allow_weak)
                .unwrap_or(false),
        }
    }
}

/// `roster serve` flags; each also reads its `ROSTER_*` variable.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Address to listen on, HOST:PORT (a name such as localhost or an IP address; port 0
    /// picks a free port, and the chosen address is printed). Default: 127.0.0.1:8080.
    #[arg(long, env = "ROSTER_LISTEN")]
    pub listen: Option<String>,
    /// RSA private key (PEM: PKCS#8 or PKCS#1, 2048 bits or more) that signs id_tokens when
    /// the database has no signing key yet, instead of a generated one: the same JWKS on every
    /// fresh database (test suites). Read only at that first start; `roster keys rotate`
    /// generates the keys after it.
    #[arg(long, env = "ROSTER_SIGNING_KEY_FILE")]
    pub signing_key_file: Option<PathBuf>,
    /// Lifetime of access tokens, in seconds (the token's `expires_in`). Default: 1800.
    #[arg(long, env = "ROSTER_TOKEN_TTL_SECS")]
    pub token_ttl_secs: Option<u64>,
    /// How long a node trusts a cached token check, in milliseconds. Default: 5000.
    #[arg(long, env = "ROSTER_TOKEN_CACHE_TTL_MS")]
    pub token_cache_ttl_ms: Option<u64>,
    /// Token requests per second allowed for one client id (bursts of twice that); 0: no
    /// limit. Default: 100.
    #[arg(long, env = "ROSTER_TOKEN_RATE_PER_CLIENT")]
    pub token_rate_per_client: Option<u32>,
    /// Token requests per second allowed from one source address; 0: no limit. Default: 200.
    #[arg(long, env = "ROSTER_TOKEN_RATE_PER_ADDRESS")]
    pub token_rate_per_address: Option<u32>,
    /// Largest request body accepted, in bytes. Default: 1048576.
    #[arg(long, env = "ROSTER_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Longest a request may take, in seconds. Default: 30.
    #[arg(long, env = "ROSTER_REQUEST_TIMEOUT_SECS")]
    pub request_timeout_secs: Option<u64>,
    /// Longest wait for a complete request head, in seconds, from a connection's start or its
    /// last response (so also how long a kept-alive connection may sit idle). Default: 10.
    #[arg(long, env = "ROSTER_HEADER_TIMEOUT_SECS")]
    pub header_timeout_secs: Option<u64>,
    /// Most connections served at once; more get 503 at once (a small reserve still answers
    /// /health/live). Default: 10000, lowered to fit the open-file limit.
    #[arg(long, env = "ROSTER_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Most connections from one source address. Default: 256.
    #[arg(long, env = "ROSTER_MAX_CONNECTIONS_PER_ADDRESS")]
    pub max_connections_per_address: Option<usize>,
    /// A reverse proxy (address or network, e.g. 10.0.0.0/8) whose X-Forwarded-For names the
    /// client; repeat, or comma-separate in the variable. Default: none (the peer is the
    /// client).
    #[arg(
        long = "trusted-proxy",
        env = "ROSTER_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<String>,
    /// The URL users and applications reach Roster at, e.g. https://sso.example.com: the
    /// id_tokens' issuer, the discovery document's links; https makes cookies Secure.
    /// Default: http:// and the address listened on.
    #[arg(long, env = "ROSTER_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Minutes a sign-in session may go unused before it ends. Default: 30.
    #[arg(long, env = "ROSTER_SESSION_IDLE_MINUTES")]
    pub session_idle_minutes: Option<u64>,
    /// Hours a sign-in session lasts at most, however used. Default: 12.
    #[arg(long, env = "ROSTER_SESSION_LIFETIME_HOURS")]
    pub session_lifetime_hours: Option<u64>,
    /// Wrong passwords in a row that lock a user. Default: 5.
    #[arg(long, env = "ROSTER_MAX_FAILED_SIGN_INS")]
    pub max_failed_sign_ins: Option<u32>,
    /// Minutes a user stays locked after too many wrong passwords. Default: 30.
    #[arg(long, env = "ROSTER_LOCK_MINUTES")]
    pub lock_minutes: Option<u64>,
    /// Password checks (login page, password grant) per second from one source address,
    /// bursts of twice that; 0: no limit. Default: 10.
    #[arg(long, env = "ROSTER_SIGN_IN_RATE_PER_ADDRESS")]
    pub sign_in_rate_per_address: Option<u32>,
    /// Log format on standard error. Default: text.
    #[arg(long, env = "ROSTER_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// What happens to a deleted user's application accounts. Default: delete.
    #[arg(long, env = "ROSTER_ON_USER_DELETE", value_enum)]
    pub on_user_delete: Option<OnUserDelete>,
    /// Days audit records are kept (older ones are deleted every 10 minutes, in short
    /// batches); 0 keeps them for ever. Default: 400.
    #[arg(long, env = "ROSTER_AUDIT_RETENTION_DAYS")]
    pub audit_retention_days: Option<u64>,
    /// Client id of an `all`-permission application created at start if absent (its secret:
    /// ROSTER_BOOTSTRAP_CLIENT_SECRET or ROSTER_BOOTSTRAP_CLIENT_SECRET_FILE). Default: none,
    /// and a fresh database then has no application: see `roster app create`.
    #[arg(long, env = "ROSTER_BOOTSTRAP_CLIENT_ID")]
    pub bootstrap_client_id: Option<String>,
    #[command(flatten)]
    pub argon2: Argon2Args,
    /// PostgreSQL: most pooled connections. Default: 4 per CPU of this node, from 4 to 32.
    #[arg(long, env = "ROSTER_PG_MAX_CONNECTIONS")]
    pub pg_max_connections: Option<u32>,
    /// PostgreSQL: statement timeout in milliseconds. Default: 10000.
    #[arg(long, env = "ROSTER_PG_STATEMENT_TIMEOUT_MS")]
    pub pg_statement_timeout_ms: Option<u64>,
}

/// The public URL, checked: an absolute http(s) URL without query or fragment.
fn public_url(text: Option<String>) -> Result<Option<String>> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let url = url::Url::parse(&text)
        .with_context(|| format!("public URL '{text}' is not an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        anyhow::bail!(
            "public URL '{text}' must be an http or https URL with a host, without query or \
             fragment"
        );
    }
    Ok(Some(text.trim_end_matches('/').to_owned()))
}

impl ServeArgs {
    /// Sessions and the lock after wrong passwords: flags and variables over the file, over
    /// the defaults.
    fn sign_in_settings(&self, file: &FileConfig) -> Result<roster_service::SignInSettings> {
        let defaults = roster_service::SignInSettings::default();
        let minutes = |m: u64| Duration::from_secs(m.saturating_mul(60));
        let settings = roster_service::SignInSettings {
            session_idle: self
                .session_idle_minutes
                .or(file.session_idle_minutes)
                .map_or(defaults.session_idle, minutes),
            session_lifetime: self
                .session_lifetime_hours
                .or(file.session_lifetime_hours)
                .map_or(defaults.session_lifetime, |h| minutes(h.saturating_mul(60))),
            max_failed_sign_ins: self
                .max_failed_sign_ins
                .or(file.max_failed_sign_ins)
                .unwrap_or(defaults.max_failed_sign_ins),
            lock_duration: self
                .lock_minutes
                .or(file.lock_minutes)
                .map_or(defaults.lock_duration, minutes),
            code_ttl: defaults.code_ttl,
            rate_per_address: self
                .sign_in_rate_per_address
                .or(file.sign_in_rate_per_address)
                .unwrap_or(defaults.rate_per_address),
        };
        if settings.session_idle.is_zero()
            || settings.session_lifetime.is_zero()
            || settings.max_failed_sign_ins == 0
            || settings.lock_duration.is_zero()
        {
            anyhow::bail!(
                "session_idle_minutes, session_lifetime_hours, max_failed_sign_ins and \
                 lock_minutes must be at least 1"
            );
        }
        Ok(settings)
    }
}

/// Everything `roster serve` runs with, defaults filled in.
#[derive(Debug)]
pub struct ServeConfig {
    /// HOST:PORT, resolved when binding.
    pub listen: String,
    pub database: String,
    pub log_format: LogFormat,
    pub bootstrap: Option<(String, Secret)>,
    /// The key that seals account passwords, if configured (else see `key_file_for`).
    pub secret_key: Option<Secret>,
    /// The bearer token `/metrics` asks for, if any.
    pub metrics_token: Option<Secret>,
    /// The first signing key, if one was given (`--signing-key-file`).
    pub first_signing_key: Option<roster_service::FirstSigningKey>,
    pub service: roster_service::Settings,
    pub http: roster_http::HttpSettings,
    pub postgres: roster_store::PgStoreOptions,
}

pub fn read_file_config(path: Option<&Path>) -> Result<FileConfig> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading configuration file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("in configuration file {}", path.display()))
}

/// A secret from `NAME` or from the file named by `NAME_FILE` (not both).
pub fn secret_from_env(name: &str) -> Result<Option<Secret>> {
    let direct = std::env::var(name).ok().filter(|v| !v.is_empty());
    let file_var = format!("{name}_FILE");
    let from_file = match std::env::var(&file_var).ok().filter(|v| !v.is_empty()) {
        Some(path) => Some(
            std::fs::read_to_string(&path)
                .with_context(|| format!("reading {file_var} ({path})"))?
                .trim_end_matches(['\n', '\r'])
                .to_owned(),
        ),
        None => None,
    };
    match (direct, from_file) {
        (Some(_), Some(_)) => bail!("set {name} or {file_var}, not both"),
        (v, f) => Ok(v.or(f).map(Secret)),
    }
}

pub fn database_url(args: &DatabaseArgs, file: &FileConfig) -> String {
    args.database
        .clone()
        .or_else(|| file.database.clone())
        .unwrap_or_else(|| DEFAULT_DATABASE.to_owned())
}

impl ServeArgs {
    pub fn resolve(self) -> Result<ServeConfig> {
        let file = read_file_config(self.db.config.as_deref())?;
        let sign_in = self.sign_in_settings(&file)?;
        let defaults = roster_service::Settings::default();
        let http_defaults = roster_http::HttpSettings::default();
        let pg_defaults = roster_store::PgStoreOptions::default();

        let bootstrap_id = self
            .bootstrap_client_id
            .or(file.bootstrap_client_id.clone());
        let bootstrap_secret = secret_from_env("ROSTER_BOOTSTRAP_CLIENT_SECRET")?
            .or(file.bootstrap_client_secret.clone());
        let bootstrap = match (bootstrap_id, bootstrap_secret) {
            (Some(id), Some(secret)) => Some((id, secret)),
            (None, None) => None,
            _ => bail!(
                "set both ROSTER_BOOTSTRAP_CLIENT_ID and ROSTER_BOOTSTRAP_CLIENT_SECRET (or _FILE), or neither"
            ),
        };
        let token_ttl_secs = self
            .token_ttl_secs
            .or(file.token_ttl_secs)
            .unwrap_or(defaults.token_ttl.as_secs());
        if token_ttl_secs == 0 {
            bail!("token_ttl_secs must be at least 1");
        }
        let cache_ms = self
            .token_cache_ttl_ms
            .or(file.token_cache_ttl_ms)
            .map(Duration::from_millis)
            .unwrap_or(defaults.token_cache_ttl);
        let argon2 = self.argon2.settings(&file);
        let secret_key = secret_from_env("ROSTER_SECRET_KEY")?.or(file.secret_key.clone());
        // Read now: a key file that cannot be read stops the start before anything is made.
        let first_signing_key = match self.signing_key_file.or(file.signing_key_file.clone()) {
            Some(path) => {
                let reading = || format!("reading the signing key file {}", path.display());
                let pem = std::fs::read_to_string(&path).with_context(reading)?;
                let key = roster_service::FirstSigningKey::from_pem(&pem)
                    .map_err(|e| anyhow::anyhow!("{}", e.client_message()))
                    .with_context(reading)?;
                Some(key)
            }
            None => None,
        };
        Ok(ServeConfig {
            secret_key,
            first_signing_key,
            database: database_url(&self.db, &file),
            listen: self
                .listen
                .or(file.listen.clone())
                .unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
            log_format: self.log_format.or(file.log_format).unwrap_or_default(),
            bootstrap,
            service: roster_service::Settings {
                token_ttl: Duration::from_secs(token_ttl_secs),
                token_cache_ttl: cache_ms,
                argon2,
                token_rate_per_client: self
                    .token_rate_per_client
                    .or(file.token_rate_per_client)
                    .unwrap_or(defaults.token_rate_per_client),
                token_rate_per_address: self
                    .token_rate_per_address
                    .or(file.token_rate_per_address)
                    .unwrap_or(defaults.token_rate_per_address),
                audit_retention: audit_retention(self.audit_retention_days, &file),
                sign_in,
                on_user_delete: match self.on_user_delete.or(file.on_user_delete) {
                    Some(OnUserDelete::Orphan) => roster_service::UserDeletePolicy::OrphanAccounts,
                    Some(OnUserDelete::Delete) | None => {
                        roster_service::UserDeletePolicy::DeleteAccounts
                    }
                },
                ..defaults
            },
            http: roster_http::HttpSettings {
                max_body_bytes: self
                    .max_body_bytes
                    .or(file.max_body_bytes)
                    .unwrap_or(http_defaults.max_body_bytes),
                max_uri_bytes: http_defaults.max_uri_bytes,
                max_header_bytes: http_defaults.max_header_bytes,
                request_timeout: self
                    .request_timeout_secs
                    .or(file.request_timeout_secs)
                    .map(Duration::from_secs)
                    .unwrap_or(http_defaults.request_timeout),
                connections: roster_http::ConnectionLimits {
                    header_timeout: self
                        .header_timeout_secs
                        .or(file.header_timeout_secs)
                        .map(Duration::from_secs)
                        .unwrap_or(http_defaults.connections.header_timeout),
                    max_connections: self
                        .max_connections
                        .or(file.max_connections)
                        .unwrap_or(http_defaults.connections.max_connections),
                    max_per_address: self
                        .max_connections_per_address
                        .or(file.max_connections_per_address)
                        .unwrap_or(http_defaults.connections.max_per_address),
                },
                // Set up by `serve` with the metrics recorder.
                metrics: None,
                trusted_proxies: {
                    let entries = if self.trusted_proxies.is_empty() {
                        file.trusted_proxies.clone().unwrap_or_default()
                    } else {
                        self.trusted_proxies.clone()
                    };
                    roster_http::TrustedProxies::parse(&entries).map_err(anyhow::Error::msg)?
                },
                public_url: public_url(self.public_url.clone().or(file.public_url.clone()))?,
            },
            metrics_token: secret_from_env("ROSTER_METRICS_TOKEN")?.or(file.metrics_token.clone()),
            postgres: roster_store::PgStoreOptions {
                max_connections: self
                    .pg_max_connections
                    .or(file.postgres.max_connections)
                    .unwrap_or(pg_defaults.max_connections),
                acquire_timeout: file
                    .postgres
                    .acquire_timeout_ms
                    .map(Duration::from_millis)
                    .unwrap_or(pg_defaults.acquire_timeout),
                statement_timeout: self
                    .pg_statement_timeout_ms
                    .or(file.postgres.statement_timeout_ms)
                    .map(Duration::from_millis)
                    .unwrap_or(pg_defaults.statement_timeout),
            },
        })
    }
}

/// How long audit records are kept: `days` (flag or variable), else the file's, else the
/// default; 0 keeps them for ever.
pub fn audit_retention(days: Option<u64>, file: &FileConfig) -> Option<Duration> {
    let days = days
        .or(file.audit_retention_days)
        .unwrap_or(roster_service::DEFAULT_AUDIT_RETENTION_DAYS);
    (days > 0).then(|| Duration::from_secs(days.saturating_mul(86_400)))
}

/// The database a URL names, as an operator wants to read it: an embedded store's file as an
/// absolute path, a server's URL without its password.
pub fn describe_database(url: &str) -> String {
    match sqlite_path(url) {
        Some(path) => {
            let path = Path::new(path);
            let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            format!("{url} ({})", shown.display())
        }
        None => redact_url(url),
    }
}

fn sqlite_path(url: &str) -> Option<&str> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    Some(path.split('?').next().unwrap_or(path))
}

/// A database URL without its password, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let (head, userinfo) = url.split_at(scheme_end + 3);
            let userinfo = &userinfo[..at - head.len()];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{head}{user}:***{}", &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Where an embedded store keeps its generated secret key: beside the database file.
pub fn key_file_for(database_url: &str) -> Option<PathBuf> {
    let path = sqlite_path(database_url)?;
    let dir = Path::new(path).parent().unwrap_or(Path::new(""));
    Some(dir.join("roster.key"))
}

/// The key file's key, created (readable by its owner only) if it does not exist yet.
pub fn key_from_file(path: &Path) -> Result<String> {
    if path.exists() {
        return Ok(std::fs::read_to_string(path)
            .with_context(|| format!("reading the secret key {}", path.display()))?
            .trim()
            .to_owned());
    }
    let key = roster_service::SecretKey::generate_hex();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating the secret key {}", path.display()))?;
    std::io::Write::write_all(&mut file, format!("{key}\n").as_bytes())?;
    file.sync_all()?;
    Ok(key)
}
