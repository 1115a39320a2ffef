//! Configuration, declared once: every setting is a field of [`Settings`], which is at the same
//! time a TOML key of the file (`--config`, serde) and a flag with its `ROSTER_*` variable
//! (clap). Layers, lowest first: built-in defaults, the file, variables, flags ([`load`]).
//! Secrets come from the file or from a variable (or the file a `…_FILE` variable names),
//! never from flags, and never appear in `Debug` output. (Long because it is the declaration
//! of every setting, with the help text each flag shows.)

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE: &str = "sqlite://roster-data/roster.db";

/// A secret value: printed as `***`.
#[derive(Clone, Deserialize, Serialize)]
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

/// Every setting, as the TOML file names it; as flags, those of `roster serve`. Every key is
/// optional: an absent one takes the default its flag's help names.
#[derive(Debug, Default, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Database URL (the flag is every command's `--database`).
    #[arg(skip)]
    pub database: Option<String>,
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
    pub trusted_proxies: Option<Vec<String>>,
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
    /// Wrong passwords in a row that lock a user (password policy; 1 to 1000000). Default: 10.
    #[arg(long, env = "ROSTER_MAX_FAILED_SIGN_INS")]
    pub max_failed_sign_ins: Option<u32>,
    /// Minutes a user stays locked after too many wrong passwords (password policy; 1 to
    /// 1440). Default: 3.
    #[arg(long, env = "ROSTER_LOCK_MINUTES")]
    pub lock_minutes: Option<u32>,
    /// Fewest characters of a new password (password policy; 8 to 128). Default: 8.
    #[arg(long, env = "ROSTER_PASSWORD_MIN_LENGTH")]
    pub password_min_length: Option<u32>,
    /// How many of lowercase letters, uppercase letters, digits and other characters a new
    /// password mixes (password policy; 0 to 4). Default: 0.
    #[arg(long, env = "ROSTER_PASSWORD_CHAR_CLASSES")]
    pub password_char_classes: Option<u32>,
    /// Days a password lasts before it must be changed; 0: never (password policy). Default: 0.
    #[arg(long, env = "ROSTER_PASSWORD_EXPIRE_DAYS")]
    pub password_expire_days: Option<u32>,
    /// Days before a password expires that signing in warns (password policy). Default: 7.
    #[arg(long, env = "ROSTER_PASSWORD_WARN_DAYS")]
    pub password_warn_days: Option<u32>,
    /// How many earlier passwords a new one may not repeat (password policy; 0 to 24).
    /// Default: 0.
    #[arg(long, env = "ROSTER_PASSWORD_HISTORY")]
    pub password_history: Option<u32>,
    /// Password checks (login page, password grant) per second from one source address,
    /// bursts of twice that; the same rate holds a session's authorization requests (each
    /// writes a code); 0: no limit. Default: 10.
    #[arg(long, env = "ROSTER_SIGN_IN_RATE_PER_ADDRESS")]
    pub sign_in_rate_per_address: Option<u32>,
    /// How the user APIs (/api/v2/sdk/*) word their refusals: oneaccess (LOGIN.*/PARAM.*
    /// codes, as Huawei documents them) or bamboocloud (SDK.* codes, as Bamboo Cloud answers).
    /// Default: oneaccess.
    #[arg(long, env = "ROSTER_SDK_ERROR_STYLE", value_enum)]
    pub sdk_error_style: Option<SdkErrorStyle>,
    /// Hours a user-API session token lasts. Default: 168 (the reference's 604800 seconds).
    #[arg(long, env = "ROSTER_SDK_SESSION_HOURS")]
    pub sdk_session_hours: Option<u64>,
    /// Minutes a user-API id_token lasts. Default: 120.
    #[arg(long, env = "ROSTER_SDK_ID_TOKEN_MINUTES")]
    pub sdk_id_token_minutes: Option<u64>,
    /// Seconds an X-signature's timestamp may differ from the server's time, either way.
    /// Default: 300.
    #[arg(long, env = "ROSTER_SDK_SIGNATURE_WINDOW_SECS")]
    pub sdk_signature_window_secs: Option<u64>,
    /// Who gives an SMS code after the password: off, everyone, or applications (those of
    /// mfa_applications). `PUT /roster/v1/mfa-policy` replaces it for every node. Default:
    /// off.
    #[arg(long, env = "ROSTER_MFA", value_enum)]
    pub mfa: Option<MfaSetting>,
    /// Client ids of the applications that ask for a code (with mfa = "applications");
    /// repeat, or comma-separate in the variable.
    #[arg(
        long = "mfa-application",
        env = "ROSTER_MFA_APPLICATIONS",
        value_delimiter = ','
    )]
    pub mfa_applications: Option<Vec<String>>,
    /// Where SMS codes go: log (kept, read with `roster messages list` or
    /// GET /roster/v1/messages) or webhook (posted to sms_webhook_url). Default: log.
    #[arg(long, env = "ROSTER_SMS_SENDER", value_enum)]
    pub sms_sender: Option<SmsSender>,
    /// The URL the webhook sender posts each message to (JSON, signed in X-Roster-Signature
    /// with the secret of ROSTER_SMS_WEBHOOK_SECRET[_FILE]).
    #[arg(long, env = "ROSTER_SMS_WEBHOOK_URL")]
    pub sms_webhook_url: Option<String>,
    /// The webhook's HMAC-SHA256 key (ROSTER_SMS_WEBHOOK_SECRET[_FILE]; 16 characters or
    /// more).
    #[arg(skip)]
    pub sms_webhook_secret: Option<Secret>,
    /// Seconds a CAS service ticket may wait for its validation. Default: 10.
    #[arg(long, env = "ROSTER_CAS_TICKET_SECS")]
    pub cas_ticket_secs: Option<u64>,
    /// A fixtures file (YAML or JSON; `roster fixtures schema` prints its JSON Schema) applied
    /// at start, before serving: the applications, organizations, users, accounts, roles and
    /// policies it declares are created or brought in line; with --test-mode, a reset returns
    /// to it. See docs/testing-with-roster.md.
    #[arg(long, env = "ROSTER_FIXTURES", value_name = "FILE")]
    pub fixtures: Option<PathBuf>,
    /// Test mode, for test suites (a Roster extension): routes the control API under
    /// /roster/v1/test/ (reset, snapshots, time travel, faults, the request journal; the `all`
    /// permission), marks every answer `X-Roster-Test-Mode: 1` and /health `"test_mode":
    /// true`. Without it none of that is routed (404). Refused on a listen address other than
    /// loopback unless --test-mode-any-address. See docs/testing-with-roster.md. Default: false.
    #[arg(
        long,
        env = "ROSTER_TEST_MODE",
        value_name = "BOOL",
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub test_mode: Option<bool>,
    /// Allow --test-mode on an address other than loopback (a container's 0.0.0.0): anyone
    /// who reaches it with the `all` permission can reset the directory. Default: false.
    #[arg(
        long,
        env = "ROSTER_TEST_MODE_ANY_ADDRESS",
        value_name = "BOOL",
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub test_mode_any_address: Option<bool>,
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
    /// Secret of the bootstrap application (ROSTER_BOOTSTRAP_CLIENT_SECRET[_FILE]).
    #[arg(skip)]
    pub bootstrap_client_secret: Option<Secret>,
    /// The key that seals account passwords and signing keys (ROSTER_SECRET_KEY[_FILE]).
    #[arg(skip)]
    pub secret_key: Option<Secret>,
    /// The bearer token `/metrics` asks for (ROSTER_METRICS_TOKEN[_FILE]).
    #[arg(skip)]
    pub metrics_token: Option<Secret>,
    #[command(flatten)]
    #[serde(default)]
    pub argon2: Argon2Settings,
    #[command(flatten)]
    #[serde(default)]
    pub postgres: PostgresSettings,
}

