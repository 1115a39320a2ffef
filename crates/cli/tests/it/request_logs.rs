//! One log line per request at `info`, in JSON with `--log-format json`, with the route
//! template (not the ids of the path), status, duration, request id and client id.

use crate::support::*;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_json_line_per_request() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let mut server = Server::start_with(
        Backend::Sqlite,
        Options {
            args: &["--log-format", "json"],
            env: &[("ROSTER_LOG", "info")],
            log_file: Some(&log),
            ..Default::default()
        },
    )
    .await;
    let token = server.admin().await;
    let user = server.create_user("zhangsan").await;
    let shown = server
        .http
        .get(server.url(&format!("/users/{user}")))
        .bearer_auth(&token)
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(
        shown.headers().get("x-request-id").unwrap(),
        "trace-me-42",
        "the id comes back"
    );
    assert_eq!(shown.status(), 200);
    let nowhere = server
        .http
        .get(format!("{}/nowhere", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(nowhere.status(), 404);
    assert!(
        nowhere.headers().get("x-request-id").is_some(),
        "an id is made when none is sent"
    );
    // The sign-in token endpoint names the client it was called as (HTTP Basic).
    let oauth = server
        .http
        .post(server.url("/api/v1/oauth2/token"))
        .basic_auth(ADMIN_ID, Some("a-wrong-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(oauth.status(), 401);
    server.stop().await;

    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "roster::request")
        .collect();
    let fields = |i: usize| &requests[i]["fields"];
    // token, create user, show user, 404, sign-in token
    assert_eq!(requests.len(), 5, "{requests:#?}");
    assert_eq!(
        (fields(4)["route"].as_str(), fields(4)["client_id"].as_str()),
        (Some("/api/v1/oauth2/token"), Some(ADMIN_ID))
    );
    assert_eq!(
        (
            fields(0)["method"].as_str(),
            fields(0)["route"].as_str(),
            fields(0)["status"].as_u64()
        ),
        (Some("POST"), Some("/api/v2/tenant/token"), Some(200))
    );
    assert_eq!(fields(0)["client_id"], ADMIN_ID);
    let show = fields(2);
    assert_eq!(
        show["route"], "/api/v2/tenant/users/{user_id}",
        "the template, not the id"
    );
    assert_eq!(
        (
            show["request_id"].as_str(),
            show["client_id"].as_str(),
            show["status"].as_u64()
        ),
        (Some("trace-me-42"), Some(ADMIN_ID), Some(200))
    );
    assert!(show["duration_ms"].as_f64().is_some_and(|d| d >= 0.0));
    // Milliseconds to the microsecond, without float noise (`0.06726700000000001`).
    for request in &requests {
        let text = request["fields"]["duration_ms"].to_string();
        let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
        assert!(decimals <= 3, "duration_ms {text}");
    }
    assert_eq!(
        (fields(3)["route"].as_str(), fields(3)["status"].as_u64()),
        (Some("(no route)"), Some(404))
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains(&user),
        "no ids of paths in the request lines"
    );
    assert!(!text.contains(ADMIN_SECRET) && !text.contains(&token));
}
