//! The user APIs (OneAccess's 用户类接口): `/api/v2/sdk/*` for native and server-side
//! sign-in, authenticated by the common headers (and `X-signature` or `X-state-token`), and
//! the SSO tickets of `/api/v2/tenant/sso/*`, authenticated by a tenant token. Their refusals
//! are `{"error_code", "error_msg"}` with status 400, as the reference documents them.

use crate::auth::Authenticated;
use crate::client_address::ClientAddress;
use crate::error::{ApiError, ErrorResponses};
use crate::extract::JsonBody;
use crate::Site;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use roster_domain::user::User;
use roster_domain::user_api::ProfileUpdate;
use roster_domain::Error;
use roster_service::{ApiUser, LoginAnswer, Service, TicketRequest, UserApiHeaders};
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(server_date))
        .routes(routes!(public_key))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(profile))
        .routes(routes!(update_profile))
        .routes(routes!(refresh_id_token))
        .routes(routes!(update_password))
        .routes(routes!(skip_password_update))
        .routes(routes!(mobile_by_token))
        .routes(routes!(send_sms_code))
        .routes(routes!(second_factor))
        .routes(routes!(reset_password_by_mobile))
}

/// The SSO ticket routes, under `/api/v2/tenant`.
pub fn tenant_router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(sso_ticket))
        .routes(routes!(verify_sso_ticket))
        .routes(routes!(refresh_session_token))
}

/// A refusal of a user API: the catalog body, always with 400 for a client error (the
/// reference documents no other status for these routes).
pub struct UserApiError(Error);

impl From<Error> for UserApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl IntoResponse for UserApiError {
    fn into_response(self) -> Response {
        let client_error = (400..500).contains(&self.0.kind().status());
        let mut response = ApiError(self.0).into_response();
        if client_error {
            *response.status_mut() = StatusCode::BAD_REQUEST;
        }
        response
    }
}

type Answer<T> = Result<Json<T>, UserApiError>;

/// The headers of the user APIs that are read, as sent.
pub struct SdkHeaders {
    client_id: Option<String>,
    device_fingerprint: Option<String>,
    operating_sys_version: Option<String>,
    agent: Option<String>,
    signature: Option<String>,
    state_token: Option<String>,
    source: ClientAddress,
}

impl SdkHeaders {
    fn common(&self) -> UserApiHeaders<'_> {
        UserApiHeaders {
            client_id: self.client_id.as_deref(),
            device_fingerprint: self.device_fingerprint.as_deref(),
            operating_sys_version: self.operating_sys_version.as_deref(),
            agent: self.agent.as_deref(),
            source: self.source.0,
        }
    }

    fn signature(&self) -> Option<&str> {
        self.signature.as_deref()
    }

    fn state_token(&self) -> Option<&str> {
        self.state_token.as_deref()
    }
}

impl FromRequestParts<Service> for SdkHeaders {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &Service) -> Result<Self, Infallible> {
        let source = ClientAddress::from_request_parts(parts, state).await?;
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        // Only logged, as the reference says of them.
        tracing::debug!(
            device_ip = header("x-device-ip"),
            language = header("x-l"),
            tenant = header("x-tenant-id"),
            os = header("x-operating-sys-version"),
            agent = header("x-agent"),
            "user API call"
        );
        if let Some(client_id) = header("x-client-id") {
            crate::request_log::RequestInfo::client(&parts.extensions, client_id);
        }
        let owned = |name: &str| header(name).map(str::to_owned);
        Ok(Self {
            client_id: owned("x-client-id"),
            device_fingerprint: owned("x-device-fingerprint"),
            operating_sys_version: owned("x-operating-sys-version"),
            agent: owned("x-agent"),
            signature: owned("x-signature"),
            state_token: owned("x-state-token"),
            source,
        })
    }
}

/// `ShowServerDate`'s answer.
#[derive(Serialize, ToSchema)]
struct ServerDate {
    /// Milliseconds since the Unix epoch, as text: the `timestamp` of `X-signature`.
    timestamp: String,
}