/// How user passwords are hashed (`[argon2]`), for `roster serve` and `roster import users`.
#[derive(Debug, Default, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Argon2Settings {
    /// Argon2id memory cost in KiB (user passwords). Default: 19456.
    #[arg(
        id = "argon2_memory_kib",
        value_name = "KIB",
        long = "argon2-memory-kib",
        env = "ROSTER_ARGON2_MEMORY_KIB"
    )]
    pub memory_kib: Option<u32>,
    /// Argon2id iterations. Default: 2.
    #[arg(
        id = "argon2_iterations",
        value_name = "N",
        long = "argon2-iterations",
        env = "ROSTER_ARGON2_ITERATIONS"
    )]
    pub iterations: Option<u32>,
    /// Argon2id lanes. Default: 1.
    #[arg(
        id = "argon2_parallelism",
        value_name = "N",
        long = "argon2-parallelism",
        env = "ROSTER_ARGON2_PARALLELISM"
    )]
    pub parallelism: Option<u32>,
    /// Allow Argon2 parameters below the recommended minimum (tests only). Default: false.
    #[arg(
        id = "argon2_allow_weak",
        value_name = "BOOL",
        long = "argon2-allow-weak",
        env = "ROSTER_ARGON2_ALLOW_WEAK"
    )]
    pub allow_weak: Option<bool>,
}

