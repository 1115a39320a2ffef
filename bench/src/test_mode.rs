//! `test-reset`: test mode's reset (`POST /roster/v1/test/reset`) of a tenant of 100
//! applications and `rows` users (10,000 by default), one reset after another for the
//! duration; each answered reset is timed on its own (a new token is fetched between them,
//! untimed: a reset ends the tokens issued since the server started).

use crate::load::{self, Call};
use crate::server::{self, roster_command, Database, Server};
use crate::{admin_token, Args};
use anyhow::{bail, Result};
use hyper::Method;
use serde_json::json;
use std::time::{Duration, Instant};

const APPLICATIONS: usize = 100;

pub async fn run(args: &Args) -> Result<()> {
    let rows = args.rows.unwrap_or(10_000);
    let db = Database::new(args.database.as_deref())?;
    server::import_users(&db, "bench", rows).await?;
    for n in 0..APPLICATIONS {
        let out = roster_command()?
            .args(["app", "create", "--database", &db.url, "--name"])
            .arg(format!("bench-app-{n}"))
            .args(["--api-permission", "user_read"])
            .output()
            .await?;
        if !out.status.success() {
            bail!("app create: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    let server = Server::start_with(&db, &["--test-mode"]).await?;
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
            "p50_ms": at(0.5),
            "p99_ms": at(0.99),
            "max_ms": at(1.0),
        })
    );
    server.stop().await
}
