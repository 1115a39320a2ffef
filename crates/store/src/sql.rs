//! The queries, written once in the SQL both databases accept (`$n` placeholders, standard
//! types), and an implementation of [`Tx`](crate::Tx) generated for each backend.

pub(crate) const APPLICATION_COLUMNS: &str =
    "id, name, client_id, secret_digest, permissions, disabled, created_at, updated_at";

pub(crate) const USER_COLUMNS: &str = "id, org_id, user_name, mobile, name, email, employee_id, \
     first_name, middle_name, last_name, password_hash, pwd_must_modify, pwd_change_at, \
     attr_gender, attr_birthday, attr_nick_name, attr_identity_type, attr_identity_number, \
     attr_area, attr_city, attr_manager_id, attr_user_type, attr_hire_date, attr_work_place, \
     org_relations, extension, disabled, locked, grade, created_at, updated_at";

pub(crate) const ACCOUNT_COLUMNS: &str = "id, application_id, user_id, account_name, \
     account_type, name, org_code, password_secret, disabled, extension, created_at, updated_at";

pub(crate) const ORGANIZATION_COLUMNS: &str =
    "id, code, name, parent_id, category, created_at, updated_at";

/// Implements `Tx` for `$tx<'c>`, a wrapper of `&'c mut $conn`.
macro_rules! impl_tx {
    ($tx:ident, $conn:ty) => {
        pub struct $tx<'c> {
            conn: &'c mut $conn,
        }

        impl<'c> $tx<'c> {
            pub fn new(conn: &'c mut $conn) -> Self {
                Self { conn }
            }
        }

        #[async_trait::async_trait]
        impl<'c> $crate::Tx for $tx<'c> {
            async fn insert_application(
                &mut self,
                app: &roster_domain::application::Application,
            ) -> roster_domain::Result<()> {
                if self.insert_application_if_absent(app).await? {
                    Ok(())
                } else {
                    Err(roster_domain::ErrorKind::ClientIdExists.into())
                }
            }

            async fn insert_application_if_absent(
                &mut self,
                app: &roster_domain::application::Application,
            ) -> roster_domain::Result<bool> {
                let sql = format!(
                    "INSERT INTO applications ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (client_id) DO NOTHING",
                    $crate::sql::APPLICATION_COLUMNS
                );
                let done = sqlx::query(&sql)
                    .bind(&app.id)
                    .bind(&app.name)
                    .bind(&app.client_id)
                    .bind(&app.secret_digest)
                    .bind(app.permissions.scope())
                    .bind(app.disabled)
                    .bind(app.created_at)
                    .bind(app.updated_at)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(|e| $crate::errors::map_unique(e, $crate::errors::APPLICATION_UNIQUES))?;
                Ok(done.rows_affected() == 1)
            }

            async fn application(
                &mut self,
                id: &str,
            ) -> roster_domain::Result<Option<roster_domain::application::Application>> {
                let sql = format!(
                    "SELECT {} FROM applications WHERE id = $1",
                    $crate::sql::APPLICATION_COLUMNS
                );
                sqlx::query_as::<_, $crate::rows::ApplicationRow>(&sql)
                    .bind(id)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err($crate::errors::map)?
                    .map(|r| r.into_domain())
                    .transpose()
            }

            async fn application_by_client_id(
                &mut self,
                client_id: &str,
            ) -> roster_domain::Result<Option<roster_domain::application::Application>> {
                let sql = format!(
                    "SELECT {} FROM applications WHERE client_id = $1",
                    $crate::sql::APPLICATION_COLUMNS
                );
                sqlx::query_as::<_, $crate::rows::ApplicationRow>(&sql)
                    .bind(client_id)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err($crate::errors::map)?
                    .map(|r| r.into_domain())
                    .transpose()
            }

            async fn insert_token(
                &mut self,
                token: &roster_domain::application::AccessToken,
            ) -> roster_domain::Result<()> {
                sqlx::query(
                    "INSERT INTO access_tokens (digest, application_id, scope, expires_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&token.digest)
                .bind(&token.application_id)
                .bind(&token.scope)
                .bind(token.expires_at)
                .bind(token.created_at)
                .execute(&mut *self.conn)
                .await
                .map_err($crate::errors::map)?;
                Ok(())
            }

            async fn token(
                &mut self,
                digest: &str,
            ) -> roster_domain::Result<
                Option<(
                    roster_domain::application::AccessToken,
                    roster_domain::application::Application,
                )>,
            > {
                sqlx::query_as::<_, $crate::rows::TokenRow>(
                    "SELECT t.digest, t.application_id, t.scope, t.expires_at, \
                     t.created_at AS token_created_at, a.name, a.client_id, a.secret_digest, \
                     a.permissions, a.disabled, a.created_at, a.updated_at \
                     FROM access_tokens t JOIN applications a ON a.id = t.application_id \
                     WHERE t.digest = $1",
                )
                .bind(digest)
                .fetch_optional(&mut *self.conn)
                .await
                .map_err($crate::errors::map)?
                .map(|r| r.into_domain())
                .transpose()
            }

            async fn delete_tokens_expired_before(
                &mut self,
                at: roster_domain::time::Millis,
            ) -> roster_domain::Result<u64> {
                let done = sqlx::query("DELETE FROM access_tokens WHERE expires_at < $1")
                    .bind(at)
                    .execute(&mut *self.conn)
                    .await
                    .map_err($crate::errors::map)?;
                Ok(done.rows_affected())
            }

            async fn organization_by_code(
                &mut self,
                code: &str,
            ) -> roster_domain::Result<Option<roster_domain::organization::Organization>> {
                let sql = format!(
                    "SELECT {} FROM organizations WHERE code = $1",
                    $crate::sql::ORGANIZATION_COLUMNS
                );
                Ok(sqlx::query_as::<_, $crate::rows::OrganizationRow>(&sql)
                    .bind(code)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err($crate::errors::map)?
                    .map(|r| r.into_domain()))
            }

            async fn first_root_organization(
                &mut self,
            ) -> roster_domain::Result<Option<roster_domain::organization::Organization>> {
                let sql = format!(
                    "SELECT {} FROM organizations WHERE parent_id IS NULL \
                     ORDER BY created_at, id LIMIT 1",
                    $crate::sql::ORGANIZATION_COLUMNS
                );
                Ok(sqlx::query_as::<_, $crate::rows::OrganizationRow>(&sql)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err($crate::errors::map)?
                    .map(|r| r.into_domain()))
            }

            async fn insert_user(
                &mut self,
                u: &roster_domain::user::User,
            ) -> roster_domain::Result<()> {
                let sql = format!(
                    "INSERT INTO users ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
                     $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, \
                     $25, $26, $27, $28, $29, $30, $31)",
                    $crate::sql::USER_COLUMNS
                );
                sqlx::query(&sql)
                    .bind(&u.id)
                    .bind(&u.org_id)
                    .bind(&u.user_name)
                    .bind(&u.mobile)
                    .bind(&u.name)
                    .bind(&u.email)
                    .bind(&u.employee_id)
                    .bind(&u.first_name)
                    .bind(&u.middle_name)
                    .bind(&u.last_name)
                    .bind(&u.password_hash)
                    .bind(u.pwd_must_modify)
                    .bind(u.pwd_change_at)
                    .bind(&u.attrs.gender)
                    .bind(&u.attrs.birthday)
                    .bind(&u.attrs.nick_name)
                    .bind(&u.attrs.identity_type)
                    .bind(&u.attrs.identity_number)
                    .bind(&u.attrs.area)
                    .bind(&u.attrs.city)
                    .bind(&u.attrs.manager_id)
                    .bind(&u.attrs.user_type)
                    .bind(&u.attrs.hire_date)
                    .bind(&u.attrs.work_place)
                    .bind($crate::rows::to_json(&u.org_relations))
                    .bind($crate::rows::to_json(&u.extension))
                    .bind(u.disabled)
                    .bind(u.locked)
                    .bind(u.grade)
                    .bind(u.created_at)
                    .bind(u.updated_at)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(|e| $crate::errors::map_unique(e, $crate::errors::USER_UNIQUES))?;
                Ok(())
            }

            async fn user(
                &mut self,
                id: &str,
            ) -> roster_domain::Result<Option<roster_domain::user::User>> {
                let sql = format!("SELECT {} FROM users WHERE id = $1", $crate::sql::USER_COLUMNS);
                sqlx::query_as::<_, $crate::rows::UserRow>(&sql)
                    .bind(id)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err($crate::errors::map)?
                    .map(|r| r.into_domain())
                    .transpose()
            }

            async fn insert_account(
                &mut self,
                a: &roster_domain::account::AppAccount,
            ) -> roster_domain::Result<()> {
                let sql = format!(
                    "INSERT INTO app_accounts ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                     $10, $11, $12)",
                    $crate::sql::ACCOUNT_COLUMNS
                );
                sqlx::query(&sql)
                    .bind(&a.id)
                    .bind(&a.application_id)
                    .bind(&a.user_id)
                    .bind(&a.account_name)
                    .bind(a.account_type.as_str())
                    .bind(&a.name)
                    .bind(&a.org_code)
                    .bind(&a.password)
                    .bind(a.disabled)
                    .bind($crate::rows::to_json(&a.extension))
                    .bind(a.created_at)
                    .bind(a.updated_at)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(|e| $crate::errors::map_unique(e, $crate::errors::ACCOUNT_UNIQUES))?;
                Ok(())
            }

            async fn update_account(
                &mut self,
                a: &roster_domain::account::AppAccount,
            ) -> roster_domain::Result<()> {
                sqlx::query(
                    "UPDATE app_accounts SET account_name = $1, name = $2, org_code = $3, \
                     password_secret = $4, disabled = $5, extension = $6, updated_at = $7 \
                     WHERE application_id = $8 AND id = $9",
                )
                .bind(&a.account_name)
                .bind(&a.name)
                .bind(&a.org_code)
                .bind(&a.password)
                .bind(a.disabled)
                .bind($crate::rows::to_json(&a.extension))
                .bind(a.updated_at)
                .bind(&a.application_id)
                .bind(&a.id)
                .execute(&mut *self.conn)
                .await
                .map_err(|e| $crate::errors::map_unique(e, $crate::errors::ACCOUNT_UNIQUES))?;
                Ok(())
            }

            async fn account(
                &mut self,
                application_id: &str,
                id: &str,
            ) -> roster_domain::Result<Option<roster_domain::account::AppAccount>> {
                let sql = format!(
                    "SELECT {} FROM app_accounts WHERE application_id = $1 AND id = $2",
                    $crate::sql::ACCOUNT_COLUMNS
                );
                sqlx::query_as::<_, $crate::rows::AccountRow>(&sql)
                    .bind(application_id)
                    .bind(id)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err($crate::errors::map)?
                    .map(|r| r.into_domain())
                    .transpose()
            }

            async fn account_id_for_user(
                &mut self,
                application_id: &str,
                user_id: &str,
            ) -> roster_domain::Result<Option<String>> {
                sqlx::query_scalar::<_, String>(
                    "SELECT id FROM app_accounts WHERE application_id = $1 AND user_id = $2",
                )
                .bind(application_id)
                .bind(user_id)
                .fetch_optional(&mut *self.conn)
                .await
                .map_err($crate::errors::map)
            }

            async fn account_id_by_name(
                &mut self,
                application_id: &str,
                account_name: &str,
            ) -> roster_domain::Result<Option<String>> {
                sqlx::query_scalar::<_, String>(
                    "SELECT id FROM app_accounts WHERE application_id = $1 AND account_name = $2",
                )
                .bind(application_id)
                .bind(account_name)
                .fetch_optional(&mut *self.conn)
                .await
                .map_err($crate::errors::map)
            }

            async fn accounts_of_user(
                &mut self,
                user_id: &str,
            ) -> roster_domain::Result<Vec<roster_domain::account::AppAccount>> {
                let sql = format!(
                    "SELECT {} FROM app_accounts WHERE user_id = $1 ORDER BY created_at, id",
                    $crate::sql::ACCOUNT_COLUMNS
                );
                sqlx::query_as::<_, $crate::rows::AccountRow>(&sql)
                    .bind(user_id)
                    .fetch_all(&mut *self.conn)
                    .await
                    .map_err($crate::errors::map)?
                    .into_iter()
                    .map(|r| r.into_domain())
                    .collect()
            }

            async fn insert_audit(
                &mut self,
                r: &roster_domain::audit::AuditRecord,
            ) -> roster_domain::Result<()> {
                sqlx::query(
                    "INSERT INTO audit_log (at, actor, operation, target_type, target_id) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(r.at)
                .bind(&r.actor)
                .bind(r.operation)
                .bind(r.target_type)
                .bind(&r.target_id)
                .execute(&mut *self.conn)
                .await
                .map_err($crate::errors::map)?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_tx;