/// The PostgreSQL store's pool (`[postgres]`).
#[derive(Debug, Default, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresSettings {
    /// PostgreSQL: most pooled connections. Default: 4 per CPU of this node, from 4 to 32.
    #[arg(
        id = "pg_max_connections",
        value_name = "N",
        long = "pg-max-connections",
        env = "ROSTER_PG_MAX_CONNECTIONS"
    )]
    pub max_connections: Option<u32>,
    /// PostgreSQL: how long a request waits for a pooled connection, in milliseconds.
    /// Default: 5000.
    #[arg(
        id = "pg_acquire_timeout_ms",
        value_name = "MS",
        long = "pg-acquire-timeout-ms",
        env = "ROSTER_PG_ACQUIRE_TIMEOUT_MS"
    )]
    pub acquire_timeout_ms: Option<u64>,
    /// PostgreSQL: statement timeout in milliseconds. Default: 10000.
    #[arg(
        id = "pg_statement_timeout_ms",
        value_name = "MS",
        long = "pg-statement-timeout-ms",
        env = "ROSTER_PG_STATEMENT_TIMEOUT_MS"
    )]
    pub statement_timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// How the user APIs word their refusals.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SdkErrorStyle {
    #[default]
    Oneaccess,
    Bamboocloud,
}

/// Who gives an SMS code after the password.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum MfaSetting {
    #[default]
    Off,
    Everyone,
    Applications,
}

/// Where SMS codes go.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SmsSender {
    #[default]
    Log,
    Webhook,
}

/// What happens to a deleted user's application accounts.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OnUserDelete {
    /// Delete them (the reference's default).
    Delete,
    /// Keep them as orphan accounts.
    Orphan,
}

/// Flags shared by every command that opens the database.
#[derive(Debug, Default, Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://PATH (embedded; a relative PATH is relative to the current
    /// folder) or postgres://USER@HOST:PORT/DB. Default: sqlite://roster-data/roster.db.
    #[arg(long, env = "ROSTER_DATABASE")]
    pub database: Option<String>,
    /// TOML configuration file.
    #[arg(long, env = "ROSTER_CONFIG")]
    pub config: Option<PathBuf>,
}

impl DatabaseArgs {
    /// The settings of the file this names, under `flags` (variables and flags), with the
    /// secrets of the environment, and the database this names.
    pub fn settings(&self, flags: Settings) -> Result<Settings> {
        let mut settings = load(self.config.as_deref(), flags)?;
        settings.database = self.database.clone().or(settings.database);
        Ok(settings)
    }

    /// The settings of the file alone (for the commands that take no other flags).
    pub fn file_settings(&self) -> Result<Settings> {
        self.settings(Settings::default())
    }
}

/// `flags` (what clap read from flags and variables) over the file at `path`, with each
/// secret from its variable (or the file its `…_FILE` variable names) over the file's.
pub fn load(path: Option<&Path>, flags: Settings) -> Result<Settings> {
    let file = match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading configuration file {}", path.display()))?;
            toml::from_str::<Settings>(&text)
                .with_context(|| format!("in configuration file {}", path.display()))?
        }
        None => Settings::default(),
    };
    let mut merged = serde_json::to_value(file).context("reading the configuration")?;
    let over = serde_json::to_value(flags).context("reading the flags")?;
    overlay(&mut merged, over);
    let mut settings: Settings =
        serde_json::from_value(merged).context("layering the configuration")?;
    for (name, slot) in [
        (
            "ROSTER_BOOTSTRAP_CLIENT_SECRET",
            &mut settings.bootstrap_client_secret,
        ),
        ("ROSTER_SECRET_KEY", &mut settings.secret_key),
        ("ROSTER_METRICS_TOKEN", &mut settings.metrics_token),
        (
            "ROSTER_SMS_WEBHOOK_SECRET",
            &mut settings.sms_webhook_secret,
        ),
    ] {
        if let Some(secret) = secret_from_env(name)? {
            *slot = Some(secret);
        }
    }
    Ok(settings)
}

