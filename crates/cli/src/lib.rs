//! `roster`: the directory server and its admin commands. The binary is a thin `main` over
//! [`run`], so that the benchmark harness can start the very same server.

mod app;
pub mod config;
mod transfer;

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser, Subcommand};
use config::{redact_url, DatabaseArgs, LogFormat, ServeArgs};
use roster_domain::audit::CLI_ACTOR;
use roster_service::Service;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "roster",
    version,
    about = "A self-hosted identity directory that speaks the OneAccess management API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server (creating the database if it does not exist yet).
    #[command(
        after_help = "Secrets are read from the environment (or the TOML file), never from flags:\n  \
        ROSTER_SECRET_KEY or ROSTER_SECRET_KEY_FILE    64 hex digits sealing account passwords; \
        on SQLite generated into roster.key beside the database if unset; required on PostgreSQL\n  \
        ROSTER_BOOTSTRAP_CLIENT_SECRET or ROSTER_BOOTSTRAP_CLIENT_SECRET_FILE    secret of the \
        --bootstrap-client-id application\n\n\
        Settings come from, in rising precedence: defaults, --config FILE (TOML), ROSTER_* \
        variables, flags. ROSTER_LOG sets the log filter (default info)."
    )]
    Serve(ServeArgs),
    /// Manage applications (the API's clients).
    #[command(subcommand)]
    App(app::AppCommand),
    /// Print the OpenAPI document of the API (the same one served at /openapi.json).
    Openapi,
    /// Print a shell completion script: `roster completions bash > /etc/bash_completion.d/roster`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `roster man > roster.1; man ./roster.1`.
    Man,
    /// Write the whole directory (applications, organizations, users with password hashes,
    /// application organizations, roles, accounts with sealed passwords, role members) to
    /// standard output as JSON lines, from one snapshot; `roster import all` loads it.
    Export {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Bulk-load data; everything or nothing is written.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Read the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The RSA keys that sign id_tokens (generated at the first start).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Re-seal every account password from the key in ROSTER_SECRET_KEY_OLD (or
    /// ROSTER_SECRET_KEY_OLD_FILE) to the one in ROSTER_SECRET_KEY (or ROSTER_SECRET_KEY_FILE),
    /// in one transaction. Prints {"resealed": N}.
    RotateSecretKey {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Write a consistent copy of an embedded (SQLite) database to FILE while the server
    /// runs; prints {"backup": FILE, "bytes": N}. PostgreSQL: use pg_dump (this says how).
    Backup {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Where the copy goes; it must not exist yet.
        file: std::path::PathBuf,
    },
    /// Count every list's page marks again from the tables, in one transaction: needed only
    /// after rows were changed other than through Roster. Prints {"disagreements": N}, how
    /// many the marks had before.
    Reindex {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Delete audit records older than the retention period now (the server does it every
    /// 10 minutes); prints {"deleted": N}.
    Trim {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Days records are kept; 0 keeps them for ever. Default: the configuration's
        /// audit_retention_days, else 400.
        #[arg(long, env = "ROSTER_AUDIT_RETENTION_DAYS")]
        retention_days: Option<u64>,
    },
    /// List audit records, newest first; prints {"total", "records"} as the API does.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Only records of this actor (a client id; refused tokens: client@address).
        #[arg(long)]
        actor: Option<String>,
        /// Only records about this entity id.
        #[arg(long)]
        target_id: Option<String>,
        /// From this time (inclusive): yyyy-MM-dd HH:mm:ss.SSS UTC, RFC 3339 or epoch ms.
        #[arg(long)]
        from: Option<String>,
        /// Before this time (exclusive).
        #[arg(long)]
        to: Option<String>,
        /// Page number, from 0.
        #[arg(long, default_value_t = 0)]
        offset: i64,
        /// Page size, 1 to 100.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import users from a JSON Lines file (one CreateUser body per line; `-` reads standard
    /// input). Each line is validated exactly like CreateUser; prints {"imported": N}.
    Users {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The JSON Lines file.
        file: std::path::PathBuf,
        #[command(flatten)]
        argon2: config::Argon2Args,
    },
    /// Load a whole directory written by `roster export` (`-` reads standard input) into an
    /// empty database, all or nothing; creates the database if needed. Prints {"imported": N}.
    All {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The export (JSON lines).
        file: std::path::PathBuf,
    },
}

/// Runs the command line `args` (the first is the program name) to completion.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("roster: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::App(command) => app::run(command).await,
            Command::Openapi => print_openapi(),
            Command::Completions { shell } => {
                let mut script = Vec::new();
                clap_complete::generate(shell, &mut Cli::command(), "roster", &mut script);
                print_text(String::from_utf8_lossy(&script).trim_end())
            }
            Command::Man => {
                let mut page = Vec::new();
                clap_mangen::Man::new(Cli::command())
                    .render(&mut page)
                    .context("rendering the manual page")?;
                print_text(String::from_utf8_lossy(&page).trim_end())
            }
            Command::Import(ImportCommand::Users { db, file, argon2 }) => {
                import_users(db, file, argon2).await
            }
            Command::Import(ImportCommand::All { db, file }) => {
                transfer::import_all(db, file).await
            }
            Command::Export { db } => transfer::export(db).await,
            Command::RotateSecretKey { db } => rotate_secret_key(db).await,
            Command::Keys(command) => keys(command).await,
            Command::Audit(AuditCommand::Trim { db, retention_days }) => {
                trim_audit(db, retention_days).await
            }
            Command::Reindex { db } => reindex(db).await,
            Command::Backup { db, file } => backup(db, file).await,
            Command::Audit(AuditCommand::List {
                db,
                actor,
                target_id,
                from,
                to,
                offset,
                limit,
            }) => {
                let parse_time = |name: &str, v: Option<String>| -> Result<Option<i64>> {
                    v.map(|t| {
                        roster_domain::time::parse(&t)
                            .with_context(|| format!("--{name} {t} is not a time"))
                    })
                    .transpose()
                };
                let filter = roster_domain::audit::AuditFilter {
                    actor,
                    target_id,
                    from: parse_time("from", from)?,
                    to: parse_time("to", to)?,
                };
                list_audit(db, filter, offset, limit).await
            }
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roster: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let spec = std::env::var("ROSTER_LOG").unwrap_or_default();
    let mut filter = tracing_subscriber::EnvFilter::try_new(&spec)
        .ok()
        .filter(|_| !spec.is_empty())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("info"));
    // The PostgreSQL driver logs each statement's parameters at debug (password hashes,
    // sealed passwords, token digests): only when asked for by name.
    if !spec.contains("tokio_postgres") {
        if let Ok(quiet) = "tokio_postgres=info".parse() {
            filter = filter.add_directive(quiet);
        }
    }
    // Colours only for a person at a terminal, not in files, pipes or journald.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn serve(args: ServeArgs) -> Result<()> {
    let config = args.resolve()?;
    init_logging(config.log_format);
    // Before anything registers a metric: handles taken earlier would record nowhere.
    let metrics = install_metrics_recorder()?;
    tracing::info!(database = %redact_url(&config.database), "opening the store");
    let store = roster_store::open(&config.database, config.postgres.clone())
        .await
        .map_err(operator_error)
        .with_context(|| format!("opening database {}", redact_url(&config.database)))?;
    let key_hex = match (&config.secret_key, config::key_file_for(&config.database)) {
        (Some(key), _) => key.expose().to_owned(),
        (None, Some(path)) => {
            let key = config::key_from_file(&path)?;
            tracing::info!(file = %path.display(), "account passwords are sealed with the key in this file");
            key
        }
        (None, None) => anyhow::bail!(
            "set ROSTER_SECRET_KEY (or ROSTER_SECRET_KEY_FILE): 64 hex digits, the same on every node; \
             it seals application-account passwords and id_token signing keys"
        ),
    };
    let mut settings = config.service.clone();
    settings.secret_key = Some(
        roster_service::SecretKey::from_hex(&key_hex)
            .map_err(|e| anyhow::anyhow!("{}", e.client_message()))
            .context("the secret key")?,
    );
    let service = Service::new(store.clone(), settings).map_err(operator_error)?;

    if let Some((client_id, secret)) = &config.bootstrap {
        let created = service
            .bootstrap_application(client_id, secret.expose())
            .await
            .map_err(operator_error)
            .context("creating the bootstrap application")?;
        tracing::info!(client_id = %client_id, created, "bootstrap application");
    }

    // Sign-in needs a key to sign id_tokens with: the first node to start makes it.
    let generated = service
        .ensure_signing_key(config.first_signing_key.as_ref())
        .await
        .map_err(operator_error)
        .context("making sure a signing key exists")?;
    if generated {
        tracing::info!("generated the RSA key that signs id_tokens");
    }

    let mut config = config;
    fit_connections_to_open_files(&mut config.http.connections);
    // Histogram samples wait in memory until folded in: fold them every few seconds, so
    // memory stays flat whether or not anything scrapes.
    let metrics_upkeep = tokio::spawn({
        let metrics = metrics.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                metrics.run_upkeep();
            }
        }
    });
    config.http.metrics = Some(roster_http::MetricsSettings {
        handle: metrics,
        token: config.metrics_token.as_ref().map(|t| t.expose().to_owned()),
    });
    let shutdown = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(config.listen.as_str())
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = store.backend(), "roster is serving");
    // Tests and scripts wait for this line: the server accepts requests from now on.
    let mut stdout = std::io::stdout();
    writeln!(stdout, "roster listening on http://{addr}")?;
    stdout.flush()?;

    let upkeep = tokio::spawn(upkeep(service.clone()));
    let flusher = tokio::spawn(flush_refused_tokens(service.clone()));
    let unlocker = tokio::spawn(lift_expired_locks(service.clone()));
    let served = roster_http::serve(listener, service.clone(), &config.http, shutdown).await;
    upkeep.abort();
    flusher.abort();
    unlocker.abort();
    metrics_upkeep.abort();
    // What was counted since the last flush is written before the store closes.
    if let Err(e) = service.flush_refused_tokens().await {
        tracing::warn!(error = %e, "auditing refused token requests failed");
    }
    store.close().await;
    tracing::info!("stopped");
    served.context("serving HTTP")
}

