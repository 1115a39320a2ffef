//! Bad input gets a clear 4xx with the error body: never a 5xx, a hang or a write.

use crate::support::*;

async fn raw(
    server: &Server,
    token: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let res = server
        .http
        .post(server.url(path))
        .bearer_auth(token)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    read(res).await
}

#[on_each_store]
async fn hostile_bodies(backend: Backend) {
    let mut server = Server::start_with(
        backend,
        Options {
            args: &["--max-body-bytes", "65536"],
            ..Default::default()
        },
    )
    .await;
    let token = server.admin().await;
    // Over the size limit.
    let big = format!(
        r#"{{"user_name":"a","mobile":"123","name":"{}"}}"#,
        "x".repeat(70_000)
    );
    assert_error(
        &raw(
            &server,
            &token,
            "/users",
            "application/json",
            big.into_bytes(),
        )
        .await,
        413,
        "PARAM.0413",
    );
    // Deeply nested JSON.
    let deep = format!(
        r#"{{"user_name":"a","mobile":"123","extension":{{"k":{}{}}}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    assert_error(
        &raw(
            &server,
            &token,
            "/users",
            "application/json",
            deep.into_bytes(),
        )
        .await,
        400,
        "PARAM.0002",
    );
    // Not UTF-8.
    let mut bytes = br#"{"user_name":""#.to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, 0xfd]);
    bytes.extend_from_slice(br#"","mobile":"123"}"#);
    assert_error(
        &raw(&server, &token, "/users", "application/json", bytes).await,
        400,
        "PARAM.0002",
    );
    // Wrong media type, and JSON that is not an object.
    assert_error(
        &raw(&server, &token, "/users", "text/plain", b"{}".to_vec()).await,
        415,
        "PARAM.0415",
    );
    assert_error(
        &raw(
            &server,
            &token,
            "/users",
            "application/json",
            b"null".to_vec(),
        )
        .await,
        400,
        "PARAM.0001",
    );
    assert_error(
        &raw(
            &server,
            &token,
            "/users",
            "application/json",
            b"\"text\"".to_vec(),
        )
        .await,
        400,
        "PARAM.0001",
    );
    // Control characters and absurd lengths in fields.
    assert_error(
        &raw(
            &server,
            &token,
            "/users",
            "application/json",
            br#"{"user_name":"a\u0000b","mobile":"123"}"#.to_vec(),
        )
        .await,
        400,
        "PARAM.0001",
    );
    // A form body where JSON is expected.
    assert_error(
        &raw(
            &server,
            &token,
            "/users",
            "application/x-www-form-urlencoded",
            b"user_name=a".to_vec(),
        )
        .await,
        415,
        "PARAM.0415",
    );
    assert_eq!(
        server.db.scalar("SELECT COUNT(*) FROM users").await,
        0,
        "nothing written"
    );
    // The server is still well.
    assert_eq!(server.get(&token, "/users?offset=0&limit=10").await.0, 200);
}

#[on_each_store]
async fn hostile_paths_and_headers(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let long_id = "A".repeat(4000);
    let too_long = server
        .get(&token, &format!("/users?org_id={}", "x".repeat(9000)))
        .await;
    assert_error(&too_long, 414, "PARAM.0414");
    #[rustfmt::skip]
    let cases: [Refusal; 4] = [
        ("GET", &format!("/users/{long_id}"), serde_json::Value::Null, 400, "USER.0001"),
        ("GET", "/users/%FF%FE", serde_json::Value::Null, 400, "PARAM.0001"),
        ("GET", "/users?offset=99999999999999999999", serde_json::Value::Null, 400, "PARAM.0001"),
        ("GET", "/users?limit=%00", serde_json::Value::Null, 400, "PARAM.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
    // Enormous headers are refused.
    let res = server
        .http
        .get(server.url("/users"))
        .bearer_auth(&token)
        .header("X-Junk", "j".repeat(20_000))
        .send()
        .await
        .unwrap();
    assert_error(&read(res).await, 431, "PARAM.0431");
    assert_eq!(server.get(&token, "/users?offset=0&limit=10").await.0, 200);
}

/// A client that stops sending halfway through its body gets 408 when the request timeout
/// passes, not a connection held forever: in the body of the route's dialect (management,
/// OAuth, or a page on the login form).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_requests_time_out() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut server = Server::start_with(
        Backend::Sqlite,
        Options {
            args: &["--request-timeout-secs", "1"],
            ..Default::default()
        },
    )
    .await;
    let token = server.admin().await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let stall = |path: &'static str, headers: String| {
        let addr = addr.clone();
        async move {
            let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: 100\r\n\r\nx="
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            let mut answer = Vec::new();
            let read = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                stream.read_to_end(&mut answer),
            )
            .await;
            assert!(read.is_ok(), "{path}: no answer within 10 s");
            String::from_utf8_lossy(&answer).into_owned()
        }
    };
    let form = "Content-Type: application/x-www-form-urlencoded\r\n";
    let (management, oauth, page) = tokio::join!(
        stall(
            "/api/v2/tenant/users",
            format!("Authorization: Bearer {token}\r\nContent-Type: application/json\r\n")
        ),
        stall("/api/v1/oauth2/token", form.to_owned()),
        stall("/login", form.to_owned()),
    );
    for text in [&management, &oauth, &page] {
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    }
    assert!(management.contains("SYSTEM.0408"), "{management}");
    assert!(
        oauth.contains("\"error\":\"temporarily_unavailable\""),
        "{oauth}"
    );
    assert!(
        page.contains("text/html") && !page.contains("SYSTEM."),
        "{page}"
    );
}

/// Requests the HTTP parser itself refuses still get the catalog's error body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_errors_carry_the_error_body() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Server::start(Backend::Sqlite).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let many_headers: String = (0..120).map(|i| format!("x-h{i}: 1\r\n")).collect();
    let cases = [
        ("GET /health/live HTTP/1.1\r\nhost: r\r\nconnection: close\r\nbad header line\r\n\r\n".to_owned(), "400", "PARAM.0400"),
        ("POST /api/v2/tenant/token HTTP/1.1\r\nhost: r\r\nconnection: close\r\ncontent-length: abc\r\n\r\n".to_owned(), "400", "PARAM.0400"),
        (format!("GET /health/live HTTP/1.1\r\nhost: r\r\nconnection: close\r\n{many_headers}\r\n"), "431", "PARAM.0431"),
        (format!("GET /{} HTTP/1.1\r\nhost: r\r\nconnection: close\r\n\r\n", "a".repeat(70_000)), "414", "PARAM.0414"),
        (format!("GET /{} HTTP/1.1\r\nhost: r\r\nconnection: close\r\n\r\n", "a".repeat(10_000)), "414", "PARAM.0414"),
    ];
    for (request, status, code) in cases {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            stream.read_to_end(&mut answer),
        )
        .await
        .expect("answered and closed")
        .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{answer}"
        );
        let body: serde_json::Value =
            serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["error_code"], code, "{answer}");
        assert!(body["error_msg"].as_str().is_some_and(|m| !m.is_empty()));
    }
}