/// Puts every value `over` sets (not null) over `base`, table by table.
fn overlay(base: &mut serde_json::Value, over: serde_json::Value) {
    use serde_json::Value;
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(slot) => overlay(slot, value),
                    None if !value.is_null() => {
                        base.insert(key, value);
                    }
                    None => {}
                }
            }
        }
        (_, Value::Null) => {}
        (slot, value) => *slot = value,
    }
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

impl Settings {
    /// The database URL, or the default.
    pub fn database_url(&self) -> String {
        self.database
            .clone()
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned())
    }

    /// How user passwords are hashed.
    pub fn argon2(&self) -> roster_service::Argon2Settings {
        let defaults = roster_service::Argon2Settings::default();
        let a = &self.argon2;
        roster_service::Argon2Settings {
            memory_kib: a.memory_kib.unwrap_or(defaults.memory_kib),
            iterations: a.iterations.unwrap_or(defaults.iterations),
            parallelism: a.parallelism.unwrap_or(defaults.parallelism),
            allow_weak: a.allow_weak.unwrap_or(false),
        }
    }

    /// How long audit records are kept; `None`: for ever (0 days).
    pub fn audit_retention(&self) -> Option<Duration> {
        let days = self
            .audit_retention_days
            .unwrap_or(roster_service::DEFAULT_AUDIT_RETENTION_DAYS);
        (days > 0).then(|| Duration::from_secs(days.saturating_mul(86_400)))
    }

    /// Sessions and the lock after wrong passwords.
    fn sign_in(&self) -> Result<roster_service::SignInSettings> {
        let defaults = roster_service::SignInSettings::default();
        let minutes = |m: u64| Duration::from_secs(m.saturating_mul(60));
        let settings = roster_service::SignInSettings {
            session_idle: self
                .session_idle_minutes
                .map_or(defaults.session_idle, minutes),
            session_lifetime: self
                .session_lifetime_hours
                .map_or(defaults.session_lifetime, |h| minutes(h.saturating_mul(60))),
            code_ttl: defaults.code_ttl,
            rate_per_address: self
                .sign_in_rate_per_address
                .unwrap_or(defaults.rate_per_address),
        };
        if settings.session_idle.is_zero() || settings.session_lifetime.is_zero() {
            bail!("session_idle_minutes and session_lifetime_hours must be at least 1");
        }
        Ok(settings)
    }

    /// The password policy until one is set over HTTP.
    fn password_policy(&self) -> Result<roster_domain::password_policy::PasswordPolicy> {
        let d = roster_domain::password_policy::PasswordPolicy::default();
        let policy = roster_domain::password_policy::PasswordPolicy {
            min_length: self.password_min_length.unwrap_or(d.min_length),
            char_classes: self.password_char_classes.unwrap_or(d.char_classes),
            expire_days: self.password_expire_days.unwrap_or(d.expire_days),
            warn_days: self.password_warn_days.unwrap_or(d.warn_days),
            history: self.password_history.unwrap_or(d.history),
            max_failed_sign_ins: self.max_failed_sign_ins.unwrap_or(d.max_failed_sign_ins),
            lock_minutes: self.lock_minutes.unwrap_or(d.lock_minutes),
        };
        policy
            .validate()
            .map_err(|e| anyhow::anyhow!("the password policy: {}", e.client_message()))?;
        Ok(policy)
    }

    /// The MFA policy until one is set over HTTP.
    fn mfa_policy(&self) -> Result<roster_domain::second_factor::MfaPolicy> {
        use roster_domain::second_factor::{MfaMode, MfaPolicy};
        let policy = MfaPolicy {
            mode: match self.mfa.unwrap_or_default() {
                MfaSetting::Off => MfaMode::Off,
                MfaSetting::Everyone => MfaMode::Everyone,
                MfaSetting::Applications => MfaMode::Applications,
            },
            applications: self.mfa_applications.clone().unwrap_or_default(),
        };
        policy
            .validated()
            .map_err(|e| anyhow::anyhow!("mfa / mfa_applications: {}", e.client_message()))
    }

    /// Where messages go.
    fn messages(&self) -> Result<roster_service::MessagesSettings> {
        let defaults = roster_service::MessagesSettings::default();
        let sender = match self.sms_sender.unwrap_or_default() {
            SmsSender::Log => roster_service::Sender::Log,
            SmsSender::Webhook => {
                let Some(url) = &self.sms_webhook_url else {
                    bail!("sms_sender = \"webhook\" needs sms_webhook_url");
                };
                let url = url::Url::parse(url)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
                    .with_context(|| format!("sms_webhook_url {url} is not an http(s) URL"))?;
                let Some(secret) = &self.sms_webhook_secret else {
                    bail!(
                        "sms_sender = \"webhook\" needs ROSTER_SMS_WEBHOOK_SECRET (or \
                         ROSTER_SMS_WEBHOOK_SECRET_FILE)"
                    );
                };
                if secret.expose().chars().count() < 16 {
                    bail!("the SMS webhook secret must be 16 characters or more");
                }
                roster_service::Sender::Webhook {
                    url,
                    secret: secret.expose().to_owned(),
                }
            }
        };
        Ok(roster_service::MessagesSettings { sender, ..defaults })
    }

    /// The user APIs' style and lifetimes.
    fn user_api(&self) -> Result<roster_service::UserApiSettings> {
        let defaults = roster_service::UserApiSettings::default();
        let secs = Duration::from_secs;
        let settings = roster_service::UserApiSettings {
            error_style: match self.sdk_error_style.unwrap_or_default() {
                SdkErrorStyle::Oneaccess => roster_domain::user_api::ErrorStyle::OneAccess,
                SdkErrorStyle::Bamboocloud => roster_domain::user_api::ErrorStyle::BambooCloud,
            },
            session_ttl: self
                .sdk_session_hours
                .map_or(defaults.session_ttl, |h| secs(h.saturating_mul(3600))),
            id_token_ttl: self
                .sdk_id_token_minutes
                .map_or(defaults.id_token_ttl, |m| secs(m.saturating_mul(60))),
            signature_window: self
                .sdk_signature_window_secs
                .map_or(defaults.signature_window, secs),
            ..defaults
        };
        if settings.session_ttl.is_zero()
            || settings.id_token_ttl.is_zero()
            || settings.signature_window.is_zero()
        {
            bail!(
                "sdk_session_hours, sdk_id_token_minutes and sdk_signature_window_secs must be \
                 at least 1"
            );
        }
        Ok(settings)
    }

    /// Everything `roster serve` runs with, defaults filled in and checked; the signing key
    /// file read (so that a bad one stops the start before anything is made).
    pub fn serve(self) -> Result<ServeConfig> {
        let bootstrap = match (&self.bootstrap_client_id, &self.bootstrap_client_secret) {
            (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
            (None, None) => None,
            _ => bail!(
                "set both ROSTER_BOOTSTRAP_CLIENT_ID and ROSTER_BOOTSTRAP_CLIENT_SECRET (or _FILE), or neither"
            ),
        };
        let first_signing_key = match &self.signing_key_file {
            Some(path) => {
                let reading = || format!("reading the signing key file {}", path.display());
                let pem = std::fs::read_to_string(path).with_context(reading)?;
                let key = roster_service::FirstSigningKey::from_pem(&pem)
                    .map_err(|e| anyhow::anyhow!("{}", e.client_message()))
                    .with_context(reading)?;
                Some(key)
            }
            None => None,
        };
        Ok(ServeConfig {
            database: self.database_url(),
            listen: self
                .listen
                .clone()
                .unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
            log_format: self.log_format.unwrap_or_default(),
            bootstrap,
            first_signing_key,
            service: self.service()?,
            http: self.http()?,
            postgres: self.postgres(),
            test_mode_any_address: self.test_mode_any_address.unwrap_or(false),
            fixtures: self.fixtures.clone(),
            secret_key: self.secret_key,
            metrics_token: self.metrics_token,
        })
    }

    /// The use cases' settings.
    pub(crate) fn service(&self) -> Result<roster_service::Settings> {
        let defaults = roster_service::Settings::default();
        let token_ttl_secs = self.token_ttl_secs.unwrap_or(defaults.token_ttl.as_secs());
        if token_ttl_secs == 0 {
            bail!("token_ttl_secs must be at least 1");
        }
        Ok(roster_service::Settings {
            token_ttl: Duration::from_secs(token_ttl_secs),
            token_cache_ttl: self
                .token_cache_ttl_ms
                .map(Duration::from_millis)
                .unwrap_or(defaults.token_cache_ttl),
            argon2: self.argon2(),
            token_rate_per_client: self
                .token_rate_per_client
                .unwrap_or(defaults.token_rate_per_client),
            token_rate_per_address: self
                .token_rate_per_address
                .unwrap_or(defaults.token_rate_per_address),
            audit_retention: self.audit_retention(),
            sign_in: self.sign_in()?,
            user_api: self.user_api()?,
            password_policy: self.password_policy()?,
            mfa_policy: self.mfa_policy()?,
            cas_ticket_ttl: match self.cas_ticket_secs {
                Some(0) => bail!("cas_ticket_secs must be at least 1"),
                Some(secs) => Duration::from_secs(secs),
                None => defaults.cas_ticket_ttl,
            },
            messages: self.messages()?,
            test_mode: self.test_mode.unwrap_or(false),
            on_user_delete: match self.on_user_delete {
                Some(OnUserDelete::Orphan) => roster_service::UserDeletePolicy::OrphanAccounts,
                Some(OnUserDelete::Delete) | None => {
                    roster_service::UserDeletePolicy::DeleteAccounts
                }
            },
            ..defaults
        })
    }

    /// The HTTP server's limits, proxies and public URL.
    fn http(&self) -> Result<roster_http::HttpSettings> {
        let defaults = roster_http::HttpSettings::default();
        let connections = roster_http::ConnectionLimits {
            header_timeout: self
                .header_timeout_secs
                .map(Duration::from_secs)
                .unwrap_or(defaults.connections.header_timeout),
            max_connections: self
                .max_connections
                .unwrap_or(defaults.connections.max_connections),
            max_per_address: self
                .max_connections_per_address
                .unwrap_or(defaults.connections.max_per_address),
        };
        Ok(roster_http::HttpSettings {
            max_body_bytes: self.max_body_bytes.unwrap_or(defaults.max_body_bytes),
            max_uri_bytes: defaults.max_uri_bytes,
            max_header_bytes: defaults.max_header_bytes,
            request_timeout: self
                .request_timeout_secs
                .map(Duration::from_secs)
                .unwrap_or(defaults.request_timeout),
            connections,
            // Set up by `serve` with the metrics recorder.
            metrics: None,
            trusted_proxies: roster_http::TrustedProxies::parse(
                self.trusted_proxies.as_deref().unwrap_or_default(),
            )
            .map_err(anyhow::Error::msg)?,
            public_url: public_url(self.public_url.clone())?,
        })
    }

    /// The PostgreSQL store's pool.
    fn postgres(&self) -> roster_store::PgStoreOptions {
        let defaults = roster_store::PgStoreOptions::default();
        let pg = &self.postgres;
        roster_store::PgStoreOptions {
            max_connections: pg.max_connections.unwrap_or(defaults.max_connections),
            acquire_timeout: pg
                .acquire_timeout_ms
                .map(Duration::from_millis)
                .unwrap_or(defaults.acquire_timeout),
            statement_timeout: pg
                .statement_timeout_ms
                .map(Duration::from_millis)
                .unwrap_or(defaults.statement_timeout),
        }
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
    /// The key that seals account passwords, if configured (else see [`secret_key`]).
    pub secret_key: Option<Secret>,
    /// The first signing key, if one was given (`--signing-key-file`).
    pub first_signing_key: Option<roster_service::FirstSigningKey>,
    /// The bearer token `/metrics` asks for, if any.
    pub metrics_token: Option<Secret>,
    pub service: roster_service::Settings,
    pub http: roster_http::HttpSettings,
    pub postgres: roster_store::PgStoreOptions,
    /// `--test-mode-any-address`.
    pub test_mode_any_address: bool,
    /// `--fixtures`.
    pub fixtures: Option<PathBuf>,
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
        bail!(
            "public URL '{text}' must be an http or https URL with a host, without query or \
             fragment"
        );
    }
    Ok(Some(text.trim_end_matches('/').to_owned()))
}

