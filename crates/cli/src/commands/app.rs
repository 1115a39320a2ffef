//! `roster app …`: the applications (the API's clients), managed by the operator who holds the
//! database. Each prints the JSON document the HTTP extension `/roster/v1/applications` answers.

use super::{open_for_command, operator_error, print_json};
use crate::config::DatabaseArgs;
use anyhow::Result;
use clap::Subcommand;
use roster_domain::application::ApplicationId;
use roster_domain::permission::Permission;
use roster_domain::sso::{ClaimMapping, ClaimSource, Grant, SsoFields, SsoSettings};
use roster_http::{ApplicationIdView, ApplicationList, ApplicationView, CredentialsView};
use roster_service::{Caller, Service};

/// Every API permission code, for `--help` and for checking the flag.
fn permission_codes() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(Permission::ALL.iter().map(|p| p.code()))
}

#[derive(Subcommand)]
pub enum AppCommand {
    /// Register an application; prints {"application_id","client_id","client_secret"}.
    /// The secret is shown only this once.
    Create {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Application name, unique among applications.
        #[arg(long)]
        name: String,
        /// API permission for the management API; repeat for several. None for an
        /// application users only sign in to (then --sso is needed).
        #[arg(long = "api-permission", required_unless_present = "sso", value_parser = permission_codes())]
        api_permissions: Vec<String>,
        /// Let users sign in to the application with this protocol (then --redirect-uri is
        /// needed: for cas, the service URLs; for saml, the ACS URLs, or --sp-metadata).
        #[arg(long = "sso", value_parser = ["oauth2", "oidc", "cas", "saml"])]
        sso: Option<String>,
        #[command(flatten)]
        sign_in: SignInArgs,
    },
    /// Show or change an application's sign-in settings: with no flags, prints them; flags
    /// change only what they name (a repeated flag replaces that whole list). Prints the
    /// settings now in force.
    Sso {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Application id.
        application_id: ApplicationId,
        /// oauth2, oidc, cas or saml (needed the first time).
        #[arg(long, value_parser = ["oauth2", "oidc", "cas", "saml"])]
        protocol: Option<String>,
        #[command(flatten)]
        sign_in: SignInArgs,
    },
    /// List applications, oldest first; prints {"total","applications"}.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Page number, from 0.
        #[arg(long, default_value_t = 0)]
        offset: i64,
        /// Page size, 1 to 100.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Show one application (never its secret).
    Show {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Application id.
        application_id: ApplicationId,
    },
    /// Disable an application: it gets no tokens, and its tokens stop working.
    Disable {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Application id.
        application_id: ApplicationId,
    },
    /// Enable an application again (its old tokens stay revoked).
    Enable {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Application id.
        application_id: ApplicationId,
    },
    /// Issue a new client secret; the old one and its tokens stop working. Prints the new
    /// credentials, shown only this once.
    RotateSecret {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Application id.
        application_id: ApplicationId,
    },
    /// Replace an application's API permissions; prints the application.
    SetPermissions {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Application id.
        application_id: ApplicationId,
        /// API permission; repeat for several.
        #[arg(long = "api-permission", required = true, value_parser = permission_codes())]
        api_permissions: Vec<String>,
    },
}

impl AppCommand {
    fn db(&self) -> &DatabaseArgs {
        match self {
            Self::Create { db, .. }
            | Self::List { db, .. }
            | Self::Show { db, .. }
            | Self::Disable { db, .. }
            | Self::Enable { db, .. }
            | Self::RotateSecret { db, .. }
            | Self::SetPermissions { db, .. }
            | Self::Sso { db, .. } => db,
        }
    }
}

pub async fn run(command: AppCommand) -> Result<()> {
    let (store, service) =
        open_for_command(command.db(), roster_service::Settings::default()).await?;
    let outcome = execute(&service, command).await;
    store.close().await;
    outcome
}

