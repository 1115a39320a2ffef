//! The load: `connections` HTTP/1.1 keep-alive connections, each sending its next request
//! as soon as the previous answer is read, until the time is up or the requests run out.

use anyhow::Result;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One request to send.
pub struct Call {
    pub method: Method,
    pub path: String,
    pub body: Bytes,
    pub form: bool,
}

impl Call {
    pub fn get(path: String) -> Self {
        Self {
            method: Method::GET,
            path,
            body: Bytes::new(),
            form: false,
        }
    }

    pub fn json(method: Method, path: String, body: String) -> Self {
        Self {
            method,
            path,
            body: Bytes::from(body),
            form: false,
        }
    }
}

/// Makes request number `n`, or None when there are no more.
pub type Factory = Arc<dyn Fn(u64) -> Option<Call> + Send + Sync>;

#[derive(Default)]
pub struct Stats {
    pub latencies_us: Vec<u32>,
    pub errors: u64,
    pub elapsed: Duration,
    pub first_error: Option<String>,
}

impl Stats {
    pub fn requests(&self) -> u64 {
        self.latencies_us.len() as u64
    }

    pub fn rps(&self) -> f64 {
        self.requests() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q` quantile (0–1) in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let rank = ((self.latencies_us.len() - 1) as f64 * q).round() as usize;
        self.latencies_us
            .get(rank)
            .map_or(0.0, |us| f64::from(*us) / 1000.0)
    }

    pub fn merge(&mut self, other: Stats) {
        self.latencies_us.extend(other.latencies_us);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

pub async fn run(
    addr: &str,
    token: Option<String>,
    connections: usize,
    duration: Duration,
    factory: Factory,
) -> Result<Stats> {
    let next = Arc::new(AtomicU64::new(0));
    let token: Option<Arc<str>> = token.map(Into::into);
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (addr, next, token, factory) = (
            addr.to_owned(),
            next.clone(),
            token.clone(),
            factory.clone(),
        );
        tasks.push(tokio::spawn(async move {
            connection(&addr, token, deadline, &next, factory).await
        }));
    }
    let mut total = Stats::default();
    for task in tasks {
        total.merge(task.await??);
    }
    total.elapsed = started.elapsed();
    total.latencies_us.sort_unstable();
    Ok(total)
}

async fn connection(
    addr: &str,
    token: Option<Arc<str>>,
    deadline: Instant,
    next: &AtomicU64,
    factory: Factory,
) -> Result<Stats> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut stats = Stats::default();
    while Instant::now() < deadline {
        let Some(call) = factory(next.fetch_add(1, Ordering::Relaxed)) else {
            break;
        };
        let mut req = Request::builder()
            .method(call.method)
            .uri(call.path)
            .header("host", addr)
            .header(
                "content-type",
                if call.form {
                    "application/x-www-form-urlencoded"
                } else {
                    "application/json;charset=utf8"
                },
            );
        if let Some(t) = &token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = req.body(Full::new(call.body))?;
        let sent = Instant::now();
        let res = sender.send_request(req).await?;
        let status = res.status();
        let body = res.into_body().collect().await?.to_bytes();
        let us = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
        stats.latencies_us.push(us);
        if !status.is_success() {
            stats.errors += 1;
            if stats.first_error.is_none() {
                stats.first_error = Some(format!("{status} {}", String::from_utf8_lossy(&body)));
            }
        }
    }
    Ok(stats)
}

/// One request outside the measured load (setup); returns status and JSON body.
pub async fn once(addr: &str, token: Option<&str>, call: Call) -> Result<(u16, serde_json::Value)> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method(call.method)
        .uri(call.path)
        .header("host", addr)
        .header(
            "content-type",
            if call.form {
                "application/x-www-form-urlencoded"
            } else {
                "application/json"
            },
        );
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let res = sender.send_request(req.body(Full::new(call.body))?).await?;
    let status = res.status().as_u16();
    let body = res.into_body().collect().await?.to_bytes();
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    Ok((status, json))
}
