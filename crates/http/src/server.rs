//! The HTTP/1.1 server around the router: what a real server needs and `axum::serve` lacks.
//! A request head must arrive within `header_timeout` (also how long a kept-alive connection
//! may sit idle); connections are capped per source address and in total, and a connection
//! over a cap is answered at once with an error body, not left to time out. Past the total cap
//! a small reserve of connections still answers `/health/live`, so an orchestrator can tell a
//! busy node from a dead one.

use crate::error::ApiError;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use roster_domain::ErrorKind;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// Connections served past `max_connections`, for `/health/live` only…
const RESERVE: usize = 64;
/// …to addresses that hold fewer than this many connections (not the ones filling the cap).
const RESERVE_PER_ADDRESS: usize = 4;
/// How long a reserve connection may take to send its request head.
const RESERVE_HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// Limits on connections.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Longest wait for a complete request head, from the connection's start or its last
    /// response (so also the longest a kept-alive connection sits idle).
    pub header_timeout: Duration,
    /// Most connections served at once.
    pub max_connections: usize,
    /// Most connections from one source address.
    pub max_per_address: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            max_connections: 10_000,
            max_per_address: 256,
        }
    }
}

/// Open connections, in total and per source address.
#[derive(Default)]
struct Census {
    per_address: Mutex<HashMap<IpAddr, usize>>,
}

/// What a new connection gets.
enum Admission {
    Full,
    /// Over the total cap, within the reserve: `/health/live` only.
    Reserve,
    Refused,
}

/// One counted connection; uncounted when dropped.
struct Seat {
    census: Arc<Census>,
    address: IpAddr,
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut counts = self
            .census
            .per_address
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

impl Census {
    fn admit(
        self: &Arc<Self>,
        address: IpAddr,
        limits: &ConnectionLimits,
        open: usize,
    ) -> (Admission, Option<Seat>) {
        let mut counts = self.per_address.lock().unwrap_or_else(|p| p.into_inner());
        let mine = counts.get(&address).copied().unwrap_or(0);
        let admission = if mine >= limits.max_per_address {
            Admission::Refused
        } else if open < limits.max_connections {
            Admission::Full
        } else if open < limits.max_connections + RESERVE && mine < RESERVE_PER_ADDRESS {
            Admission::Reserve
        } else {
            Admission::Refused
        };
        if matches!(admission, Admission::Refused) {
            return (admission, None);
        }
        *counts.entry(address).or_insert(0) += 1;
        let seat = Seat {
            census: self.clone(),
            address,
        };
        (admission, Some(seat))
    }
}

/// The answer to a connection over a cap, written before closing it.
fn refusal() -> Vec<u8> {
    let body = serde_json::json!({
        "error_code": ErrorKind::TooManyConnections.code(),
        "error_msg": ErrorKind::TooManyConnections.message(),
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nretry-after: 1\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in flight
/// finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let census = Arc::new(Census::default());
    let open = Arc::new(()); // its strong count - 1 is the number of open connections
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let reserve_router = Router::new()
        .route(
            "/health/live",
            axum::routing::get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
        )
        .fallback(|| async { ApiError::from(ErrorKind::TooManyConnections) });
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or the peer gave up: keep serving the others.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let (admission, seat) = census.admit(peer.ip(), &limits, Arc::strong_count(&open) - 1);
        let (app, header_timeout, keep_alive) = match admission {
            Admission::Full => (router.clone(), limits.header_timeout, true),
            Admission::Reserve => (reserve_router.clone(), RESERVE_HEADER_TIMEOUT, false),
            Admission::Refused => {
                tokio::spawn(refuse(stream));
                continue;
            }
        };
        let service = app.map_request(move |request: hyper::Request<hyper::body::Incoming>| {
            let mut request = request.map(axum::body::Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .keep_alive(keep_alive);
        let connection = builder.serve_connection(
            TokioIo::new(crate::wire::Wire::new(stream)),
            TowerToHyperService::new(service),
        );
        let watched = graceful.watch(connection);
        let counted = open.clone();
        tokio::spawn(async move {
            let _seat = seat;
            let _counted = counted;
            if let Err(e) = watched.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(&refusal())).await;
    let _ = stream.shutdown().await;
}

/// Raises this process's open-file limit as far as allowed (each connection holds one);
/// returns the limit in force.
pub fn raise_open_file_limit() -> Option<u64> {
    rlimit::increase_nofile_limit(u64::MAX).ok()
}
