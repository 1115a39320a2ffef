//! Roster extension: an application's sign-in settings, over HTTP and at the command line.

use crate::support::*;
use serde_json::{json, Value};

fn sso_path(app: &str) -> String {
    format!("/roster/v1/applications/{app}/sso")
}

#[on_each_store]
async fn settings_are_set_whole_read_back_and_audited(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = server.admin().await;
    let app = server.app_id().await;
    let path = sso_path(&app);

    assert_error(&server.get(&admin, &path).await, 404, "APP.0006");

    let (status, set) = server
        .call(
            "PUT",
            &admin,
            &path,
            Some(json!({
                "protocol": "oidc",
                "redirect_uris": ["https://crm.example.com/callback", "https://crm.example.com"],
                "logout_urls": ["https://crm.example.com/bye"],
                "claims": [
                    {"claim": "department", "source": {"type": "user", "value": "extension.dept"}},
                    {"claim": "roles", "source": {"type": "roles"}}
                ]
            })),
        )
        .await;
    assert_eq!(status, 200, "{set}");
    // Absent fields take the reference's defaults.
    assert_eq!(set["grants"], json!(["authorization_code"]));
    assert_eq!(set["access_token_ttl_secs"], 7200);
    assert_eq!(set["refresh_token_ttl_secs"], Value::Null);
    assert_eq!(set["id_token_alg"], "RS256");
    assert_eq!(server.get(&admin, &path).await, (200, set.clone()));

    // PUT replaces everything: what it leaves out goes back to the default.
    let (status, replaced) = server
        .put(
            &admin,
            &path,
            json!({
                "protocol": "oauth2",
                "redirect_uris": ["http://localhost:8080/cb"],
                "grants": ["authorization_code", "password"],
                "refresh_token_ttl_secs": 86400
            }),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["claims"], json!([]));
    assert_eq!(replaced["logout_urls"], json!([]));
    assert_eq!(replaced["refresh_token_ttl_secs"], 86400);

    let audited = format!(
        "SELECT COUNT(*) FROM audit_log WHERE operation = 'UpdateApplicationSso' \
         AND target_id = '{app}'"
    );
    assert_eq!(server.db.scalar(&audited).await, 2);
}

#[on_each_store]
async fn bad_settings_are_refused_and_change_nothing(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = server.admin().await;
    let app = server.app_id().await;
    let path = sso_path(&app);
    let good = json!({"protocol": "oidc", "redirect_uris": ["https://a.example.com/cb"]});
    assert_eq!(server.put(&admin, &path, good.clone()).await.0, 200);

    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    for bad in [
        with("redirect_uris", json!([])),
        with("redirect_uris", json!(["/relative"])),
        with("redirect_uris", json!(["javascript:alert(1)"])),
        with(
            "redirect_uris",
            json!(["https://a.example.com/cb#fragment"]),
        ),
        with("logout_urls", json!(["ftp://a.example.com/"])),
        with("grants", json!(["magic"])),
        with("grants", json!([])),
        with("access_token_ttl_secs", json!(5)),
        with("id_token_alg", json!("HS256")),
        with(
            "claims",
            json!([{"claim": "sub", "source": {"type": "roles"}}]),
        ),
        with(
            "claims",
            json!([{"claim": "x", "source": {"type": "user", "value": "password_hash"}}]),
        ),
        with("redirect_uri", json!("https://a.example.com/cb")),
        json!({"redirect_uris": ["https://a.example.com/cb"]}),
    ] {
        assert_error(
            &server.put(&admin, &path, bad.clone()).await,
            400,
            "PARAM.0001",
        );
    }
    let (_, unchanged) = server.get(&admin, &path).await;
    assert_eq!(
        unchanged["redirect_uris"],
        json!(["https://a.example.com/cb"])
    );

    // Only `all` administers sign-in; an unknown application is APP.0001.
    let other = server.create_app(&["app_all"]).await;
    let token = server
        .token_for(&other.client_id, &other.client_secret)
        .await;
    assert_error(&server.get(&token, &path).await, 403, "TOKEN.0005");
    assert_error(
        &server
            .put(&admin, &sso_path("20200101000000000-0000-000000000"), good)
            .await,
        400,
        "APP.0001",
    );
}

