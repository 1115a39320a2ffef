//! User management.

use crate::{audit, Caller, Service};
use roster_domain::permission::Access;
use roster_domain::time::now_millis;
use roster_domain::user::{User, UserFields};
use roster_domain::{id, ErrorKind, Result};

impl Service {
    /// `CreateUser`: returns the new user's id.
    pub async fn create_user(&self, caller: &Caller, fields: UserFields) -> Result<String> {
        caller.require(Access::UserWrite)?;
        let new = fields.into_new_user()?;
        let password_hash = match new.password.clone() {
            Some(p) => Some(self.inner.passwords.hash(p).await?),
            None => None,
        };
        let actor = caller.client_id.clone();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    let org = match &new.org_code {
                        Some(code) => {
                            Some(tx.organization_by_code(code).await?.ok_or_else(|| {
                                roster_domain::Error::with_detail(
                                    ErrorKind::OrganizationNotFound,
                                    format!("No organization has org_code '{code}'."),
                                )
                            })?)
                        }
                        None => tx.first_root_organization().await?,
                    };
                    let now = now_millis();
                    let user = User {
                        id: id::new_id(now),
                        org_id: org.map(|o| o.id),
                        user_name: new.user_name,
                        mobile: new.mobile,
                        name: new.name,
                        email: new.email,
                        employee_id: new.employee_id,
                        first_name: new.first_name,
                        middle_name: new.middle_name,
                        last_name: new.last_name,
                        pwd_change_at: password_hash.as_ref().map(|_| now),
                        password_hash,
                        pwd_must_modify: new.pwd_must_modify,
                        attrs: new.attrs,
                        org_relations: new.org_relations,
                        extension: new.extension,
                        disabled: false,
                        locked: false,
                        grade: 0,
                        created_at: now,
                        updated_at: now,
                    };
                    tx.insert_user(&user).await?;
                    tx.insert_audit(&audit(now, &actor, "CreateUser", "user", &user.id))
                        .await?;
                    Ok(user.id)
                })
            })
            .await
    }

    /// `ShowUserById`.
    pub async fn show_user(&self, caller: &Caller, user_id: String) -> Result<User> {
        caller.require(Access::UserRead)?;
        self.store()
            .read(move |tx| Box::pin(async move { tx.user(&user_id).await }))
            .await?
            .ok_or_else(|| ErrorKind::UserNotFound.into())
    }
}
