//! The OpenAPI document describes every route, and every documented route answers.

use crate::support::*;
use serde_json::Value;

const GHOST: &str = "20210621095931341-4CB3-122995DE2";

#[on_each_store]
async fn every_documented_route_answers(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let res = server
        .http
        .get(format!("{}/openapi.json", server.base))
        .send()
        .await
        .unwrap();
    let (status, doc) = read(res).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 30, "{} paths", paths.len());
    let mut calls = 0;
    for (path, operations) in paths {
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { GHOST } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for (method, operation) in operations.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                // A redirect is the success of the browser-facing sign-in routes.
                responses
                    .keys()
                    .any(|s| s.starts_with('2') || s.starts_with('3')),
                "{method} {path} documents no success"
            );
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut req = server
                .http
                .request(m, format!("{}{concrete}", server.base))
                .bearer_auth(&token);
            if operation.get("requestBody").is_some() && path != "/api/v2/tenant/token" {
                req = req.header("Content-Type", "application/json").body("{}");
            }
            let res = req.send().await.unwrap();
            calls += 1;
            // A followed redirect (logout, to the login page) answers for another route.
            let redirected = res.url().path() != concrete;
            // Pages for browsers, and CAS's and SAML's own answers (text, XML): no JSON error
            // body.
            let html = res.headers().get("content-type").is_some_and(|t| {
                let t = t.to_str().unwrap();
                [
                    "text/html",
                    "text/plain",
                    "application/xml",
                    "application/samlmetadata+xml",
                ]
                .iter()
                .any(|kind| t.starts_with(kind))
            });
            let status = res.status().as_u16();
            let body = if html {
                // Pages for browsers (the login form): no JSON error body to check.
                assert!(status < 500, "{method} {path} → {status}");
                assert!(
                    redirected || responses.contains_key(&status.to_string()),
                    "{method} {path} answers an undocumented {status}"
                );
                continue;
            } else {
                read(res).await.1
            };
            assert!(
                status != 404 && status != 405,
                "{method} {path} → {status} {body}"
            );
            assert!(status < 500, "{method} {path} → {status} {body}");
            if status >= 400 {
                // The two error styles of OneAccess: OAuth's on the sign-in endpoints.
                let code = if path.starts_with("/api/v1/") {
                    "error"
                } else {
                    "error_code"
                };
                assert!(body[code].is_string(), "{method} {path} → {body}");
                assert!(
                    responses.contains_key(&status.to_string()),
                    "{method} {path} answers an undocumented {status}"
                );
            }
        }
    }
    assert!(calls >= 45, "{calls} operations");
    // Client generators name methods by operationId: each must be there and unique.
    let mut ids: Vec<&str> = paths
        .values()
        .flat_map(|ops| ops.as_object().unwrap().values())
        .map(|op| {
            op["operationId"]
                .as_str()
                .expect("every operation has an operationId")
        })
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "operationIds repeat");
    for reference_name in [
        "ShowAuthToken",
        "ListUsers",
        "ShowAppAccountById",
        "CreateAppAccountForUser",
        "ListAppRoleMembers",
    ] {
        assert!(
            ids.contains(&reference_name),
            "no operation {reference_name}"
        );
    }
    // The reference's odd spellings are documented as they are.
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["RoleMemberFields"]["properties"]
        .get("account_Ids")
        .is_some());
    assert!(schemas["RoleView"]["properties"].get("createdAt").is_some());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        Value::from("bearer")
    );
}

#[tokio::test]
async fn the_cli_prints_the_same_document() {
    let out = tokio::process::Command::new(roster_bin())
        .arg("openapi")
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let server = Server::start(Backend::Sqlite).await;
    let res = server
        .http
        .get(format!("{}/openapi.json", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(read(res).await.1, printed);
}