/// Whether finding the secret key may make one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFile {
    /// `roster serve` (and `import all`) on an embedded database: a new key if the file is
    /// not there, which the caller writes with [`write_key_file`] once the database took it.
    NewIfMissing,
    /// Admin commands: only a key file that exists.
    Existing,
}

/// The secret key, in the one place it is looked for: the configured one (variable or
/// file), else on an embedded database the key file beside it (`roster.key`).
pub fn secret_key(
    configured: Option<&Secret>,
    database_url: &str,
    key_file: KeyFile,
) -> Result<Option<(String, Option<PathBuf>)>> {
    if let Some(key) = configured {
        return Ok(Some((key.expose().to_owned(), None)));
    }
    let Some(path) = key_file_for(database_url) else {
        return Ok(None);
    };
    if !path.exists() {
        return Ok(match key_file {
            KeyFile::Existing => None,
            KeyFile::NewIfMissing => Some((roster_service::SecretKey::generate_hex(), Some(path))),
        });
    }
    Ok(Some((key_from_file(&path)?, Some(path))))
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

/// The key file's key.
fn key_from_file(path: &Path) -> Result<String> {
    Ok(std::fs::read_to_string(path)
        .with_context(|| format!("reading the secret key {}", path.display()))?
        .trim()
        .to_owned())
}

/// Writes `key` to a new key file, readable by its owner only; refuses to replace one.
pub fn write_key_file(path: &Path, key: &str) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating the secret key {}", path.display()))?;
    std::io::Write::write_all(&mut file, format!("{key}\n").as_bytes())?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn flags_go_over_the_file_and_the_file_over_the_defaults() {
        let f = file(
            "token_ttl_secs = 100\nlisten = \"0.0.0.0:1\"\n[argon2]\nmemory_kib = 8\n\
             iterations = 3\n[postgres]\nstatement_timeout_ms = 7\n",
        );
        let flags = Settings {
            token_ttl_secs: Some(300),
            argon2: Argon2Settings {
                iterations: Some(4),
                ..Default::default()
            },
            ..Default::default()
        };
        let s = load(Some(f.path()), flags).unwrap();
        assert_eq!(s.token_ttl_secs, Some(300), "a flag wins");
        assert_eq!(s.listen.as_deref(), Some("0.0.0.0:1"), "the file fills in");
        assert_eq!(s.argon2.memory_kib, Some(8), "tables merge key by key");
        assert_eq!(s.argon2.iterations, Some(4));
        assert_eq!(s.postgres.statement_timeout_ms, Some(7));
        let serve = s.serve().unwrap();
        assert_eq!(serve.service.token_ttl, Duration::from_secs(300));
        assert_eq!(serve.service.argon2.memory_kib, 8);
        assert_eq!(serve.postgres.statement_timeout, Duration::from_millis(7));
        assert_eq!(
            serve.database, DEFAULT_DATABASE,
            "a default where nothing is said"
        );
    }

    #[test]
    fn the_file_is_checked_key_by_key() {
        let typo = file("token_tll_secs = 100\n");
        let err = format!(
            "{:#}",
            load(Some(typo.path()), Settings::default()).unwrap_err()
        );
        assert!(err.contains("token_tll_secs"), "{err}");
        let wrong = file("[argon2]\nmemory_kib = \"lots\"\n");
        let err = format!(
            "{:#}",
            load(Some(wrong.path()), Settings::default()).unwrap_err()
        );
        assert!(err.contains("memory_kib"), "{err}");
    }

    #[test]
    fn the_shipped_example_configuration_reads() {
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../packaging/roster.toml");
        load(Some(Path::new(example)), Settings::default()).unwrap();
    }
}