/// The process's metrics recorder, rendering the Prometheus text format. Durations are
/// histograms with fixed buckets (so that they add up across nodes), in seconds.
fn install_metrics_recorder() -> Result<metrics_exporter_prometheus::PrometheusHandle> {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    let seconds = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ];
    let sizes = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &seconds)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_size".to_owned()), &sizes))
        .context("metrics buckets")?
        .install_recorder()
        .context("installing the metrics recorder")
}

/// Raises the open-file limit as far as allowed and keeps the connection cap below it, with
/// room for the database and the connections refused at once: running out of descriptors
/// would leave even `/health/live` unanswered.
fn fit_connections_to_open_files(limits: &mut roster_http::ConnectionLimits) {
    const SPARE: usize = 256;
    let Some(files) = roster_http::raise_open_file_limit() else {
        return;
    };
    let fits = usize::try_from(files)
        .unwrap_or(usize::MAX)
        .saturating_sub(SPARE)
        .max(16);
    if limits.max_connections > fits {
        tracing::warn!(
            open_files = files,
            max_connections = fits,
            "the open-file limit is low: fewer connections allowed"
        );
        limits.max_connections = fits;
    }
    tracing::info!(
        open_files = files,
        max_connections = limits.max_connections,
        "connection limits"
    );
}

/// Every 10 minutes, from the start: expired tokens are deleted once a day old (until then
/// their holders hear "expired"), and audit records past the retention period.
async fn upkeep(service: Service) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        match service
            .purge_expired_tokens(Duration::from_secs(86_400))
            .await
        {
            Ok(n) if n > 0 => tracing::info!(deleted = n, "purged expired tokens"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging expired tokens failed"),
        }
        match service.trim_audit_log().await {
            Ok(n) if n > 0 => tracing::info!(deleted = n, "trimmed the audit log"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "trimming the audit log failed"),
        }
    }
}

