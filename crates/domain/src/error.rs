//! The one error catalog. Every error Roster returns to a client is an [`ErrorKind`]: it knows
//! its HTTP status, its stable `error_code` and its message. `docs/api.md` lists them all, and a
//! test keeps that list and this table in step.

use std::fmt;

macro_rules! catalog {
    ($($kind:ident => ($status:expr, $code:expr, $message:expr)),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorKind { $($kind),* }

        impl ErrorKind {
            /// Every entry, in catalog order.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$kind),*];

            pub fn status(self) -> u16 {
                match self { $(ErrorKind::$kind => $status),* }
            }

            pub fn code(self) -> &'static str {
                match self { $(ErrorKind::$kind => $code),* }
            }

            pub fn message(self) -> &'static str {
                match self { $(ErrorKind::$kind => $message),* }
            }

            /// The entry of a stable code (`SYSTEM.0001`), if the catalog has it.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some(ErrorKind::$kind),)* _ => None }
            }
        }
    };
}

catalog! {
    // Request shape. The reference answers every invalid parameter with 400.
    InvalidParameter => (400, "PARAM.0001", "Invalid parameter."),
    MalformedBody => (400, "PARAM.0002", "Request body is not valid."),
    MalformedRequest => (400, "PARAM.0400", "Malformed HTTP request (request line, header or Content-Length)."),
    ClientIdRequired => (400, "PARAM.0003", "ClientId required."),
    UnsupportedMediaType => (415, "PARAM.0415", "Unsupported content type."),
    BodyTooLarge => (413, "PARAM.0413", "Request body too large."),
    UriTooLong => (414, "PARAM.0414", "Request path and query too long."),
    HeadersTooLarge => (431, "PARAM.0431", "Request headers too large."),
    // Access credential and authorization.
    UnsupportedGrantType => (400, "TOKEN.0001", "Unsupported grant type."),
    InvalidClient => (400, "TOKEN.0002", "Invalid client credentials."),
    Unauthenticated => (401, "TOKEN.0003", "Access token missing or invalid."),
    TokenExpired => (401, "TOKEN.0004", "Access token expired."),
    PermissionDenied => (403, "TOKEN.0005", "The application is not authorized for this interface."),
    TooManyTokenRequests => (429, "TOKEN.0006", "Too many token requests; retry later."),
    ClientCredentialsDisagree => (400, "TOKEN.0007", "The client credentials in the Authorization header and in the form disagree."),
    UnauthorizedGrantType => (400, "TOKEN.0009", "The application may not use this grant type."),
    ClientCredentialsInQuery => (400, "TOKEN.0008", "Client credentials are not accepted in the query string; send them in the form body or an HTTP Basic Authorization header."),
    // Applications.
    ApplicationNotFound => (400, "APP.0001", "Application does not exist."),
    ApplicationIdRequired => (400, "APP.0002", "Application ID required."),
    ApplicationDisabled => (400, "APP.0003", "Application disabled."),
    ClientIdExists => (400, "APP.0004", "Client ID already exists."),
    ApplicationNameExists => (400, "APP.0005", "Application name already exists."),
    SsoNotConfigured => (404, "APP.0006", "The application has no sign-in settings."),
    // Signing in to applications.
    InvalidGrant => (400, "TOKEN.0010", "Invalid authorization grant."),
    InvalidScope => (400, "TOKEN.0011", "Invalid scope."),
    UserLocked => (400, "LOGIN.0001", "The user is locked after too many failed sign-ins."),
    InvalidSignIn => (400, "LOGIN.0002", "Invalid account name or password."),
    SignInDenied => (403, "LOGIN.0003", "The user may not sign in to this application."),
    TooManySignIns => (429, "LOGIN.0004", "Too many sign-in attempts from this address; retry later."),
    // The user APIs (/api/v2/sdk/*) in OneAccess's style (PARAM.0030-0032 as the reference;
    // the session and state token codes are Roster's: the reference does not document them).
    SignatureInvalid => (400, "PARAM.0030", "Signature invalid or expired."),
    SsoTicketRequired => (400, "PARAM.0031", "SSO ticket required."),
    SsoTicketInvalid => (400, "PARAM.0032", "SSO ticket invalid or expired."),
    CaptchaTokenRequired => (400, "PARAM.0005", "Token required."),
    VerifyCodeRequired => (400, "PARAM.0009", "Verification code required."),
    SessionTokenInvalid => (400, "SESSION.0001", "Session token invalid or expired."),
    StateTokenInvalid => (400, "SESSION.0002", "State token invalid or expired."),
    // The user APIs in Bamboo Cloud's style (`sdk_error_style = "bamboocloud"`).
    SdkParameterBlank => (400, "SDK.COMMON.1001", "Parameter cannot be left blank:"),
    SdkDeviceIncomplete => (400, "SDK.COMMON.1003", "Device information is incomplete."),
    SdkSignatureUnreadable => (400, "SDK.COMMON.1004", "Signature decryption error."),
    SdkExpired => (400, "SDK.COMMON.1005", "Expired:"),
    SdkParameterError => (400, "SDK.COMMON.1006", "Parameter error:"),
    SdkTypeError => (400, "SDK.COMMON.1007", "Type error:"),
    SdkClientIdIncorrect => (400, "SDK.COMMON.1012", "x-client-id incorrect."),
    SdkUserNotFound => (400, "SDK.COMMON.1013", "User not found."),
    SdkNoPrivateKey => (400, "SDK.COMMON.1014", "Application private key not found."),
    SdkUserNotBound => (400, "SDK.LOGIN.1002", "User not bound."),
    SdkUserLocked => (400, "SDK.LOGIN.1003", "The user is locked after too many failed sign-ins."),
    SdkWrongPassword => (400, "SDK.LOGIN.1005", "Wrong user name or password."),
    // SMS verification codes (Roster's codes: the reference documents none).
    VerifyCodeWrong => (400, "CODE.0001", "Verification code incorrect."),
    VerifyCodeExpired => (400, "CODE.0002", "Verification code invalid or expired; ask for a new one."),
    TooManyCodes => (429, "CODE.0003", "Too many verification codes asked for."),
    // Users.
    UserNotFound => (400, "USER.0001", "User does not exist."),
    UserNameExists => (400, "USER.0002", "Username already exists."),
    MobileExists => (400, "USER.0003", "Mobile number already exists."),
    WrongPassword => (400, "USER.0004", "The original password is incorrect."),
    // Organizations.
    OrganizationNotFound => (400, "ORG.0001", "Organization does not exist."),
    ParentOrganizationNotFound => (400, "ORG.0002", "Parent organization does not exist."),
    OrganizationHasChildren => (400, "ORG.0003", "Organization has sub-organizations."),
    OrganizationHasMembers => (400, "ORG.0004", "Organization has users."),
    OrganizationNameExists => (400, "ORG.0005", "Organization name already exists at this level."),
    OrganizationCycle => (400, "ORG.0006", "An organization cannot be moved under itself or its sub-organizations."),
    OrganizationCodeRequired => (400, "ORG.0010", "Organization code required."),
    OrganizationNameRequired => (400, "ORG.0011", "Organization name required."),
    OrganizationCodeExists => (400, "ORG.0012", "Organization code already exists."),
    InvalidOrganizationCode => (400, "ORG.0014", "Invalid organization code."),
    InvalidOrganizationName => (400, "ORG.0015", "Invalid organization name."),
    // Application organizations.
    AppOrgNotFound => (400, "APP_ORG.0001", "Application organization does not exist."),
    AppOrgHasChildren => (400, "APP_ORG.0002", "Application organization has sub-organizations."),
    AppOrgCodeExists => (400, "APP_ORG.0003", "Application organization code already exists."),
    ParentAppOrgNotFound => (400, "APP_ORG.0004", "Parent application organization does not exist."),
    AppOrgHasAccounts => (400, "APP_ORG.0005", "Application organization has accounts."),
    AppOrgCycle => (400, "APP_ORG.0006", "An application organization cannot be moved under itself or its sub-organizations."),
    // Application roles.
    RoleNotFound => (400, "ROLE.0001", "Application role does not exist."),
    RoleCodeExists => (400, "ROLE.0002", "Application role code already exists."),
    // Application accounts. The core operations keep the reference's `APP.ACC.*` spelling.
    AccountNameExists => (400, "APP.ACC.0013", "Application account name already exists."),
    AppAccountExists => (400, "APP.ACC.0029", "Application account already exists."),
    AppAccountNotFound => (400, "APP_ACCOUNT.0001", "Application account does not exist."),
    // Routing and the server itself.
    RouteNotFound => (404, "ROUTE.0404", "No such interface."),
    // Test mode (a Roster extension).
    SnapshotNotFound => (404, "TEST.0001", "Snapshot does not exist."),
    MethodNotAllowed => (405, "ROUTE.0405", "Method not allowed for this interface."),
    RequestTimeout => (408, "SYSTEM.0408", "Request timed out."),
    Internal => (500, "SYSTEM.0001", "Internal server error."),
    Unavailable => (503, "SYSTEM.0002", "Service temporarily unavailable."),
    TooManyConnections => (503, "SYSTEM.0004", "Too many connections; retry later."),
    WritesFailing => (503, "SYSTEM.0003", "Writes are failing (is the disk full?); reads still work."),
}

