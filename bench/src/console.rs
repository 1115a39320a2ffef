//! `console-users`: the console's user list, a page anywhere in it, and its prefix search
//! (user name, mobile or email), over `rows` users (10^6 by default), as a signed-in
//! administrator's browser asks for them.

use crate::load::{self, Call};
use crate::server::{self, roster_command, Database, Server};
use crate::sign_in::{session_cookie, PASSWORD};
use crate::{admin_token, report, Args};
use anyhow::{bail, Context, Result};
use hyper::Method;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Users a console page shows.
const PAGE_SIZE: u64 = 50;
const ADMIN: &str = "console-admin";

pub async fn run(args: &Args) -> Result<()> {
    let rows = args.rows.unwrap_or(1_000_000);
    let db = Database::new(args.database.as_deref())?;
    server::import_users(&db, "bench", rows).await?;
    let server = Server::start(&db).await?;
    let addr = server.addr.clone();
    let token = admin_token(&addr).await?;
    let body = json!({"user_name": ADMIN, "mobile": "19900000000", "password": PASSWORD,
                      "pwd_must_modify": false, "name": "Console Admin"});
    let (status, created) = load::once(
        &addr,
        Some(&token),
        Call::json(
            Method::POST,
            "/api/v2/tenant/users".into(),
            body.to_string(),
        ),
    )
    .await?;
    if status != 201 {
        bail!("user: {status} {created}");
    }
    let out = roster_command()?
        .args([
            "admin",
            "grant",
            "--database",
            &db.url,
            ADMIN,
            "--role",
            "admin",
        ])
        .output()
        .await?;
    if !out.status.success() {
        bail!("admin grant: {}", String::from_utf8_lossy(&out.stderr));
    }
    let cookie = session_cookie(&addr, ADMIN).await.context("signing in")?;
    let duration = Duration::from_secs(args.duration);

    // Pages anywhere in the list, as the Next and Previous links ask for them: after or
    // before a user spread over the whole list (a multiplicative walk).
    let ids = Arc::new(server::user_ids(&db, "bench").await?);
    let page_cookie = cookie.clone();
    let stats = load::run(
        &addr,
        None,
        args.connections,
        duration,
        Arc::new(move |n| {
            let i = usize::try_from(n.wrapping_mul(7919)).ok()? % ids.len().max(1);
            let id = ids.get(i)?;
            let side = if n % 2 == 0 { "after" } else { "before" };
            let mut call = Call::get(format!("/console/users?{side}={id}"));
            call.cookie = Some(page_cookie.clone());
            Some(call)
        }),
    )
    .await?;
    report(
        "console-users-pages",
        args,
        db.backend(),
        rows,
        &stats,
        json!({"page_size": PAGE_SIZE}),
    );

    // Searches: a user name's prefix (2 to 7 digits after "bench"), a mobile's first digits,
    // an email's prefix, in turn.
    let stats = load::run(
        &addr,
        None,
        args.connections,
        duration,
        Arc::new(move |n| {
            let user = n.wrapping_mul(104_729) % rows.max(1);
            let digits = 2 + (n % 6) as usize;
            let name = format!("{user}");
            let prefix = &name[..digits.min(name.len())];
            let q = match n % 3 {
                0 => format!("bench{prefix}"),
                1 => format!("1{:010}", user)[..6].to_owned(),
                _ => format!("bench{prefix}%40"),
            };
            let mut call = Call::get(format!("/console/users?q={q}"));
            call.cookie = Some(cookie.clone());
            Some(call)
        }),
    )
    .await?;
    report(
        "console-users-search",
        args,
        db.backend(),
        rows,
        &stats,
        json!({}),
    );
    server.stop().await
}