/// Every minute: locks after wrong passwords that ran out are lifted in the store, so that
/// ShowUser stops showing them within a minute.
async fn lift_expired_locks(service: Service) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        match service.unlock_expired_locks().await {
            Ok(n) if n > 0 => tracing::info!(unlocked = n, "lifted expired sign-in locks"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "lifting expired sign-in locks failed"),
        }
    }
}

/// Refused token requests are counted in memory and written every 10 seconds, one record
/// per client id, address and reason.
async fn flush_refused_tokens(service: Service) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    loop {
        tick.tick().await;
        if let Err(e) = service.flush_refused_tokens().await {
            tracing::warn!(error = %e, "auditing refused token requests failed");
        }
    }
}

async fn backup(db: DatabaseArgs, file: std::path::PathBuf) -> Result<()> {
    let config = config::read_file_config(db.config.as_deref())?;
    let url = config::database_url(&db, &config);
    eprintln!("roster: database {}", config::describe_database(&url));
    let bytes = roster_store::backup(&url, &file)
        .await
        .map_err(operator_error)?;
    print_json(&serde_json::json!({ "backup": file, "bytes": bytes }))
}

async fn trim_audit(db: DatabaseArgs, retention_days: Option<u64>) -> Result<()> {
    let file = config::read_file_config(db.config.as_deref())?;
    let settings = roster_service::Settings {
        audit_retention: config::audit_retention(retention_days, &file),
        ..Default::default()
    };
    let (store, service) = open_for_command(&db, settings).await?;
    let deleted = service.trim_audit_log().await;
    store.close().await;
    print_json(&serde_json::json!({ "deleted": deleted.map_err(operator_error)? }))
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when
/// the future is first polled, so a signal that arrives just after start is not lost.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("installing the SIGINT handler")?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing requests in flight");
    })
}

