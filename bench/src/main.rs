//! `roster-bench SCENARIO`: starts a Roster server on a temporary database, prepares data,
//! drives load over HTTP/1.1 keep-alive connections from this process, and prints one JSON
//! line per scenario. See `docs/performance.md`.

mod console;
mod load;
mod server;
mod sign_in;
mod test_mode;
mod user_api;

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};
use hyper::Method;
use load::{Call, Factory, Stats};
use serde_json::{json, Value};
use server::{Database, Server};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(name = "roster-bench", about = "Measure a Roster server")]
struct Args {
    scenario: Scenario,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds of load per scenario.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Rows to prepare (users); list-deep runs 10^3, 10^5 and 10^6 unless given.
    #[arg(long)]
    rows: Option<u64>,
    /// A PostgreSQL URL to run against (its database must be empty); default: a temporary
    /// SQLite file.
    #[arg(long)]
    database: Option<String>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum Scenario {
    Token,
    Authorize,
    BasicAccount,
    Update,
    Show,
    /// CreateUser without a password, a new user each request.
    CreateUser,
    ListDeep,
    Import,
    StoreLimit,
    /// `GET /api/v1/oauth2/userinfo` with users' access tokens.
    Userinfo,
    /// Authorize with a live session (302 with a code), then the code exchange (RS256 id_token).
    SsoCode,
    /// `POST /api/v2/sdk/login` (an Argon2 check each), with a probe of cheap requests beside.
    SdkLogin,
    /// `GET /api/v2/sdk/profile` signed with a fresh RSA-OAEP `X-signature` each time.
    SdkSigned,
    /// An SSO ticket issued for a session token, then redeemed.
    SsoTicket,
    /// A signed-in browser's CAS login (302 with a ticket), then `p3/serviceValidate`.
    CasTicket,
    /// A signed-in browser's SAML AuthnRequest (HTTP-Redirect, a new ID each time) answered
    /// with the page posting a signed Response.
    SamlSso,
    /// The console's user list (any page) and its prefix search, over 10^6 users by default,
    /// as a signed-in administrator.
    ConsoleUsers,
    /// Test mode's reset of 100 applications and 10^4 users (by default), one after another.
    TestReset,
}

fn main() -> ExitCode {
    // Started by ourselves as the server under test (or its import command).
    if std::env::args().nth(1).as_deref() == Some(server::AS_ROSTER) {
        return roster::run(std::env::args_os().skip(1));
    }
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("roster-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roster-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn report(scenario: &str, args: &Args, backend: &str, rows: u64, stats: &Stats, extra: Value) {
    let mut line = json!({
        "scenario": scenario,
        "backend": backend,
        "connections": args.connections,
        "duration_s": (stats.elapsed.as_secs_f64() * 100.0).round() / 100.0,
        "rows": rows,
        "requests": stats.requests(),
        "errors": stats.errors,
        "rps": stats.rps().round(),
        "p50_ms": stats.quantile_ms(0.50),
        "p90_ms": stats.quantile_ms(0.90),
        "p99_ms": stats.quantile_ms(0.99),
        "max_ms": stats.quantile_ms(1.0),
    });
    if let (Some(obj), Value::Object(more)) = (line.as_object_mut(), extra) {
        obj.extend(more);
    }
    if let Some(e) = &stats.first_error {
        if let Some(obj) = line.as_object_mut() {
            obj.insert("first_error".into(), json!(e));
        }
    }
    println!("{line}");
}

async fn admin_token(addr: &str) -> Result<String> {
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        server::CLIENT_ID,
        server::CLIENT_SECRET
    );
    let call = Call::form("/api/v2/tenant/token".into(), body);
    let (status, json) = load::once(addr, None, call).await?;
    if status != 200 {
        bail!("token: {status} {json}");
    }
    json.get("access_token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .context("token")
}

async fn create_app(addr: &str, token: &str) -> Result<String> {
    let call = Call::json(
        Method::POST,
        "/roster/v1/applications".into(),
        r#"{"name":"bench-app","api_permissions":["all"]}"#.into(),
    );
    let (status, json) = load::once(addr, Some(token), call).await?;
    if status != 201 {
        bail!("application: {status} {json}");
    }
    json.get("application_id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .context("application id")
}

async fn run(args: Args) -> Result<()> {
    match args.scenario {
        Scenario::ListDeep => {
            let sizes = match args.rows {
                Some(r) => vec![r],
                None => vec![1_000, 100_000, 1_000_000],
            };
            for rows in sizes {
                list_deep(&args, rows).await?;
            }
            Ok(())
        }
        Scenario::Import => import(&args).await,
        Scenario::StoreLimit => store_limit(&args).await,
        Scenario::Userinfo | Scenario::SsoCode | Scenario::CasTicket | Scenario::SamlSso => {
            sign_in::run(&args).await
        }
        Scenario::ConsoleUsers => console::run(&args).await,
        Scenario::TestReset => test_mode::run(&args).await,
        Scenario::SdkLogin | Scenario::SdkSigned | Scenario::SsoTicket => {
            user_api::run(&args).await
        }
        _ => http_scenario(&args).await,
    }
}

async fn http_scenario(args: &Args) -> Result<()> {
    let db = Database::new(args.database.as_deref())?;
    let server = Server::start(&db).await?;
    let addr = server.addr.clone();
    let token = admin_token(&addr).await?;
    let rows = args.rows.unwrap_or(match args.scenario {
        Scenario::Authorize | Scenario::BasicAccount => 300_000,
        Scenario::Update | Scenario::Show => 1_000,
        _ => 0,
    });
    let mut users = Vec::new();
    let mut app = String::new();
    if rows > 0 {
        server::import_users(&db, "bench", rows).await?;
        users = server::user_ids(&db, "bench").await?;
        app = create_app(&addr, &token).await?;
    }
    let mut accounts = Vec::new();
    if matches!(args.scenario, Scenario::Update | Scenario::Show) {
        for user in &users {
            let call = Call::json(
                Method::POST,
                format!("/api/v2/tenant/users/{user}/applications/{app}/accounts"),
                "{}".into(),
            );
            let (status, json) = load::once(&addr, Some(&token), call).await?;
            if status != 200 {
                bail!("authorize: {status} {json}");
            }
            accounts.push(
                json.get("account_id")
                    .and_then(Value::as_str)
                    .context("account id")?
                    .to_owned(),
            );
        }
    }
    let users = Arc::new(users);
    let accounts = Arc::new(accounts);
    let app: Arc<str> = app.into();
    let factory: Factory = match args.scenario {
        Scenario::Token => {
            let body = format!(
                "grant_type=client_credentials&client_id={}&client_secret={}",
                server::CLIENT_ID,
                server::CLIENT_SECRET
            );
            Arc::new(move |_| Some(Call::form("/api/v2/tenant/token".into(), body.clone())))
        }
        Scenario::Authorize => Arc::new(move |n| {
            let user = users.get(usize::try_from(n).ok()?)?;
            Some(Call::json(
                Method::POST,
                format!("/api/v2/tenant/users/{user}/applications/{app}/accounts"),
                "{}".into(),
            ))
        }),
        Scenario::BasicAccount => Arc::new(move |n| {
            let user = users.get(usize::try_from(n).ok()?)?;
            Some(Call::json(
                Method::POST,
                format!("/api/v2/tenant/applications/{app}/accounts/basic-account"),
                format!(r#"{{"user_id":"{user}","name":"Bench {n}","extension":{{"n":{n}}}}}"#),
            ))
        }),
        Scenario::Update => Arc::new(move |n| {
            let i = usize::try_from(n).ok()? % accounts.len().max(1);
            let account = accounts.get(i)?;
            Some(Call::json(
                Method::PUT,
                format!("/api/v2/tenant/applications/{app}/accounts/{account}"),
                format!(r#"{{"name":"Bench {n}"}}"#),
            ))
        }),
        Scenario::CreateUser => Arc::new(move |n| {
            Some(Call::json(
                Method::POST,
                "/api/v2/tenant/users".into(),
                format!(r#"{{"user_name":"created{n}","mobile":"1{n:010}"}}"#),
            ))
        }),
        Scenario::Show => Arc::new(move |n| {
            let i = usize::try_from(n / 2).ok()? % accounts.len().max(1);
            if n % 2 == 0 {
                Some(Call::get(format!(
                    "/api/v2/tenant/applications/{app}/accounts/{}",
                    accounts.get(i)?
                )))
            } else {
                Some(Call::get(format!("/api/v2/tenant/users/{}", users.get(i)?)))
            }
        }),
        _ => bail!("not an HTTP scenario"),
    };
    let rss_start = server.rss_kib();
    let stats = load::run(
        &addr,
        Some(token),
        args.connections,
        Duration::from_secs(args.duration),
        factory,
    )
    .await?;
    let rss_end = server.rss_kib();
    let name = format!("{:?}", args.scenario)
        .to_lowercase()
        .replace("basicaccount", "basic-account")
        .replace("createuser", "create-user");
    report(
        &name,
        args,
        db.backend(),
        rows,
        &stats,
        json!({"rss_start_kib": rss_start, "rss_end_kib": rss_end}),
    );
    server.stop().await
}

async fn list_deep(args: &Args, rows: u64) -> Result<()> {
    let db = Database::new(args.database.as_deref())?;
    server::import_users(&db, "bench", rows).await?;
    let server = Server::start(&db).await?;
    let addr = server.addr.clone();
    let token = admin_token(&addr).await?;
    let last_page = rows.div_ceil(100).saturating_sub(1);
    let first = load::run(
        &addr,
        Some(token.clone()),
        args.connections,
        Duration::from_secs(args.duration.div_ceil(2)),
        Arc::new(|_| Some(Call::get("/api/v2/tenant/users?offset=0&limit=100".into()))),
    )
    .await?;
    let rss_start = server.rss_kib();
    let path = format!("/api/v2/tenant/users?offset={last_page}&limit=100");
    let stats = load::run(
        &addr,
        Some(token),
        args.connections,
        Duration::from_secs(args.duration),
        Arc::new(move |_| Some(Call::get(path.clone()))),
    )
    .await?;
    let rss_end = server.rss_kib();
    report(
        "list-deep",
        args,
        db.backend(),
        rows,
        &stats,
        json!({
            "page": last_page, "first_page_p50_ms": first.quantile_ms(0.5), "first_page_rps": first.rps().round(),
            "rss_start_kib": rss_start, "rss_end_kib": rss_end,
        }),
    );
    server.stop().await
}

async fn import(args: &Args) -> Result<()> {
    let rows = args.rows.unwrap_or(1_000_000);
    let db = Database::new(args.database.as_deref())?;
    // Idle RSS: a fresh server on the empty database.
    let idle = Server::start(&db).await?;
    let rss_idle = idle.rss_kib();
    idle.stop().await?;
    let seconds = server::import_users(&db, "bench", rows).await?;
    // RSS after 10^6 users: a server on the full database after a round of lists and shows.
    let server = Server::start(&db).await?;
    let addr = server.addr.clone();
    let token = admin_token(&addr).await?;
    let last_page = rows.div_ceil(100).saturating_sub(1);
    let factory: Factory = Arc::new(move |n| {
        Some(Call::get(format!(
            "/api/v2/tenant/users?offset={}&limit=100",
            n % (last_page + 1)
        )))
    });
    let stats = load::run(
        &addr,
        Some(token),
        args.connections,
        Duration::from_secs(args.duration.min(5)),
        factory,
    )
    .await?;
    let rss_end = server.rss_kib();
    let mut stats_for_report = Stats {
        errors: stats.errors,
        first_error: stats.first_error,
        ..Stats::default()
    };
    stats_for_report.elapsed = Duration::from_secs_f64(seconds);
    report(
        "import",
        args,
        db.backend(),
        rows,
        &stats_for_report,
        json!({
            "import_s": (seconds * 100.0).round() / 100.0,
            "users_per_s": (rows as f64 / seconds).round(),
            "rss_start_kib": rss_idle, "rss_end_kib": rss_end,
        }),
    );
    server.stop().await
}

/// The `authorize` writes straight through the service and store (no HTTP), with the same
/// durability: the ceiling the HTTP figure is compared with.
async fn store_limit(args: &Args) -> Result<()> {
    use roster_domain::account::AuthorizeFields;
    use roster_domain::permission::{Permission, Permissions};
    let rows = args.rows.unwrap_or(300_000);
    let db = Database::new(args.database.as_deref())?;
    server::import_users(&db, "bench", rows).await?;
    let users = Arc::new(server::user_ids(&db, "bench").await?);
    let store = roster_store::open(&db.url, roster_store::PgStoreOptions::default())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let service = roster_service::Service::new(store.clone(), roster_service::Settings::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let app = service
        .create_application(
            &roster_service::Caller::operator(),
            Some("bench-app".into()),
            vec![Permission::All],
            None,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let caller = roster_service::Caller {
        application_id: app.application_id.clone(),
        client_id: app.client_id.clone(),
        permissions: Permissions::new(vec![Permission::All]),
        console_role: None,
    };
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.duration);
    let mut tasks = Vec::new();
    for _ in 0..args.connections {
        let (service, caller, users, next, app_id) = (
            service.clone(),
            caller.clone(),
            users.clone(),
            next.clone(),
            app.application_id.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            while Instant::now() < deadline {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(user) = usize::try_from(n).ok().and_then(|i| users.get(i)) else {
                    break;
                };
                let t = Instant::now();
                let result = service
                    .authorize_account(
                        &caller,
                        roster_domain::user::UserId::new(user.as_str()),
                        app_id.clone(),
                        AuthorizeFields::default(),
                    )
                    .await;
                stats
                    .latencies_us
                    .push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                if let Err(e) = result {
                    stats.errors += 1;
                    stats.first_error.get_or_insert_with(|| e.to_string());
                }
            }
            stats
        }));
    }
    let mut stats = Stats::default();
    for t in tasks {
        stats.merge(t.await?);
    }
    stats.elapsed = started.elapsed();
    stats.latencies_us.sort_unstable();
    store.close().await;
    report("store-limit", args, db.backend(), rows, &stats, json!({}));
    Ok(())
}
