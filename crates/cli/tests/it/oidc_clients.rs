//! Sign-in driven by an independent OpenID Connect library from PyPI (authlib), as an
//! integration written in Python would run it. Reported as ignored unless
//! `ROSTER_TEST_PYTHON` names a Python with `authlib` and `requests` (`.ci/run` makes one).

use crate::sign_in::*;
use crate::support::*;
use serde_json::json;

#[cfg_attr(
    not(roster_python),
    ignore = "set ROSTER_TEST_PYTHON to a Python with authlib and requests to run"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_signs_in_refreshes_introspects_revokes_and_logs_out() {
    let mut server = Server::start(Backend::Sqlite).await;
    let f = fixture(&mut server, json!({})).await;
    let python = std::env::var("ROSTER_TEST_PYTHON").unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/oidc_authlib.py");
    let out = tokio::process::Command::new(python)
        .args([
            script,
            &server.base,
            &f.app.client_id,
            &f.app.client_secret,
            REDIRECT,
            &f.user_name,
            PASSWORD,
        ])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let seen: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(seen["sub"], f.user_id, "{seen}");
    assert_eq!(seen["userName"], f.user_name.as_str());
    assert_eq!(seen["ok"], true);
}
