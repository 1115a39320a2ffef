//! What one use case may read and write inside its transaction, split by capability. A
//! backend implements every trait; the service sees them together as [`Tx`].

use async_trait::async_trait;
use roster_domain::account::{AccountId, AccountType, AppAccount};
use roster_domain::application::{AccessToken, Application, ApplicationId};
use roster_domain::audit::{AuditEntry, AuditFilter, AuditRecord};
use roster_domain::cas::ServiceTicket;
use roster_domain::console::ConsoleRole;
use roster_domain::logout::{LogoutDelivery, Participant};
use roster_domain::message::Message;
use roster_domain::organization::{AppOrganization, Organization};
use roster_domain::page::{Page, PageRequest};
use roster_domain::role::Role;
use roster_domain::saml::SpentRequest;
use roster_domain::second_factor::{CodePurpose, VerifyCode};
use roster_domain::sign_in::{
    AuthorizationCode, Guessed, RefreshToken, Reservation, SignInLock, SsoSession, Standing,
};
use roster_domain::signing::SigningKey;
use roster_domain::sso::{Protocol, SsoAccessToken, SsoSettings};
use roster_domain::time::Millis;
use roster_domain::user::{User, UserId};
use roster_domain::user_api::{SsoTicket, StateToken, UserApiSession};
use roster_domain::Result;

#[async_trait]
pub trait ApplicationTx: Send {
    async fn insert_application(&mut self, app: &Application) -> Result<()>;
    /// Inserts unless an application with that client id exists; says whether it inserted.
    async fn insert_application_if_absent(&mut self, app: &Application) -> Result<bool>;
    async fn update_application(&mut self, app: &Application) -> Result<()>;
    async fn application(&mut self, id: &ApplicationId) -> Result<Option<Application>>;
    /// The application, locked until the transaction ends where writers run concurrently.
    async fn application_for_update(&mut self, id: &ApplicationId) -> Result<Option<Application>>;
    async fn application_by_client_id(&mut self, client_id: &str) -> Result<Option<Application>>;
    async fn list_applications(&mut self, page: PageRequest) -> Result<Page<Application>>;
}

#[async_trait]
pub trait TokenTx: Send {
    /// The token stored under `key` ([`roster_domain::secret::token_key`]), or under
    /// `key_before_0009` (its bare digest, the key of tokens issued before migration 0009),
    /// with its application.
    async fn token(
        &mut self,
        key: &str,
        key_before_0009: &str,
    ) -> Result<Option<(AccessToken, Application)>>;
    async fn delete_tokens_expired_before(&mut self, at: Millis) -> Result<u64>;
    async fn delete_tokens_of_application(&mut self, application_id: &ApplicationId)
        -> Result<u64>;
    /// Tells the other nodes, when this transaction commits, that token checks they cached
    /// may have become wrong (an application changed, a user's sign-ins ended, tokens were
    /// revoked): they drop them ([`crate::Store::changes_heard`]). Nothing to tell with one
    /// node.
    async fn announce_change(&mut self) -> Result<()>;
}

/// Which organizations a list covers (the reference's `org_id` × `all_child`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgScope {
    /// Top-level organizations.
    Roots,
    /// Every organization.
    All,
    /// This organization and its direct children.
    WithChildren(String),
    /// This organization and all its descendants.
    Subtree(String),
}

/// Serializes changes that must not interleave on a multi-node database (moving subtrees).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKey {
    OrganizationTree = 1,
    AppOrganizationTree = 2,
    SigningKeys = 3,
}

#[async_trait]
pub trait OrganizationTx: Send {
    /// Takes `key` until the transaction ends (a no-op where writes are already serial).
    async fn lock(&mut self, key: LockKey) -> Result<()>;
    async fn insert_organization(&mut self, org: &Organization) -> Result<()>;
    async fn update_organization(&mut self, org: &Organization) -> Result<()>;
    async fn delete_organization(&mut self, id: &str) -> Result<()>;
    async fn organization(&mut self, id: &str) -> Result<Option<Organization>>;
    async fn organization_by_code(&mut self, code: &str) -> Result<Option<Organization>>;
    /// The oldest top-level organization, where users without an `org_code` go.
    async fn first_root_organization(&mut self) -> Result<Option<Organization>>;
    async fn organization_has_children(&mut self, id: &str) -> Result<bool>;
    async fn organization_has_members(&mut self, id: &str) -> Result<bool>;
    /// Whether `candidate` is `root` or one of its descendants.
    async fn organization_in_subtree(&mut self, root: &str, candidate: &str) -> Result<bool>;
    async fn list_organizations(
        &mut self,
        scope: &OrgScope,
        page: PageRequest,
    ) -> Result<Page<Organization>>;
}

