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
    /// An `Authorization` value of its own (else the run's bearer token).
    pub authorization: Option<String>,
    /// A `Cookie` value.
    pub cookie: Option<String>,
    /// Further headers (the user APIs' device headers and signature).
    pub headers: Vec<(&'static str, String)>,
}

impl Call {
    pub fn get(path: String) -> Self {
        Self {
            method: Method::GET,
            path,
            body: Bytes::new(),
            form: false,
            authorization: None,
            cookie: None,
            headers: Vec::new(),
        }
    }

    pub fn json(method: Method, path: String, body: String) -> Self {
        Self {
            body: Bytes::from(body),
            method,
            ..Self::get(path)
        }
    }

    pub fn form(path: String, body: String) -> Self {
        Self {
            method: Method::POST,
            body: Bytes::from(body),
            form: true,
            ..Self::get(path)
        }
    }

    fn request(self, addr: &str, token: Option<&str>) -> Result<Request<Full<Bytes>>> {
        let mut req = Request::builder()
            .method(self.method)
            .uri(self.path)
            .header("host", addr)
            .header(
                "content-type",
                if self.form {
                    "application/x-www-form-urlencoded"
                } else {
                    "application/json;charset=utf8"
                },
            );
        match (self.authorization, token) {
            (Some(value), _) => req = req.header("authorization", value),
            (None, Some(t)) => req = req.header("authorization", format!("Bearer {t}")),
            (None, None) => {}
        }
        if let Some(cookie) = self.cookie {
            req = req.header("cookie", cookie);
        }
        for (name, value) in self.headers {
            req = req.header(name, value);
        }
        Ok(req.body(Full::new(self.body))?)
    }
}

/// An answer: status, headers and body.
pub struct Answer {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

async fn send(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    addr: &str,
    token: Option<&str>,
    call: Call,
) -> Result<Answer> {
    let res = sender.send_request(call.request(addr, token)?).await?;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await?.to_bytes();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

async fn open(addr: &str) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
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

    fn count_error(&mut self, answer: &Answer) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(format!(
                "{} {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            ));
        }
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
    let mut sender = open(addr).await?;
    let mut stats = Stats::default();
    while Instant::now() < deadline {
        let Some(call) = factory(next.fetch_add(1, Ordering::Relaxed)) else {
            break;
        };
        let sent = Instant::now();
        let answer = send(&mut sender, addr, token.as_deref(), call).await?;
        let us = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
        stats.latencies_us.push(us);
        if !(200..300).contains(&answer.status) {
            stats.count_error(&answer);
        }
    }
    Ok(stats)
}

/// A flow of several requests, each depending on the last answer: one step of it given the
/// previous answer (none at the start), or None when the flow is done.
pub type Step = Arc<dyn Fn(Option<&Answer>) -> Result<Option<Call>, String> + Send + Sync>;

/// Like [`run`], but each measured unit is a whole flow (`step` until it says done); an answer
/// outside 2xx/3xx, or a step's complaint, counts as an error and starts the flow again.
pub async fn run_flows(
    addr: &str,
    connections: usize,
    duration: Duration,
    step: Step,
) -> Result<Stats> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (addr, step) = (addr.to_owned(), step.clone());
        tasks.push(tokio::spawn(async move {
            let mut sender = open(&addr).await?;
            let mut stats = Stats::default();
            while Instant::now() < deadline {
                let began = Instant::now();
                let mut last: Option<Answer> = None;
                loop {
                    let call = match step(last.as_ref()) {
                        Ok(Some(call)) => call,
                        Ok(None) => break,
                        Err(why) => {
                            stats.errors += 1;
                            stats.first_error.get_or_insert(why);
                            break;
                        }
                    };
                    let answer = send(&mut sender, &addr, None, call).await?;
                    if !(200..400).contains(&answer.status) {
                        stats.count_error(&answer);
                        break;
                    }
                    last = Some(answer);
                }
                let us = u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX);
                stats.latencies_us.push(us);
            }
            anyhow::Ok(stats)
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

/// One request outside the measured load (setup); returns status and JSON body.
pub async fn once(addr: &str, token: Option<&str>, call: Call) -> Result<(u16, serde_json::Value)> {
    let answer = exchange(addr, token, call).await?;
    Ok((answer.status, answer.json()))
}

/// One request outside the measured load (setup), with the whole answer.
pub async fn exchange(addr: &str, token: Option<&str>, call: Call) -> Result<Answer> {
    let mut sender = open(addr).await?;
    send(&mut sender, addr, token, call).await
}
