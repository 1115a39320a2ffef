//! The keys that sign id_tokens: made at the first start, kept across restarts, the same on
//! every node, rotated by `roster keys rotate` with the previous key still published.

use crate::support::*;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::DecodingKey;

/// The published key set, read as a relying party reads it; its key ids.
async fn key_set(server: &Server) -> Vec<String> {
    let res = server
        .http
        .get(format!("{}/api/v1/oauth2/keys", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=300",
        "relying parties may cache the set"
    );
    let set: JwkSet = res.json().await.unwrap();
    set.keys
        .iter()
        .map(|jwk| {
            assert!(
                matches!(jwk.algorithm, AlgorithmParameters::RSA(_)),
                "an RSA key"
            );
            DecodingKey::from_jwk(jwk).expect("a usable verification key");
            jwk.common.key_id.clone().expect("a kid")
        })
        .collect()
}

/// Servers that generate their first key (the test servers' fixed key file unset).
const GENERATE: Options<'static> = Options {
    args: &[],
    env: &[],
    unset: &["ROSTER_SIGNING_KEY_FILE"],
    log_file: None,
};

#[on_each_store]
async fn a_key_is_made_at_the_first_start_and_kept(backend: Backend) {
    let server = Server::start_with(backend, GENERATE).await;
    let first = key_set(&server).await;
    assert_eq!(first.len(), 1, "{first:?}");
    // No credentials needed: the key set is public.
    let db = server.stop().await;
    let server = Server::start_on(db, GENERATE).await;
    assert_eq!(key_set(&server).await, first, "a restart keeps the key");
    let generated = Server::start_with(backend, GENERATE).await;
    assert_ne!(
        key_set(&generated).await,
        first,
        "each database makes its own"
    );
}

/// The kid (RFC 7638 thumbprint) of the test key file, as openssl and Python compute it.
async fn fixture_kid() -> String {
    let script = "import sys,json,base64,hashlib,subprocess\n\
        der=subprocess.run(['openssl','rsa','-in',sys.argv[1],'-noout','-modulus'],capture_output=True,text=True,check=True).stdout\n\
        n=bytes.fromhex(der.strip().split('=')[1])\n\
        b=lambda x: base64.urlsafe_b64encode(x).rstrip(b'=').decode()\n\
        jwk=json.dumps({'e':b((65537).to_bytes(3,'big')),'kty':'RSA','n':b(n)},separators=(',',':'))\n\
        print(b(hashlib.sha256(jwk.encode()).digest()))";
    let out = tokio::process::Command::new("python3")
        .args(["-c", script, TEST_SIGNING_KEY_FILE])
        .output()
        .await
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[on_each_store]
async fn a_key_file_is_the_first_key_of_every_fresh_database(backend: Backend) {
    let expected = fixture_kid().await;
    let a = Server::start(backend).await;
    let b = Server::start(backend).await;
    assert_eq!(key_set(&a).await, vec![expected.clone()]);
    assert_eq!(key_set(&b).await, vec![expected.clone()]);
    // Once a key exists the file is not read: a rotation generates, and a restart keeps it.
    let db = ["--database", a.db.url.as_str()];
    let (ok, rotated, err) = roster(&[&["keys", "rotate"][..], &db].concat()).await;
    assert!(ok, "{err}");
    let db = a.stop().await;
    let a = Server::start_on(db, Options::default()).await;
    assert_eq!(
        key_set(&a).await,
        vec![rotated["kid"].as_str().unwrap().to_owned(), expected]
    );
}

#[tokio::test]
async fn a_key_file_that_holds_no_usable_key_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_key = dir.path().join("key.pem");
    std::fs::write(&not_a_key, "hello").unwrap();
    let small = dir.path().join("small.pem");
    let made = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
            "-out",
        ])
        .arg(&small)
        .output()
        .unwrap();
    assert!(made.status.success());
    let cases = [
        (
            dir.path().join("missing.pem"),
            "reading the signing key file",
        ),
        (not_a_key, "holds no RSA private key in PEM form"),
        (small, "has 1024 bits; it needs at least 2048"),
    ];
    for (file, expected) in cases {
        let db = dir.path().join("roster.db");
        let mut cmd = tokio::process::Command::new(roster_bin());
        base_env(&mut cmd);
        let out = cmd
            .args(["serve", "--listen", "127.0.0.1:0", "--database"])
            .arg(format!("sqlite://{}", db.display()))
            .arg("--signing-key-file")
            .arg(&file)
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{file:?} started");
        assert!(err.contains(expected), "{file:?}: {err}");
        assert!(
            !db.exists(),
            "{file:?}: nothing is made before the settings are read"
        );
    }
}

#[on_each_store]
async fn rotation_publishes_the_new_key_first_and_keeps_the_old(backend: Backend) {
    let server = Server::start(backend).await;
    let before = key_set(&server).await;
    let db = ["--database", server.db.url.as_str()];
    let (ok, rotated, err) = roster(&[&["keys", "rotate"][..], &db].concat()).await;
    assert!(ok, "{err}");
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, before[0]);
    assert_eq!(
        key_set(&server).await,
        vec![new_kid.clone(), before[0].clone()]
    );

    let (ok, listed, err) = roster(&[&["keys", "list"][..], &db].concat()).await;
    assert!(ok, "{err}");
    assert_eq!(listed["keys"][0]["kid"], new_kid.as_str());
    assert_eq!(listed["keys"][0]["active"], true);
    assert_eq!(listed["keys"][1]["active"], false);
    assert_eq!(listed["keys"][1]["published"], true);
    let audited = server
        .db
        .scalar("SELECT COUNT(*) FROM audit_log WHERE operation = 'RotateSigningKey'")
        .await;
    assert_eq!(audited, 1);
}

#[on_each_store]
async fn rotation_needs_the_secret_key(backend: Backend) {
    let server = Server::start(backend).await;
    let mut cmd = tokio::process::Command::new(roster_bin());
    base_env(&mut cmd);
    let out = cmd
        .env_remove("ROSTER_SECRET_KEY")
        .args(["keys", "rotate", "--database", &server.db.url])
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // SQLite keeps a key file beside the database only when the server made one; the test
    // servers get their key from the environment, so both stores refuse here.
    assert!(!out.status.success());
    assert!(err.contains("ROSTER_SECRET_KEY"), "{err}");
    assert_eq!(key_set(&server).await.len(), 1, "nothing changed");
}

#[cfg_attr(
    not(roster_pg),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_together_agree_on_one_key() {
    let db = TestDb::fresh(Backend::Postgres).await;
    let url = db.url.clone();
    let a = Server::start_on(db, GENERATE);
    let b = Server::start_on(TestDb::borrowed(Backend::Postgres, url), GENERATE);
    let (a, b) = tokio::join!(a, b);
    let on_a = key_set(&a).await;
    assert_eq!(on_a.len(), 1, "{on_a:?}");
    assert_eq!(key_set(&b).await, on_a);
}