#[async_trait]
pub trait AppOrgTx: Send {
    async fn insert_app_org(&mut self, org: &AppOrganization) -> Result<()>;
    async fn update_app_org(&mut self, org: &AppOrganization) -> Result<()>;
    async fn delete_app_org(&mut self, id: &str) -> Result<()>;
    async fn app_org(
        &mut self,
        application_id: &ApplicationId,
        id: &str,
    ) -> Result<Option<AppOrganization>>;
    async fn app_org_by_code(
        &mut self,
        application_id: &ApplicationId,
        code: &str,
    ) -> Result<Option<AppOrganization>>;
    async fn app_org_has_children(&mut self, id: &str) -> Result<bool>;
    async fn app_org_has_accounts(&mut self, id: &str) -> Result<bool>;
    async fn app_org_in_subtree(&mut self, root: &str, candidate: &str) -> Result<bool>;
    async fn list_app_orgs(
        &mut self,
        application_id: &ApplicationId,
        page: PageRequest,
    ) -> Result<Page<AppOrganization>>;
}

#[async_trait]
pub trait UserTx: Send {
    async fn insert_user(&mut self, user: &User) -> Result<()>;
    /// Inserts many users with few statements (bulk import).
    async fn insert_users(&mut self, users: &[User]) -> Result<()>;
    async fn update_user(&mut self, user: &User) -> Result<()>;
    async fn delete_user(&mut self, id: &UserId) -> Result<()>;
    async fn user(&mut self, id: &UserId) -> Result<Option<User>>;
    /// The user (locked in a write, as by [`UserTx::user`]) and an application, when both
    /// exist: one statement where two reads would be two round trips on PostgreSQL.
    async fn user_and_application(
        &mut self,
        id: &UserId,
        application_id: &ApplicationId,
    ) -> Result<Option<(User, Application)>>;
    async fn user_by_name(&mut self, user_name: &str) -> Result<Option<User>>;
    /// Users, oldest first; only those whose home is `org_id` when given.
    async fn list_users(&mut self, org_id: Option<&str>, page: PageRequest) -> Result<Page<User>>;
    /// Users changed after `after` (only those whose home is `org_id` when given), in the order
    /// they changed.
    async fn list_users_updated_after(
        &mut self,
        org_id: Option<&str>,
        after: Millis,
        page: PageRequest,
    ) -> Result<Page<User>>;
}

#[async_trait]
pub trait AccountTx: Send {
    async fn insert_account(&mut self, account: &AppAccount) -> Result<()>;
    async fn update_account(&mut self, account: &AppAccount) -> Result<()>;
    async fn delete_account(
        &mut self,
        application_id: &ApplicationId,
        id: &AccountId,
    ) -> Result<()>;
    async fn account(
        &mut self,
        application_id: &ApplicationId,
        id: &AccountId,
    ) -> Result<Option<AppAccount>>;
    /// The account and the roles it holds (ordered by id), in one statement.
    async fn account_with_roles(
        &mut self,
        application_id: &ApplicationId,
        id: &AccountId,
    ) -> Result<Option<(AppAccount, Vec<Role>)>>;
    async fn accounts_of_user(&mut self, user_id: &UserId) -> Result<Vec<AppAccount>>;
    async fn list_accounts(
        &mut self,
        application_id: &ApplicationId,
        account_type: Option<AccountType>,
        page: PageRequest,
    ) -> Result<Page<AppAccount>>;
    /// Disables the user's enabled accounts, marking them as disabled with the user.
    async fn disable_accounts_of_user(&mut self, user_id: &UserId, at: Millis) -> Result<u64>;
    /// Enables the accounts that were disabled with the user.
    async fn enable_accounts_of_user(&mut self, user_id: &UserId, at: Millis) -> Result<u64>;
    /// Detaches the user's accounts: they become orphan accounts.
    async fn orphan_accounts_of_user(&mut self, user_id: &UserId, at: Millis) -> Result<u64>;
    async fn delete_accounts_of_user(&mut self, user_id: &UserId) -> Result<u64>;
    /// Every stored (sealed) account password, as (account id, sealed text).
    async fn sealed_account_passwords(&mut self) -> Result<Vec<(AccountId, String)>>;
    async fn set_sealed_account_password(&mut self, id: &AccountId, sealed: &str) -> Result<()>;
}