/// `ShowServerDate`: the server's time, for signatures. Asks for no header.
#[utoipa::path(
    get,
    path = "/api/v2/sdk/server-date",
    operation_id = "ShowServerDate",
    tag = "user-apis",
    responses((status = 200, description = "Success.", body = ServerDate))
)]
async fn server_date(State(service): State<Service>) -> Json<ServerDate> {
    Json(ServerDate {
        timestamp: service.server_time().to_string(),
    })
}

#[derive(Serialize, ToSchema)]
struct PublicKey {
    /// PEM (`-----BEGIN PUBLIC KEY-----`): encrypt `X-signature` with it.
    public_key: String,
}

/// `ShowPublicKey`: the application's RSA public key (one per application).
#[utoipa::path(
    get,
    path = "/api/v2/sdk/public-key",
    operation_id = "ShowPublicKey",
    tag = "user-apis",
    responses((status = 200, description = "Success.", body = PublicKey), ErrorResponses)
)]
async fn public_key(State(service): State<Service>, headers: SdkHeaders) -> Answer<PublicKey> {
    let public_key = service.user_api_public_key(headers.common()).await?;
    Ok(Json(PublicKey { public_key }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
struct LoginBody {
    user_name: Option<String>,
    password: Option<String>,
}

/// The login's answer; which fields come depends on `status`.
#[derive(Serialize, ToSchema)]
struct LoginView {
    /// `SUCCESS`, `PASSWORD_WARN`, `PASSWORD_EXPIRED`, `MFA_AUTH` or `ACCESS_DENIED`.
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    /// The session token's lifetime, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    expire: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<String>,
}

impl From<LoginAnswer> for LoginView {
    fn from(a: LoginAnswer) -> Self {
        Self {
            status: a.status.to_owned(),
            session_token: a.session_token,
            id_token: a.id_token,
            expire: a.expire,
            state_token: a.state_token,
            data: a.data,
        }
    }
}

/// `LoginByUserNamePwd`.
#[utoipa::path(
    post,
    path = "/api/v2/sdk/login",
    operation_id = "LoginByUserNamePwd",
    tag = "user-apis",
    request_body = LoginBody,
    responses((status = 200, description = "Success.", body = LoginView), ErrorResponses)
)]
async fn login(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    headers: SdkHeaders,
    JsonBody(body): JsonBody<LoginBody>,
) -> Answer<LoginView> {
    let answer = service
        .user_api_login(
            headers.common(),
            body.user_name.as_deref(),
            body.password.as_deref(),
            &site.issuer,
        )
        .await?;
    Ok(Json(answer.into()))
}

/// `Logout`: ends the session token. 200 with no body.
#[utoipa::path(
    get,
    path = "/api/v2/sdk/logout",
    operation_id = "Logout",
    tag = "user-apis",
    responses((status = 200, description = "Success."), ErrorResponses)
)]
async fn logout(
    State(service): State<Service>,
    headers: SdkHeaders,
) -> Result<StatusCode, UserApiError> {
    service
        .user_api_logout(headers.common(), headers.signature())
        .await?;
    Ok(StatusCode::OK)
}

/// The profile of the user APIs (absent fields omitted).
#[derive(Serialize, ToSchema)]
struct ProfileView {
    user_name: String,
    name: String,
    mobile: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attr_gender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attr_birthday: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attr_nick_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    middle_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    extension: Option<serde_json::Map<String, serde_json::Value>>,
}

impl From<User> for ProfileView {
    fn from(user: User) -> Self {
        Self {
            user_name: user.user_name,
            name: user.name,
            mobile: user.mobile,
            email: user.email,
            attr_gender: user.attrs.gender,
            attr_birthday: user.attrs.birthday,
            attr_nick_name: user.attrs.nick_name,
            first_name: user.first_name,
            middle_name: user.middle_name,
            last_name: user.last_name,
            extension: user.extension,
        }
    }
}

