//! Applications, their tokens, and the audit log.

macro_rules! impl_applications {
    ($tx:ident, $ph:path) => {
        impl<'c> $tx<'c> {
            /// The application whose `column` (unique) is `value`, its read ended by `lock`.
            async fn application_where(
                &mut self,
                column: &str,
                value: &str,
                lock: &str,
            ) -> roster_domain::Result<Option<roster_domain::application::Application>> {
                let sql = format!(
                    "SELECT {} FROM applications WHERE {column} = $1{lock}",
                    $crate::queries::APPLICATION_COLUMNS
                );
                $crate::queries::fetch_row!(self.conn, $crate::rows::ApplicationRow, &sql, [value])?
                    .map(|r| r.into_domain())
                    .transpose()
            }

            /// Inserts `app`, with `on_conflict` appended to the statement; says whether it did.
            async fn add_application(
                &mut self,
                app: &roster_domain::application::Application,
                on_conflict: &str,
            ) -> roster_domain::Result<bool> {
                let sql = format!(
                    "INSERT INTO applications ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9){on_conflict}",
                    $crate::queries::APPLICATION_COLUMNS
                );
                let rows = $crate::queries::execute!(self.conn, &sql, [&app.id, &app.name, &app.client_id, &app.secret_digest, app.permissions.scope(), app.disabled, app.token_generation, app.created_at, app.updated_at], |e| $crate::errors::map_unique(e, $crate::errors::APPLICATION_UNIQUES))?;
                if rows == 1 {
                    self.pending.lists.add($crate::queries::marks::List::Applications, &[], &app.id, 1);
                }
                Ok(rows == 1)
            }

            /// Inserts `tokens` with few statements.
            async fn insert_tokens(
                &mut self,
                tokens: &[roster_domain::application::AccessToken],
            ) -> roster_domain::Result<()> {
                for chunk in tokens.chunks(1000) {
                    let rows = $crate::queries::values_list(chunk.len(), 6, $ph);
                    let sql = format!(
                        "INSERT INTO access_tokens (digest, application_id, scope, expires_at, \
                         created_at, generation) VALUES {rows}"
                    );
                    let mut query = sqlx::query(&sql);
                    for t in chunk {
                        query = query
                            .bind(&t.digest)
                            .bind(&t.application_id)
                            .bind(&t.scope)
                            .bind(t.expires_at)
                            .bind(t.created_at)
                            .bind(t.generation);
                    }
                    query
                        .execute(&mut *self.conn)
                        .await
                        .map_err($crate::errors::map)?;
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl<'c> $crate::tx::ApplicationTx for $tx<'c> {
            async fn insert_application(
                &mut self,
                app: &roster_domain::application::Application,
            ) -> roster_domain::Result<()> {
                // A taken client id or name is the catalog's APP.0004 or APP.0005.
                self.add_application(app, "").await.map(|_| ())
            }

            async fn insert_application_if_absent(
                &mut self,
                app: &roster_domain::application::Application,
            ) -> roster_domain::Result<bool> {
                // Nodes starting together bootstrap the same application: any of them may win.
                self.add_application(app, " ON CONFLICT DO NOTHING").await
            }

            async fn update_application(
                &mut self,
                app: &roster_domain::application::Application,
            ) -> roster_domain::Result<()> {
                let rows = $crate::queries::execute!(
                    self.conn,
                    "UPDATE applications SET name = $1, secret_digest = $2, permissions = $3, \
                     disabled = $4, token_generation = $5, updated_at = $6 WHERE id = $7",
                    [&app.name, &app.secret_digest, app.permissions.scope(), app.disabled, app.token_generation, app.updated_at, &app.id],
                    |e| $crate::errors::map_unique(e, $crate::errors::APPLICATION_UNIQUES)
                )?;
                $crate::queries::touched(rows, roster_domain::ErrorKind::ApplicationNotFound)?;
                Ok(())
            }

            async fn application(
                &mut self,
                id: &str,
            ) -> roster_domain::Result<Option<roster_domain::application::Application>> {
                self.application_where("id", id, "").await
            }

            async fn application_for_update(
                &mut self,
                id: &str,
            ) -> roster_domain::Result<Option<roster_domain::application::Application>> {
                let lock = self.row_lock();
                self.application_where("id", id, lock).await
            }

            async fn application_by_client_id(
                &mut self,
                client_id: &str,
            ) -> roster_domain::Result<Option<roster_domain::application::Application>> {
                self.application_where("client_id", client_id, "").await
            }

            async fn list_applications(
                &mut self,
                page: roster_domain::page::PageRequest,
            ) -> roster_domain::Result<roster_domain::page::Page<roster_domain::application::Application>> {
                let (total, rows) = $crate::queries::marks::marked_page!(
                    self.conn,
                    $crate::rows::ApplicationRow,
                    $crate::queries::APPLICATION_COLUMNS,
                    "applications",
                    $crate::queries::marks::Scope::new($crate::queries::marks::List::Applications, &[]),
                    page
                );
                Ok(roster_domain::page::Page {
                    total,
                    items: rows
                        .into_iter()
                        .map(|r| r.into_domain())
                        .collect::<roster_domain::Result<Vec<_>>>()?,
                })
            }
        }

        #[async_trait::async_trait]
        impl<'c> $crate::tx::TokenTx for $tx<'c> {
            async fn token(
                &mut self,
                digest: &str,
            ) -> roster_domain::Result<
                Option<(
                    roster_domain::application::AccessToken,
                    roster_domain::application::Application,
                )>,
            > {
                $crate::queries::fetch_row!(
                    self.conn,
                    $crate::rows::TokenRow,
                    "SELECT t.digest, t.application_id, t.scope, t.expires_at, \
                     t.created_at AS token_created_at, t.generation, a.name, a.client_id, \
                     a.secret_digest, a.permissions, a.disabled, a.token_generation, \
                     a.created_at, a.updated_at \
                     FROM access_tokens t JOIN applications a ON a.id = t.application_id \
                     WHERE t.digest = $1",
                    [digest]
                )?
                .map(|r| r.into_domain())
                .transpose()
            }

            async fn delete_tokens_expired_before(
                &mut self,
                at: roster_domain::time::Millis,
            ) -> roster_domain::Result<u64> {
                let rows = $crate::queries::execute!(self.conn, "DELETE FROM access_tokens WHERE expires_at < $1", [at], $crate::errors::map)?;
                Ok(rows)
            }

            async fn delete_tokens_of_application(
                &mut self,
                application_id: &str,
            ) -> roster_domain::Result<u64> {
                let rows = $crate::queries::execute!(self.conn, "DELETE FROM access_tokens WHERE application_id = $1", [application_id], $crate::errors::map)?;
                Ok(rows)
            }
        }

        #[async_trait::async_trait]
        impl<'c> $crate::tx::AuditTx for $tx<'c> {
            async fn insert_audit(
                &mut self,
                r: &roster_domain::audit::AuditRecord,
            ) -> roster_domain::Result<()> {
                // Written with the job's other deferred writes, at its end.
                self.pending.audits.push(r.clone());
                Ok(())
            }

            async fn insert_audits(
                &mut self,
                records: &[roster_domain::audit::AuditRecord],
            ) -> roster_domain::Result<()> {
                for chunk in records.chunks(1000) {
                    let rows = $crate::queries::values_list(chunk.len(), 6, $ph);
                    let sql = format!(
                        "INSERT INTO audit_log (at, actor, operation, target_type, target_id, \
                         count) VALUES {rows}"
                    );
                    let mut query = sqlx::query(&sql);
                    for r in chunk {
                        query = query
                            .bind(r.at)
                            .bind(&r.actor)
                            .bind(r.operation)
                            .bind(r.target_type)
                            .bind(&r.target_id)
                            .bind(r.count);
                    }
                    query
                        .execute(&mut *self.conn)
                        .await
                        .map_err($crate::errors::map)?;
                }
                Ok(())
            }

            async fn delete_audit_before(
                &mut self,
                at: roster_domain::time::Millis,
                limit: i64,
            ) -> roster_domain::Result<u64> {
                $crate::queries::execute!(
                    self.conn,
                    "DELETE FROM audit_log WHERE id IN \
                     (SELECT id FROM audit_log WHERE at < $1 ORDER BY at LIMIT $2)",
                    [at, limit],
                    $crate::errors::map
                )
            }

            async fn list_audit(
                &mut self,
                filter: &roster_domain::audit::AuditFilter,
                page: roster_domain::page::PageRequest,
            ) -> roster_domain::Result<roster_domain::page::Page<roster_domain::audit::AuditEntry>> {
                let mut conditions = Vec::new();
                let mut texts = Vec::new();
                let mut times = Vec::new();
                // Text parameters first, then times: placeholders are numbered in that order.
                if let Some(actor) = &filter.actor {
                    texts.push(actor.clone());
                    conditions.push(format!("actor = {}", $ph(texts.len())));
                }
                if let Some(target) = &filter.target_id {
                    texts.push(target.clone());
                    conditions.push(format!("target_id = {}", $ph(texts.len())));
                }
                if let Some(from) = filter.from {
                    times.push(from);
                    conditions.push(format!("at >= {}", $ph(texts.len() + times.len())));
                }
                if let Some(to) = filter.to {
                    times.push(to);
                    conditions.push(format!("at < {}", $ph(texts.len() + times.len())));
                }
                let filter_sql = if conditions.is_empty() {
                    String::new()
                } else {
                    format!("WHERE {}", conditions.join(" AND "))
                };
                let count_sql = format!("SELECT COUNT(*) FROM audit_log {filter_sql}");
                let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
                for t in &texts {
                    count = count.bind(t);
                }
                for t in &times {
                    count = count.bind(t);
                }
                let total = count
                    .fetch_one(&mut *self.conn)
                    .await
                    .map_err($crate::errors::map)?;
                let select = format!(
                    "SELECT id, at, actor, operation, target_type, target_id, count FROM audit_log \
                     {filter_sql} ORDER BY id DESC LIMIT {} OFFSET {}",
                    page.limit,
                    page.skip()
                );
                let mut rows = sqlx::query_as::<_, $crate::rows::AuditRow>(&select);
                for t in &texts {
                    rows = rows.bind(t);
                }
                for t in &times {
                    rows = rows.bind(t);
                }
                let rows = rows
                    .fetch_all(&mut *self.conn)
                    .await
                    .map_err($crate::errors::map)?;
                Ok(roster_domain::page::Page {
                    total,
                    items: rows.into_iter().map(|r| r.into_domain()).collect(),
                })
            }
        }
    };
}
pub(crate) use impl_applications;
