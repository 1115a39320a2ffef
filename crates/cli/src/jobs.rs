//! What `roster serve` does in the background, besides answering requests: each job runs on
//! a timer for as long as the server runs.

use metrics_exporter_prometheus::PrometheusHandle;
use roster_service::Service;
use std::time::Duration;
use tokio::task::JoinHandle;

/// The background jobs of a running server.
pub struct Jobs(Vec<JoinHandle<()>>);

impl Jobs {
    /// Starts every job over `service` and the metrics recorder `metrics`.
    pub fn start(service: &Service, metrics: PrometheusHandle) -> Self {
        let mut jobs = vec![
            tokio::spawn(upkeep(service.clone())),
            tokio::spawn(flush_counted_audits(service.clone())),
            tokio::spawn(lift_expired_locks(service.clone())),
            tokio::spawn(fold_metrics(metrics)),
        ];
        jobs.push(tokio::spawn(deliver_logouts(service.clone())));
        if service.delivers_messages() {
            jobs.push(tokio::spawn(deliver_messages(service.clone())));
        }
        Self(jobs)
    }

    /// Stops them; what they would do next is left to the next start (or another node).
    pub fn stop(self) {
        for job in self.0 {
            job.abort();
        }
    }
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

/// Refused token requests and sign-in events are summed in memory and written every 10
/// seconds, one record per kind with its count.
async fn flush_counted_audits(service: Service) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    loop {
        tick.tick().await;
        if let Err(e) = service.flush_counted_audits().await {
            tracing::warn!(error = %e, "writing summed audit records failed");
        }
    }
}

/// The webhook sender's deliverer: at once when a message is stored on this node, and every
/// second for retries that came due (and messages stored on other nodes).
async fn deliver_messages(service: Service) {
    loop {
        match service.deliver_due_messages().await {
            Ok(n) if n > 0 => tracing::debug!(attempts = n, "delivered messages"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "delivering messages failed"),
        }
        service.wait_for_messages(Duration::from_secs(1)).await;
    }
}

/// The back-channel logout deliverer: at once when a logout is stored on this node, and every
/// second for retries that came due (and logouts stored on other nodes).
async fn deliver_logouts(service: Service) {
    loop {
        match service.deliver_due_logouts().await {
            Ok(n) if n > 0 => tracing::debug!(attempts = n, "delivered back-channel logouts"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "delivering back-channel logouts failed"),
        }
        service.wait_for_logouts(Duration::from_secs(1)).await;
    }
}

/// Every 5 seconds: histogram samples wait in memory until folded in, so memory stays flat
/// whether or not anything scrapes `/metrics`.
async fn fold_metrics(metrics: PrometheusHandle) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        metrics.run_upkeep();
    }
}
