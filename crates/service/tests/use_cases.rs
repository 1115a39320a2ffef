//! The use cases against an in-process store, without HTTP: logic that decides by time or by
//! transaction, checked where it lives. Each test runs on SQLite and on PostgreSQL, with a
//! clock the test moves instead of sleeping.
// clippy.toml lets #[test] functions unwrap; the helpers of a test crate need this too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support {
    /// The store a test runs on (`#[on_each_store]` names it).
    #[derive(Debug, Clone, Copy)]
    pub enum Backend {
        Sqlite,
        Postgres,
    }
}

use roster_domain::audit::{AuditEntry, AuditFilter};
use roster_domain::page::PageRequest;
use roster_domain::time::ManualClock;
use roster_domain::ErrorKind;
use roster_service::{Caller, Service, Settings};
use roster_store::testing::TestDatabase;
use roster_store::{PgStoreOptions, Store};
use roster_test_macros::on_each_store;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use support::Backend;

const CLIENT_ID: &str = "use-case-client";
const CLIENT_SECRET: &str = "use-case-secret-0123456789";
const DAY: Duration = Duration::from_secs(86_400);

/// A service on a fresh database, its clock, and what to close afterwards.
struct Fixture {
    service: Service,
    clock: Arc<ManualClock>,
    store: Arc<dyn Store>,
    db: TestDatabase,
}

async fn fixture(backend: Backend, settings: Settings) -> Fixture {
    let db = match backend {
        Backend::Sqlite => TestDatabase::sqlite().unwrap(),
        Backend::Postgres => TestDatabase::postgres().await.unwrap(),
    };
    let store = roster_store::open(&db.url, PgStoreOptions::default())
        .await
        .unwrap();
    let clock = Arc::new(ManualClock::at(1_800_000_000_000));
    let service = Service::with_clock(store.clone(), settings, clock.clone()).unwrap();
    Fixture {
        service,
        clock,
        store,
        db,
    }
}

impl Fixture {
    async fn finish(self) {
        self.store.close().await;
        self.db.remove().await.unwrap();
    }

    async fn audit(&self) -> Vec<AuditEntry> {
        let page = PageRequest::new(None, Some(100)).unwrap();
        self.service
            .list_audit(&Caller::operator(), AuditFilter::default(), page)
            .await
            .unwrap()
            .items
    }

    async fn create_org(&self, code: &str) -> roster_domain::organization::OrganizationId {
        let fields = serde_json::from_value(json!({"code": code, "name": code})).unwrap();
        self.service
            .create_organization(&Caller::operator(), fields)
            .await
            .unwrap()
    }
}

#[on_each_store]
async fn a_token_expires_when_the_clock_passes_its_lifetime(backend: Backend) {
    let f = fixture(backend, Settings::default()).await;
    let ttl = f.service.settings().token_ttl;
    f.service
        .bootstrap_application(CLIENT_ID, CLIENT_SECRET)
        .await
        .unwrap();
    let issued = f
        .service
        .issue_token(
            Some("client_credentials"),
            Some(CLIENT_ID),
            Some(CLIENT_SECRET),
            None,
        )
        .await
        .unwrap();
    assert_eq!(issued.expires_in, ttl.as_secs());
    f.service.authenticate(&issued.access_token).await.unwrap();

    // Checked again from the node's cache: still valid a second before the end…
    f.clock.advance(ttl - Duration::from_secs(1));
    f.service.authenticate(&issued.access_token).await.unwrap();
    // …and expired at its end, whatever the cache remembers.
    f.clock.advance(Duration::from_secs(1));
    let expired = f
        .service
        .authenticate(&issued.access_token)
        .await
        .unwrap_err();
    assert_eq!(expired.kind(), ErrorKind::TokenExpired);
    f.finish().await;
}

/// A clock that moves a millisecond each time it is read.
struct Ticking(std::sync::atomic::AtomicI64);

impl roster_domain::time::Clock for Ticking {
    fn now(&self) -> roster_domain::time::Millis {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }
}

/// Users of one import are stamped as they are made, so that their ids (which begin with
/// that time) follow the file's order and sit together in the tables' indexes.
#[on_each_store]
async fn an_import_stamps_each_user_as_it_makes_it(backend: Backend) {
    let f = fixture(backend, Settings::default()).await;
    let clock = Arc::new(Ticking(std::sync::atomic::AtomicI64::new(
        1_800_000_000_000,
    )));
    let service = Service::with_clock(f.store.clone(), Settings::default(), clock).unwrap();
    let (lines, input) = tokio::sync::mpsc::channel(64);
    for n in 1..=40u64 {
        let user = json!({"user_name": format!("u{n:02}"), "mobile": format!("138{n:08}")});
        lines
            .send((n, Ok(serde_json::from_value(user).unwrap())))
            .await
            .unwrap();
    }
    drop(lines);
    assert_eq!(service.import_users("test", input).await.unwrap(), 40);
    let page = PageRequest::new(None, Some(100)).unwrap();
    let users = f
        .service
        .list_users(&Caller::operator(), None, None, page)
        .await
        .unwrap()
        .items;
    let mut by_id: Vec<(String, String)> = users
        .iter()
        .map(|u| (u.id.as_str().to_owned(), u.user_name.clone()))
        .collect();
    by_id.sort();
    let names: Vec<String> = by_id.into_iter().map(|(_, name)| name).collect();
    let in_file_order: Vec<String> = (1..=40).map(|n| format!("u{n:02}")).collect();
    assert_eq!(names, in_file_order);
    f.finish().await;
}

