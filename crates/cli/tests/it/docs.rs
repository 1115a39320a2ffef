//! The documentation lists every error the server can return.

use roster_domain::ErrorKind;

#[test]
fn every_error_code_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md"))
        .expect("docs/api.md exists");
    for kind in ErrorKind::ALL {
        let row = format!("| {} | `{}` |", kind.status(), kind.code());
        assert!(
            doc.contains(&row),
            "docs/api.md lacks the row starting {row}"
        );
    }
}

/// The first `sh` block after `heading` in README.md.
fn readme_block(heading: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md exists");
    let after = &readme[readme.find(heading).expect("the heading is in README.md")..];
    let start = after.find("```sh\n").expect("a sh block follows") + "```sh\n".len();
    let len = after[start..].find("```").expect("the block ends");
    after[start..start + len].to_owned()
}

/// The README quickstart, run as written (with `roster` on the PATH, as it asks) against a
/// fresh server in an empty folder, so that the README cannot drift from the product.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_quickstart_runs_as_written() {
    let script = readme_block("## Quickstart");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("quickstart.sh"), &script).unwrap();
    let bin_dir = std::path::Path::new(crate::support::roster_bin())
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // A free port of its own, so that it runs beside other tests and servers.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg("quickstart.sh")
        .current_dir(dir.path())
        .env("PATH", path)
        .env("ROSTER_LISTEN", format!("127.0.0.1:{port}"));
    for (name, _) in std::env::vars() {
        if name.starts_with("ROSTER_") && name != "ROSTER_LISTEN" {
            cmd.env_remove(name);
        }
    }
    // Twice: the second run starts over on its own folder.
    let mut out = None;
    for run in ["first", "second"] {
        let done = tokio::time::timeout(std::time::Duration::from_secs(120), cmd.output())
            .await
            .expect("the quickstart ends within 2 minutes")
            .unwrap();
        let stdout = String::from_utf8_lossy(&done.stdout);
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert!(
            done.status.success(),
            "the {run} quickstart failed:\n{stdout}\n{stderr}"
        );
        out = Some(done);
    }
    let out = out.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The last lines: the account, userinfo, the console's first administrator, and the
    // console's dashboard (the server's own line comes first).
    let mut last: Vec<&str> = stdout.lines().rev().take(4).collect();
    assert_eq!(
        last.first().copied(),
        Some("<h1>Dashboard</h1>"),
        "{stdout}"
    );
    last.remove(0);
    let lines: Vec<serde_json::Value> = last
        .into_iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}\n{stdout}")))
        .collect();
    assert_eq!(
        lines[0],
        serde_json::json!({"user_name": "zhangsan", "role": "admin"}),
        "{stdout}"
    );
    let lines = &lines[1..];
    let account = &lines[1];
    assert_eq!(
        (
            account["account_name"].as_str(),
            account["account_type"].as_str()
        ),
        (Some("zhangsan"), Some("BASIC_ACCOUNT")),
        "{stdout}"
    );
    // The user signed in to the application: userinfo says who.
    let userinfo = &lines[0];
    assert_eq!(userinfo["userName"], "zhangsan", "{stdout}");
    assert_eq!(userinfo["id"], userinfo["sub"]);
    let credentials: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("quickstart-data/crm-credentials.json")).unwrap(),
    )
    .unwrap();
    assert!(
        credentials["client_secret"]
            .as_str()
            .is_some_and(|s| s.len() >= 32),
        "the new application's secret is kept"
    );
}
