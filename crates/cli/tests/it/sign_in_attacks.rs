//! What attacks on sign-in found (issue #25), each held by a test: concurrent guesses,
//! revocation on every state change, enumeration, unbounded writes, and the smaller tricks.
//! docs/security.md names each attack with its test here.

use crate::sign_in::*;
use crate::support::*;
use serde_json::json;

/// Password-grant answers to `guesses`, all sent at once.
async fn guess_at_once(server: &Server, f: &Fixture, guesses: &[&str]) -> Vec<(u16, String)> {
    let calls = guesses.iter().map(|password| {
        let form = [
            ("grant_type", "password"),
            ("username", f.user_name.as_str()),
            ("password", password),
        ];
        async move {
            let (status, body) =
                client_post(server, "/api/v1/oauth2/token", creds(&f.app), &form).await;
            let said = body["error_description"].as_str().unwrap_or("").to_owned();
            (status, said)
        }
    });
    futures::future::join_all(calls).await
}

/// Sixteen guesses sent at once: only as many as the lock allows are checked, the others are
/// refused as locked before any hash; the right one, if it came too late, never signs in.
#[on_each_store]
async fn concurrent_guesses_do_not_pass_the_lock(backend: Backend) {
    let mut server = Server::start_with(
        backend,
        Options {
            args: &["--sign-in-rate-per-address", "1000"],
            ..Default::default()
        },
    )
    .await;
    let admin = server.admin().await;
    let f = fixture(
        &mut server,
        json!({"grants": ["authorization_code", "password"]}),
    )
    .await;
    let mut guesses = vec!["wrong-password"; 15];
    guesses.push(PASSWORD);
    let answers = guess_at_once(&server, &f, &guesses).await;
    let checked = answers
        .iter()
        .filter(|(status, said)| *status == 200 || said == "Bad credentials")
        .count();
    let locked = answers
        .iter()
        .filter(|(_, said)| said.contains("locked"))
        .count();
    assert!(checked <= 5, "{answers:?}");
    assert_eq!(checked + locked, 16, "{answers:?}");
    let signed_in = answers.iter().any(|(status, _)| *status == 200);
    let (_, user) = server.get(&admin, &format!("/users/{}", f.user_id)).await;
    // Five were checked: either all five wrong (locked), or the right one among them.
    if !signed_in {
        assert_eq!(user["locked"], true, "{answers:?}");
    }
    // Locked or not, a later right password does not undo the count of the wrong ones.
    let later = guess_at_once(&server, &f, &[PASSWORD]).await;
    if user["locked"] == true {
        assert!(later[0].1.starts_with("User is locked"), "{later:?}");
    }
}

/// Two spellings of one login count as one, whether anybody has it or not: the remaining
/// attempts a page shows do not tell a registered mobile or email from an unknown one.
#[on_each_store]
async fn spellings_of_one_name_count_alike_known_or_not(backend: Backend) {
    let mut server = Server::start(backend).await;
    let f = fixture(&mut server, json!({})).await;
    let browser = Browser::new(&server);
    let page = browser.get("/login").await.body;
    let dashed = |m: &str| format!("{}-{}-{}", &m[..3], &m[3..7], &m[7..]);
    let known = mobile_for(&f.user_name);
    let unknown = "13912345678";
    assert_ne!(known, unknown);
    let email = format!("{}@example.com", f.user_name);
    let mut said = Vec::new();
    for names in [
        [known.clone(), dashed(&known)],
        [unknown.to_owned(), dashed(unknown)],
        [email.clone(), email.to_uppercase()],
        ["nobody@example.com".into(), "NOBODY@example.com".into()],
    ] {
        let mut texts = Vec::new();
        for name in names {
            let hop = browser.submit(&page, &name, "wrong-password").await;
            assert_eq!(hop.status, 401);
            texts.push(alert(&hop.body).unwrap());
        }
        said.push(texts);
    }
    // The known user counted all four wrong passwords (mobile and email are one user).
    let remaining = |n: u32| format!("Invalid account name or password. Remaining attempts: {n}");
    assert_eq!(said[0], [remaining(4), remaining(3)]);
    assert_eq!(said[1], [remaining(4), remaining(3)]);
    assert_eq!(said[2], [remaining(2), remaining(1)]);
    assert_eq!(said[3], [remaining(4), remaining(3)]);
}
