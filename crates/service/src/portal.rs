//! The user portal's use cases: the applications a signed-in person may open, their profile
//! (the fields the user APIs let a user change), their password, and their sessions.

use crate::sign_in::actor;
use crate::{Person, Service};
use roster_domain::sign_in::SsoSession;
use roster_domain::sso::{Protocol, SsoSettings};
use roster_domain::user::PasswordFields;
use roster_domain::user_api::ProfileUpdate;
use roster_domain::Result;
use roster_store::prelude::*;
use std::net::IpAddr;

/// How the portal's tile of an application begins a sign-in to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TileStart {
    /// OAuth 2.0 / OIDC with an initiate-login URI: sent there with `iss`.
    InitiateLogin(String),
    /// OAuth 2.0 / OIDC without one: an authorization request for the application's client
    /// id (its first redirect URI, no `state`), which sends the browser to the application's
    /// callback with a code, as the OneAccess portal's tile does.
    Authorize { client_id: String },
    /// CAS: a CAS login for the service URL, which sends a ticket on.
    CasService(String),
    /// SAML: IdP-initiated sign-in for the service provider's entity ID.
    SamlSp(String),
}

/// An application of the portal.
#[derive(Debug, Clone)]
pub struct Tile {
    pub name: String,
    pub start: TileStart,
}

impl Service {
    /// The applications `person` holds an enabled account in, each enabled and with sign-in
    /// settings, by name.
    pub async fn portal_tiles(&self, person: &Person) -> Result<Vec<Tile>> {
        let mut tiles = self.read(tiles, person.user.id.clone()).await?;
        tiles.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(tiles)
    }

    /// The person changes their own profile (name, nick name, gender, birthday, first, middle
    /// and last name), checked as `UpdateUser` checks them.
    pub async fn update_own_profile(
        &self,
        person: &Person,
        update: ProfileUpdate,
        source: IpAddr,
    ) -> Result<()> {
        let changes = update.into_user_fields().into_changes()?;
        let user_id = person.user.id.clone();
        self.write(
            &actor(Some(&user_id), source),
            crate::users::update,
            (user_id.clone(), changes),
        )
        .await?;
        Ok(())
    }

    /// The person changes their password, giving the current one; as every new password, it
    /// ends what they signed in with (this session too).
    pub async fn change_own_password(
        &self,
        person: &Person,
        old_password: String,
        new_password: String,
        source: IpAddr,
    ) -> Result<()> {
        let fields = PasswordFields {
            old_password: Some(old_password),
            password: Some(new_password),
            ..PasswordFields::default()
        };
        let user_id = person.user.id.clone();
        let actor = actor(Some(&user_id), source);
        self.password_change_verified(&actor, user_id, fields)
            .await?;
        Ok(())
    }

    /// The person's sessions, the last used first.
    pub async fn own_sessions(&self, person: &Person) -> Result<Vec<SsoSession>> {
        self.read(own_sessions, person.user.id.clone()).await
    }

    /// Ends every session of the person but this one ("sign out elsewhere"), each with the
    /// logout its applications are sent.
    pub async fn end_other_sessions(
        &self,
        person: &Person,
        issuer: &str,
        source: IpAddr,
    ) -> Result<usize> {
        let actor = actor(Some(&person.user.id), source);
        let others: Vec<SsoSession> = self
            .own_sessions(person)
            .await?
            .into_iter()
            .filter(|s| s.digest != person.session_digest)
            .collect();
        for session in &others {
            self.end_session_of(&actor, person.user.id.clone(), &session.digest, issuer)
                .await?;
        }
        Ok(others.len())
    }
}

async fn tiles(tx: &mut dyn Tx, user_id: roster_domain::user::UserId) -> Result<Vec<Tile>> {
    let mut tiles = Vec::new();
    for account in tx.accounts_of_user(&user_id).await? {
        if account.disabled {
            continue;
        }
        let Some(app) = tx.application(&account.application_id).await? else {
            continue;
        };
        if app.disabled {
            continue;
        }
        let Some(settings) = tx.sso_settings(&app.id).await? else {
            continue;
        };
        if let Some(start) = tile_start(&app.client_id, &settings) {
            tiles.push(Tile {
                name: app.name,
                start,
            });
        }
    }
    Ok(tiles)
}

/// Where a tile begins, from the application's sign-in settings.
fn tile_start(client_id: &str, settings: &SsoSettings) -> Option<TileStart> {
    let first = settings.redirect_uris.first();
    match settings.protocol {
        Protocol::Oauth2 | Protocol::Oidc => match &settings.initiate_login_uri {
            Some(uri) => Some(TileStart::InitiateLogin(uri.clone())),
            None if settings
                .grants
                .contains(&roster_domain::sso::Grant::AuthorizationCode) =>
            {
                Some(TileStart::Authorize {
                    client_id: client_id.to_owned(),
                })
            }
            // Neither a code nor a page of its own to begin at: no tile.
            None => None,
        },
        Protocol::Cas => first.map(|s| TileStart::CasService(s.clone())),
        Protocol::Saml => settings
            .saml
            .as_ref()
            .map(|s| TileStart::SamlSp(s.entity_id.clone())),
    }
}

async fn own_sessions(
    tx: &mut dyn Tx,
    user_id: roster_domain::user::UserId,
) -> Result<Vec<SsoSession>> {
    tx.sessions_of_user(&user_id, 50).await
}