#[on_each_store]
async fn a_refused_change_leaves_neither_rows_nor_audit_records(backend: Backend) {
    let f = fixture(backend, Settings::default()).await;
    f.create_org("HQ").await;
    let user = |name: &str, mobile: &str| {
        serde_json::from_value(json!({"user_name": name, "mobile": mobile, "name": name})).unwrap()
    };
    let caller = Caller::operator();
    f.service
        .create_user(&caller, user("ann", "13800000001"))
        .await
        .unwrap();
    // The same name folded: refused by the database's unique index inside the transaction.
    let taken = f
        .service
        .create_user(&caller, user("ANN", "13800000002"))
        .await
        .unwrap_err();
    assert_eq!(taken.kind(), ErrorKind::UserNameExists);
    let operations: Vec<String> = f.audit().await.into_iter().map(|e| e.operation).collect();
    assert_eq!(
        operations.iter().filter(|o| *o == "CreateUser").count(),
        1,
        "{operations:?}"
    );
    let page = PageRequest::new(None, None).unwrap();
    let users = f
        .service
        .list_users(&caller, None, None, page)
        .await
        .unwrap();
    assert_eq!(users.total, 1);
    f.finish().await;
}

#[on_each_store]
async fn audit_records_go_when_the_clock_passes_the_retention(backend: Backend) {
    let settings = Settings {
        audit_retention: Some(10 * DAY),
        ..Settings::default()
    };
    let f = fixture(backend, settings).await;
    f.create_org("A").await;
    f.create_org("B").await;
    assert_eq!(
        f.service.trim_audit_log().await.unwrap(),
        0,
        "nothing is old"
    );

    f.clock.advance(10 * DAY + Duration::from_secs(1));
    let c = f.create_org("C").await;
    assert_eq!(f.service.trim_audit_log().await.unwrap(), 2);
    let left: Vec<String> = f.audit().await.into_iter().map(|e| e.target_id).collect();
    assert_eq!(
        left,
        vec![c.into_string()],
        "only the record of C is young enough"
    );
    f.finish().await;
}

mod sign_in {
    //! Sessions, codes and locks end by the clock.
    use super::*;
    use roster_domain::permission::Permission;
    use roster_service::{
        Argon2Settings, Authorize, AuthorizeRequest, Login, OAuthClient, SignInOutcome,
        TokenRequest,
    };
    use std::net::IpAddr;

    const PASSWORD: &str = "Correct-horse-9";
    const SOURCE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    struct SignIn {
        f: Fixture,
        client_id: String,
        client_secret: String,
        user_id: String,
        application_id: roster_domain::application::ApplicationId,
    }

    /// A user with a password and an account in an OAuth 2.0 application.
    async fn sign_in_fixture(backend: Backend) -> SignIn {
        let settings = Settings {
            argon2: Argon2Settings {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
                allow_weak: true,
            },
            // The rate limits count wall time, not the injected clock these tests move
            // (they are held by the integration tests).
            sign_in: roster_service::SignInSettings {
                rate_per_address: 0,
                ..Default::default()
            },
            password_policy: roster_domain::password_policy::PasswordPolicy {
                max_failed_sign_ins: 5,
                lock_minutes: 30,
                ..Default::default()
            },
            // Seals the signing key the id_tokens and logout tokens are signed with.
            secret_key: Some(
                roster_service::SecretKey::from_hex(&roster_service::SecretKey::generate_hex())
                    .unwrap(),
            ),
            ..Settings::default()
        };
        let f = fixture(backend, settings).await;
        let operator = Caller::operator();
        let user = serde_json::from_value(
            json!({"user_name": "zhangsan", "mobile": "13800000000", "password": PASSWORD,
                   "pwd_must_modify": false}),
        )
        .unwrap();
        let user_id = f.service.create_user(&operator, user).await.unwrap();
        let sso = serde_json::from_value(json!({
            "protocol": "oauth2", "redirect_uris": ["https://app.example.com/cb"]
        }))
        .unwrap();
        let app = f
            .service
            .create_application(
                &operator,
                Some("wiki".into()),
                vec![Permission::parse("user_read").unwrap()],
                Some(sso),
            )
            .await
            .unwrap();
        f.service
            .authorize_account(
                &operator,
                user_id.clone(),
                app.application_id.clone(),
                serde_json::from_value(json!({})).unwrap(),
            )
            .await
            .unwrap();
        SignIn {
            f,
            client_id: app.client_id,
            client_secret: app.client_secret,
            user_id: user_id.into_string(),
            application_id: app.application_id,
        }
    }

    impl SignIn {
        async fn sign_in(&self, password: &str) -> SignInOutcome {
            self.f
                .service
                .sign_in(Login {
                    login: "zhangsan",
                    password,
                    source: SOURCE,
                    previous_session: None,
                    client_id: Some(&self.client_id),
                })
                .await
                .unwrap()
        }

        async fn authorize(&self, cookie: &str) -> Authorize {
            let request = AuthorizeRequest {
                response_type: Some("code".into()),
                client_id: Some(self.client_id.clone()),
                ..Default::default()
            };
            self.f
                .service
                .authorize(request, Some(cookie), SOURCE, "http://roster.test")
                .await
                .unwrap()
        }