/// Parsed lines of a JSON-lines file, each with its number.
pub(crate) type Lines<T> = tokio::sync::mpsc::Receiver<(u64, roster_domain::Result<T>)>;

/// A file to read, or standard input for `-`.
pub(crate) async fn open_input(
    file: &std::path::Path,
) -> Result<Box<dyn tokio::io::AsyncRead + Unpin + Send>> {
    if file.as_os_str() == "-" {
        return Ok(Box::new(tokio::io::stdin()));
    }
    let opened = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    Ok(Box::new(opened))
}

/// Reads JSON lines in a task of its own and sends each non-blank one, parsed, with its line
/// number; a line that does not parse is sent as the catalog's `PARAM.0002`, for the import to
/// name. The task ends with the file, or when the import stops listening.
pub(crate) fn read_json_lines<T: serde::de::DeserializeOwned + Send + 'static>(
    reader: Box<dyn tokio::io::AsyncRead + Unpin + Send>,
) -> (Lines<T>, tokio::task::JoinHandle<Result<()>>) {
    use tokio::io::AsyncBufReadExt;
    let (lines_tx, lines_rx) = tokio::sync::mpsc::channel(4096);
    let reading = tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(reader).lines();
        let mut number = 0u64;
        while let Some(line) = lines
            .next_line()
            .await
            .with_context(|| format!("reading line {}", number + 1))?
        {
            number += 1;
            if line.trim().is_empty() {
                continue;
            }
            let parsed = serde_json::from_str(&line).map_err(|e| {
                roster_domain::Error::with_detail(
                    roster_domain::ErrorKind::MalformedBody,
                    e.to_string(),
                )
            });
            if lines_tx.send((number, parsed)).await.is_err() {
                break;
            }
        }
        Ok(())
    });
    (lines_rx, reading)
}

