//! The web console's people: a user may hold one console role, which says what they may do
//! there. The roles map onto the same [`Access`] checks the API's permissions do, so a
//! console page and an API call are refused by the same rule in the service.

use crate::permission::Access;
use crate::{Error, Result};
use std::fmt;

/// What a person may do in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConsoleRole {
    /// Everything.
    Admin,
    /// Users' sign-in troubles: read users and organizations; unlock, reset a password,
    /// enable and disable, end sessions.
    Helpdesk,
    /// Read everything, change nothing.
    Auditor,
}

impl ConsoleRole {
    pub const ALL: &'static [ConsoleRole] = &[
        ConsoleRole::Admin,
        ConsoleRole::Helpdesk,
        ConsoleRole::Auditor,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ConsoleRole::Admin => "admin",
            ConsoleRole::Helpdesk => "helpdesk",
            ConsoleRole::Auditor => "auditor",
        }
    }

    pub fn parse(code: &str) -> Result<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|r| r.code() == code)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "Unknown console role '{code}'; the roles are admin, helpdesk and auditor."
                ))
            })
    }

    pub fn grants(self, access: Access) -> bool {
        use Access::*;
        match self {
            ConsoleRole::Admin => true,
            ConsoleRole::Helpdesk => matches!(access, UserRead | UserSupport | OrgRead),
            ConsoleRole::Auditor => matches!(
                access,
                UserRead | OrgRead | AppRead | AccountRead | AdminRead
            ),
        }
    }
}

impl fmt::Display for ConsoleRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The audit actor of a person acting in the console: their user name, marked as a person's
/// so that it never reads as an application's client id.
pub fn console_actor(user_name: &str) -> String {
    format!("console:{user_name}")
}

/// The console's own client id: it names no registered application, but the MFA policy may
/// name it (`"applications": ["roster-console"]`) so that opening the console asks for the
/// second factor as signing in to such an application does.
pub const CONSOLE_CLIENT_ID: &str = "roster-console";

/// Longest tenant name.
pub const MAX_TENANT_NAME_CHARS: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_what_they_say() {
        assert!(ConsoleRole::Admin.grants(Access::Admin));
        assert!(ConsoleRole::Helpdesk.grants(Access::UserSupport));
        assert!(!ConsoleRole::Helpdesk.grants(Access::UserWrite));
        assert!(!ConsoleRole::Helpdesk.grants(Access::AppRead));
        assert!(ConsoleRole::Auditor.grants(Access::AdminRead));
        for write in [
            Access::UserWrite,
            Access::UserSupport,
            Access::OrgWrite,
            Access::AppWrite,
            Access::AccountWrite,
            Access::Admin,
        ] {
            assert!(!ConsoleRole::Auditor.grants(write), "{write:?}");
        }
        assert_eq!(
            ConsoleRole::parse("helpdesk").unwrap(),
            ConsoleRole::Helpdesk
        );
        assert!(ConsoleRole::parse("root").is_err());
    }
}