        async fn exchange(&self, code: &str) -> roster_domain::Result<String> {
            let client = OAuthClient {
                client_id: Some(&self.client_id),
                client_secret: Some(&self.client_secret),
                source: Some(SOURCE),
            };
            let request = TokenRequest {
                grant_type: Some("authorization_code"),
                code: Some(code),
                ..Default::default()
            };
            self.f
                .service
                .oauth_token(client, &request, "http://roster.test")
                .await
                .map(|t| t.access_token.unwrap())
        }
    }

    /// A back-channel logout refused by the application is retried a second later, then two;
    /// delivered, it is not posted again.
    #[on_each_store]
    async fn a_back_channel_logout_backs_off_by_the_clock(backend: Backend) {
        use roster_service::Logout;
        let (url, seen) = crate::user_api::second_factor::receiver(vec![503, 500]).await;
        let s = sign_in_fixture(backend).await;
        // The logout token is signed like an id_token.
        s.f.service.ensure_signing_key(None).await.unwrap();
        let operator = Caller::operator();
        let fields = serde_json::from_value(json!({
            "protocol": "oidc", "redirect_uris": ["https://app.example.com/cb"],
            "backchannel_logout_uri": url.as_str(),
        }))
        .unwrap();
        s.f.service
            .set_sso(&operator, s.application_id.clone(), fields)
            .await
            .unwrap();
        let session = cookie(s.sign_in(PASSWORD).await);
        let code = code(s.authorize(&session).await);
        s.exchange(&code).await.unwrap();
        let logout = Logout {
            cookie: Some(&session),
            redirect_url: None,
            post_logout_redirect_uri: None,
            state: None,
            client_id: None,
            id_token_hint: None,
            issuer: "http://roster.test",
            ask_first: false,
            source: SOURCE,
            initiated_by: None,
        };
        s.f.service.sign_out(logout).await.unwrap();
        let service = &s.f.service;
        assert_eq!(service.deliver_due_logouts().await.unwrap(), 1);
        assert_eq!(service.deliver_due_logouts().await.unwrap(), 0);
        s.f.clock.advance(Duration::from_millis(1000));
        assert_eq!(service.deliver_due_logouts().await.unwrap(), 1);
        s.f.clock.advance(Duration::from_millis(1999));
        assert_eq!(service.deliver_due_logouts().await.unwrap(), 0);
        s.f.clock.advance(Duration::from_millis(1));
        assert_eq!(service.deliver_due_logouts().await.unwrap(), 1);
        s.f.clock.advance(Duration::from_secs(3600));
        assert_eq!(service.deliver_due_logouts().await.unwrap(), 0);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3);
        assert!(seen
            .iter()
            .all(|(_, body)| body.starts_with(b"logout_token=")));
        s.f.finish().await;
    }

    /// A CAS service ticket waits its lifetime (10 s by default) for its validation, no
    /// longer.
    #[on_each_store]
    async fn a_service_ticket_waits_only_its_lifetime(backend: Backend) {
        use roster_service::{CasLogin, CasLoginRequest, ValidateRequest};
        const SERVICE: &str = "https://portal.example.com/cas";
        let s = sign_in_fixture(backend).await;
        let operator = Caller::operator();
        let sso =
            serde_json::from_value(json!({"protocol": "cas", "redirect_uris": [SERVICE]})).unwrap();
        let app =
            s.f.service
                .create_application(&operator, Some("portal".into()), vec![], Some(sso))
                .await
                .unwrap();
        let user_id = roster_domain::user::UserId::new(s.user_id.clone());
        s.f.service
            .authorize_account(
                &operator,
                user_id,
                app.application_id.clone(),
                serde_json::from_value(json!({})).unwrap(),
            )
            .await
            .unwrap();
        let session = cookie(s.sign_in(PASSWORD).await);
        let ttl = s.f.service.settings().cas_ticket_ttl;
        let ticket = || async {
            let request = CasLoginRequest {
                service: Some(SERVICE.into()),
                ..Default::default()
            };
            match s
                .f
                .service
                .cas_login(request, Some(&session), SOURCE)
                .await
                .unwrap()
            {
                CasLogin::Redirect(url) => url.split_once("ticket=").unwrap().1.to_owned(),
                other => panic!("no ticket: {other:?}"),
            }
        };
        let service = s.f.service.clone();
        let validate = |ticket: String| {
            let service = service.clone();
            async move {
                let request = ValidateRequest {
                    ticket: Some(&ticket),
                    service: Some("https://portal.example.com/cas"),
                    renew: false,
                };
                service.validate_service_ticket(request).await.unwrap()
            }
        };
        let late = ticket().await;
        s.f.clock.advance(ttl);
        let refused = validate(late).await.unwrap_err();
        assert_eq!(refused.code(), "INVALID_TICKET");
        assert!(refused.xml_description().contains("expired"), "{refused:?}");
        let in_time = ticket().await;
        s.f.clock.advance(ttl - Duration::from_millis(1));
        assert_eq!(validate(in_time).await.unwrap().user, "zhangsan");
        s.f.finish().await;
    }

    fn cookie(outcome: SignInOutcome) -> String {
        match outcome {
            SignInOutcome::SignedIn(session) => session.cookie,
            other => panic!("not signed in: {other:?}"),
        }
    }

    fn code(answer: Authorize) -> String {
        match answer {
            Authorize::Redirect(url) => url
                .split_once("code=")
                .map(|(_, c)| c.split('&').next().unwrap().to_owned())
                .unwrap_or_else(|| panic!("no code in {url}")),
            other => panic!("no redirect: {other:?}"),
        }
    }

    #[on_each_store]
    async fn the_lock_lifts_itself_when_its_time_is_up(backend: Backend) {
        let s = sign_in_fixture(backend).await;
        for remaining in (1..5).rev() {
            assert!(matches!(
                s.sign_in("wrong").await,
                SignInOutcome::WrongPassword { remaining: r } if r == remaining
            ));
        }
        assert!(matches!(
            s.sign_in("wrong").await,
            SignInOutcome::Locked {
                unlock_in_secs: 1800
            }
        ));
        // Still locked a second before the end, even with the right password.
        s.f.clock.advance(Duration::from_secs(1799));
        assert!(matches!(
            s.sign_in(PASSWORD).await,
            SignInOutcome::Locked { unlock_in_secs: 1 }
        ));
        let operator = Caller::operator();
        let id = roster_domain::user::UserId::new(s.user_id.clone());
        assert!(
            s.f.service
                .show_user(&operator, id.clone())
                .await
                .unwrap()
                .locked
        );
        // At its end the right password signs in, and upkeep clears `locked`.
        s.f.clock.advance(Duration::from_secs(1));
        assert_eq!(s.f.service.unlock_expired_locks().await.unwrap(), 1);
        assert!(!s.f.service.show_user(&operator, id).await.unwrap().locked);
        cookie(s.sign_in(PASSWORD).await);
        s.f.finish().await;
    }

    #[on_each_store]
    async fn sessions_end_when_idle_and_at_their_absolute_end(backend: Backend) {
        let s = sign_in_fixture(backend).await;
        let lifetime = s.f.service.settings().sign_in.session_lifetime;
        let idle = s.f.service.settings().sign_in.session_idle;
        // Used a minute before going idle each time, it lasts to its absolute end…
        let session = cookie(s.sign_in(PASSWORD).await);
        let step = idle - Duration::from_secs(60);
        let mut lived = Duration::ZERO;
        while lived + step < lifetime {
            s.f.clock.advance(step);
            lived += step;
            code(s.authorize(&session).await);
        }
        s.f.clock.advance(lifetime - lived);
        assert!(matches!(
            s.authorize(&session).await,
            Authorize::SignIn { .. }
        ));
        // …and left unused for the idle lifetime, it ends.
        let session = cookie(s.sign_in(PASSWORD).await);
        s.f.clock.advance(idle);
        assert!(matches!(
            s.authorize(&session).await,
            Authorize::SignIn { .. }
        ));
        s.f.finish().await;
    }

    #[on_each_store]
    async fn a_code_is_good_for_five_minutes_and_once(backend: Backend) {
        let s = sign_in_fixture(backend).await;
        let session = cookie(s.sign_in(PASSWORD).await);
        let late = code(s.authorize(&session).await);
        let fresh = code(s.authorize(&session).await);
        s.f.clock.advance(Duration::from_secs(299));
        let token = s.exchange(&fresh).await.unwrap();
        assert!(s.f.service.userinfo(&token).await.is_ok());
        s.f.clock.advance(Duration::from_secs(1));
        let expired = s.exchange(&late).await.unwrap_err();
        assert_eq!(expired.kind(), ErrorKind::InvalidGrant);
        // The fresh code again: refused, and what it issued ends.
        assert_eq!(
            s.exchange(&fresh).await.unwrap_err().kind(),
            ErrorKind::InvalidGrant
        );
        assert_eq!(
            s.f.service.userinfo(&token).await.unwrap_err().kind(),
            ErrorKind::Unauthenticated
        );
        s.f.finish().await;
    }

    fn error(answer: Authorize) -> String {
        match answer {
            Authorize::Redirect(url) => url
                .split_once("error=")
                .map(|(_, e)| e.split('&').next().unwrap().to_owned())
                .unwrap_or_else(|| panic!("no error in {url}")),
            other => panic!("no redirect: {other:?}"),
        }
    }

    /// Who may sign in is decided again at every step, from the store as it is now: a
    /// signed-in session does not carry a user past a disabled account, user or application.
    #[on_each_store]
    async fn each_step_admits_only_who_may_sign_in_now(backend: Backend) {
        let s = sign_in_fixture(backend).await;
        let operator = Caller::operator();
        let session = cookie(s.sign_in(PASSWORD).await);
        let user_id = roster_domain::user::UserId::new(s.user_id.clone());
        let accounts =
            s.f.service
                .accounts_of_user(&operator, user_id.clone())
                .await
                .unwrap();
        let (app_id, account_id) = (accounts[0].application_id.clone(), accounts[0].id.clone());
        let service = &s.f.service;
        service
            .set_account_disabled(&operator, app_id.clone(), account_id.clone(), true)
            .await
            .unwrap();
        assert_eq!(error(s.authorize(&session).await), "access_denied");
        service
            .set_account_disabled(&operator, app_id.clone(), account_id, false)
            .await
            .unwrap();
        let fresh = code(s.authorize(&session).await);
        service
            .set_user_disabled(&operator, user_id.clone(), true)
            .await
            .unwrap();
        // Disabling the user ends the session and the code it gave.
        assert!(matches!(
            s.authorize(&session).await,
            Authorize::SignIn { .. }
        ));
        assert_eq!(
            s.exchange(&fresh).await.unwrap_err().kind(),
            ErrorKind::InvalidGrant,
            "a code issued before the user was disabled"
        );
        assert!(matches!(s.sign_in(PASSWORD).await, SignInOutcome::Disabled));
        service
            .set_user_disabled(&operator, user_id, false)
            .await
            .unwrap();
        // Enabled again, the old session stays ended; a new one is needed.
        assert!(matches!(
            s.authorize(&session).await,
            Authorize::SignIn { .. }
        ));
        let session = cookie(s.sign_in(PASSWORD).await);
        service
            .set_application_disabled(&operator, app_id, true)
            .await
            .unwrap();
        assert_eq!(error(s.authorize(&session).await), "access_denied");
        s.f.finish().await;
    }

    /// A refresh token is exchanged once for a new one; the old one presented again ends
    /// everything its grant issued.
    #[on_each_store]
    async fn a_refresh_token_is_spent_once_and_its_reuse_ends_the_grant(backend: Backend) {
        let s = sign_in_fixture(backend).await;
        let operator = Caller::operator();
        let app =
            s.f.service
                .accounts_of_user(
                    &operator,
                    roster_domain::user::UserId::new(s.user_id.clone()),
                )
                .await
                .unwrap()[0]
                .application_id
                .clone();
        let sso = serde_json::from_value(json!({
            "protocol": "oauth2", "redirect_uris": ["https://app.example.com/cb"],
            "refresh_token_ttl_secs": 3600
        }))
        .unwrap();
        s.f.service.set_sso(&operator, app, sso).await.unwrap();
        let session = cookie(s.sign_in(PASSWORD).await);
        let code = code(s.authorize(&session).await);
        let client = OAuthClient {
            client_id: Some(&s.client_id),
            client_secret: Some(&s.client_secret),
            source: Some(SOURCE),
        };
        let token = |grant_type, code, refresh_token| TokenRequest {
            grant_type: Some(grant_type),
            code,
            refresh_token,
            ..Default::default()
        };
        let issuer = "http://roster.test";
        let first =
            s.f.service
                .oauth_token(
                    client,
                    &token("authorization_code", Some(&code), None),
                    issuer,
                )
                .await
                .unwrap();
        let old = first.refresh_token.unwrap();
        let second =
            s.f.service
                .oauth_token(client, &token("refresh_token", None, Some(&old)), issuer)
                .await
                .unwrap();
        let new_access = second.access_token.unwrap();
        assert!(s.f.service.userinfo(&new_access).await.is_ok());
        let reused =
            s.f.service
                .oauth_token(client, &token("refresh_token", None, Some(&old)), issuer)
                .await
                .unwrap_err();
        assert_eq!(reused.kind(), ErrorKind::InvalidGrant);
        assert_eq!(
            s.f.service.userinfo(&new_access).await.unwrap_err().kind(),
            ErrorKind::Unauthenticated,
            "the reuse ended what the rotation issued"
        );
        let rotated = second.refresh_token.unwrap();
        let after =
            s.f.service
                .oauth_token(
                    client,
                    &token("refresh_token", None, Some(&rotated)),
                    issuer,
                )
                .await;
        assert_eq!(after.unwrap_err().kind(), ErrorKind::InvalidGrant);
        s.f.finish().await;
    }
}

