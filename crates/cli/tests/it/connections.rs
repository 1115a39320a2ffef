//! Connections that stall or pile up cannot take the server down: a request head must arrive
//! in time, an idle kept-alive connection is closed, and connections are capped per address
//! and in total, answered at once with an error body, while `/health/live` stays answerable.

use crate::support::*;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

fn server_addr(server: &Server) -> SocketAddr {
    server.base.trim_start_matches("http://").parse().unwrap()
}

/// A TCP connection to `to` from the loopback address `from`.
async fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(IpAddr::from(from), 0)).unwrap();
    socket.connect(to).await.unwrap()
}

/// Reads until the server closes the connection; returns what it sent. Bounded by `limit`.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut got = Vec::new();
    let done = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    done.ok()
        .map(|()| String::from_utf8_lossy(&got).into_owned())
}

async fn get(stream: &mut TcpStream, path: &str, close: bool) {
    let connection = if close { "close" } else { "keep-alive" };
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nhost: roster\r\nconnection: {connection}\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
}

/// The body of an HTTP answer read off the wire.
fn body(answer: &str) -> serde_json::Value {
    serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or_default()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_heads_and_idle_connections_are_closed() {
    let server = Server::start_with(
        Backend::Sqlite,
        Options {
            args: &["--header-timeout-secs", "1"],
            ..Default::default()
        },
    )
    .await;
    let addr = server_addr(&server);
    // A head sent a byte at a time, slower than the timeout allows.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    let dripping = async {
        for byte in b"GET /health/live HTTP/1.1\r\nhost: roster\r\n"
            .iter()
            .cycle()
        {
            if slow.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            if started.elapsed() > Duration::from_secs(10) {
                return;
            }
        }
    };
    dripping.await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "a dripping head is cut off: {:?}",
        started.elapsed()
    );

    // A kept-alive connection with nothing more to say is closed after the same time.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    get(&mut idle, "/health/live", false).await;
    let started = Instant::now();
    let answer = read_until_closed(&mut idle, Duration::from_secs(5))
        .await
        .expect("the idle connection is closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        started.elapsed() >= Duration::from_millis(900)
            && started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_capped_per_address_with_an_error_body() {
    let server = Server::start_with(
        Backend::Sqlite,
        Options {
            args: &[
                "--max-connections-per-address",
                "5",
                "--header-timeout-secs",
                "30",
            ],
            ..Default::default()
        },
    )
    .await;
    let addr = server_addr(&server);
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(connect_from([127, 0, 0, 2], addr).await);
    }
    // Let the server count them: one request on a sixth from another address answers once they are.
    let mut probe = connect_from([127, 0, 0, 3], addr).await;
    get(&mut probe, "/health/live", true).await;
    assert!(read_until_closed(&mut probe, Duration::from_secs(5))
        .await
        .unwrap()
        .starts_with("HTTP/1.1 200"));
    let mut sixth = connect_from([127, 0, 0, 2], addr).await;
    let answer = read_until_closed(&mut sixth, Duration::from_secs(5))
        .await
        .expect("refused at once");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert_eq!(body(&answer)["error_code"], "SYSTEM.0004", "{answer}");
    // Others are served meanwhile.
    let mut other = connect_from([127, 0, 0, 4], addr).await;
    get(&mut other, "/health/live", true).await;
    assert!(read_until_closed(&mut other, Duration::from_secs(5))
        .await
        .unwrap()
        .starts_with("HTTP/1.1 200"));
    drop(held);
}

/// A few thousand idle sockets from several addresses fill the total cap; the node still
/// answers `/health/live` from elsewhere, and other requests get 503 with a body, at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_server_still_answers_liveness() {
    let server = Server::start_with(
        Backend::Sqlite,
        Options {
            args: &[
                "--max-connections",
                "1000",
                "--max-connections-per-address",
                "300",
                "--header-timeout-secs",
                "30",
            ],
            ..Default::default()
        },
    )
    .await;
    let addr = server_addr(&server);
    let mut held = Vec::new();
    for n in 0..1500 {
        held.push(connect_from([127, 0, 1, 1 + (n % 6) as u8], addr).await);
    }
    // Over the cap, from an address that holds nothing: liveness yes, the API no.
    let started = Instant::now();
    let mut live = connect_from([127, 0, 2, 1], addr).await;
    get(&mut live, "/health/live", false).await;
    let answer = read_until_closed(&mut live, Duration::from_secs(5))
        .await
        .expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let mut api = connect_from([127, 0, 2, 2], addr).await;
    get(&mut api, "/api/v2/tenant/users", true).await;
    let answer = read_until_closed(&mut api, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert_eq!(body(&answer)["error_code"], "SYSTEM.0004");
    drop(held);
    // Once they go, the API answers again.
    let mut after = connect_from([127, 0, 2, 3], addr).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        get(&mut after, "/api/v2/tenant/users", true).await;
        let answer = read_until_closed(&mut after, Duration::from_secs(5))
            .await
            .unwrap();
        if answer.starts_with("HTTP/1.1 401") {
            break;
        }
        assert!(Instant::now() < deadline, "{answer}");
        tokio::task::yield_now().await;
        after = connect_from([127, 0, 2, 3], addr).await;
    }
}

/// Started with a low soft limit on open files, the server raises it to the hard limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_file_limit_is_raised() {
    let hard = std::fs::read_to_string("/proc/self/limits")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(4).map(str::to_owned))
        .unwrap();
    if hard == "unlimited" || hard.parse::<u64>().unwrap() <= 1024 {
        eprintln!("skipped: the hard limit ({hard}) leaves nothing to raise");
        return;
    }
    let db = TestDb::fresh(Backend::Sqlite).await;
    let mut cmd = tokio::process::Command::new("bash");
    base_env(&mut cmd);
    cmd.arg("-c")
        .arg(format!(
            "ulimit -Sn 1024 && exec {} serve --listen 127.0.0.1:0 --database {}",
            roster_bin(),
            db.url
        ))
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().unwrap();
    let mut lines =
        tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(child.stdout.take().unwrap()));
    let listening = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(listening.starts_with("roster listening on"), "{listening}");
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id().unwrap())).unwrap();
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .unwrap();
    assert_eq!(soft, hard, "{limits}");
    child.kill().await.unwrap();
}
