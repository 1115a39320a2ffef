//! `roster export` and `roster import all`: the whole directory as JSON lines, into an empty
//! database of either kind, all or nothing; a round trip gives the very same export.

use crate::support::*;
use serde_json::json;

/// A directory with one of everything, and an organization moved under a later one.
async fn fill(server: &mut Server) -> AppCreds {
    let token = server.admin().await;
    let org = |code: &str, parent: Option<&str>| {
        let mut body = json!({"code": code, "name": code});
        if let Some(p) = parent {
            body["parent_id"] = json!(p);
        }
        body
    };
    let (_, x) = server.post(&token, "/organizations", org("x", None)).await;
    let x = x["org_id"].as_str().unwrap().to_owned();
    let (_, y) = server.post(&token, "/organizations", org("y", None)).await;
    let y = y["org_id"].as_str().unwrap().to_owned();
    let (_, z) = server
        .post(&token, "/organizations", org("z", Some(&x)))
        .await;
    let z = z["org_id"].as_str().unwrap().to_owned();
    assert_eq!(
        server
            .put(
                &token,
                &format!("/organizations/{x}"),
                json!({"parent_id": y})
            )
            .await
            .0,
        200
    );
    let (status, u1) = server
        .post(&token, "/users", json!({"user_name": "zhangsan", "mobile": "13800000001", "password": "Secret-pass-1", "org_code": "z",
            "email": "zs@example.com", "attr_city": "Shenzhen", "extension": {"k": [1, 2]}, "user_org_relation_list": [{"org_id": y, "relation_type": "1"}]}))
        .await;
    assert_eq!(status, 201, "{u1}");
    let u1 = u1["user_id"].as_str().unwrap().to_owned();
    let u2 = server.create_user("lisi").await;
    let app = server.create_app(&["all"]).await;
    let a = &app.application_id;
    let (_, g1) = server
        .post(
            &token,
            &format!("/applications/{a}/organizations"),
            json!({"org_code": "g1", "name": "G1"}),
        )
        .await;
    let g1 = g1["org_id"].as_str().unwrap().to_owned();
    server
        .post(
            &token,
            &format!("/applications/{a}/organizations"),
            json!({"org_code": "g2", "name": "G2", "parent_id": g1}),
        )
        .await;
    let (_, role) = server
        .post(
            &token,
            &format!("/applications/{a}/role"),
            json!({"code": "admin", "name": "Admin"}),
        )
        .await;
    let role = role["role_id"].as_str().unwrap().to_owned();
    let acc1 = server.authorize(&u1, a).await;
    let (status, _) = server.post(&token, &format!("/applications/{a}/accounts/basic-account"), json!({"user_id": u2, "org_code": "g2", "password": "Account-pw-1", "extension": {"level": 3}})).await;
    assert_eq!(status, 201);
    server
        .post(
            &token,
            &format!("/applications/{a}/role-member"),
            json!({"role_id": role, "account_Ids": [acc1]}),
        )
        .await;
    let sso = json!({"protocol": "oidc", "redirect_uris": ["https://crm.example.com/cb"],
        "claims": [{"claim": "roles", "source": {"type": "roles"}}]});
    let (status, _) = server
        .put(&token, &format!("/roster/v1/applications/{a}/sso"), sso)
        .await;
    assert_eq!(status, 200);
    let _ = z;
    app
}

async fn export(url: &str) -> String {
    let (ok, out, err) = roster(&["export", "--database", url]).await;
    assert!(ok, "{err}");
    out.as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| out.to_string())
}

async fn import(url: &str, lines: &str) -> (bool, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.jsonl");
    std::fs::write(&file, lines).unwrap();
    roster(&["import", "all", "--database", url, file.to_str().unwrap()]).await
}

async fn round_trip(to: Backend) {
    let mut server = Server::start(Backend::Sqlite).await;
    let app = fill(&mut server).await;
    let from = server.stop().await;
    let first = export(&from.url).await;
    let kinds: Vec<String> = first
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for kind in [
        "application",
        "sso",
        "signing_key",
        "organization",
        "user",
        "app_organization",
        "role",
        "account",
        "role_member",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in the export");
    }
    assert!(
        first.contains("\"password_hash\":\"$argon2id$"),
        "password hashes travel"
    );

    let target = TestDb::fresh(to).await;
    let (ok, answer, err) = import(&target.url, &first).await;
    assert!(ok, "{err}");
    assert_eq!(answer["imported"].as_u64(), Some(kinds.len() as u64));
    assert_eq!(
        export(&target.url).await,
        first,
        "the copy exports the very same lines"
    );

    // The copy serves: an application's credentials, its accounts, a user's relations.
    let copy = Server::start_on(target, Options::default()).await;
    let token = copy.token_for(&app.client_id, &app.client_secret).await;
    let (status, users) = copy.get(&token, "/users?offset=0&limit=10").await;
    assert_eq!((status, users["total"].as_i64()), (200, Some(2)));
    let (_, shown) = copy
        .post(
            &token,
            "/users/user-by-username",
            json!({"user_name": "zhangsan"}),
        )
        .await;
    assert_eq!(
        shown["user_org_relation_list"].as_array().map(Vec::len),
        Some(2)
    );

    // Only into an empty database.
    let (ok, _, err) = import(&copy.db.url, &first).await;
    assert!(!ok && err.contains("not empty"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_to_sqlite_round_trip() {
    round_trip(Backend::Sqlite).await;
}

#[cfg_attr(
    not(roster_pg),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_to_postgres_round_trip() {
    round_trip(Backend::Postgres).await;
}

/// A bad line anywhere: nothing is imported, and the message names the line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_is_all_or_nothing() {
    let mut server = Server::start(Backend::Sqlite).await;
    fill(&mut server).await;
    let from = server.stop().await;
    let lines = export(&from.url).await;
    let mut broken: Vec<&str> = lines.lines().collect();
    let last = broken.len();
    broken.push("{\"kind\": \"user\", \"id\": 5}");
    let target = TestDb::fresh(Backend::Sqlite).await;
    let (ok, _, err) = import(&target.url, &broken.join("\n")).await;
    assert!(!ok && err.contains(&format!("line {}", last + 1)), "{err}");
    assert_eq!(target.scalar("SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(target.scalar("SELECT COUNT(*) FROM applications").await, 0);
}
