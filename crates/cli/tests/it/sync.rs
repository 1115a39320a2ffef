//! `ListUsers?updated_at_greater=…`: incremental sync of changed users, as real sync code calls
//! it (with `org_id` and paging).

use crate::support::*;
use serde_json::{json, Value};

/// `(updated_at, user_id)` of every listed user, in the order listed.
fn changes(body: &Value) -> Vec<(String, String)> {
    body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["updated_at"].as_str().unwrap().to_owned(),
                u["user_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `yyyy-MM-dd HH:mm:ss.SSS` (UTC) to epoch milliseconds, by the days-from-civil formula.
fn epoch_ms(t: &str) -> i64 {
    let n = |r: std::ops::Range<usize>| t[r].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    ((days * 24 + n(11..13)) * 60 + n(14..16)) * 60_000 + n(17..19) * 1000 + n(20..23)
}

#[on_each_store]
async fn updated_at_greater_lists_changes_in_order(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let (_, body) = server
        .post(&token, "/organizations", json!({"code": "A", "name": "A"}))
        .await;
    let org_a = body["org_id"].as_str().unwrap().to_owned();
    server
        .post(&token, "/organizations", json!({"code": "B", "name": "B"}))
        .await;
    for i in 0..15 {
        let org = if i % 3 == 0 { "B" } else { "A" };
        let (status, body) = server
            .post(&token, "/users", json!({"user_name": format!("s{i:02}"), "mobile": format!("1390000{i:04}"), "org_code": org}))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    // Every user, in the order they changed, over two pages.
    let (status, first) = server
        .get(&token, "/users?updated_at_greater=0&offset=0&limit=10")
        .await;
    assert_eq!(status, 200, "{first}");
    let (_, second) = server
        .get(&token, "/users?updated_at_greater=0&offset=1&limit=10")
        .await;
    assert_eq!(
        (first["total"].as_i64(), second["total"].as_i64()),
        (Some(15), Some(15))
    );
    let mut all = changes(&first);
    all.extend(changes(&second));
    assert_eq!(all.len(), 15);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "ordered by change time, then id");

    // The boundary: strictly after. The user changed at T is not listed for T, but is for T - 1 ms.
    let (t, pivot) = all[7].clone();
    let after: Vec<_> = all.iter().filter(|(u, _)| *u > t).cloned().collect();
    let (_, body) = server
        .get(
            &token,
            &format!(
                "/users?updated_at_greater={}&limit=100",
                t.replace(' ', "%20")
            ),
        )
        .await;
    assert_eq!(changes(&body), after);
    assert_eq!(body["total"].as_i64(), Some(after.len() as i64));
    let ms = epoch_ms(&t);
    let (_, by_ms) = server
        .get(&token, &format!("/users?updated_at_greater={ms}&limit=100"))
        .await;
    assert_eq!(
        changes(&by_ms),
        after,
        "epoch milliseconds mean the same time"
    );
    let (_, just_before) = server
        .get(
            &token,
            &format!("/users?updated_at_greater={}&limit=100", ms - 1),
        )
        .await;
    assert!(changes(&just_before).iter().any(|(_, id)| *id == pivot));

    // A user changed now moves to the end of the changes.
    let last = all.last().unwrap().0.clone();
    let (status, _) = server
        .put(
            &token,
            &format!("/users/{pivot}"),
            json!({"name": "renamed"}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, body) = server
        .get(
            &token,
            &format!("/users?updated_at_greater={}&limit=100", epoch_ms(&last)),
        )
        .await;
    let latest = changes(&body);
    assert_eq!(
        latest.last().map(|(_, id)| id.as_str()),
        Some(pivot.as_str()),
        "{body}"
    );

    // With org_id: only that organization's changes, counted alone.
    let (_, body) = server
        .get(
            &token,
            &format!("/users?org_id={org_a}&updated_at_greater=0&offset=0&limit=10"),
        )
        .await;
    assert_eq!(body["total"].as_i64(), Some(10));
    assert!(body["users"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["org_id"] == org_a.as_str()));
    let (_, body) = server
        .get(
            &token,
            &format!("/users?org_id={org_a}&updated_at_greater=4102444800000"),
        )
        .await;
    assert_eq!(
        (
            body["total"].as_i64(),
            body["users"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    // Empty means not given, as for every query parameter.
    assert_eq!(
        server.get(&token, "/users?updated_at_greater=").await.1["total"].as_i64(),
        Some(15)
    );

    for bad in [
        "yesterday",
        "2022-02-10",
        "2022-13-01%2000:00:00.000",
        "-1",
        "1.5",
        "99999999999999999999",
    ] {
        let answer = server
            .get(&token, &format!("/users?updated_at_greater={bad}"))
            .await;
        assert_error(&answer, 400, "PARAM.0001");
        assert!(
            answer.1["error_msg"]
                .as_str()
                .unwrap()
                .contains("updated_at_greater"),
            "{}",
            answer.1
        );
    }
}