/// The user APIs by the clock: session tokens, state tokens and tickets end when their
/// lifetimes pass, and a signature's timestamp must be within the window of the clock.
mod user_api {
    use super::*;
    use roster_domain::permission::Permission;
    use roster_domain::user_api::{ErrorStyle, Refusal};
    use roster_service::{Argon2Settings, SecretKey, TicketRequest, UserApiHeaders};
    use std::net::IpAddr;

    const PASSWORD: &str = "Correct-horse-9";
    const SOURCE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const ISSUER: &str = "http://roster.test";
    const FINGERPRINT: &str = "device-1";

    struct Sdk {
        f: Fixture,
        client_id: String,
        caller: Caller,
    }

    impl Sdk {
        fn headers(&self) -> UserApiHeaders<'_> {
            UserApiHeaders {
                client_id: Some(&self.client_id),
                device_fingerprint: Some(FINGERPRINT),
                operating_sys_version: Some("Android 10"),
                agent: Some("test"),
                source: SOURCE,
            }
        }

        async fn login(&self) -> roster_service::LoginAnswer {
            self.f
                .service
                .user_api_login(self.headers(), Some("zhangsan"), Some(PASSWORD), ISSUER)
                .await
                .unwrap()
        }

        fn ticket_request<'a>(&self, session: &'a str, ticket: &'a str) -> TicketRequest<'a> {
            TicketRequest {
                session_token: Some(session),
                sso_ticket: Some(ticket),
                operating_sys_version: Some("Android 10"),
                device_ip: Some("10.0.0.1"),
                device_fingerprint: Some(FINGERPRINT),
                client_id: None,
            }
        }
    }

    async fn sdk_fixture(backend: Backend, must_modify: bool) -> Sdk {
        sdk_fixture_with(backend, must_modify, Default::default()).await
    }

    async fn sdk_fixture_with(
        backend: Backend,
        must_modify: bool,
        password_policy: roster_domain::password_policy::PasswordPolicy,
    ) -> Sdk {
        sdk_fixture_tuned(backend, must_modify, |s| {
            s.password_policy = password_policy
        })
        .await
    }

    /// [`sdk_fixture`] with settings of its own.
    async fn sdk_fixture_tuned(
        backend: Backend,
        must_modify: bool,
        tune: impl FnOnce(&mut Settings),
    ) -> Sdk {
        let mut settings = Settings {
            argon2: Argon2Settings {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
                allow_weak: true,
            },
            secret_key: Some(SecretKey::from_hex(&SecretKey::generate_hex()).unwrap()),
            sign_in: roster_service::SignInSettings {
                rate_per_address: 0,
                ..Default::default()
            },
            ..Settings::default()
        };
        tune(&mut settings);
        let f = fixture(backend, settings).await;
        f.service.ensure_signing_key(None).await.unwrap();
        let operator = Caller::operator();
        let user = serde_json::from_value(json!({"user_name": "zhangsan", "mobile": "13800000000",
            "password": PASSWORD, "pwd_must_modify": must_modify}))
        .unwrap();
        let user_id = f.service.create_user(&operator, user).await.unwrap();
        let app = f
            .service
            .create_application(
                &operator,
                Some("native".into()),
                vec![Permission::parse("user_read").unwrap()],
                None,
            )
            .await
            .unwrap();
        f.service
            .authorize_account(
                &operator,
                user_id,
                app.application_id.clone(),
                serde_json::from_value(json!({})).unwrap(),
            )
            .await
            .unwrap();
        // The ticket calls' tenant token: any application's will do.
        let caller = Caller::operator();
        Sdk {
            f,
            client_id: app.client_id,
            caller,
        }
    }

    fn refused(refusal: Refusal) -> ErrorKind {
        refusal.error(ErrorStyle::OneAccess).kind()
    }

    #[on_each_store]
    async fn tickets_and_session_tokens_end_with_their_lifetimes(backend: Backend) {
        let s = sdk_fixture(backend, false).await;
        let settings = s.f.service.settings().user_api.clone();
        let session = s.login().await.session_token.unwrap();
        let service = &s.f.service;
        // A ticket is good until its lifetime passes.
        let (ticket, _) = service
            .issue_sso_ticket(&s.caller, s.ticket_request(&session, ""))
            .await
            .unwrap();
        s.f.clock.advance(settings.ticket_ttl);
        let late = service
            .redeem_sso_ticket(&s.caller, s.ticket_request("", &ticket))
            .await
            .unwrap_err();
        assert_eq!(late.kind(), refused(Refusal::TicketInvalid("")));
        let (ticket, _) = service
            .issue_sso_ticket(&s.caller, s.ticket_request(&session, ""))
            .await
            .unwrap();
        s.f.clock
            .advance(settings.ticket_ttl - Duration::from_secs(1));
        let redeemed = service
            .redeem_sso_ticket(&s.caller, s.ticket_request("", &ticket))
            .await
            .unwrap();
        assert_eq!(redeemed.user.user_name, "zhangsan");
        // The session token lasts its lifetime, then buys nothing.
        s.f.clock.advance(settings.session_ttl);
        let ended = service
            .issue_sso_ticket(&s.caller, s.ticket_request(&session, ""))
            .await
            .unwrap_err();
        assert_eq!(ended.kind(), refused(Refusal::SessionInvalid("")));
        // Upkeep deletes the ended session token (the tickets went as they were redeemed).
        let purged = service.purge_expired_tokens(Duration::ZERO).await.unwrap();
        assert_eq!(purged, 1);
        s.f.finish().await;
    }

    #[on_each_store]
    async fn a_state_token_waits_only_its_lifetime(backend: Backend) {
        let s = sdk_fixture(backend, true).await;
        let ttl = s.f.service.settings().user_api.state_token_ttl;
        let answer = s.login().await;
        assert_eq!(answer.status, "PASSWORD_EXPIRED");
        let state = answer.state_token.unwrap();
        s.f.clock.advance(ttl);
        let late =
            s.f.service
                .user_api_change_password(
                    s.headers(),
                    Some(&state),
                    Some(PASSWORD),
                    Some("New-horse-10"),
                    ISSUER,
                )
                .await
                .unwrap_err();
        assert_eq!(late.kind(), refused(Refusal::StateTokenInvalid("")));
        // In time, the change completes the login.
        let state = s.login().await.state_token.unwrap();
        s.f.clock.advance(ttl - Duration::from_secs(1));
        let done =
            s.f.service
                .user_api_change_password(
                    s.headers(),
                    Some(&state),
                    Some(PASSWORD),
                    Some("New-horse-10"),
                    ISSUER,
                )
                .await
                .unwrap();
        assert_eq!(done.status, "SUCCESS");
        s.f.finish().await;
    }

    /// A password warns in its last days and must be changed once they pass; the change
    /// keeps the policy.
    #[on_each_store]
    async fn a_password_warns_then_expires_by_the_policy(backend: Backend) {
        let policy = roster_domain::password_policy::PasswordPolicy {
            expire_days: 30,
            warn_days: 7,
            history: 1,
            ..Default::default()
        };
        let s = sdk_fixture_with(backend, false, policy).await;
        assert_eq!(s.login().await.status, "SUCCESS");
        s.f.clock.advance(23 * DAY);
        assert_eq!(s.login().await.status, "PASSWORD_WARN");
        s.f.clock.advance(7 * DAY);
        let answer = s.login().await;
        assert_eq!(answer.status, "PASSWORD_EXPIRED");
        let state = answer.state_token.unwrap();
        // The same password again is refused (history); a new one completes the login and
        // starts the password's time again.
        let change = |new: &'static str| {
            let (s, state) = (&s, state.clone());
            async move {
                s.f.service
                    .user_api_change_password(
                        s.headers(),
                        Some(&state),
                        Some(PASSWORD),
                        Some(new),
                        ISSUER,
                    )
                    .await
            }
        };
        let reused = change(PASSWORD).await.unwrap_err();
        assert!(reused.client_message().contains("history"), "{reused}");
        assert_eq!(change("New-horse-10").await.unwrap().status, "SUCCESS");
        // (A sign-in in the very millisecond of a change that ends sign-ins counts as before
        // it: the clock moves on first.)
        s.f.clock.advance(Duration::from_secs(1));
        let fresh =
            s.f.service
                .user_api_login(s.headers(), Some("zhangsan"), Some("New-horse-10"), ISSUER)
                .await
                .unwrap();
        assert_eq!(fresh.status, "SUCCESS");
        s.f.finish().await;
    }

    pub(crate) mod second_factor {
        use super::*;
        use roster_domain::second_factor::{MfaMode, MfaPolicy};
        use roster_service::{MessagesSettings, Sender};
        use std::sync::Mutex;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        const MOBILE: &str = "13800000000";

        async fn mfa_fixture(backend: Backend, tune: impl FnOnce(&mut Settings)) -> Sdk {
            sdk_fixture_tuned(backend, false, |s| {
                s.mfa_policy = MfaPolicy {
                    mode: MfaMode::Everyone,
                    applications: vec![],
                };
                tune(s);
            })
            .await
        }

        impl Sdk {
            async fn send(&self, sms_type: &str) -> roster_domain::Result<()> {
                self.f
                    .service
                    .user_api_send_code(self.headers(), Some(MOBILE), Some(sms_type), Some("x"))
                    .await
            }

            /// The code of the newest message.
            async fn last_code(&self) -> String {
                let messages = self
                    .f
                    .service
                    .messages(Some(MOBILE), Some(1))
                    .await
                    .unwrap();
                let text = &messages[0].text;
                let code: String = text.chars().filter(char::is_ascii_digit).take(6).collect();
                assert_eq!(code.len(), 6, "{text}");
                code
            }

            async fn second_factor(
                &self,
                state: &str,
                code: &str,
            ) -> roster_domain::Result<roster_service::LoginAnswer> {
                self.f
                    .service
                    .user_api_second_factor(
                        self.headers(),
                        Some(state),
                        Some(MOBILE),
                        Some(code),
                        ISSUER,
                    )
                    .await
            }

            async fn reset(&self, code: &str) -> roster_domain::Result<()> {
                self.f
                    .service
                    .user_api_reset_password(
                        self.headers(),
                        Some(MOBILE),
                        Some(code),
                        Some("Brand-new-horse-11"),
                    )
                    .await
            }
        }

        /// A code lasts five minutes; another may be asked for after a minute.
        #[on_each_store]
        async fn codes_expire_and_are_sent_again_after_a_minute(backend: Backend) {
            let s = mfa_fixture(backend, |_| {}).await;
            let answer = s.login().await;
            assert_eq!(answer.status, "MFA_AUTH");
            assert!(answer.session_token.is_none());
            let state = answer.state_token.unwrap();
            s.send("OTP_REST_SMS").await.unwrap();
            let first = s.last_code().await;
            let again = s.send("OTP_REST_SMS").await.unwrap_err();
            assert_eq!(again.kind(), ErrorKind::TooManyCodes);
            assert!(again.client_message().contains("60 seconds"), "{again:?}");
            s.f.clock.advance(Duration::from_secs(5 * 60));
            let late = s.second_factor(&state, &first).await.unwrap_err();
            assert_eq!(late.kind(), ErrorKind::VerifyCodeExpired);
            // A new code (the minute passed) completes the login, once.
            s.send("OTP_REST_SMS").await.unwrap();
            let second = s.last_code().await;
            s.f.clock.advance(Duration::from_secs(299));
            let done = s.second_factor(&state, &second).await.unwrap();
            assert_eq!(done.status, "SUCCESS");
            assert!(done.session_token.is_some() && done.id_token.is_some());
            let spent = s.second_factor(&state, &second).await.unwrap_err();
            assert_eq!(spent.kind(), ErrorKind::StateTokenInvalid);
            s.f.finish().await;
        }

        /// Guesses made at once each spend a try: five wrong codes at most, whatever the
        /// concurrency; then even the right code is refused.
        #[on_each_store]
        async fn concurrent_guesses_spend_one_try_each(backend: Backend) {
            let s = mfa_fixture(backend, |_| {}).await;
            s.send("FORGET_PWD_SMS").await.unwrap();
            let code = s.last_code().await;
            let wrong = if code == "000000" { "111111" } else { "000000" };
            let guesses = (0..8).map(|_| s.reset(wrong));
            let outcomes = futures::future::join_all(guesses).await;
            let count = |kind| {
                outcomes
                    .iter()
                    .filter(|o| o.as_ref().unwrap_err().kind() == kind)
                    .count()
            };
            assert_eq!(count(ErrorKind::VerifyCodeWrong), 5, "{outcomes:?}");
            assert_eq!(count(ErrorKind::VerifyCodeExpired), 3, "{outcomes:?}");
            let late = s.reset(&code).await.unwrap_err();
            assert_eq!(late.kind(), ErrorKind::VerifyCodeExpired);
            s.f.finish().await;
        }

        /// Ten codes an hour to one number; the refusal says how long to wait.
        #[on_each_store]
        async fn ten_codes_an_hour_to_one_number(backend: Backend) {
            let s = mfa_fixture(backend, |_| {}).await;
            for _ in 0..10 {
                s.send("FORGET_PWD_SMS").await.unwrap();
                s.f.clock.advance(Duration::from_secs(61));
            }
            let eleventh = s.send("FORGET_PWD_SMS").await.unwrap_err();
            assert_eq!(eleventh.kind(), ErrorKind::TooManyCodes);
            // The first was sent 610 s ago: 2990 s until it is an hour old.
            assert!(
                eleventh.client_message().contains("2990 seconds"),
                "{eleventh:?}"
            );
            s.f.clock.advance(Duration::from_secs(2990));
            s.send("FORGET_PWD_SMS").await.unwrap();
            s.f.finish().await;
        }

        /// What the receiver saw of each request: its head and body.
        pub(crate) type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

        /// A webhook receiver answering `statuses` in turn (then 200).
        pub(crate) async fn receiver(statuses: Vec<u16>) -> (url::Url, Seen) {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/sms", listener.local_addr().unwrap());
            let seen: Seen = Arc::default();
            let log = Arc::clone(&seen);
            tokio::spawn(async move {
                let mut statuses = statuses.into_iter();
                loop {
                    let (mut conn, _) = listener.accept().await.unwrap();
                    let mut buf = Vec::new();
                    let (head, body) = loop {
                        let mut chunk = [0u8; 4096];
                        let n = conn.read(&mut chunk).await.unwrap();
                        buf.extend_from_slice(&chunk[..n]);
                        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                            continue;
                        };
                        let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                        let length: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse().unwrap());
                        if buf.len() >= end + 4 + length {
                            break (head, buf[end + 4..end + 4 + length].to_vec());
                        }
                    };
                    log.lock().unwrap().push((head, body));
                    let status = statuses.next().unwrap_or(200);
                    let answer = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                    conn.write_all(answer.as_bytes()).await.unwrap();
                }
            });
            (url.parse().unwrap(), seen)
        }

        /// The webhook sender posts each message signed, retries a refused delivery after a
        /// second (then two), and records how it went.
        #[on_each_store]
        async fn the_webhook_sender_signs_retries_and_records(backend: Backend) {
            const SECRET: &str = "webhook-secret-0123456789";
            let (url, seen) = receiver(vec![503, 500]).await;
            let s = mfa_fixture(backend, |settings| {
                settings.messages = MessagesSettings {
                    sender: Sender::Webhook {
                        url,
                        secret: SECRET.into(),
                    },
                    ..Default::default()
                };
            })
            .await;
            let service = &s.f.service;
            assert!(service.delivers_messages());
            s.send("FORGET_PWD_SMS").await.unwrap();
            assert_eq!(service.deliver_due_messages().await.unwrap(), 1);
            // Not due again until a second passed.
            assert_eq!(service.deliver_due_messages().await.unwrap(), 0);
            s.f.clock.advance(Duration::from_millis(1000));
            assert_eq!(service.deliver_due_messages().await.unwrap(), 1);
            s.f.clock.advance(Duration::from_millis(1999));
            assert_eq!(service.deliver_due_messages().await.unwrap(), 0);
            s.f.clock.advance(Duration::from_millis(1));
            assert_eq!(service.deliver_due_messages().await.unwrap(), 1);
            s.f.clock.advance(Duration::from_secs(3600));
            assert_eq!(service.deliver_due_messages().await.unwrap(), 0);
            let seen = seen.lock().unwrap().clone();
            assert_eq!(seen.len(), 3);
            for (n, (head, body)) in seen.iter().enumerate() {
                let sent: serde_json::Value = serde_json::from_slice(body).unwrap();
                assert_eq!(sent["to"], MOBILE);
                assert_eq!(sent["purpose"], "password_reset");
                assert_eq!(sent["attempt"], n + 1);
                assert!(sent["text"]
                    .as_str()
                    .unwrap()
                    .contains("password reset code"));
                // Checked with the RustCrypto HMAC directly, not Roster's helper.
                use hmac::Mac;
                let mut mac =
                    hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
                mac.update(body);
                let expected = format!(
                    "x-roster-signature: sha256={}",
                    hex::encode(mac.finalize().into_bytes())
                );
                assert!(head.lines().any(|l| l == expected), "{head}");
            }
            let recorded = service.messages(Some(MOBILE), None).await.unwrap();
            assert_eq!(recorded.len(), 1);
            assert_eq!(recorded[0].status.as_str(), "delivered");
            assert_eq!(recorded[0].attempts, 3);
            s.f.finish().await;
        }
    }
}
