//! API permissions. An application is authorized for permission codes; a token carries its
//! application's codes; every route declares the [`Access`] it needs.

use crate::{Error, Result};
use std::fmt;

/// A permission code an application can hold, as the reference names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Every interface.
    All,
    /// Read and write of the user-management interfaces.
    UserAll,
    /// Read of the user-management interfaces.
    UserRead,
    /// Read and write of the organization interfaces.
    OrgAll,
    /// Read of the organization interfaces.
    OrgRead,
    /// Read and write of application accounts.
    AccountAll,
    /// Read of application accounts.
    AccountRead,
    /// Read and write of the application-side interfaces (accounts, application
    /// organizations, roles). Roster's name: the reference's code for these is not public.
    AppAll,
    /// Read of the application-side interfaces.
    AppRead,
}

impl Permission {
    pub const ALL: &'static [Permission] = &[
        Permission::All,
        Permission::UserAll,
        Permission::UserRead,
        Permission::OrgAll,
        Permission::OrgRead,
        Permission::AccountAll,
        Permission::AccountRead,
        Permission::AppAll,
        Permission::AppRead,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Permission::All => "all",
            Permission::UserAll => "user_all",
            Permission::UserRead => "user_read",
            Permission::OrgAll => "org_all",
            Permission::OrgRead => "org_read",
            Permission::AccountAll => "account_all",
            Permission::AccountRead => "account_read",
            Permission::AppAll => "app_all",
            Permission::AppRead => "app_read",
        }
    }

    pub fn parse(code: &str) -> Result<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|p| p.code() == code)
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|p| p.code()).collect();
                Error::invalid(format!(
                    "Unknown API permission code '{code}'; known codes: {}.",
                    known.join(", ")
                ))
            })
    }

    pub fn grants(self, access: Access) -> bool {
        use Access::*;
        match self {
            Permission::All => true,
            Permission::UserAll => matches!(access, UserRead | UserWrite | UserSupport),
            Permission::UserRead => access == UserRead,
            Permission::OrgAll => matches!(access, OrgRead | OrgWrite),
            Permission::OrgRead => access == OrgRead,
            Permission::AccountAll => matches!(access, AccountRead | AccountWrite),
            Permission::AccountRead => access == AccountRead,
            Permission::AppAll => {
                matches!(access, AppRead | AppWrite | AccountRead | AccountWrite)
            }
            Permission::AppRead => matches!(access, AppRead | AccountRead),
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What a route does, for the permission check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    UserRead,
    UserWrite,
    /// A user's sign-in troubles: unlock, set the password, enable or disable, end sessions
    /// (what the console's helpdesk role may do; `user_all` includes it).
    UserSupport,
    OrgRead,
    OrgWrite,
    AppRead,
    AppWrite,
    AccountRead,
    AccountWrite,
    /// Roster's own administration (applications over HTTP): only `all`.
    Admin,
    /// Reading Roster's own administration (applications, audit log, keys, policies): `all`,
    /// or the console's auditor.
    AdminRead,
}

/// The set of codes an application holds, kept sorted and free of duplicates. Written as its
/// scope string (`"user_all app_read"`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Permissions(Vec<Permission>);

impl serde::Serialize for Permissions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.scope())
    }
}

impl<'de> serde::Deserialize<'de> for Permissions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let scope = <String as serde::Deserialize>::deserialize(d)?;
        Permissions::parse_scope(&scope).map_err(|e| serde::de::Error::custom(e.client_message()))
    }
}

impl Permissions {
    pub fn new(mut codes: Vec<Permission>) -> Self {
        codes.sort();
        codes.dedup();
        Self(codes)
    }

    /// Parses a space-separated list (the token's `scope`, the stored form).
    pub fn parse_scope(scope: &str) -> Result<Self> {
        scope
            .split_whitespace()
            .map(Permission::parse)
            .collect::<Result<Vec<_>>>()
            .map(Self::new)
    }

    pub fn scope(&self) -> String {
        self.0
            .iter()
            .map(|p| p.code())
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn allows(&self, access: Access) -> bool {
        self.0.iter().any(|p| p.grants(access))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_round_trips_and_grants() {
        let p = Permissions::parse_scope("user_all all user_all").unwrap();
        assert_eq!(p.scope(), "all user_all");
        assert!(p.allows(Access::Admin));
        let u = Permissions::parse_scope("user_read").unwrap();
        assert!(u.allows(Access::UserRead));
        assert!(!u.allows(Access::UserWrite));
        assert!(!u.allows(Access::AppRead));
        assert!(Permissions::parse_scope("root").is_err());
    }
}
