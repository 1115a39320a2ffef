//! Any bytes as any request body: parsing and validation answer, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_domain::account::{AccountFields, AuthorizeFields};
use roster_domain::organization::{AppOrgFields, OrgFields};
use roster_domain::role::{RoleFields, RoleMemberFields};
use roster_domain::user::{PasswordFields, UserFields};

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = serde_json::from_slice::<UserFields>(data) {
        let _ = f.clone().into_new_user();
        let _ = f.into_changes();
    }
    if let Ok(f) = serde_json::from_slice::<AccountFields>(data) {
        let _ = f.clone().into_new_account();
        let _ = f.into_changes();
    }
    if let Ok(f) = serde_json::from_slice::<AuthorizeFields>(data) {
        let _ = f.into_new_account();
    }
    if let Ok(f) = serde_json::from_slice::<OrgFields>(data) {
        let _ = f.clone().into_new();
        let _ = f.into_changes();
    }
    if let Ok(f) = serde_json::from_slice::<AppOrgFields>(data) {
        let _ = f.clone().into_new();
        let _ = f.into_changes();
    }
    if let Ok(f) = serde_json::from_slice::<RoleFields>(data) {
        let _ = f.clone().into_new();
        let _ = f.into_new_name();
    }
    if let Ok(f) = serde_json::from_slice::<RoleMemberFields>(data) {
        let _ = f.validate();
    }
    if let Ok(f) = serde_json::from_slice::<PasswordFields>(data) {
        let _ = f.new_password();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = roster_domain::time::parse(text);
        let _ = roster_domain::id::is_well_formed(text);
        let _ = roster_domain::permission::Permissions::parse_scope(text);
    }
});
