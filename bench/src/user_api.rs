//! The user-API scenarios: `sdk-login` (password logins saturating the hashing pool, while a
//! probe of cheap requests runs beside them), `sdk-signed` (`GET /api/v2/sdk/profile` with a
//! fresh RSA-OAEP `X-signature` each time) and `sso-ticket` (a ticket issued and redeemed).

use crate::load::{self, Answer, Call, Step};
use crate::server::{Database, Server};
use crate::sign_in::{setup, PASSWORD};
use crate::{admin_token, report, Args, Scenario};
use anyhow::{bail, Context, Result};
use base64::Engine;
use hyper::Method;
use openssl::md::Md;
use openssl::pkey::{PKey, Public};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const FINGERPRINT: &str = "bench-device";

fn device(client_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("x-client-id", client_id.to_owned()),
        ("x-device-fingerprint", FINGERPRINT.to_owned()),
        ("x-operating-sys-version", "Android 10".to_owned()),
        ("x-agent", "roster-bench".to_owned()),
    ]
}

fn login_call(client_id: &str, user_name: &str) -> Call {
    let body = json!({"user_name": user_name, "password": PASSWORD});
    let mut call = Call::json(Method::POST, "/api/v2/sdk/login".into(), body.to_string());
    call.headers = device(client_id);
    call
}

async fn session_token(addr: &str, client_id: &str, user_name: &str) -> Result<String> {
    let (status, body) = load::once(addr, None, login_call(client_id, user_name)).await?;
    body.get("session_token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .with_context(|| format!("login: {status} {body}"))
}

/// RSA-OAEP with SHA-256 and MGF1-SHA1, as Java clients encrypt (with OpenSSL, so that the
/// load generator takes as little of the machine's CPU as it can).
fn encrypt(key: &PKey<Public>, plain: &str) -> Option<Vec<u8>> {
    let mut ctx = PkeyCtx::new(key).ok()?;
    ctx.encrypt_init().ok()?;
    ctx.set_rsa_padding(Padding::PKCS1_OAEP).ok()?;
    ctx.set_rsa_oaep_md(Md::sha256()).ok()?;
    ctx.set_rsa_mgf1_md(Md::sha1()).ok()?;
    let mut cipher = Vec::new();
    ctx.encrypt_to_vec(plain.as_bytes(), &mut cipher).ok()?;
    Some(cipher)
}

pub async fn run(args: &Args) -> Result<()> {
    let db = Database::new(args.database.as_deref())?;
    let server = Server::start(&db).await?;
    let addr = server.addr.clone();
    let token = admin_token(&addr).await?;
    let users = usize::try_from(args.rows.unwrap_or(64))?.max(1);
    let setup = Arc::new(setup(&addr, &token, users).await?);
    let duration = Duration::from_secs(args.duration);
    let rss_start = server.rss_kib();
    let client_id = setup.client_id.clone();
    let (name, stats, mut extra) = match args.scenario {
        Scenario::SdkLogin => {
            let logins = {
                let setup = Arc::clone(&setup);
                let client_id = client_id.clone();
                Arc::new(move |n: u64| {
                    let i = usize::try_from(n).ok()? % setup.user_names.len();
                    Some(login_call(&client_id, setup.user_names.get(i)?))
                })
            };
            // Beside the logins, one connection asks for the server's time: how long a cheap
            // request waits while every hashing thread is busy.
            let probe = Arc::new(|_| Some(Call::get("/api/v2/sdk/server-date".into())));
            let (logins, probe) = tokio::join!(
                load::run(&addr, None, args.connections, duration, logins),
                load::run(&addr, None, 1, duration, probe)
            );
            let probe = probe?;
            let extra = json!({
                "probe_rps": probe.rps().round(),
                "probe_p99_ms": probe.quantile_ms(0.99),
                "argon2": "19456 KiB, 2 iterations, 1 lane (the defaults)",
            });
            ("sdk-login", logins?, extra)
        }
        Scenario::SdkSigned => {
            let mut sessions = Vec::new();
            for user_name in &setup.user_names {
                sessions.push(session_token(&addr, &client_id, user_name).await?);
            }
            let call = Call {
                headers: device(&client_id),
                ..Call::get("/api/v2/sdk/public-key".into())
            };
            let (status, body) = load::once(&addr, None, call).await?;
            let pem = body
                .get("public_key")
                .and_then(Value::as_str)
                .with_context(|| format!("public key: {status} {body}"))?;
            let key = Arc::new(PKey::public_key_from_pem(pem.as_bytes())?);
            let sessions = Arc::new(sessions);
            let client_id = client_id.clone();
            let factory: load::Factory = Arc::new(move |n| {
                let session = sessions.get(usize::try_from(n).ok()? % sessions.len())?;
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .ok()?
                    .as_millis();
                let plain = format!("session_token={session}&timestamp={now}&nonce={n:x}");
                let signature =
                    base64::engine::general_purpose::STANDARD.encode(encrypt(&key, &plain)?);
                let mut call = Call::get("/api/v2/sdk/profile".into());
                call.headers = device(&client_id);
                call.headers.push(("x-signature", signature));
                Some(call)
            });
            let stats = load::run(&addr, None, args.connections, duration, factory).await?;
            ("sdk-signed", stats, json!({}))
        }
        _ => {
            let first = setup.user_names.first().context("a user")?;
            let session = session_token(&addr, &client_id, first).await?;
            let bearer = format!("Bearer {token}");
            let device = |field: &str, value: &Value| {
                json!({"operating_sys_version": "Android 10", "device_ip": "10.0.0.1",
                       "device_fingerprint": FINGERPRINT, field: value})
                .to_string()
            };
            let step: Step = Arc::new(move |last: Option<&Answer>| {
                let (path, body) = match last.map(|a| a.json()) {
                    None => (
                        "/api/v2/tenant/sso/session-token/sso-ticket",
                        device("session_token", &json!(session)),
                    ),
                    Some(answer) => match answer.get("sso_ticket") {
                        Some(ticket) => (
                            "/api/v2/tenant/sso/sso-ticket/verify",
                            device("sso_ticket", ticket),
                        ),
                        None if answer.get("data").is_some() => return Ok(None),
                        None => return Err(format!("unexpected: {answer}")),
                    },
                };
                let mut call = Call::json(Method::POST, path.into(), body);
                call.authorization = Some(bearer.clone());
                Ok(Some(call))
            });
            let stats = load::run_flows(&addr, args.connections, duration, step).await?;
            ("sso-ticket", stats, json!({}))
        }
    };
    if stats.requests() == 0 {
        bail!("{name}: no request answered");
    }
    if let Some(obj) = extra.as_object_mut() {
        obj.insert("rss_start_kib".into(), json!(rss_start));
        obj.insert("rss_end_kib".into(), json!(server.rss_kib()));
    }
    report(name, args, db.backend(), users as u64, &stats, extra);
    server.stop().await
}
