//! Secrets: sealed or hashed at rest, never echoed, never logged.

use crate::support::*;
use serde_json::json;

#[on_each_store]
async fn account_passwords_are_sealed(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.app_id().await;
    let user = server.create_user("zhangsan").await;
    let (status, body) = server
        .post(
            &token,
            &format!("/applications/{app}/accounts/basic-account"),
            json!({"user_id": user, "password": "Acc0unt-pw-1"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["account_id"].as_str().unwrap().to_owned();
    let sealed = |needle: &str| {
        format!(
        "SELECT COUNT(*) FROM app_accounts WHERE id = '{id}' AND password_secret LIKE 'v1:%' AND password_secret NOT LIKE '%{needle}%'"
    )
    };
    assert_eq!(server.db.scalar(&sealed("Acc0unt-pw-1")).await, 1);
    server
        .put(
            &token,
            &format!("/applications/{app}/accounts/{id}"),
            json!({"password": "Acc0unt-pw-2"}),
        )
        .await;
    assert_eq!(server.db.scalar(&sealed("Acc0unt-pw-2")).await, 1);
    // Tokens are stored by their issue time and SHA-256 only, never as issued.
    let stored = |condition: &str| format!("SELECT COUNT(*) FROM access_tokens WHERE {condition}");
    assert_eq!(
        server
            .db
            .scalar(&stored(&format!(
                "lookup_key LIKE '{}%' AND length(lookup_key) = 76",
                &token[..12]
            )))
            .await,
        1
    );
    assert_eq!(
        server
            .db
            .scalar(&stored(&format!("lookup_key LIKE '%{}%'", &token[12..])))
            .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_store_keeps_its_key_beside_the_database() {
    let db = TestDb::fresh(Backend::Sqlite).await;
    let key_file = db.sqlite_path().unwrap().with_file_name("roster.key");
    let server = Server::start_on(
        db,
        Options {
            unset: &["ROSTER_SECRET_KEY"],
            ..Default::default()
        },
    )
    .await;
    let meta = std::fs::metadata(&key_file).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        0o600
    );
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(key.trim().len(), 64);
    let db = server.stop().await;
    let server = Server::start_on(
        db,
        Options {
            unset: &["ROSTER_SECRET_KEY"],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        std::fs::read_to_string(&key_file).unwrap(),
        key,
        "the key is kept, not replaced"
    );
    drop(server);
}

#[tokio::test]
async fn postgres_needs_a_configured_key() {
    let out = tokio::process::Command::new(roster_bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            "postgres://postgres@127.0.0.1:1/none",
        ])
        .env_remove("ROSTER_SECRET_KEY")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
}

#[on_each_store]
async fn logs_never_hold_secrets(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let mut server = Server::start_with(
        backend,
        Options {
            env: &[("ROSTER_LOG", "trace")],
            log_file: Some(&log),
            ..Default::default()
        },
    )
    .await;
    let token = server.admin().await;
    let app = server.create_app(&["all"]).await;
    let app_token = server.token_for(&app.client_id, &app.client_secret).await;
    let (_, body) = server
        .post(
            &app_token,
            "/users",
            json!({"user_name": "zs", "mobile": "13800000000", "password": "User-pw-Secret-1"}),
        )
        .await;
    let user = body["user_id"].as_str().unwrap().to_owned();
    server
        .put(
            &token,
            &format!("/users/{user}/change-password"),
            json!({"password": "User-pw-Secret-2"}),
        )
        .await;
    server
        .put(
            &token,
            &format!("/users/{user}/change-password-verify"),
            json!({"old_password": "User-pw-Secret-2", "password": "User-pw-Secret-3"}),
        )
        .await;
    server
        .post(
            &token,
            &format!(
                "/applications/{}/accounts/basic-account",
                app.application_id
            ),
            json!({"user_id": user, "password": "Account-pw-Secret"}),
        )
        .await;
    let bad = server
        .token_call(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app.client_id),
            ("client_secret", "Wrong-secret-guess"),
        ])
        .await;
    assert_eq!(bad.0, 400);
    let rotate = format!(
        "{}/roster/v1/applications/{}/secret",
        server.base, app.application_id
    );
    let res = server
        .http
        .post(rotate)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (_, rotated) = read(res).await;
    // Credentials where they do not belong (refused), and in the Basic header (accepted).
    let in_query = format!(
        "/token?grant_type=client_credentials&client_id={}&client_secret=Query-secret-guess",
        app.client_id
    );
    assert_eq!(
        read(
            server
                .http
                .post(server.url(&in_query))
                .send()
                .await
                .unwrap()
        )
        .await
        .0,
        400
    );
    let basic = server
        .http
        .post(server.url("/token"))
        .basic_auth(ADMIN_ID, Some(ADMIN_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(read(basic).await.0, 200);
    server.stop().await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.len() > 1000, "trace logging ran: {} bytes", text.len());
    for secret in [
        ADMIN_SECRET,
        &token,
        &app.client_secret,
        &app_token,
        "User-pw-Secret",
        "Account-pw-Secret",
        "Wrong-secret-guess",
        "Query-secret-guess",
        // base64 of the Basic header's id:secret
        "aXQtYWRtaW46aXQtYWRtaW4tc2VjcmV0LTAxMjM0NTY3ODk",
        rotated["client_secret"].as_str().unwrap(),
        TEST_SECRET_KEY,
    ] {
        assert!(!text.contains(secret), "the log holds a secret: {secret}");
    }
    // Nor what the store writes (password hashes, sealed passwords, token digests): no
    // statement's parameters, whichever driver would log them.
    assert!(
        !text.contains("with parameters"),
        "the log holds statement parameters"
    );
}

#[on_each_store]
async fn the_secret_key_rotates(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.app_id().await;
    let user = server.create_user("zhangsan").await;
    let (status, body) = server
        .post(
            &token,
            &format!("/applications/{app}/accounts/basic-account"),
            json!({"user_id": user, "password": "Acc0unt-pw-1"}),
        )
        .await;
    assert_eq!(status, 201);
    let id = body["account_id"].as_str().unwrap().to_owned();
    let sql = format!("SELECT password_secret FROM app_accounts WHERE id = '{id}'");
    async fn stored_in(db: &TestDb, sql: &str) -> String {
        db.strings(sql).await.remove(0)
    }
    let before = stored_in(&server.db, &sql).await;
    let key_sql = "SELECT private_key FROM signing_keys";
    let key_before = stored_in(&server.db, key_sql).await;
    let db = server.stop().await;
    let new_key = "ff".repeat(32);
    let rotate = |old: &str| {
        tokio::process::Command::new(roster_bin())
            .args(["rotate-secret-key", "--database", &db.url])
            .env("ROSTER_SECRET_KEY_OLD", old)
            .env("ROSTER_SECRET_KEY", &new_key)
            .output()
    };
    let wrong = rotate(&"ab".repeat(32)).await.unwrap();
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("nothing was changed"));
    assert_eq!(stored_in(&db, &sql).await, before);
    let out = rotate(TEST_SECRET_KEY).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(),
        json!({"resealed": 2}),
        "the account password and the signing key"
    );
    let after = stored_in(&db, &sql).await;
    assert!(after.starts_with("v1:") && after != before && !after.contains("Acc0unt"));
    let key_after = stored_in(&db, key_sql).await;
    assert!(key_after.starts_with("v1:") && key_after != key_before);
    assert!(!key_after.contains("PRIVATE KEY"));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&rotate(TEST_SECRET_KEY).await.unwrap().stdout)
            .unwrap(),
        json!({"resealed": 0})
    );
}
