//! The tenant's organizations and each application's organizations.

/// Ids of `$1` and all its descendants, in `table`.
pub(crate) fn subtree_cte(table: &str) -> String {
    format!(
        "WITH RECURSIVE sub(id) AS (SELECT id FROM {table} WHERE id = $1 \
         UNION ALL SELECT t.id FROM {table} t JOIN sub ON t.parent_id = sub.id)"
    )
}

macro_rules! impl_organizations {
    ($tx:ident, $lock:expr) => {
        impl<'c> $tx<'c> {
            /// Whether some row of `table` has `column` = `value`.
            async fn any_row(
                &mut self,
                table: &str,
                column: &str,
                value: &str,
            ) -> roster_domain::Result<bool> {
                let sql = format!("SELECT 1 FROM {table} WHERE {column} = $1 LIMIT 1");
                let found: Option<(i32,)> =
                    $crate::queries::fetch_row!(self.conn, (i32,), &sql, [value])?;
                Ok(found.is_some())
            }

            /// Whether `candidate` is `root` or one of its descendants in the tree of `table`.
            async fn in_subtree(
                &mut self,
                table: &str,
                root: &str,
                candidate: &str,
            ) -> roster_domain::Result<bool> {
                let sql = format!(
                    "{} SELECT 1 FROM sub WHERE id = $2 LIMIT 1",
                    $crate::queries::organizations::subtree_cte(table)
                );
                let found: Option<(i32,)> =
                    $crate::queries::fetch_row!(self.conn, (i32,), &sql, [root, candidate])?;
                Ok(found.is_some())
            }

            /// Organization `id` and its direct children, in id order: the children's page
            /// from their marks, with `id` itself slotted in where its id falls among them.
            async fn org_with_children(
                &mut self,
                id: &str,
                page: roster_domain::page::PageRequest,
            ) -> roster_domain::Result<(i64, Vec<$crate::rows::OrganizationRow>)> {
                use $crate::queries::marks::{List, Scope};
                let cols = $crate::queries::ORGANIZATION_COLUMNS;
                // Children older than their parent (moved under it later): usually none.
                let (at,): (i64,) = $crate::queries::fetch_row!(
                    self.conn,
                    (i64,),
                    "SELECT COUNT(*) FROM organizations WHERE parent_id = $1 AND id < $1",
                    [id]
                )?
                .unwrap_or_default();
                let (skip, limit) = (page.skip(), page.limit);
                let holds_self = (skip..skip + limit).contains(&at);
                let (from, take) = match (holds_self, skip > at) {
                    (true, _) => (skip, limit - 1),
                    (false, true) => (skip - 1, limit),
                    (false, false) => (skip, limit),
                };
                let (children, mut rows) = $crate::queries::marks::marked_window!(
                    self.conn,
                    $crate::rows::OrganizationRow,
                    cols,
                    "organizations",
                    Scope::new(List::ChildOrganizations, &[id]),
                    from,
                    take
                );
                if holds_self {
                    let sql = format!("SELECT {cols} FROM organizations WHERE id = $1");
                    if let Some(itself) = $crate::queries::fetch_row!(
                        self.conn,
                        $crate::rows::OrganizationRow,
                        &sql,
                        [id]
                    )? {
                        let slot = usize::try_from(at - skip).unwrap_or(0).min(rows.len());
                        rows.insert(slot, itself);
                    }
                }
                Ok((children + 1, rows))
            }

            /// Records organization `id` joining (`delta` = 1) or leaving (-1) the lists.
            fn org_joined(&mut self, id: &str, parent: Option<&str>, delta: i64) {
                use $crate::queries::marks::List;
                self.pending.lists.add(List::Organizations, &[], id, delta);
                match parent {
                    None => self
                        .pending
                        .lists
                        .add(List::RootOrganizations, &[], id, delta),
                    Some(parent) => {
                        self.pending
                            .lists
                            .add(List::ChildOrganizations, &[parent], id, delta)
                    }
                }
            }
        }

        #[async_trait::async_trait]
        impl<'c> $crate::tx::OrganizationTx for $tx<'c> {
            async fn lock(&mut self, key: $crate::tx::LockKey) -> roster_domain::Result<()> {
                let statement: Option<&str> = $lock;
                if let Some(sql) = statement {
                    $crate::queries::execute!(self.conn, sql, [key as i64], $crate::errors::map)?;
                }
                Ok(())
            }

            async fn insert_organization(
                &mut self,
                o: &roster_domain::organization::Organization,
            ) -> roster_domain::Result<()> {
                $crate::queries::execute!(
                    self.conn,
                    "INSERT INTO organizations (id, code, name, parent_id, parent_key, category, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    [
                        &o.id,
                        &o.code,
                        &o.name,
                        &o.parent_id,
                        o.parent_id.as_deref().unwrap_or(""),
                        &o.category,
                        o.created_at,
                        o.updated_at
                    ],
                    |e| $crate::errors::map_unique(e, $crate::errors::ORGANIZATION_UNIQUES)
                )?;
                self.org_joined(&o.id, o.parent_id.as_deref(), 1);
                Ok(())
            }

            async fn update_organization(
                &mut self,
                o: &roster_domain::organization::Organization,
            ) -> roster_domain::Result<()> {
                let before: Option<(Option<String>,)> = $crate::queries::fetch_row!(
                    self.conn,
                    (Option<String>,),
                    "SELECT parent_id FROM organizations WHERE id = $1",
                    [&o.id]
                )?;
                if let Some((parent,)) = before.filter(|(parent,)| *parent != o.parent_id) {
                    use $crate::queries::marks::List;
                    match &parent {
                        None => self
                            .pending
                            .lists
                            .add(List::RootOrganizations, &[], &o.id, -1),
                        Some(parent) => {
                            self.pending
                                .lists
                                .add(List::ChildOrganizations, &[parent], &o.id, -1)
                        }
                    }
                    match &o.parent_id {
                        None => self
                            .pending
                            .lists
                            .add(List::RootOrganizations, &[], &o.id, 1),
                        Some(parent) => {
                            self.pending
                                .lists
                                .add(List::ChildOrganizations, &[parent], &o.id, 1)
                        }
                    }
                }
                let rows = $crate::queries::execute!(
                    self.conn,
                    "UPDATE organizations SET code = $1, name = $2, parent_id = $3, \
                     parent_key = $4, category = $5, updated_at = $6 WHERE id = $7",
                    [
                        &o.code,
                        &o.name,
                        &o.parent_id,
                        o.parent_id.as_deref().unwrap_or(""),
                        &o.category,
                        o.updated_at,
                        &o.id
                    ],
                    |e| $crate::errors::map_unique(e, $crate::errors::ORGANIZATION_UNIQUES)
                )?;
                $crate::queries::touched(rows, roster_domain::ErrorKind::OrganizationNotFound)?;
                Ok(())
            }

            async fn delete_organization(&mut self, id: &str) -> roster_domain::Result<()> {
                let (parent,): (Option<String>,) = $crate::queries::fetch_row!(
                    self.conn,
                    (Option<String>,),
                    "DELETE FROM organizations WHERE id = $1 RETURNING parent_id",
                    [id],
                    $crate::errors::map_delete
                )?
                .ok_or(roster_domain::ErrorKind::OrganizationNotFound)?;
                self.org_joined(id, parent.as_deref(), -1);
                Ok(())
            }

            async fn organization(
                &mut self,
                id: &str,
            ) -> roster_domain::Result<Option<roster_domain::organization::Organization>> {
                let sql = format!(
                    "SELECT {} FROM organizations WHERE id = $1",
                    $crate::queries::ORGANIZATION_COLUMNS
                );
                Ok($crate::queries::fetch_row!(
                    self.conn,
                    $crate::rows::OrganizationRow,
                    &sql,
                    [id]
                )?
                .map(|r| r.into_domain()))
            }

            async fn organization_by_code(
                &mut self,
                code: &str,
            ) -> roster_domain::Result<Option<roster_domain::organization::Organization>> {
                let sql = format!(
                    "SELECT {} FROM organizations WHERE code = $1",
                    $crate::queries::ORGANIZATION_COLUMNS
                );
                Ok($crate::queries::fetch_row!(
                    self.conn,
                    $crate::rows::OrganizationRow,
                    &sql,
                    [code]
                )?
                .map(|r| r.into_domain()))
            }

            async fn first_root_organization(
                &mut self,
            ) -> roster_domain::Result<Option<roster_domain::organization::Organization>> {
                let sql = format!(
                    "SELECT {} FROM organizations WHERE parent_id IS NULL ORDER BY id LIMIT 1",
                    $crate::queries::ORGANIZATION_COLUMNS
                );
                Ok(
                    $crate::queries::fetch_row!(
                        self.conn,
                        $crate::rows::OrganizationRow,
                        &sql,
                        []
                    )?
                    .map(|r| r.into_domain()),
                )
            }

            async fn organization_has_children(&mut self, id: &str) -> roster_domain::Result<bool> {
                self.any_row("organizations", "parent_id", id).await
            }

            async fn organization_has_members(&mut self, id: &str) -> roster_domain::Result<bool> {
                // Home or secondary: either way the organization still has the user.
                Ok(self.any_row("users", "org_id", id).await?
                    || self.any_row("user_org_relations", "org_id", id).await?)
            }

            async fn organization_in_subtree(
                &mut self,
                root: &str,
                candidate: &str,
            ) -> roster_domain::Result<bool> {
                self.in_subtree("organizations", root, candidate).await
            }

            async fn list_organizations(
                &mut self,
                scope: &$crate::tx::OrgScope,
                page: roster_domain::page::PageRequest,
            ) -> roster_domain::Result<
                roster_domain::page::Page<roster_domain::organization::Organization>,
            > {
                use $crate::queries::marks::{List, Scope};
                use $crate::tx::OrgScope;
                let cols = $crate::queries::ORGANIZATION_COLUMNS;
                let (total, rows) = match scope {
                    OrgScope::Roots => $crate::queries::marks::marked_page!(
                        self.conn,
                        $crate::rows::OrganizationRow,
                        cols,
                        "organizations",
                        Scope::new(List::RootOrganizations, &[]),
                        page
                    ),
                    OrgScope::All => $crate::queries::marks::marked_page!(
                        self.conn,
                        $crate::rows::OrganizationRow,
                        cols,
                        "organizations",
                        Scope::new(List::Organizations, &[]),
                        page
                    ),
                    OrgScope::WithChildren(id) => self.org_with_children(id, page).await?,
                    // A subtree: counted and skipped row by row (it has no list of its own to
                    // keep marks for).
                    OrgScope::Subtree(id) => {
                        let cte = $crate::queries::organizations::subtree_cte("organizations");
                        $crate::queries::fetch_page!(
                            self.conn,
                            $crate::rows::OrganizationRow,
                            format!(
                                "{cte} SELECT {cols} FROM organizations \
                                 WHERE id IN (SELECT id FROM sub) ORDER BY id"
                            ),
                            format!("{cte} SELECT COUNT(*) FROM sub"),
                            page,
                            [id]
                        )
                    }
                };
                Ok(roster_domain::page::Page {
                    total,
                    items: rows.into_iter().map(|r| r.into_domain()).collect(),
                })
            }
        }

        #[async_trait::async_trait]
        impl<'c> $crate::tx::AppOrgTx for $tx<'c> {
            async fn insert_app_org(
                &mut self,
                o: &roster_domain::organization::AppOrganization,
            ) -> roster_domain::Result<()> {
                let sql = format!(
                    "INSERT INTO app_organizations ({}) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    $crate::queries::APP_ORG_COLUMNS
                );
                $crate::queries::execute!(
                    self.conn,
                    &sql,
                    [
                        &o.id,
                        &o.application_id,
                        &o.code,
                        &o.name,
                        &o.parent_id,
                        o.created_at,
                        o.updated_at
                    ],
                    |e| $crate::errors::map_unique(e, $crate::errors::APP_ORG_UNIQUES)
                )?;
                self.pending.lists.add(
                    $crate::queries::marks::List::AppOrganizations,
                    &[&o.application_id],
                    &o.id,
                    1,
                );
                Ok(())
            }

            async fn update_app_org(
                &mut self,
                o: &roster_domain::organization::AppOrganization,
            ) -> roster_domain::Result<()> {
                let rows = $crate::queries::execute!(
                    self.conn,
                    "UPDATE app_organizations SET name = $1, parent_id = $2, updated_at = $3 \
                     WHERE id = $4",
                    [&o.name, &o.parent_id, o.updated_at, &o.id],
                    $crate::errors::map
                )?;
                $crate::queries::touched(rows, roster_domain::ErrorKind::AppOrgNotFound)?;
                Ok(())
            }

            async fn delete_app_org(&mut self, id: &str) -> roster_domain::Result<()> {
                let (application_id,): (String,) = $crate::queries::fetch_row!(
                    self.conn,
                    (String,),
                    "DELETE FROM app_organizations WHERE id = $1 RETURNING application_id",
                    [id],
                    $crate::errors::map_delete
                )?
                .ok_or(roster_domain::ErrorKind::AppOrgNotFound)?;
                self.pending.lists.add(
                    $crate::queries::marks::List::AppOrganizations,
                    &[&application_id],
                    id,
                    -1,
                );
                Ok(())
            }

            async fn app_org(
                &mut self,
                application_id: &str,
                id: &str,
            ) -> roster_domain::Result<Option<roster_domain::organization::AppOrganization>> {
                let sql = format!(
                    "SELECT {} FROM app_organizations WHERE application_id = $1 AND id = $2",
                    $crate::queries::APP_ORG_COLUMNS
                );
                Ok($crate::queries::fetch_row!(
                    self.conn,
                    $crate::rows::AppOrgRow,
                    &sql,
                    [application_id, id]
                )?
                .map(|r| r.into_domain()))
            }

            async fn app_org_by_code(
                &mut self,
                application_id: &str,
                code: &str,
            ) -> roster_domain::Result<Option<roster_domain::organization::AppOrganization>> {
                let sql = format!(
                    "SELECT {} FROM app_organizations WHERE application_id = $1 AND code = $2",
                    $crate::queries::APP_ORG_COLUMNS
                );
                Ok($crate::queries::fetch_row!(
                    self.conn,
                    $crate::rows::AppOrgRow,
                    &sql,
                    [application_id, code]
                )?
                .map(|r| r.into_domain()))
            }

            async fn app_org_has_children(&mut self, id: &str) -> roster_domain::Result<bool> {
                self.any_row("app_organizations", "parent_id", id).await
            }

            async fn app_org_has_accounts(&mut self, id: &str) -> roster_domain::Result<bool> {
                self.any_row("app_accounts", "org_id", id).await
            }

            async fn app_org_in_subtree(
                &mut self,
                root: &str,
                candidate: &str,
            ) -> roster_domain::Result<bool> {
                self.in_subtree("app_organizations", root, candidate).await
            }

            async fn list_app_orgs(
                &mut self,
                application_id: &str,
                page: roster_domain::page::PageRequest,
            ) -> roster_domain::Result<
                roster_domain::page::Page<roster_domain::organization::AppOrganization>,
            > {
                let (total, rows) = $crate::queries::marks::marked_page!(
                    self.conn,
                    $crate::rows::AppOrgRow,
                    $crate::queries::APP_ORG_COLUMNS,
                    "app_organizations",
                    $crate::queries::marks::Scope::new(
                        $crate::queries::marks::List::AppOrganizations,
                        &[application_id]
                    ),
                    page
                );
                Ok(roster_domain::page::Page {
                    total,
                    items: rows.into_iter().map(|r| r.into_domain()).collect(),
                })
            }
        }
    };
}
pub(crate) use impl_organizations;
