//! Session calls, each authenticated by its `X-signature`: `GET /api/v2/sdk/logout`,
//! `GET /api/v2/sdk/profile`, `POST /api/v2/sdk/profile/update` and
//! `POST /api/v2/sdk/session-token/refresh-id-token`.

use super::Headers;
use crate::sign_in::actor;
use crate::use_case::Cx;
use crate::Service;
use roster_domain::user::{User, UserId};
use roster_domain::user_api::ProfileUpdate;
use roster_domain::Result;
use roster_store::prelude::*;

impl Service {
    /// `GET /api/v2/sdk/logout`: ends the session token (and what it could still do: ask
    /// for tickets, refresh its id_token).
    pub async fn user_api_logout(
        &self,
        headers: Headers<'_>,
        signature: Option<&str>,
    ) -> Result<()> {
        let caller = self.user_api_caller(&headers).await?;
        let signed = self.signed(&caller, signature).await?;
        let actor = actor(Some(&signed.principal.user.id), caller.source);
        self.write(&actor, end_session, signed.session.digest).await
    }

    /// `GET /api/v2/sdk/profile`.
    pub async fn user_api_profile(
        &self,
        headers: Headers<'_>,
        signature: Option<&str>,
    ) -> Result<User> {
        let caller = self.user_api_caller(&headers).await?;
        let signed = self.signed(&caller, signature).await?;
        Ok(signed.principal.user)
    }

    /// `POST /api/v2/sdk/profile/update`: the user changes their own name and attributes,
    /// checked as `UpdateUser` checks them.
    pub async fn user_api_update_profile(
        &self,
        headers: Headers<'_>,
        signature: Option<&str>,
        update: ProfileUpdate,
    ) -> Result<User> {
        let caller = self.user_api_caller(&headers).await?;
        let signed = self.signed(&caller, signature).await?;
        let changes = update.into_user_fields().into_changes()?;
        let user_id = signed.principal.user.id.clone();
        let actor = actor(Some(&user_id), caller.source);
        self.write(&actor, crate::users::update, (user_id.clone(), changes))
            .await?;
        self.read(read_user, user_id).await
    }

    /// `POST /api/v2/sdk/session-token/refresh-id-token`: a new id_token for the session.
    pub async fn user_api_refresh_id_token(
        &self,
        headers: Headers<'_>,
        signature: Option<&str>,
        issuer: &str,
    ) -> Result<String> {
        let caller = self.user_api_caller(&headers).await?;
        let signed = self.signed(&caller, signature).await?;
        self.user_api_id_token(&caller.app, &signed.principal.user, issuer)
            .await
    }
}

async fn end_session(tx: &mut dyn Tx, cx: &mut Cx, digest: String) -> Result<()> {
    tx.delete_user_api_session(&digest).await?;
    cx.audit("Logout", "user_api_session", "");
    Ok(())
}

async fn read_user(tx: &mut dyn Tx, user_id: UserId) -> Result<User> {
    crate::lookups::existing_user(tx, &user_id).await
}