/// An application users only sign in to needs no management-API permission; one with
/// neither permission nor sign-in settings is refused, saying what it needs.
#[on_each_store]
async fn a_sign_in_only_application_needs_no_api_permission(backend: Backend) {
    let server = Server::start(backend).await;
    let url = server.db.url.clone();
    let name = unique_app_name();
    let (ok, created, err) = roster(&[
        "app",
        "create",
        "--name",
        &name,
        "--sso",
        "oidc",
        "--redirect-uri",
        "https://wiki.example.com/oidc/callback",
        "--database",
        &url,
    ])
    .await;
    assert!(ok, "{err}");
    let id = created["application_id"].as_str().unwrap();
    let (ok, shown, err) = roster(&["app", "show", id, "--database", &url]).await;
    assert!(ok, "{err}");
    assert_eq!(shown["api_permissions"], json!([]), "{shown}");
    let (ok, _, err) = roster(&["app", "create", "--name", "empty", "--database", &url]).await;
    assert!(!ok);
    assert!(err.contains("--api-permission"), "{err}");
}

#[on_each_store]
async fn the_command_line_creates_and_changes_sign_in_settings(backend: Backend) {
    let server = Server::start(backend).await;
    let url = server.db.url.clone();
    let db = ["--database", url.as_str()];
    let name = unique_app_name();
    let (ok, created, err) = roster(
        &[
            &[
                "app",
                "create",
                "--name",
                &name,
                "--api-permission",
                "user_read",
                "--sso",
                "oidc",
                "--redirect-uri",
                "https://wiki.example.com/oidc/callback",
                "--grant",
                "authorization_code",
                "--grant",
                "implicit",
            ][..],
            &db,
        ]
        .concat(),
    )
    .await;
    assert!(ok, "{err}");
    let id = created["application_id"].as_str().unwrap();

    let (ok, shown, err) = roster(&[&["app", "sso", id][..], &db].concat()).await;
    assert!(ok, "{err}");
    assert_eq!(shown["protocol"], "oidc");
    assert_eq!(shown["grants"], json!(["authorization_code", "implicit"]));

    // Flags change only what they name.
    let (ok, changed, err) = roster(
        &[
            &[
                "app",
                "sso",
                id,
                "--logout-url",
                "https://wiki.example.com/",
                "--claim",
                "dept=user:extension.dept",
                "--claim",
                "groups=roles",
                "--refresh-token-ttl",
                "3600",
            ][..],
            &db,
        ]
        .concat(),
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(
        changed["redirect_uris"],
        json!(["https://wiki.example.com/oidc/callback"])
    );
    assert_eq!(changed["logout_urls"], json!(["https://wiki.example.com/"]));
    assert_eq!(changed["refresh_token_ttl_secs"], 3600);
    assert_eq!(
        changed["claims"],
        json!([
            {"claim": "dept", "source": {"type": "user", "value": "extension.dept"}},
            {"claim": "groups", "source": {"type": "roles"}}
        ])
    );

    // A bad setting at creation creates nothing.
    let (ok, _, err) = roster(
        &[
            &[
                "app",
                "create",
                "--name",
                &unique_app_name(),
                "--api-permission",
                "user_read",
                "--sso",
                "oauth2",
                "--redirect-uri",
                "not a url",
            ][..],
            &db,
        ]
        .concat(),
    )
    .await;
    assert!(!ok);
    assert!(err.contains("redirect_uris"), "{err}");
    let (_, listed, _) = roster(&[&["app", "list"][..], &db].concat()).await;
    assert_eq!(listed["total"], 2, "the bootstrap application and the wiki");
}
