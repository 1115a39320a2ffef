//! The harness itself works: a tiny run prints well-formed JSON with no errors.
// clippy.toml lets #[test] functions unwrap; the helpers of a test crate need this too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

fn run(args: &[&str]) -> Vec<serde_json::Value> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_roster-bench"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn tiny_runs_are_well_formed_and_error_free() {
    for args in [
        vec!["token", "--connections", "2", "--duration", "1"],
        vec!["create-user", "--connections", "2", "--duration", "1"],
        vec![
            "authorize",
            "--connections",
            "2",
            "--duration",
            "1",
            "--rows",
            "300",
        ],
        vec![
            "userinfo",
            "--connections",
            "2",
            "--duration",
            "1",
            "--rows",
            "2",
        ],
        vec![
            "sso-code",
            "--connections",
            "2",
            "--duration",
            "1",
            "--rows",
            "1",
        ],
        vec![
            "list-deep",
            "--connections",
            "2",
            "--duration",
            "1",
            "--rows",
            "1000",
        ],
    ] {
        let lines = run(&args);
        assert_eq!(lines.len(), 1, "{args:?}");
        let line = &lines[0];
        assert_eq!(line["scenario"], args[0]);
        assert_eq!(line["errors"], 0, "{line}");
        assert!(line["requests"].as_u64().unwrap() > 0, "{line}");
        for key in [
            "rps",
            "p50_ms",
            "p90_ms",
            "p99_ms",
            "max_ms",
            "rss_start_kib",
            "rss_end_kib",
            "connections",
            "rows",
        ] {
            assert!(line.get(key).is_some(), "{key} missing: {line}");
        }
    }
}