/// `ShowUser` (user APIs): the signed-in user's profile.
#[utoipa::path(
    get,
    path = "/api/v2/sdk/profile",
    operation_id = "ShowUserProfile",
    tag = "user-apis",
    responses((status = 200, description = "Success.", body = ProfileView), ErrorResponses)
)]
async fn profile(State(service): State<Service>, headers: SdkHeaders) -> Answer<ProfileView> {
    let user = service
        .user_api_profile(headers.common(), headers.signature())
        .await?;
    Ok(Json(user.into()))
}

/// `UpdateUser` (user APIs): the signed-in user changes their name and attributes (not the
/// mobile, email or password). Answers the profile as changed.
#[utoipa::path(
    post,
    path = "/api/v2/sdk/profile/update",
    operation_id = "UpdateUserProfile",
    tag = "user-apis",
    request_body = ProfileUpdate,
    responses((status = 200, description = "Success.", body = ProfileView), ErrorResponses)
)]
async fn update_profile(
    State(service): State<Service>,
    headers: SdkHeaders,
    JsonBody(update): JsonBody<ProfileUpdate>,
) -> Answer<ProfileView> {
    let user = service
        .user_api_update_profile(headers.common(), headers.signature(), update)
        .await?;
    Ok(Json(user.into()))
}

#[derive(Serialize, ToSchema)]
struct IdTokenView {
    id_token: String,
}

/// `CreateIdToken`: a new id_token for the signed session.
#[utoipa::path(
    post,
    path = "/api/v2/sdk/session-token/refresh-id-token",
    operation_id = "CreateIdToken",
    tag = "user-apis",
    responses((status = 200, description = "Success.", body = IdTokenView), ErrorResponses)
)]
async fn refresh_id_token(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    headers: SdkHeaders,
) -> Answer<IdTokenView> {
    let id_token = service
        .user_api_refresh_id_token(headers.common(), headers.signature(), &site.issuer)
        .await?;
    Ok(Json(IdTokenView { id_token }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
struct PasswordBody {
    old_password: Option<String>,
    new_password: Option<String>,
}

/// `ForceUpdatePwd`: with the `X-state-token` of `PASSWORD_WARN` or `PASSWORD_EXPIRED`,
/// changes the password and completes the login.
#[utoipa::path(
    post,
    path = "/api/v2/sdk/pwd/update",
    operation_id = "ForceUpdatePwd",
    tag = "user-apis",
    request_body = PasswordBody,
    responses((status = 200, description = "Success.", body = LoginView), ErrorResponses)
)]
async fn update_password(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    headers: SdkHeaders,
    JsonBody(body): JsonBody<PasswordBody>,
) -> Answer<LoginView> {
    let answer = service
        .user_api_change_password(
            headers.common(),
            headers.state_token(),
            body.old_password.as_deref(),
            body.new_password.as_deref(),
            &site.issuer,
        )
        .await?;
    Ok(Json(answer.into()))
}

/// `SkipForceUpdatePwd`: with the `X-state-token` of `PASSWORD_WARN`, completes the login
/// without a change.
#[utoipa::path(
    get,
    path = "/api/v2/sdk/pwd/skip-update",
    operation_id = "SkipForceUpdatePwd",
    tag = "user-apis",
    responses((status = 200, description = "Success.", body = LoginView), ErrorResponses)
)]
async fn skip_password_update(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    headers: SdkHeaders,
) -> Answer<LoginView> {
    let answer = service
        .user_api_skip_password_change(headers.common(), headers.state_token(), &site.issuer)
        .await?;
    Ok(Json(answer.into()))
}

#[derive(Serialize, ToSchema)]
struct MobileView {
    /// The number the second factor's code goes to, as the user's record holds it.
    mobile: String,
}

