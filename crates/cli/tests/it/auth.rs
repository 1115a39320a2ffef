//! Authentication (401) and permissions (403) on every route the OpenAPI document lists.

use crate::support::*;
use serde_json::Value;

const GHOST: &str = "20210621095931341-4CB3-122995DE2";

/// A documented operation: method, concrete path, whether it takes a JSON body, and the
/// (family, write) it needs, or None for the routes without authentication.
struct Operation {
    method: reqwest::Method,
    path: String,
    body: bool,
    needs: Option<(&'static str, bool)>,
}

fn needs(path: &str, method: &str) -> Option<(&'static str, bool)> {
    let write = method != "get";
    let tenant = path.strip_prefix("/api/v2/tenant")?;
    if path.starts_with("/roster/") {
        return Some(("admin", true));
    }
    if tenant == "/token" {
        return None;
    }
    if tenant.starts_with("/sso/") {
        // The SSO ticket calls take any tenant token.
        return Some(("any", write));
    }
    Some(if tenant.starts_with("/users") {
        if tenant.ends_with("/applications/{application_id}/accounts") {
            ("user", true)
        } else {
            ("user", write && tenant != "/users/user-by-username")
        }
    } else if tenant.starts_with("/organizations") {
        ("org", write)
    } else if tenant.starts_with("/applications/{application_id}/accounts") {
        ("account", write)
    } else {
        ("app", write)
    })
}

fn grants(code: &str, family: &str, write: bool) -> bool {
    match code {
        _ if family == "any" => true,
        "all" => true,
        "app_all" => family == "app" || family == "account",
        "app_read" => (family == "app" || family == "account") && !write,
        _ => {
            let (fam, level) = code.split_once('_').unwrap();
            fam == family && (level == "all" || !write)
        }
    }
}

async fn operations(server: &Server) -> Vec<Operation> {
    let res = server
        .http
        .get(format!("{}/openapi.json", server.base))
        .send()
        .await
        .unwrap();
    let doc: Value = read(res).await.1;
    let mut ops = Vec::new();
    for (path, methods) in doc["paths"].as_object().unwrap() {
        if path.starts_with("/health") {
            continue;
        }
        let admin = path.starts_with("/roster/");
        for (method, op) in methods.as_object().unwrap() {
            ops.push(Operation {
                method: reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                path: path
                    .split('/')
                    .map(|s| if s.starts_with('{') { GHOST } else { s })
                    .collect::<Vec<_>>()
                    .join("/"),
                body: op.get("requestBody").is_some(),
                needs: if admin {
                    Some(("admin", true))
                } else {
                    needs(path, method)
                },
            });
        }
    }
    assert!(ops.len() >= 45);
    ops
}

fn request(server: &Server, op: &Operation) -> reqwest::RequestBuilder {
    let req = server
        .http
        .request(op.method.clone(), format!("{}{}", server.base, op.path));
    if op.body {
        req.header("Content-Type", "application/json").body("{}")
    } else {
        req
    }
}

#[on_each_store]
async fn refuses_missing_garbled_and_unknown_tokens(backend: Backend) {
    let server = Server::start(backend).await;
    for op in operations(&server)
        .await
        .iter()
        .filter(|op| op.needs.is_some())
    {
        let attempts = [
            request(&server, op),
            request(&server, op).header("Authorization", "Basic abc"),
            request(&server, op).header("Authorization", "Bearer "),
            request(&server, op).header("Authorization", "Bearer a b c"),
            request(&server, op).bearer_auth("0".repeat(64)),
            request(&server, op).bearer_auth("x".repeat(10_000)),
        ];
        for req in attempts {
            let res = req.send().await.unwrap();
            assert_eq!(
                res.headers()
                    .get("www-authenticate")
                    .map(|v| v.to_str().unwrap()),
                Some("Bearer")
            );
            let answer = read(res).await;
            assert_error(&answer, 401, "TOKEN.0003");
        }
    }
}

#[on_each_store]
async fn refuses_expired_tokens_and_disabled_applications(backend: Backend) {
    let mut server = Server::start_with(
        backend,
        Options {
            args: &["--token-ttl-secs", "1", "--token-cache-ttl-ms", "50"],
            ..Default::default()
        },
    )
    .await;
    let admin = server.admin().await;
    let app = server.create_app(&["all"]).await;
    let of_disabled = server.token_for(&app.client_id, &app.client_secret).await;
    let disable = format!(
        "{}/roster/v1/applications/{}/disable",
        server.base, app.application_id
    );
    assert_eq!(
        server
            .http
            .put(disable)
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Wait for the clock (bounded) until the admin token has expired.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.get(&admin, "/users?offset=0&limit=10").await.0 != 401 {
        assert!(
            std::time::Instant::now() < deadline,
            "the token never expired"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for op in operations(&server)
        .await
        .iter()
        .filter(|op| op.needs.is_some())
    {
        let expired = read(
            request(&server, op)
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_error(&expired, 401, "TOKEN.0004");
        let disabled = read(
            request(&server, op)
                .bearer_auth(&of_disabled)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_error(&disabled, 401, "TOKEN.0003");
    }
}

#[on_each_store]
async fn each_route_needs_its_permission(backend: Backend) {
    let server = Server::start(backend).await;
    let ops = operations(&server).await;
    for code in [
        "user_all",
        "user_read",
        "org_all",
        "org_read",
        "account_all",
        "account_read",
        "app_all",
        "app_read",
    ] {
        let app = server.create_app(&[code]).await;
        let token = server.token_for(&app.client_id, &app.client_secret).await;
        for op in &ops {
            let Some((family, write)) = op.needs else {
                continue;
            };
            let answer = read(
                request(&server, op)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            if grants(code, family, write) {
                assert!(
                    answer.0 != 401 && answer.0 != 403,
                    "{code} {} {}: {:?}",
                    op.method,
                    op.path,
                    answer
                );
            } else {
                assert_error(&answer, 403, "TOKEN.0005");
            }
        }
    }
}