async fn execute(service: &Service, command: AppCommand) -> Result<()> {
    let operator = Caller::operator();
    match command {
        AppCommand::Create {
            name,
            api_permissions,
            sso,
            sign_in,
            ..
        } => create(service, name, api_permissions, sso, sign_in).await,
        AppCommand::Sso {
            application_id,
            protocol,
            sign_in,
            ..
        } => set_sso(service, application_id, protocol, sign_in).await,
        AppCommand::List { offset, limit, .. } => {
            let page = roster_domain::page::PageRequest::new(Some(offset), Some(limit))
                .map_err(operator_error)?;
            let listed = service
                .list_applications(&operator, page)
                .await
                .map_err(operator_error)?;
            print_json(&ApplicationList::from(listed))
        }
        AppCommand::Show { application_id, .. } => {
            let app = service
                .show_application(&operator, application_id)
                .await
                .map_err(operator_error)?;
            print_json(&ApplicationView::from(app))
        }
        AppCommand::Disable { application_id, .. } => {
            set_disabled(service, &operator, application_id, true).await
        }
        AppCommand::Enable { application_id, .. } => {
            set_disabled(service, &operator, application_id, false).await
        }
        AppCommand::RotateSecret { application_id, .. } => {
            let rotated = service
                .rotate_client_secret(&operator, application_id)
                .await
                .map_err(operator_error)?;
            print_json(&CredentialsView::from(rotated))
        }
        AppCommand::SetPermissions {
            application_id,
            api_permissions,
            ..
        } => {
            let app = service
                .set_application_permissions(&operator, application_id, api_permissions)
                .await
                .map_err(operator_error)?;
            print_json(&ApplicationView::from(app))
        }
    }
}