/// `ShowMobileByStateToken`: with the `X-state-token` of `MFA_AUTH`, the user's number.
#[utoipa::path(
    get,
    path = "/api/v2/sdk/mobile-by-token",
    operation_id = "ShowMobileByStateToken",
    tag = "user-apis",
    responses((status = 200, description = "Success.", body = MobileView), ErrorResponses)
)]
async fn mobile_by_token(
    State(service): State<Service>,
    headers: SdkHeaders,
) -> Answer<MobileView> {
    let mobile = service
        .user_api_mobile_by_token(headers.common(), headers.state_token())
        .await?;
    Ok(Json(MobileView { mobile }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
struct SmsBody {
    /// A directory user's number.
    mobile: Option<String>,
    /// `OTP_REST_SMS` (or `LOGIN_SMS`): the second factor; `FORGET_PWD_SMS`: a new password.
    /// `REGISTER_SMS`, `BIND_MOBILE_SMS` and `UPDATE_MOBILE_SMS` are refused (nothing in
    /// Roster reads their codes).
    #[serde(rename = "type")]
    sms_type: Option<String>,
    /// Required, not checked: Roster has no slider captcha (docs/user-api.md).
    captcha_token: Option<String>,
}

/// `SendSmsVerifyCode`: a 6-digit code to the number, good for 5 minutes and 5 tries, given
/// to the configured sender (`log` keeps it: `GET /roster/v1/messages`). At most one a
/// minute per number and purpose. 200 with no body.
#[utoipa::path(
    post,
    path = "/api/v2/sdk/sms/send",
    operation_id = "SendSmsVerifyCode",
    tag = "user-apis",
    request_body = SmsBody,
    responses((status = 200, description = "Sent (or, in the oneaccess style, a number no user has: nothing sent)."), ErrorResponses)
)]
async fn send_sms_code(
    State(service): State<Service>,
    headers: SdkHeaders,
    JsonBody(body): JsonBody<SmsBody>,
) -> Result<StatusCode, UserApiError> {
    service
        .user_api_send_code(
            headers.common(),
            body.mobile.as_deref(),
            body.sms_type.as_deref(),
            body.captcha_token.as_deref(),
        )
        .await?;
    Ok(StatusCode::OK)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
struct CodeBody {
    mobile: Option<String>,
    verify_code: Option<String>,
}

/// `SecondaryAuthByMobileVerifyCode`: with the `X-state-token` of `MFA_AUTH`, the code sent
/// to the user's number completes the login (or moves on to a password change that is due).
#[utoipa::path(
    post,
    path = "/api/v2/sdk/mfa/sms",
    operation_id = "SecondaryAuthByMobileVerifyCode",
    tag = "user-apis",
    request_body = CodeBody,
    responses((status = 200, description = "Success.", body = LoginView), ErrorResponses)
)]
async fn second_factor(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    headers: SdkHeaders,
    JsonBody(body): JsonBody<CodeBody>,
) -> Answer<LoginView> {
    let answer = service
        .user_api_second_factor(
            headers.common(),
            headers.state_token(),
            body.mobile.as_deref(),
            body.verify_code.as_deref(),
            &site.issuer,
        )
        .await?;
    Ok(Json(answer.into()))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
struct ResetBody {
    mobile: Option<String>,
    verify_code: Option<String>,
    /// The new password (held to the password policy).
    password: Option<String>,
}

/// `GetBackPwdByMobile`: a new password for a forgotten one, with a code sent for
/// `FORGET_PWD_SMS`. Ends the user's earlier sign-ins. 200 with no body.
#[utoipa::path(
    post,
    path = "/api/v2/sdk/pwd/update-by-mobile",
    operation_id = "GetBackPwdByMobile",
    tag = "user-apis",
    request_body = ResetBody,
    responses((status = 200, description = "Success."), ErrorResponses)
)]
async fn reset_password_by_mobile(
    State(service): State<Service>,
    headers: SdkHeaders,
    JsonBody(body): JsonBody<ResetBody>,
) -> Result<StatusCode, UserApiError> {
    service
        .user_api_reset_password(
            headers.common(),
            body.mobile.as_deref(),
            body.verify_code.as_deref(),
            body.password.as_deref(),
        )
        .await?;
    Ok(StatusCode::OK)
}

