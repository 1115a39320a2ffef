//! `roster serve`: the API server.

use super::operator_error;
use crate::config::{self, redact_url, DatabaseArgs, KeyFile, LogFormat, ServeConfig, Settings};
use crate::jobs::Jobs;
use anyhow::{Context, Result};
use roster_service::Service;
use std::io::Write;
use std::sync::Arc;

/// `roster serve`'s flags: the database and every setting (each also read from its
/// `ROSTER_*` variable, then the configuration file).
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[command(flatten)]
    pub settings: Settings,
}

/// Runs the server until SIGTERM or Ctrl-C, then finishes the requests in flight.
pub async fn run(args: ServeArgs) -> Result<()> {
    let settings = args.db.settings(args.settings)?;
    let mut config = settings.serve()?;
    init_logging(config.log_format);
    // Before anything registers a metric: handles taken earlier would record nowhere.
    let metrics = install_metrics_recorder()?;
    // Whatever can be refused is refused before the database or a key file is made: the
    // settings, then the address (taken now, served once the store is open).
    config.service.check().map_err(operator_error)?;
    let listener = tokio::net::TcpListener::bind(config.listen.as_str())
        .await
        .with_context(|| {
            format!(
                "listening on {} (HOST:PORT, e.g. 127.0.0.1:8080 or 0.0.0.0:8080)",
                config.listen
            )
        })?;
    // A file that cannot be read is refused before anything is made.
    let fixtures = match &config.fixtures {
        Some(path) => Some((
            path.clone(),
            super::fixtures::read(path, &config.service.password_policy)?,
        )),
        None => None,
    };
    let bound = listener.local_addr()?;
    if config.service.test_mode && !bound.ip().is_loopback() && !config.test_mode_any_address {
        anyhow::bail!(
            "--test-mode listens on loopback only (127.0.0.1 or [::1]), not {bound}: its control \
             API lets any caller with the `all` permission reset the directory and move the \
             clock. Add --test-mode-any-address to serve it there anyway (e.g. in a container)."
        );
    }
    let shutdown = shutdown_signal()?;
    let (store, service) = open(&config).await?;
    if let Err(e) = start_with(&service, config.service.test_mode, fixtures).await {
        store.close().await;
        return Err(e);
    }
    fit_connections_to_open_files(&mut config.http.connections);
    config.http.metrics = Some(roster_http::MetricsSettings {
        handle: metrics.clone(),
        token: config.metrics_token.as_ref().map(|t| t.expose().to_owned()),
    });
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = store.backend(), "roster is serving");
    // Tests and scripts wait for this line: the server accepts requests from now on.
    let mut stdout = std::io::stdout();
    writeln!(stdout, "roster listening on http://{addr}")?;
    stdout.flush()?;

    let jobs = Jobs::start(&service, metrics);
    let served = roster_http::serve(listener, service.clone(), &config.http, shutdown).await;
    jobs.stop();
    // What was counted since the last flush is written before the store closes.
    if let Err(e) = service.flush_counted_audits().await {
        tracing::warn!(error = %e, "writing summed audit records failed");
    }
    store.close().await;
    tracing::info!("stopped");
    served.context("serving HTTP")
}

/// Opens (or creates) the store and the service over it, with its secret key, the bootstrap
/// application and a signing key.
async fn open(config: &ServeConfig) -> Result<(Arc<dyn roster_store::Store>, Service)> {
    // Everything that can be refused is, before the database is made.
    roster_store::check_url(&config.database)
        .map_err(operator_error)
        .with_context(|| format!("opening database {}", redact_url(&config.database)))?;
    let found = config::secret_key(
        config.secret_key.as_ref(),
        &config.database,
        KeyFile::NewIfMissing,
    )?;
    let Some((key_hex, file)) = found else {
        anyhow::bail!(
            "set ROSTER_SECRET_KEY (or ROSTER_SECRET_KEY_FILE): 64 hex digits, the same on every node; \
             it seals application-account passwords and id_token signing keys"
        );
    };
    let secret_key = roster_service::SecretKey::from_hex(&key_hex)
        .map_err(|e| anyhow::anyhow!("{}", e.client_message()))
        .context("the secret key")?;
    tracing::info!(database = %redact_url(&config.database), "opening the store");
    let store = roster_store::open(&config.database, config.postgres.clone())
        .await
        .map_err(operator_error)
        .with_context(|| format!("opening database {}", redact_url(&config.database)))?;
    let mut settings = config.service.clone();
    settings.secret_key = Some(secret_key);
    let service = Service::new(store.clone(), settings).map_err(operator_error)?;
    if let Err(e) = service.check_secret_key().await {
        store.close().await;
        return Err(operator_error(e));
    }
    if let Some(path) = file.as_ref().filter(|p| !p.exists()) {
        // Written before anything is sealed with it.
        config::write_key_file(path, &key_hex)?;
    }
    if let Some(path) = file {
        tracing::info!(file = %path.display(), "account passwords are sealed with the key in this file");
    }
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
    Ok((store, service))
}

/// Applies the fixtures, if any; in test mode, between its two starting points: the database
/// as found (what "reset to empty" restores) and as the fixtures leave it (what a reset
/// restores).
async fn start_with(
    service: &Service,
    test_mode: bool,
    fixtures: Option<(std::path::PathBuf, roster_domain::fixtures::Fixtures)>,
) -> Result<()> {
    if test_mode {
        service
            .snapshot_empty()
            .await
            .map_err(operator_error)
            .context("taking test mode's snapshot of the database as found")?;
    }
    if let Some((path, fixtures)) = fixtures {
        let applied = super::fixtures::apply(service, &path, fixtures).await?;
        tracing::info!(
            file = %path.display(),
            created = applied.created,
            updated = applied.updated,
            unchanged = applied.unchanged,
            "fixtures applied"
        );
    }
    if test_mode {
        service
            .snapshot_fixtures()
            .await
            .map_err(operator_error)
            .context("taking test mode's snapshot to reset to")?;
        tracing::warn!(
            "test mode: the control API under /roster/v1/test/ can reset this directory"
        );
    }
    Ok(())
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
