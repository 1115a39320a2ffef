//! Issuing tokens to a signed-in user: the access token, refresh token and id_token a grant
//! asks for, stored in one transaction with spending the code or refresh token exchanged for
//! them.

use super::userinfo::Claims;
use super::{seconds, OAuthToken};
use crate::use_case::Cx;
use crate::Service;
use roster_domain::application::Application;
use roster_domain::audit::{AuditRecord, SYSTEM_ACTOR};
use roster_domain::logout::{Participant, ParticipantKind};
use roster_domain::sign_in::RefreshToken;
use roster_domain::sso::{Principal, SsoAccessToken, SsoSettings};
use roster_domain::time::Millis;
use roster_domain::{secret, Error, ErrorKind, Result};
use roster_store::prelude::*;
use serde::Serialize;

/// What the tokens for a signed-in user are made of.
pub(crate) struct Issue {
    pub principal: Principal,
    pub scope: String,
    pub auth_time: Millis,
    /// When the principal was read (before it): the tokens' issue time, which a change of
    /// the user or account committed later voids.
    pub admitted_at: Millis,
    pub nonce: Option<String>,
    pub grant_id: String,
    pub access_token: bool,
    pub refresh_token: bool,
    pub id_token: bool,
    pub issuer: String,
    /// The public id of the browser session the grant began in (the id_token's `sid`; the
    /// session's logout ends the grant).
    pub sid: Option<String>,
}

/// What a token exchange spends: the code or refresh token it is good for once.
#[derive(Debug)]
pub(crate) enum Spend {
    Nothing,
    Code(String),
    RefreshToken(String),
}

/// `error_description` of a bad, spent or expired authorization code.
pub(super) const INVALID_CODE: &str = "Invalid authorization code";
/// `error_description` of a bad, spent or expired refresh token.
pub(super) const INVALID_REFRESH_TOKEN: &str = "Invalid refresh token";

impl Spend {
    /// What a client is told when this was spent already.
    fn invalid(&self) -> &'static str {
        match self {
            Spend::RefreshToken(_) => INVALID_REFRESH_TOKEN,
            _ => INVALID_CODE,
        }
    }
}

/// An id_token's claims (OpenID Connect Core §2): who issued it to whom, when, and the
/// user's claims as userinfo gives them (less `id`, which the id_token calls `sub`).
#[derive(Debug, Serialize)]
struct IdTokenClaims {
    iss: String,
    sub: String,
    aud: String,
    iat: i64,
    exp: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    at_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    /// The user's fields and the application's mapped claims, none of which may take a
    /// name above (`roster_domain::sso`'s reserved claims).
    #[serde(flatten)]
    user: Claims,
}

/// The rows a grant stores, and what it spends.
struct Issued {
    spend: Spend,
    access: Option<SsoAccessToken>,
    refresh: Option<RefreshToken>,
    record: Option<AuditRecord>,
    /// The grant, noted in its session when the application hears of the session's logout.
    participant: Option<Participant>,
}