/// An error from the catalog, with an optional detail that says what exactly was wrong.
///
/// The detail of an [`ErrorKind::Internal`] or [`ErrorKind::Unavailable`] error is for logs
/// only: [`Error::client_message`] never shows it, so database text cannot leak to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    detail: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind) -> Self {
        Self { kind, detail: None }
    }

    pub fn with_detail(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: Some(detail.into()),
        }
    }

    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::with_detail(ErrorKind::InvalidParameter, detail)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::with_detail(ErrorKind::Internal, detail)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    pub fn is_server_side(&self) -> bool {
        self.kind.status() >= 500
    }

    /// The `error_msg` a client sees.
    pub fn client_message(&self) -> String {
        match (&self.detail, self.is_server_side()) {
            (Some(detail), false) => format!("{} {}", self.kind.message(), detail),
            _ => self.kind.message().to_owned(),
        }
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Self::new(kind)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.kind.message())?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique() {
        let codes: HashSet<_> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
    }

    #[test]
    fn internal_detail_never_reaches_the_client() {
        let err = Error::internal("UNIQUE constraint failed: secret_table.x");
        assert_eq!(err.client_message(), "Internal server error.");
        let err = Error::invalid("user_name is required.");
        assert_eq!(
            err.client_message(),
            "Invalid parameter. user_name is required."
        );
    }
}