/// `app create`: an application, with sign-in settings if `--sso` names a protocol.
async fn create(
    service: &Service,
    name: String,
    api_permissions: Vec<String>,
    sso: Option<String>,
    sign_in: SignInArgs,
) -> Result<()> {
    let sso = match sso {
        Some(protocol) => Some(sign_in.fields(Some(&protocol), None)?),
        None if sign_in.is_empty() => None,
        None => anyhow::bail!("sign-in flags need --sso oauth2|oidc|cas|saml"),
    };
    let permissions = api_permissions
        .iter()
        .map(|c| Permission::parse(c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(operator_error)?;
    let created = service
        .create_application(&Caller::operator(), Some(name), permissions, sso)
        .await
        .map_err(operator_error)?;
    print_json(&CredentialsView::from(created))
}

/// `app sso`: shows the sign-in settings, or changes those the flags name.
async fn set_sso(
    service: &Service,
    application_id: ApplicationId,
    protocol: Option<String>,
    sign_in: SignInArgs,
) -> Result<()> {
    let operator = Caller::operator();
    let current = match service.show_sso(&operator, application_id.clone()).await {
        Ok(settings) => Some(settings),
        Err(e) if e.kind() == roster_domain::ErrorKind::SsoNotConfigured => None,
        Err(e) => return Err(operator_error(e)),
    };
    if protocol.is_none() && sign_in.is_empty() {
        return match current {
            Some(settings) => print_json(&settings),
            None => Err(operator_error(
                roster_domain::ErrorKind::SsoNotConfigured.into(),
            )),
        };
    }
    let fields = sign_in.fields(protocol.as_deref(), current)?;
    let settings = service
        .set_sso(&operator, application_id, fields)
        .await
        .map_err(operator_error)?;
    print_json(&settings)
}

async fn set_disabled(
    service: &Service,
    operator: &Caller,
    application_id: ApplicationId,
    disabled: bool,
) -> Result<()> {
    service
        .set_application_disabled(operator, application_id.clone(), disabled)
        .await
        .map_err(operator_error)?;
    print_json(&ApplicationIdView { application_id })
}

/// The sign-in settings flags of `app create` and `app sso`.
#[derive(clap::Args, Debug, Default)]
pub struct SignInArgs {
    /// Where users may be sent back after signing in: a full URL (matched exactly) or an
    /// origin such as https://app.example.com (any path on it); repeat for several.
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Where users may be sent after logging out; repeat for several.
    #[arg(long = "logout-url")]
    logout_urls: Vec<String>,
    /// A grant the application may use; repeat for several (default: authorization_code).
    #[arg(long = "grant", value_parser = ["authorization_code", "implicit", "password", "client_credentials"])]
    grants: Vec<String>,
    /// Access-token lifetime in seconds (default 7200).
    #[arg(long)]
    access_token_ttl: Option<u32>,
    /// Refresh-token lifetime in seconds; 0: no refresh tokens (the default).
    #[arg(long)]
    refresh_token_ttl: Option<u32>,
    /// How id_tokens are signed (default RS256).
    #[arg(long, value_parser = ["RS256", "RS384", "RS512"])]
    id_token_alg: Option<String>,
    /// A claim the application receives, NAME=SOURCE with SOURCE user:ATTRIBUTE,
    /// account:ATTRIBUTE, roles or constant:VALUE (e.g. dept=user:extension.dept); repeat
    /// for several.
    #[arg(long = "claim")]
    claims: Vec<String>,
    /// OpenID Connect applications: where a back-channel logout_token is posted when a
    /// session the application was signed in to logs out ("": none).
    #[arg(long)]
    backchannel_logout_uri: Option<String>,
    /// OAuth 2.0 / OIDC: where the portal's tile begins a sign-in (third-party-initiated
    /// login); empty to remove.
    #[arg(long)]
    initiate_login_uri: Option<String>,
    /// SAML: the service provider's metadata file (entity ID, ACS URLs, certificate, logout
    /// service, Name ID format); the flags below change what it set.
    #[arg(long)]
    sp_metadata: Option<std::path::PathBuf>,
    /// SAML: the service provider's entity ID.
    #[arg(long)]
    sp_entity_id: Option<String>,
    /// SAML: where the NameID comes from, user:ATTRIBUTE or account:ATTRIBUTE (default
    /// user:user_name).
    #[arg(long)]
    name_id: Option<String>,
    /// SAML: the NameID format.
    #[arg(long, value_parser = ["unspecified", "email_address", "persistent", "transient"])]
    name_id_format: Option<String>,
    /// SAML: what is signed (default assertion).
    #[arg(long, value_parser = ["assertion", "response", "both"])]
    saml_signed: Option<String>,
    /// SAML: the service provider's signing certificate (PEM file).
    #[arg(long)]
    sp_certificate: Option<std::path::PathBuf>,
    /// SAML: refuse AuthnRequests that are not signed.
    #[arg(long)]
    require_signed_requests: bool,
}

impl SignInArgs {
    fn is_empty(&self) -> bool {
        self.redirect_uris.is_empty()
            && self.logout_urls.is_empty()
            && self.grants.is_empty()
            && self.access_token_ttl.is_none()
            && self.refresh_token_ttl.is_none()
            && self.id_token_alg.is_none()
            && self.claims.is_empty()
            && self.backchannel_logout_uri.is_none()
            && self.initiate_login_uri.is_none()
            && self.sp_metadata.is_none()
            && self.sp_entity_id.is_none()
            && self.name_id.is_none()
            && self.name_id_format.is_none()
            && self.saml_signed.is_none()
            && self.sp_certificate.is_none()
            && !self.require_signed_requests
    }

    /// The settings these flags make from `current` (or the defaults), with `protocol`.
    fn fields(self, protocol: Option<&str>, current: Option<SsoSettings>) -> Result<SsoFields> {
        let mut fields = match current {
            Some(s) => SsoFields {
                protocol: Some(s.protocol),
                redirect_uris: Some(s.redirect_uris),
                logout_urls: Some(s.logout_urls),
                grants: Some(s.grants),
                access_token_ttl_secs: Some(s.access_token_ttl_secs),
                refresh_token_ttl_secs: s.refresh_token_ttl_secs,
                id_token_alg: Some(s.id_token_alg),
                claims: Some(s.claims),
                backchannel_logout_uri: s.backchannel_logout_uri,
                saml: s.saml,
                initiate_login_uri: s.initiate_login_uri,
            },
            None => SsoFields::default(),
        };
        if let Some(protocol) = protocol {
            fields.protocol = Some(parse("protocol", protocol.to_owned())?);
            // A CAS or SAML application has no OAuth grants: those kept from before go.
            if matches!(
                fields.protocol,
                Some(roster_domain::sso::Protocol::Cas | roster_domain::sso::Protocol::Saml)
            ) {
                fields.grants = None;
            }
        }
        self.saml_fields(&mut fields)?;
        if !self.redirect_uris.is_empty() {
            fields.redirect_uris = Some(self.redirect_uris);
        }
        if !self.logout_urls.is_empty() {
            fields.logout_urls = Some(self.logout_urls);
        }
        if !self.grants.is_empty() {
            let grants = self.grants.iter().map(|g| Grant::parse(g));
            fields.grants = Some(grants.collect::<Result<_, _>>().map_err(operator_error)?);
        }
        if let Some(ttl) = self.access_token_ttl {
            fields.access_token_ttl_secs = Some(ttl);
        }
        match self.refresh_token_ttl {
            Some(0) => fields.refresh_token_ttl_secs = None,
            Some(ttl) => fields.refresh_token_ttl_secs = Some(ttl),
            None => {}
        }
        if let Some(alg) = self.id_token_alg {
            fields.id_token_alg = Some(parse("id_token_alg", alg)?);
        }
        if !self.claims.is_empty() {
            let claims = self.claims.iter().map(|c| claim(c));
            fields.claims = Some(claims.collect::<Result<_>>()?);
        }
        if let Some(uri) = self.initiate_login_uri {
            fields.initiate_login_uri = Some(uri).filter(|u| !u.is_empty());
        }
        if let Some(uri) = self.backchannel_logout_uri {
            fields.backchannel_logout_uri = Some(uri).filter(|u| !u.is_empty());
        }
        Ok(fields)
    }

    /// The SAML flags: the SP's metadata first, then the single settings.
    fn saml_fields(&self, fields: &mut SsoFields) -> Result<()> {
        if let Some(path) = &self.sp_metadata {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("--sp-metadata {}: {e}", path.display()))?;
            let read = roster_service::read_sp_metadata(&text).map_err(|e| {
                anyhow::anyhow!("--sp-metadata {}: {}", path.display(), e.client_message())
            })?;
            if self.redirect_uris.is_empty() {
                fields.redirect_uris = Some(read.acs_urls);
            }
            fields.saml = Some(read.settings);
        }
        let any = self.sp_entity_id.is_some()
            || self.name_id.is_some()
            || self.name_id_format.is_some()
            || self.saml_signed.is_some()
            || self.sp_certificate.is_some()
            || self.require_signed_requests;
        if !any {
            return Ok(());
        }
        let mut saml = match (fields.saml.take(), &self.sp_entity_id) {
            (Some(mut saml), Some(entity)) => {
                saml.entity_id.clone_from(entity);
                saml
            }
            (Some(saml), None) => saml,
            (None, Some(entity)) => roster_domain::saml::SamlSettings::for_entity(entity),
            (None, None) => anyhow::bail!("SAML flags need --sp-entity-id or --sp-metadata"),
        };
        if let Some(source) = &self.name_id {
            saml.name_id = match source.split_once(':') {
                Some(("user", attr)) => ClaimSource::User(attr.to_owned()),
                Some(("account", attr)) => ClaimSource::Account(attr.to_owned()),
                _ => anyhow::bail!("--name-id {source}: user:ATTRIBUTE or account:ATTRIBUTE"),
            };
        }
        if let Some(format) = &self.name_id_format {
            saml.name_id_format = parse("name_id_format", format.clone())?;
        }
        if let Some(signed) = &self.saml_signed {
            saml.signed = parse("saml_signed", signed.clone())?;
        }
        if let Some(path) = &self.sp_certificate {
            let pem = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("--sp-certificate {}: {e}", path.display()))?;
            saml.sp_certificate = Some(pem);
        }
        if self.require_signed_requests {
            saml.require_signed_requests = true;
        }
        fields.saml = Some(saml);
        Ok(())
    }
}

/// A value of the settings' JSON named by its text (`oidc`, `RS384`).
fn parse<T: serde::de::DeserializeOwned>(what: &str, text: String) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(text.clone()))
        .map_err(|_| anyhow::anyhow!("{what} '{text}' is not known"))
}

/// `NAME=user:ATTR`, `NAME=account:ATTR`, `NAME=roles` or `NAME=constant:VALUE`.
fn claim(text: &str) -> Result<ClaimMapping> {
    let (name, source) = text
        .split_once('=')
        .ok_or_else(|| anyhow::anyhow!("--claim {text}: write NAME=SOURCE"))?;
    let source = match source.split_once(':') {
        Some(("user", attr)) => ClaimSource::User(attr.to_owned()),
        Some(("account", attr)) => ClaimSource::Account(attr.to_owned()),
        Some(("constant", value)) => ClaimSource::Constant(value.to_owned()),
        None if source == "roles" => ClaimSource::Roles,
        _ => anyhow::bail!(
            "--claim {text}: the source is user:ATTRIBUTE, account:ATTRIBUTE, roles or \
             constant:VALUE"
        ),
    };
    Ok(ClaimMapping {
        claim: name.to_owned(),
        source,
        friendly_name: None,
        name_format: None,
    })
}