impl Service {
    /// Issues the access token, refresh token and id_token `issue` asks for, in one
    /// transaction with spending the code or refresh token they are exchanged for: of two
    /// concurrent exchanges, one wins and the other ends the grant.
    pub(crate) async fn issue_user_tokens(
        &self,
        app: &Application,
        settings: &SsoSettings,
        issue: Issue,
        spend: Spend,
        record: Option<AuditRecord>,
    ) -> Result<OAuthToken> {
        let now = self.now();
        let ttl = u64::from(settings.access_token_ttl_secs);
        let access_token = issue.access_token.then(secret::generate);
        let access = access_token.as_ref().map(|token| SsoAccessToken {
            digest: secret::digest(token),
            application_id: app.id.clone(),
            user_id: Some(issue.principal.user.id.clone()),
            scope: issue.scope.clone(),
            expires_at: now.saturating_add(i64::try_from(ttl * 1000).unwrap_or(i64::MAX)),
            created_at: issue.admitted_at,
            generation: app.token_generation,
            grant_id: Some(issue.grant_id.clone()),
        });
        let refresh_ttl = settings
            .refresh_token_ttl_secs
            .filter(|_| issue.refresh_token);
        let refresh_token = refresh_ttl.map(|_| secret::generate());
        let refresh = refresh_token
            .as_ref()
            .zip(refresh_ttl)
            .map(|(token, ttl)| RefreshToken {
                digest: secret::digest(token),
                application_id: app.id.clone(),
                user_id: issue.principal.user.id.clone(),
                grant_id: issue.grant_id.clone(),
                scope: issue.scope.clone(),
                auth_time: issue.auth_time,
                expires_at: now.saturating_add(i64::from(ttl) * 1000),
                created_at: issue.admitted_at,
                generation: app.token_generation,
                used_at: None,
                sid: issue.sid.clone(),
            });
        let id_token = if issue.id_token {
            let claims = id_token_claims(app, settings, &issue, access_token.as_deref(), now);
            Some(self.sign_id_token(settings.id_token_alg, claims).await?)
        } else {
            None
        };
        let signs_in = record.is_some();
        // A grant that began in a browser session: noted there, so that the session's
        // logout ends it (and tells the application, if it registered where).
        let participant = issue
            .sid
            .as_ref()
            .filter(|_| !matches!(spend, Spend::RefreshToken(_)))
            .map(|sid| Participant {
                sid: sid.clone(),
                application_id: app.id.clone(),
                user_id: issue.principal.user.id.clone(),
                kind: ParticipantKind::Oidc,
                reference: issue.grant_id.clone(),
                url: String::new(),
                created_at: now,
                expires_at: now.saturating_add(crate::sign_in::millis(
                    self.sign_in_settings().session_lifetime,
                )),
            });
        let issued = Issued {
            spend,
            access,
            refresh,
            record,
            participant,
        };
        if let Err(spend) = self.write(&app.client_id, store_issued, issued).await? {
            // Exchanged concurrently: neither exchange keeps anything.
            self.revoke_grant(issue.grant_id).await?;
            return Err(Error::with_detail(ErrorKind::InvalidGrant, spend.invalid()));
        }
        if signs_in {
            super::signed_in_to_application();
        }
        Ok(OAuthToken {
            access_token,
            expires_in: ttl,
            scope: issue.scope,
            refresh_token,
            id_token,
        })
    }

    /// Ends every token a grant issued.
    pub(super) async fn revoke_grant(&self, grant_id: String) -> Result<()> {
        self.write(SYSTEM_ACTOR, revoke_grant, grant_id).await
    }
}

fn id_token_claims(
    app: &Application,
    settings: &SsoSettings,
    issue: &Issue,
    access_token: Option<&str>,
    now: Millis,
) -> IdTokenClaims {
    let mut user = issue.principal.claims(&settings.claims);
    user.remove("id");
    IdTokenClaims {
        iss: issue.issuer.clone(),
        sub: issue.principal.user.id.as_str().to_owned(),
        aud: app.client_id.clone(),
        iat: seconds(now),
        exp: seconds(now) + i64::from(settings.access_token_ttl_secs),
        auth_time: seconds(issue.auth_time),
        nonce: issue.nonce.clone(),
        at_hash: access_token.map(|t| crate::id_tokens::at_hash(settings.id_token_alg, t)),
        sid: issue.sid.clone(),
        user,
    }
}

/// Spends the code or refresh token, and stores what was issued for it; gives the spend back
/// if it was spent already (by a concurrent exchange), storing nothing.
async fn store_issued(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    issued: Issued,
) -> Result<std::result::Result<(), Spend>> {
    let first = match &issued.spend {
        Spend::Nothing => true,
        Spend::Code(digest) => tx.use_code(digest, cx.now).await?,
        Spend::RefreshToken(digest) => tx.use_refresh_token(digest, cx.now).await?,
    };
    if !first {
        return Ok(Err(issued.spend));
    }
    if let Some(row) = &issued.access {
        tx.insert_sso_token(row).await?;
    }
    if let Some(row) = &issued.refresh {
        tx.insert_refresh_token(row).await?;
    }
    if let Some(record) = &issued.record {
        tx.insert_audit(record).await?;
    }
    if let Some(participant) = &issued.participant {
        tx.add_participant(participant).await?;
    }
    Ok(Ok(()))
}

async fn revoke_grant(tx: &mut dyn Tx, _cx: &mut Cx, grant_id: String) -> Result<()> {
    tx.revoke_grant(&grant_id).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_token_claims_keep_the_users_fields_beside_the_standard_ones() {
        let mut user = Claims::new();
        user.insert("userName".into(), "ann".into());
        user.insert("department".into(), "lab".into());
        let claims = IdTokenClaims {
            iss: "https://roster.example.com".into(),
            sub: "u1".into(),
            aud: "wiki".into(),
            iat: 10,
            exp: 20,
            auth_time: 5,
            nonce: None,
            at_hash: Some("h".into()),
            sid: None,
            user,
        };
        let json = serde_json::to_value(&claims).unwrap();
        assert_eq!(json["sub"], "u1");
        assert_eq!(json["userName"], "ann");
        assert_eq!(json["department"], "lab");
        assert_eq!(json["at_hash"], "h");
        assert!(json.get("nonce").is_none());
    }
}
