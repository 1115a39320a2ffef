//! `test-reset`: test mode's reset (`POST /roster/v1/test/reset`) of a fixtures file of 100
//! applications and `rows` users (10,000 by default), one reset after another for the
//! duration; each answered reset is timed on its own (a new token is fetched between them,
//! untimed: a reset ends the tokens issued since the server started).

use crate::load::{self, Call};
use crate::server::{Database, Server};
use crate::{admin_token, Args};
use anyhow::{bail, Result};
use hyper::Method;
use serde_json::json;
use std::time::{Duration, Instant};

const APPLICATIONS: usize = 100;

pub async fn run(args: &Args) -> Result<()> {
    let rows = args.rows.unwrap_or(10_000);
    let db = Database::new(args.database.as_deref())?;
    // The tenant as a fixtures file, applied when the server starts (and what a reset
    // returns to).
    let applications: Vec<_> = (0..APPLICATIONS)
        .map(|n| {
            json!({"client_id": format!("bench-app-{n}"), "name": format!("Bench app {n}"),
                   "client_secret": format!("bench-app-secret-{n:06}"),
                   "permissions": ["user_read"]})
        })
        .collect();
    let users: Vec<_> = (0..rows)
        .map(|n| {
            json!({"user_name": format!("bench{n}"), "mobile": format!("1{n:010}"),
                   "password": "Bench-Secret-1"})
        })
        .collect();
    let file =
        std::env::temp_dir().join(format!("roster-bench-fixtures-{}.json", std::process::id()));
    let fixtures = json!({"version": 1, "applications": applications, "users": users});
    std::fs::write(&file, fixtures.to_string())?;
    let started = Instant::now();
    let server =
        Server::start_with(&db, &["--test-mode", "--fixtures", &file.to_string_lossy()]).await;
    let _ = std::fs::remove_file(&file);
    let server = server?;
    let start_s = started.elapsed().as_secs_f64();
    let addr = server.addr.clone();
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let mut took = Vec::new();
    while Instant::now() < deadline || took.is_empty() {
        let token = admin_token(&addr).await?;
        // Something to undo, as a test leaves behind.
        let user = format!("left-behind-{}", took.len());
        let body =
            json!({"user_name": user, "mobile": format!("1770{:07}", took.len()), "name": user});
        let created = Call::json(
            Method::POST,
            "/api/v2/tenant/users".into(),
            body.to_string(),
        );
        let (status, answer) = load::once(&addr, Some(&token), created).await?;
        if status != 201 {
            bail!("create user: {status} {answer}");
        }
        let reset = Call::json(Method::POST, "/roster/v1/test/reset".into(), "{}".into());
        let started = Instant::now();
        let (status, answer) = load::once(&addr, Some(&token), reset).await?;
        took.push(started.elapsed().as_secs_f64() * 1000.0);
        if status != 200 {
            bail!("reset: {status} {answer}");
        }
    }
    let token = admin_token(&addr).await?;
    let list = Call::get("/api/v2/tenant/users?offset=0&limit=1".into());
    let (_, listed) = load::once(&addr, Some(&token), list).await?;
    let total = listed.get("total").and_then(serde_json::Value::as_u64);
    if total != Some(rows) {
        bail!("after the resets the tenant has {total:?} users, not {rows}");
    }
    took.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((took.len() as f64 - 1.0) * q).round() as usize;
        took.get(i).map(|ms| (ms * 10.0).round() / 10.0)
    };
    println!(
        "{}",
        json!({
            "scenario": "test-reset",
            "backend": db.backend(),
            "rows": rows,
            "applications": APPLICATIONS,
            "resets": took.len(),
            "start_with_fixtures_s": (start_s * 10.0).round() / 10.0,
            "p50_ms": at(0.5),
            "p99_ms": at(0.99),
            "max_ms": at(1.0),
        })
    );
    server.stop().await
}