async fn import_users(
    db: DatabaseArgs,
    file: std::path::PathBuf,
    argon2: config::Argon2Args,
) -> Result<()> {
    let reader = open_input(&file).await?;
    let settings = roster_service::Settings {
        argon2: argon2.settings(&config::read_file_config(db.config.as_deref())?),
        ..Default::default()
    };
    let (store, service) = open_for_command(&db, settings).await?;
    let (lines_rx, reading) = read_json_lines(reader);
    let imported = service.import_users(CLI_ACTOR, lines_rx).await;
    finish_import(imported, reading, store).await
}

/// The end of an import: the file read through, the store closed, `{"imported": N}`.
pub(crate) async fn finish_import(
    imported: roster_domain::Result<u64>,
    reading: tokio::task::JoinHandle<Result<()>>,
    store: std::sync::Arc<dyn roster_store::Store>,
) -> Result<()> {
    let read = reading.await.context("reading the file")?;
    store.close().await;
    read?;
    let imported = imported
        .map_err(operator_error)
        .context("nothing imported")?;
    print_json(&serde_json::json!({ "imported": imported }))
}

async fn rotate_secret_key(db: DatabaseArgs) -> Result<()> {
    let read_key = |name: &str| -> Result<roster_service::SecretKey> {
        let secret = config::secret_from_env(name)?
            .with_context(|| format!("set {name} (or {name}_FILE)"))?;
        roster_service::SecretKey::from_hex(secret.expose())
            .map_err(operator_error)
            .with_context(|| name.to_owned())
    };
    let old = read_key("ROSTER_SECRET_KEY_OLD")?;
    let new = read_key("ROSTER_SECRET_KEY")?;
    let (store, service) = open_for_command(&db, roster_service::Settings::default()).await?;
    let resealed = service.reseal_account_passwords(&old, &new).await;
    store.close().await;
    let resealed = resealed.map_err(operator_error)?;
    print_json(&serde_json::json!({ "resealed": resealed }))
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// List the signing keys, newest first: {"keys": [{"kid","created_at","retired_at",
    /// "active","published"}]}.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Generate a new signing key, which signs from now on; the previous one stays in the key
    /// set until the tokens it signed have expired (a day). Needs the secret key
    /// (ROSTER_SECRET_KEY, or the key file beside an embedded database). Prints {"kid"}.
    Rotate {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

async fn keys(command: KeysCommand) -> Result<()> {
    let operator = roster_service::Caller::operator();
    match command {
        KeysCommand::List { db } => {
            let (store, service) =
                open_for_command(&db, roster_service::Settings::default()).await?;
            let listed = service.signing_keys(&operator).await;
            store.close().await;
            let now = roster_domain::time::now_millis();
            let keys: Vec<serde_json::Value> = listed
                .map_err(operator_error)?
                .iter()
                .map(|k| {
                    serde_json::json!({
                        "kid": k.kid(),
                        "created_at": roster_domain::time::format_millis(k.created_at),
                        "retired_at": k.retired_at.map(roster_domain::time::format_millis),
                        "active": k.is_active(),
                        "published": k.is_published(now),
                    })
                })
                .collect();
            print_json(&serde_json::json!({ "keys": keys }))
        }
        KeysCommand::Rotate { db } => {
            let file = config::read_file_config(db.config.as_deref())?;
            let url = config::database_url(&db, &file);
            let key_hex = match config::secret_from_env("ROSTER_SECRET_KEY")? {
                Some(key) => key.expose().to_owned(),
                None => match config::key_file_for(&url).filter(|path| path.exists()) {
                    Some(path) => config::key_from_file(&path)?,
                    None => anyhow::bail!(
                        "set ROSTER_SECRET_KEY (or ROSTER_SECRET_KEY_FILE), the key the servers \
                         use: signing keys are sealed with it"
                    ),
                },
            };
            let settings = roster_service::Settings {
                secret_key: Some(
                    roster_service::SecretKey::from_hex(&key_hex)
                        .map_err(operator_error)
                        .context("the secret key")?,
                ),
                ..roster_service::Settings::default()
            };
            let (store, service) = open_for_command(&db, settings).await?;
            let rotated = service.rotate_signing_key(&operator).await;
            store.close().await;
            let key = rotated.map_err(operator_error)?;
            print_json(&serde_json::json!({ "kid": key.kid() }))
        }
    }
}

async fn reindex(db: DatabaseArgs) -> Result<()> {
    let (store, service) = open_for_command(&db, roster_service::Settings::default()).await?;
    let found = service.reindex().await;
    store.close().await;
    let found = found.map_err(operator_error)?;
    print_json(&serde_json::json!({ "disagreements": found }))
}

async fn list_audit(
    db: DatabaseArgs,
    filter: roster_domain::audit::AuditFilter,
    offset: i64,
    limit: i64,
) -> Result<()> {
    let page =
        roster_domain::page::PageRequest::new(Some(offset), Some(limit)).map_err(operator_error)?;
    let (store, service) = open_for_command(&db, roster_service::Settings::default()).await?;
    let listed = service
        .list_audit(&roster_service::Caller::operator(), filter, page)
        .await;
    store.close().await;
    let listed = listed.map_err(operator_error)?;
    print_json(&roster_http::AuditList::from(listed))
}

/// Opens the database an admin command names (flag, variable or TOML file) and the
/// service over it, saying on standard error which database it is. It must exist: only
/// `roster serve` creates one. The caller closes the store when done.
pub(crate) async fn open_for_command(
    db: &DatabaseArgs,
    settings: roster_service::Settings,
) -> Result<(std::sync::Arc<dyn roster_store::Store>, Service)> {
    open_database(db, settings, false).await
}

/// `open_for_command`, or with `create` the one admin command that fills a new database.
pub(crate) async fn open_database(
    db: &DatabaseArgs,
    settings: roster_service::Settings,
    create: bool,
) -> Result<(std::sync::Arc<dyn roster_store::Store>, Service)> {
    let file = config::read_file_config(db.config.as_deref())?;
    let url = config::database_url(db, &file);
    eprintln!("roster: database {}", config::describe_database(&url));
    let options = roster_store::PgStoreOptions::default();
    let opened = if create {
        roster_store::open(&url, options).await
    } else {
        roster_store::open_existing(&url, options).await
    };
    let store = opened
        .map_err(operator_error)
        .with_context(|| format!("opening database {}", redact_url(&url)))?;
    let service = Service::new(store.clone(), settings).map_err(operator_error)?;
    Ok((store, service))
}

/// A service or store error as the operator reads it: what exactly went wrong, also for
/// server-side errors whose detail the API keeps from clients (the operator holds the
/// database anyway), and the catalog code.
pub(crate) fn operator_error(e: roster_domain::Error) -> anyhow::Error {
    let code = e.kind().code();
    match e.detail() {
        // "Invalid parameter." adds nothing to the detail; server-side messages ("Internal
        // server error.") hide what the operator needs.
        Some(detail)
            if e.is_server_side() || e.kind() == roster_domain::ErrorKind::InvalidParameter =>
        {
            anyhow::anyhow!("{detail} ({code})")
        }
        _ => anyhow::anyhow!("{} ({code})", e.client_message()),
    }
}

/// Prints `value` as one line of JSON. A reader that went away (`roster … | head`) is not
/// an error.
pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string(value).context("serializing the answer")?;
    print_text(&text)
}

fn print_text(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("writing to standard output")
        }
        _ => Ok(()),
    }
}

fn print_openapi() -> Result<()> {
    let document = roster_http::openapi()
        .to_pretty_json()
        .context("serializing the OpenAPI document")?;
    print_text(&document)
}