#[async_trait]
pub trait RoleTx: Send {
    async fn insert_role(&mut self, role: &Role) -> Result<()>;
    async fn update_role(&mut self, role: &Role) -> Result<()>;
    async fn delete_role(&mut self, id: &str) -> Result<()>;
    async fn role(&mut self, application_id: &ApplicationId, id: &str) -> Result<Option<Role>>;
    async fn list_roles(
        &mut self,
        application_id: &ApplicationId,
        page: PageRequest,
    ) -> Result<Page<Role>>;
    /// Grants; says whether the account did not hold the role before.
    async fn add_role_member(
        &mut self,
        role_id: &str,
        account_id: &AccountId,
        at: Millis,
    ) -> Result<bool>;
    /// Revokes; says whether the account held the role.
    async fn remove_role_member(&mut self, role_id: &str, account_id: &AccountId) -> Result<bool>;
    async fn list_role_members(
        &mut self,
        role_id: &str,
        page: PageRequest,
    ) -> Result<Page<AppAccount>>;
    /// The roles held by each of `account_ids`, as (account id, role) pairs.
    async fn roles_of_accounts(
        &mut self,
        account_ids: &[AccountId],
    ) -> Result<Vec<(AccountId, Role)>>;
}

#[async_trait]
pub trait AuditTx: Send {
    async fn insert_audit(&mut self, record: &AuditRecord) -> Result<()>;
    /// Inserts many audit records with few statements (bulk import).
    async fn insert_audits(&mut self, records: &[AuditRecord]) -> Result<()>;
    /// Records `filter` selects, newest first.
    async fn list_audit(
        &mut self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>>;
    /// Deletes at most `limit` of the oldest records from before `at`; says how many.
    async fn delete_audit_before(&mut self, at: Millis, limit: i64) -> Result<u64>;
}

/// Applications' sign-in settings.
#[async_trait]
pub trait SsoTx: Send {
    async fn sso_settings(&mut self, application_id: &ApplicationId)
        -> Result<Option<SsoSettings>>;
    /// Creates or replaces the application's settings.
    async fn put_sso_settings(
        &mut self,
        application_id: &ApplicationId,
        settings: &SsoSettings,
        at: Millis,
    ) -> Result<()>;
    /// Every application whose sign-in settings name `protocol`, with them.
    async fn applications_signing_in_with(
        &mut self,
        protocol: Protocol,
    ) -> Result<Vec<(Application, SsoSettings)>>;
    /// The application with that client id, and its sign-in settings if it has them.
    async fn application_with_sso(
        &mut self,
        client_id: &str,
    ) -> Result<Option<(Application, Option<SsoSettings>)>>;
    /// The logout URLs every application registered.
    async fn all_logout_urls(&mut self) -> Result<Vec<String>>;
}

/// Access tokens of the sign-in endpoints.
#[async_trait]
pub trait SsoTokenTx: Send {
    async fn insert_sso_token(&mut self, token: &SsoAccessToken) -> Result<()>;
    /// The token, its application and the application's sign-in settings.
    async fn sso_token(
        &mut self,
        digest: &str,
    ) -> Result<Option<(SsoAccessToken, Application, Option<SsoSettings>)>>;
    /// Deletes the application's token with this digest; says whether there was one.
    async fn delete_sso_token(
        &mut self,
        application_id: &ApplicationId,
        digest: &str,
    ) -> Result<bool>;
    async fn delete_sso_tokens_expired_before(&mut self, at: Millis) -> Result<u64>;
}

/// The keys that sign id_tokens.
#[async_trait]
pub trait SigningKeyTx: Send {
    /// Every stored key, newest first.
    async fn signing_keys(&mut self) -> Result<Vec<SigningKey>>;
    async fn insert_signing_key(&mut self, key: &SigningKey) -> Result<()>;
    /// Replaces a key's sealed private key (after the secret key changed).
    async fn set_sealed_signing_key(&mut self, kid: &str, sealed: &str) -> Result<()>;
    /// Makes the staged key `kid` the signing key.
    async fn activate_signing_key(&mut self, kid: &str) -> Result<u64>;
    /// Deletes staged keys (a new one replaces them).
    async fn delete_staged_signing_keys(&mut self) -> Result<u64>;
    /// Retires the active keys (not a staged one) at `at`; says how many there were.
    async fn retire_signing_keys(&mut self, at: Millis) -> Result<u64>;
    /// Deletes keys retired before `at`; says how many.
    async fn delete_signing_keys_retired_before(&mut self, at: Millis) -> Result<u64>;
}

/// Users signing in to applications.
#[async_trait]
pub trait SignInTx: Send {
    /// The users a login name may be: by user name (as its folded key), mobile (phone-like
    /// names only) or email (case-insensitively); at most 3.
    async fn users_by_login(&mut self, login: &str) -> Result<Vec<User>>;
    /// Counts a password check about to be made as a wrong password, unless `who` is locked
    /// at `at` or already has `max` counted (a lock that ended starts a new count).
    async fn reserve_password_check(
        &mut self,
        who: &Guessed,
        max: i64,
        at: Millis,
    ) -> Result<Reservation>;
    /// Locks `who` until `until` (the count starts again after it).
    async fn lock_sign_in(&mut self, who: &Guessed, until: Millis, at: Millis) -> Result<()>;
    /// A reserved check found the right password: takes back the `n` wrong passwords counted
    /// up to and including its own reservation (those reserved after it still count).
    async fn release_password_check(&mut self, user_id: &UserId, n: i64) -> Result<()>;
    /// Forgets names nobody has that were last tried before `at`; says how many.
    async fn delete_unknown_names_tried_before(&mut self, at: Millis) -> Result<u64>;
    /// The user, their lock and their account in the application (if any), at once.
    async fn sign_in_candidate(
        &mut self,
        application_id: &ApplicationId,
        user_id: &UserId,
    ) -> Result<Option<Standing>>;
    /// Ends what `user_id` signed in with: sessions, codes, refresh and access tokens, and
    /// notes when, so that nothing from before counts again. With `application_id`, only in
    /// that application (the account changed; sessions stay). Says how many rows went.
    async fn end_sign_ins(
        &mut self,
        user_id: &UserId,
        application_id: Option<&ApplicationId>,
        at: Millis,
    ) -> Result<u64>;
    /// Stores the count of wrong passwords and the lock (`locked` follows `locked_until`).
    async fn set_sign_in_lock(
        &mut self,
        user_id: &UserId,
        lock: SignInLock,
        at: Millis,
    ) -> Result<()>;
    /// Unlocks users whose lock ended by `at`; says how many.
    async fn unlock_users_locked_until(&mut self, at: Millis) -> Result<u64>;
    async fn insert_session(&mut self, session: &SsoSession) -> Result<()>;
    async fn session(&mut self, digest: &str) -> Result<Option<SsoSession>>;
    async fn touch_session(&mut self, digest: &str, at: Millis) -> Result<()>;
    async fn delete_session(&mut self, digest: &str) -> Result<bool>;
    async fn insert_code(&mut self, code: &AuthorizationCode) -> Result<()>;
    async fn code(&mut self, digest: &str) -> Result<Option<AuthorizationCode>>;
    /// Marks the code used; false when it already was (or is gone).
    async fn use_code(&mut self, digest: &str, at: Millis) -> Result<bool>;
    async fn insert_refresh_token(&mut self, token: &RefreshToken) -> Result<()>;
    async fn refresh_token(&mut self, digest: &str) -> Result<Option<RefreshToken>>;
    /// Marks the refresh token used; false when it already was (or is gone).
    async fn use_refresh_token(&mut self, digest: &str, at: Millis) -> Result<bool>;
    /// Deletes every access and refresh token of the grant; says how many.
    async fn revoke_grant(&mut self, grant_id: &str) -> Result<u64>;
    /// Deletes sessions, codes and refresh tokens that ended before `at`.
    async fn delete_sign_ins_expired_before(&mut self, at: Millis) -> Result<u64>;
}

/// The user APIs: session tokens, state tokens, SSO tickets, signature keys and nonces.
#[async_trait]
pub trait UserApiTx: Send {
    /// The application's signature key pair: its public key (PEM) and sealed private key.
    async fn user_api_key(
        &mut self,
        application_id: &ApplicationId,
    ) -> Result<Option<(String, String)>>;
    /// Stores the application's key pair unless it has one already (made at once on another
    /// node); says whether this one was stored.
    async fn insert_user_api_key_if_absent(
        &mut self,
        application_id: &ApplicationId,
        public_key: &str,
        sealed_private_key: &str,
        at: Millis,
    ) -> Result<bool>;
    async fn insert_user_api_session(&mut self, session: &UserApiSession) -> Result<()>;
    async fn user_api_session(&mut self, digest: &str) -> Result<Option<UserApiSession>>;
    /// Ends a session token; says whether it was there.
    async fn delete_user_api_session(&mut self, digest: &str) -> Result<bool>;
    async fn insert_state_token(&mut self, token: &StateToken) -> Result<()>;
    async fn state_token(&mut self, digest: &str) -> Result<Option<StateToken>>;
    /// Spends a state token; false when it was spent already (or is gone).
    async fn delete_state_token(&mut self, digest: &str) -> Result<bool>;
    /// Notes a signature's nonce as used until `expires_at`; false when it was used already.
    async fn spend_nonce(
        &mut self,
        application_id: &ApplicationId,
        nonce_digest: &str,
        expires_at: Millis,
    ) -> Result<bool>;
    async fn insert_sso_ticket(&mut self, ticket: &SsoTicket) -> Result<()>;
    /// Redeems a ticket: deletes it and gives it, or nothing when it was redeemed already.
    async fn take_sso_ticket(&mut self, digest: &str) -> Result<Option<SsoTicket>>;
    /// Deletes session tokens, state tokens, tickets and nonces that ended before `at`.
    async fn delete_user_api_expired_before(&mut self, at: Millis) -> Result<u64>;
    /// Every application's sealed signature key, for a change of the secret key.
    async fn sealed_user_api_keys(&mut self) -> Result<Vec<(ApplicationId, String)>>;
    async fn set_sealed_user_api_key(
        &mut self,
        application_id: &ApplicationId,
        sealed: &str,
    ) -> Result<()>;
}

/// The password policy and users' recent passwords.
#[async_trait]
pub trait PasswordPolicyTx: Send {
    /// The stored policy (JSON), if one was ever set.
    async fn password_policy(&mut self) -> Result<Option<String>>;
    async fn put_password_policy(&mut self, policy: &str, at: Millis) -> Result<()>;
    /// The user's newest `limit` password hashes, newest first.
    async fn password_history(&mut self, user_id: &UserId, limit: i64) -> Result<Vec<String>>;
    /// Notes a password the user was given, keeping the newest `keep`.
    async fn add_password_history(
        &mut self,
        user_id: &UserId,
        password_hash: &str,
        at: Millis,
        keep: i64,
    ) -> Result<()>;
}

/// CAS: service tickets.
#[async_trait]
pub trait CasTx: Send {
    async fn insert_service_ticket(&mut self, ticket: &ServiceTicket) -> Result<()>;
    /// Validates a ticket's use: deletes it and gives it, or nothing when it was taken
    /// already (or never issued).
    async fn take_service_ticket(&mut self, digest: &str) -> Result<Option<ServiceTicket>>;
    /// Deletes tickets that expired before `at`.
    async fn delete_cas_expired_before(&mut self, at: Millis) -> Result<u64>;
}

/// A session and its person, as [`ConsoleTx::session_person`] reads them.
#[derive(Debug, Clone)]
pub struct SessionPerson {
    pub session: SsoSession,
    pub user: User,
    pub lock: roster_domain::sign_in::SignInLock,
    pub ended: roster_domain::sign_in::SignInsEnded,
    pub role: Option<ConsoleRole>,
}

/// The web console and the portal: console roles, the tenant's name, and the reads their
/// pages need that the API has no use for.
#[async_trait]
pub trait ConsoleTx: Send {
    /// The session with this digest and who it is: the user, their lock, when their sign-ins
    /// were last ended, their console role; one statement.
    async fn session_person(&mut self, digest: &str) -> Result<Option<SessionPerson>>;
    async fn console_role(&mut self, user_id: &UserId) -> Result<Option<ConsoleRole>>;
    /// Gives `user_id` the role, replacing the one they held.
    async fn put_console_role(
        &mut self,
        user_id: &UserId,
        role: ConsoleRole,
        at: Millis,
    ) -> Result<()>;
    /// Takes the user's role away; false if they held none.
    async fn delete_console_role(&mut self, user_id: &UserId) -> Result<bool>;
    /// Everyone holding a role, by user name (at most `limit`).
    async fn console_people(&mut self, limit: i64) -> Result<Vec<(User, ConsoleRole)>>;
    /// Users whose folded user name, mobile digits or lower-cased email begin with these
    /// (each optional), by user name, at most `limit`.
    async fn users_by_prefix(
        &mut self,
        user_name_key: Option<&str>,
        mobile_key: Option<&str>,
        email: Option<&str>,
        limit: i64,
    ) -> Result<Vec<User>>;
    /// How many users there are (from the list's page marks: no table scan).
    async fn user_count(&mut self) -> Result<i64>;
    /// `limit` users in id (creation) order after the id `after`, or the `limit` just before
    /// the id `before` (still in id order); from the first without either.
    async fn users_from(
        &mut self,
        after: Option<&str>,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<User>>;
    /// Users locked at `at`, the lock ending soonest first.
    async fn locked_users(&mut self, at: Millis, limit: i64) -> Result<Vec<User>>;
    /// How many of each audit `operations` happened per hour (`at / 3_600_000`) since `since`.
    async fn audit_counts_per_hour(
        &mut self,
        operations: &[&str],
        since: Millis,
    ) -> Result<Vec<(i64, String, i64)>>;
    /// The user's browser sessions, the last used first.
    async fn sessions_of_user(&mut self, user_id: &UserId, limit: i64) -> Result<Vec<SsoSession>>;
    async fn tenant_name(&mut self) -> Result<Option<String>>;
    async fn put_tenant_name(&mut self, name: &str, at: Millis) -> Result<()>;
}

/// SAML: the request IDs answered.
#[async_trait]
pub trait SamlTx: Send {
    /// Notes a request ID as answered; false if it was answered already (on any node).
    async fn spend_saml_request(&mut self, spent: &SpentRequest) -> Result<bool>;
    /// Forgets request IDs that expired before `at`.
    async fn delete_saml_requests_expired_before(&mut self, at: Millis) -> Result<u64>;
}

/// The applications a session signed in to, and the back-channel logout outbox.
#[async_trait]
pub trait LogoutTx: Send {
    /// Notes that a session signed in to an application (once per reference).
    async fn add_participant(&mut self, participant: &Participant) -> Result<()>;
    /// The applications the session `sid` signed in to.
    async fn participants(&mut self, sid: &str) -> Result<Vec<Participant>>;
    async fn delete_participants(&mut self, sid: &str) -> Result<u64>;
    async fn insert_logout_delivery(&mut self, delivery: &LogoutDelivery) -> Result<()>;
    /// Deliveries due an attempt at `now`, oldest first.
    async fn due_logout_deliveries(
        &mut self,
        now: Millis,
        limit: i64,
    ) -> Result<Vec<LogoutDelivery>>;
    /// Takes a due delivery for an attempt until `lease_until`; false when another node did.
    async fn claim_logout_delivery(
        &mut self,
        delivery: &LogoutDelivery,
        lease_until: Millis,
    ) -> Result<bool>;
    /// Records how an attempt went.
    async fn record_logout_delivery(&mut self, delivery: &LogoutDelivery) -> Result<()>;
    /// Deletes participants whose sessions ended before `at`, and deliveries done (or given
    /// up) that were made before `done_before`.
    async fn delete_logout_expired_before(
        &mut self,
        at: Millis,
        done_before: Millis,
    ) -> Result<u64>;
}

/// The MFA policy and the SMS codes sent and not yet used.
#[async_trait]
pub trait SecondFactorTx: Send {
    /// The stored MFA policy (JSON), if one was ever set.
    async fn mfa_policy(&mut self) -> Result<Option<String>>;
    async fn put_mfa_policy(&mut self, policy: &str, at: Millis) -> Result<()>;
    /// Stores a code for its number and purpose, replacing the one there unless that was sent
    /// after `resend_after` (then nothing changes, and false).
    async fn put_verify_code(&mut self, code: &VerifyCode, resend_after: Millis) -> Result<bool>;
    /// When the live code of the number and purpose was sent.
    async fn verify_code_sent_at(
        &mut self,
        mobile_key: &str,
        purpose: CodePurpose,
    ) -> Result<Option<Millis>>;
    /// Spends one try of the number's live code for `purpose` and gives it (with the tries
    /// left after this one); none when there is no live code or no try left.
    async fn try_verify_code(
        &mut self,
        mobile_key: &str,
        purpose: CodePurpose,
        now: Millis,
    ) -> Result<Option<VerifyCode>>;
    /// Deletes the code if it is still the one of `code_digest`; false when it was taken.
    async fn delete_verify_code(
        &mut self,
        mobile_key: &str,
        purpose: CodePurpose,
        code_digest: &str,
    ) -> Result<bool>;
    /// Deletes codes that expired before `at`.
    async fn delete_verify_codes_expired_before(&mut self, at: Millis) -> Result<u64>;
}

/// Messages sent, as the senders keep and deliver them.
#[async_trait]
pub trait MessageTx: Send {
    /// Stores a message; `recipient_key` is its number's digits (for the rate per number).
    async fn insert_message(&mut self, message: &Message, recipient_key: &str) -> Result<()>;
    /// The newest messages first, at most `limit`, to the number of `recipient_key` if given.
    async fn messages(&mut self, recipient_key: Option<&str>, limit: i64) -> Result<Vec<Message>>;
    /// Messages to the number after `since`.
    async fn count_messages_to(&mut self, recipient_key: &str, since: Millis) -> Result<i64>;
    /// Messages asked for from the address after `since`.
    async fn count_messages_from(&mut self, address: &str, since: Millis) -> Result<i64>;
    /// The oldest message to the number after `since`, when it was sent.
    async fn first_message_to_since(
        &mut self,
        recipient_key: &str,
        since: Millis,
    ) -> Result<Option<Millis>>;
    /// Messages waiting for a delivery attempt due at `now`, oldest first.
    async fn due_messages(&mut self, now: Millis, limit: i64) -> Result<Vec<Message>>;
    /// Takes a due message for an attempt, moving its next attempt to `lease_until` (so that
    /// no other node makes the same attempt); false when another node took it.
    async fn claim_message(&mut self, message: &Message, lease_until: Millis) -> Result<bool>;
    /// Records how an attempt went: the message's status, attempts, next attempt, error and
    /// delivery time as given.
    async fn record_delivery(&mut self, message: &Message) -> Result<()>;
    /// Deletes messages sent before `at`.
    async fn delete_messages_before(&mut self, at: Millis) -> Result<u64>;
}

/// The store's own upkeep.
#[async_trait]
pub trait MaintenanceTx: Send {
    /// Counts every list's page marks again from the tables (`roster reindex`): for a
    /// database whose rows were changed by hand.
    async fn rebuild_page_marks(&mut self) -> Result<()>;
    /// Where the page marks disagree with the rows they count; empty when all agree.
    async fn page_mark_errors(&mut self) -> Result<Vec<String>>;
    /// Rewrites the one row of `write_probe`: a write that needs room on disk.
    async fn probe_write(&mut self, at: Millis) -> Result<()>;
}

/// Everything a use case may do in one transaction.
pub trait Tx:
    ApplicationTx
    + TokenTx
    + OrganizationTx
    + AppOrgTx
    + UserTx
    + AccountTx
    + RoleTx
    + AuditTx
    + SsoTx
    + SsoTokenTx
    + SigningKeyTx
    + SignInTx
    + UserApiTx
    + PasswordPolicyTx
    + SecondFactorTx
    + MessageTx
    + CasTx
    + SamlTx
    + ConsoleTx
    + LogoutTx
    + MaintenanceTx
{
}

impl<T> Tx for T where
    T: ApplicationTx
        + TokenTx
        + OrganizationTx
        + AppOrgTx
        + UserTx
        + AccountTx
        + RoleTx
        + AuditTx
        + SsoTx
        + SsoTokenTx
        + SigningKeyTx
        + SignInTx
        + UserApiTx
        + PasswordPolicyTx
        + SecondFactorTx
        + MessageTx
        + CasTx
        + SamlTx
        + ConsoleTx
        + LogoutTx
        + MaintenanceTx
{
}