/// The body of the ticket calls.
#[derive(Debug, Default, Deserialize, ToSchema)]
struct TicketBody {
    session_token: Option<String>,
    sso_ticket: Option<String>,
    operating_sys_version: Option<String>,
    device_ip: Option<String>,
    /// Must be the login's.
    device_fingerprint: Option<String>,
    agent: Option<String>,
    /// The application the ticket is for (else the session's).
    client_id: Option<String>,
}

impl TicketBody {
    fn request(&self) -> TicketRequest<'_> {
        // Only logged, as the reference says of the device fields.
        tracing::debug!(
            device_ip = self.device_ip.as_deref(),
            agent = self.agent.as_deref(),
            os = self.operating_sys_version.as_deref(),
            "ticket call"
        );
        TicketRequest {
            session_token: self.session_token.as_deref(),
            sso_ticket: self.sso_ticket.as_deref(),
            operating_sys_version: self.operating_sys_version.as_deref(),
            device_ip: self.device_ip.as_deref(),
            device_fingerprint: self.device_fingerprint.as_deref(),
            client_id: self.client_id.as_deref(),
        }
    }
}

#[derive(Serialize, ToSchema)]
struct TicketView {
    /// Seconds.
    expire: i64,
    sso_ticket: String,
}

/// `ShowSSOTicketBySessionToken`: a one-time ticket for the session's user.
#[utoipa::path(
    post,
    path = "/sso/session-token/sso-ticket",
    operation_id = "ShowSSOTicketBySessionToken",
    tag = "user-apis",
    request_body = TicketBody,
    responses((status = 200, description = "Success.", body = TicketView), ErrorResponses),
    security(("bearer" = []))
)]
async fn sso_ticket(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    JsonBody(body): JsonBody<TicketBody>,
) -> Answer<TicketView> {
    let (sso_ticket, expire) = service.issue_sso_ticket(&caller, body.request()).await?;
    Ok(Json(TicketView { expire, sso_ticket }))
}

#[derive(Serialize, ToSchema)]
struct TicketUserView {
    /// `"200"` on success.
    code: String,
    message: String,
    data: TicketUserData,
}

#[derive(Serialize, ToSchema)]
struct TicketUserData {
    #[schema(value_type = Object)]
    user: ApiUser,
}

/// `ShowUserBySSOTicket`: redeems the ticket (once) for its user.
#[utoipa::path(
    post,
    path = "/sso/sso-ticket/verify",
    operation_id = "ShowUserBySSOTicket",
    tag = "user-apis",
    request_body = TicketBody,
    responses((status = 200, description = "Success.", body = TicketUserView), ErrorResponses),
    security(("bearer" = []))
)]
async fn verify_sso_ticket(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    JsonBody(body): JsonBody<TicketBody>,
) -> Answer<TicketUserView> {
    let redeemed = service.redeem_sso_ticket(&caller, body.request()).await?;
    Ok(Json(TicketUserView {
        code: "200".to_owned(),
        message: "success".to_owned(),
        data: TicketUserData {
            user: ApiUser::of(&redeemed.user),
        },
    }))
}

/// `RefreshSessionToken`: a new session token for the same login; the old one ends.
#[utoipa::path(
    post,
    path = "/sso/session-token/refresh",
    operation_id = "RefreshSessionToken",
    tag = "user-apis",
    request_body = TicketBody,
    responses((status = 200, description = "Success.", body = SessionView), ErrorResponses),
    security(("bearer" = []))
)]
async fn refresh_session_token(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    Authenticated(caller): Authenticated,
    JsonBody(body): JsonBody<TicketBody>,
) -> Answer<SessionView> {
    let answer = service
        .refresh_session_token(&caller, body.request(), &site.issuer)
        .await?;
    Ok(Json(SessionView {
        session_token: answer.session_token.unwrap_or_default(),
        id_token: answer.id_token.unwrap_or_default(),
        expire: answer.expire.unwrap_or_default(),
    }))
}

/// A refreshed session token.
#[derive(Serialize, ToSchema)]
struct SessionView {
    session_token: String,
    id_token: String,
    /// The session token's lifetime, in seconds.
    expire: i64,
}
