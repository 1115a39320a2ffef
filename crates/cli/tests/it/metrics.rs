//! `GET /metrics`, read with a Prometheus text-format parser after known requests.

use crate::support::*;
use prometheus_parse::{Scrape, Value};

/// The token the servers of these tests guard `/metrics` with (`ROSTER_METRICS_TOKEN`).
pub const METRICS_TOKEN: &str = "metrics-secret-0123456789";

/// What `/metrics` says now, parsed.
pub async fn scrape(server: &Server) -> (Scrape, String) {
    let res = server
        .http
        .get(format!("{}/metrics", server.base))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    (scrape, text)
}

/// The sum of `metric`'s samples with `labels`, if there is one.
pub fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            Value::Summary(_) => f64::NAN,
        })
        .reduce(|a, b| a + b)
}

#[on_each_store]
async fn metrics_count_what_happened(backend: Backend) {
    let server = Server::start_with(
        backend,
        Options {
            env: &[("ROSTER_METRICS_TOKEN", METRICS_TOKEN)],
            ..Default::default()
        },
    )
    .await;
    let token = server.token_for(ADMIN_ID, ADMIN_SECRET).await;
    let refused = server
        .token_call(&[
            ("grant_type", "client_credentials"),
            ("client_id", ADMIN_ID),
            ("client_secret", "a-wrong-guess"),
        ])
        .await;
    assert_eq!(refused.0, 400);
    let ghost = "20210621095931341-4CB3-122995DE2";
    assert_eq!(server.get(&token, &format!("/users/{ghost}")).await.0, 400);
    assert_eq!(server.get(&token, "/users?offset=0&limit=10").await.0, 200);

    let url = format!("{}/metrics", server.base);
    assert_error(
        &read(server.http.get(&url).send().await.unwrap()).await,
        401,
        "TOKEN.0003",
    );
    let res = server
        .http
        .get(&url)
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();

    assert_eq!(
        value(
            &scrape,
            "roster_requests_total",
            &[("operation", "ShowAuthToken"), ("status", "200")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &scrape,
            "roster_requests_total",
            &[("operation", "ShowAuthToken"), ("status", "400")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &scrape,
            "roster_requests_total",
            &[("operation", "ShowUserById"), ("status", "400")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &scrape,
            "roster_requests_total",
            &[("operation", "ListUsers"), ("status", "200")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &scrape,
            "roster_request_duration_seconds_count",
            &[("operation", "ListUsers")]
        )
        .or_else(|| value(
            &scrape,
            "roster_request_duration_seconds",
            &[("operation", "ListUsers")]
        )),
        Some(1.0)
    );
    assert_eq!(
        value(
            &scrape,
            "roster_tokens_refused_total",
            &[("reason", "TOKEN.0002")]
        ),
        Some(1.0)
    );
    assert!(
        value(&scrape, "roster_token_cache_total", &[("result", "hit")]).unwrap_or(0.0) >= 1.0,
        "{text}"
    );
    assert_eq!(value(&scrape, "roster_build_info", &[]), Some(1.0));
    match backend {
        Backend::Sqlite => assert!(
            value(&scrape, "roster_group_commit_batch_size_count", &[])
                .or_else(|| value(&scrape, "roster_group_commit_batch_size", &[]))
                .unwrap_or(0.0)
                >= 1.0,
            "{text}"
        ),
        Backend::Postgres => assert!(
            value(&scrape, "roster_db_pool_connections", &[("state", "idle")]).is_some(),
            "{text}"
        ),
    }
    // Labels are bounded: no ids, no input.
    assert!(!text.contains(ghost) && !text.contains("a-wrong-guess"));
    // Every metric says what it is; the process's own are there too.
    for name in [
        "roster_requests_total",
        "roster_request_duration_seconds",
        "roster_tokens_refused_total",
        "roster_build_info",
    ] {
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "no HELP for {name}: {text}"
        );
    }
    for name in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
    ] {
        assert!(
            value(&scrape, name, &[]).is_some_and(|v| v > 0.0),
            "no {name}: {text}"
        );
    }
}

/// Sign-ins, refusals and locks are counted, so that a guessing attack shows on a dashboard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_refusals_and_locks_are_counted() {
    use crate::sign_in::*;
    let mut server = Server::start_with(
        Backend::Sqlite,
        Options {
            env: &[("ROSTER_METRICS_TOKEN", METRICS_TOKEN)],
            ..Default::default()
        },
    )
    .await;
    let f = fixture(&mut server, serde_json::json!({})).await;
    let browser = Browser::new(&server);
    let page = browser.get("/login").await.body;
    assert_eq!(
        browser.submit(&page, &f.user_name, PASSWORD).await.status,
        303
    );
    for _ in 0..5 {
        browser.submit(&page, &f.user_name, "wrong").await;
    }
    let (scrape, text) = scrape(&server).await;
    let count = |name: &str, labels: &[(&str, &str)]| value(&scrape, name, labels).unwrap_or(0.0);
    assert_eq!(
        count("roster_sign_ins_total", &[("to", "session")]),
        1.0,
        "{text}"
    );
    assert_eq!(
        count("roster_password_checks_total", &[("result", "right")]),
        1.0
    );
    assert_eq!(
        count("roster_password_checks_total", &[("result", "wrong")]),
        5.0
    );
    assert_eq!(
        count("roster_sign_ins_refused_total", &[("reason", "LOGIN.0002")]),
        4.0
    );
    assert_eq!(count("roster_sign_in_locks_total", &[]), 1.0);
}
