//! Properties of request parsing and validation: any input is answered (accepted in shape, or
//! refused with a client error), never a panic.
// clippy.toml lets #[test] functions unwrap; the helpers of a test crate need this too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use roster_domain::account::{AccountFields, AuthorizeFields};
use roster_domain::organization::OrgFields;
use roster_domain::page::{PageRequest, MAX_LIMIT};
use roster_domain::permission::Permissions;
use roster_domain::role::RoleMemberFields;
use roster_domain::user::UserFields;
use roster_domain::{id, time, validate};
use serde_json::{json, Value};

/// Arbitrary JSON values, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,80}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
            prop::collection::hash_map(".{0,12}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Bodies shaped like a user, with arbitrary values in the known fields.
fn user_body() -> impl Strategy<Value = Value> {
    (any_json(), any_json(), ".{0,70}", ".{0,40}", any_json()).prop_map(|(a, b, name, mobile, ext)| {
        json!({"user_name": name, "mobile": mobile, "email": a, "attr_birthday": b, "extension": ext})
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn user_bodies_never_panic_and_accepted_ones_hold_the_rules(body in user_body()) {
        if let Ok(fields) = serde_json::from_value::<UserFields>(body) {
            if let Ok(user) = fields.into_new_user() {
                prop_assert!(!user.user_name.trim().is_empty());
                prop_assert!(user.user_name.chars().count() <= 64);
                prop_assert!(validate::mobile(&user.mobile).is_ok());
                prop_assert!(!user.user_name.chars().any(char::is_control));
                if let Some(b) = &user.attrs.birthday {
                    prop_assert!(validate::date("d", b).is_ok());
                }
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_any_body(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = serde_json::from_slice::<UserFields>(&bytes).map(|f| f.clone().into_new_user().is_ok() || f.into_changes().is_ok());
        let _ = serde_json::from_slice::<AccountFields>(&bytes).map(|f| f.clone().into_new_account().is_ok() || f.into_changes().is_ok());
        let _ = serde_json::from_slice::<AuthorizeFields>(&bytes).map(|f| f.into_new_account().is_ok());
        let _ = serde_json::from_slice::<OrgFields>(&bytes).map(|f| f.clone().into_new().is_ok() || f.into_changes().is_ok());
        let _ = serde_json::from_slice::<RoleMemberFields>(&bytes).map(|f| f.validate().is_ok());
    }

    #[test]
    fn account_names_accepted_are_trimmed_and_bounded(name in ".{0,200}") {
        let body = json!({"account_name": name});
        let fields: AuthorizeFields = serde_json::from_value(body).unwrap();
        if let Ok(new) = fields.into_new_account() {
            if let Some(n) = new.account_name {
                prop_assert_eq!(n.trim(), n.as_str());
                prop_assert!(n.chars().count() <= 128);
            }
        }
    }

    #[test]
    fn pages_are_bounded_and_never_overflow(offset in any::<i64>(), limit in any::<i64>()) {
        if let Ok(p) = PageRequest::new(Some(offset), Some(limit)) {
            prop_assert!((1..=MAX_LIMIT).contains(&p.limit));
            prop_assert!(p.offset >= 0);
            prop_assert!(p.skip() >= 0);
        }
    }

    #[test]
    fn ids_and_times_parse_anything(text in ".{0,64}", at in 0i64..4_102_444_800_000) {
        let _ = id::is_well_formed(&text);
        let _ = time::parse(&text);
        prop_assert!(id::is_well_formed(&id::new_id(at)));
        prop_assert_eq!(time::parse(&time::format_millis(at)), Some(at));
    }

    #[test]
    fn scopes_round_trip(text in "[a-z_ ]{0,40}") {
        if let Ok(p) = Permissions::parse_scope(&text) {
            prop_assert_eq!(Permissions::parse_scope(&p.scope()).unwrap(), p);
        }
    }
}
