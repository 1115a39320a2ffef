//! Behind a trusted reverse proxy the client is the address it forwards; anyone else's
//! `X-Forwarded-For` is ignored.

use crate::support::*;

/// Token attempts with a wrong secret from `forwarded_for`, until one is rate limited (429)
/// or `tries` run out; whether one was.
async fn limited_after(server: &Server, forwarded_for: &str, tries: usize) -> bool {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", ADMIN_ID),
        ("client_secret", "not-the-secret-0123456789"),
    ];
    for _ in 0..tries {
        let res = server
            .http
            .post(server.url("/token"))
            .header("X-Forwarded-For", forwarded_for)
            .form(&form)
            .send()
            .await
            .unwrap();
        if res.status() == 429 {
            return true;
        }
        assert_eq!(res.status(), 400, "a wrong secret");
    }
    false
}

const LIMITS: [&str; 4] = [
    "--token-rate-per-address",
    "1",
    "--token-rate-per-client",
    "0",
];

#[on_each_store]
async fn a_trusted_proxy_names_the_client(backend: Backend) {
    let args = [&LIMITS[..], &["--trusted-proxy", "127.0.0.0/8"]].concat();
    let server = Server::start_with(
        backend,
        Options {
            args: &args,
            ..Default::default()
        },
    )
    .await;
    // One client behind the proxy runs out of attempts (a burst of twice the rate)…
    assert!(limited_after(&server, "203.0.113.1", 8).await);
    // …another one behind the same proxy has its own.
    assert!(!limited_after(&server, "203.0.113.2", 1).await);
    // A client cannot pose as another by forwarding more hops: the nearest one counts.
    assert!(limited_after(&server, "198.51.100.7, 203.0.113.1", 1).await);
}

#[on_each_store]
async fn without_trusted_proxies_forwarded_addresses_are_ignored(backend: Backend) {
    let server = Server::start_with(
        backend,
        Options {
            args: &LIMITS,
            ..Default::default()
        },
    )
    .await;
    assert!(limited_after(&server, "203.0.113.1", 8).await);
    // A made-up address does not buy new attempts: the peer is the client.
    assert!(limited_after(&server, "203.0.113.99", 1).await);
}

#[tokio::test]
async fn a_malformed_trusted_proxy_stops_the_start_with_its_name() {
    let (ok, _, err) = roster(&[
        "serve",
        "--database",
        "sqlite:///nonexistent/dir/roster.db",
        "--trusted-proxy",
        "10.0.0.0/33",
    ])
    .await;
    assert!(!ok);
    assert!(err.contains("10.0.0.0/33"), "{err}");
}
