//! The tenant's organizations.

use crate::backend::Backend;
use crate::errors::{map_delete, map_unique, ORGANIZATION_UNIQUES};
use crate::marks::{List, Scope};
use crate::queries::ORGANIZATION_COLUMNS;
use crate::rows::OrganizationRow;
use crate::store_tx::{touched, StoreTx};
use crate::tx::{LockKey, OrgScope, OrganizationTx};
use async_trait::async_trait;
use roster_domain::organization::Organization;
use roster_domain::page::{Page, PageRequest};
use roster_domain::{ErrorKind, Result};
use std::sync::LazyLock;

/// Ids of `$1` and all its descendants, in `table`.
pub(crate) fn subtree_cte(table: &str) -> String {
    format!(
        "WITH RECURSIVE sub(id) AS (SELECT id FROM {table} WHERE id = $1 \
         UNION ALL SELECT t.id FROM {table} t JOIN sub ON t.parent_id = sub.id)"
    )
}

/// The list an organization is in besides all organizations: the roots or its parent's
/// children.
fn siblings(parent: Option<&str>) -> Scope {
    match parent {
        None => Scope::new(List::RootOrganizations, &[]),
        Some(parent) => Scope::new(List::ChildOrganizations, &[parent]),
    }
}

impl<B: Backend> StoreTx<'_, B> {
    /// Whether some row of `table` has `column` = `value`.
    pub(crate) async fn any_row(&mut self, table: &str, column: &str, value: &str) -> Result<bool> {
        let sql = format!("SELECT 1 FROM {table} WHERE {column} = $1 LIMIT 1");
        let found: Option<(i32,)> = self.fetch_optional(&sql, &[&value]).await?;
        Ok(found.is_some())
    }

    /// Whether `candidate` is `root` or one of its descendants in the tree of `table`.
    pub(crate) async fn in_subtree(
        &mut self,
        table: &str,
        root: &str,
        candidate: &str,
    ) -> Result<bool> {
        let sql = format!(
            "{} SELECT 1 FROM sub WHERE id = $2 LIMIT 1",
            subtree_cte(table)
        );
        let found: Option<(i32,)> = self.fetch_optional(&sql, &[&root, &candidate]).await?;
        Ok(found.is_some())
    }

    /// Organization `id` and its direct children, in id order: the children's page from their
    /// marks, with `id` itself slotted in where its id falls among them.
    async fn org_with_children(
        &mut self,
        id: &str,
        page: PageRequest,
    ) -> Result<Page<OrganizationRow>> {
        // Children older than their parent (moved under it later): usually none.
        let (at,): (i64,) = self
            .fetch_optional(
                "SELECT COUNT(*) FROM organizations WHERE parent_id = $1 AND id < $1",
                &[&id],
            )
            .await?
            .unwrap_or_default();
        let (skip, limit) = (page.skip(), page.limit);
        let holds_self = (skip..skip + limit).contains(&at);
        let (from, take) = match (holds_self, skip > at) {
            (true, _) => (skip, limit - 1),
            (false, true) => (skip - 1, limit),
            (false, false) => (skip, limit),
        };
        let scope = Scope::new(List::ChildOrganizations, &[id]);
        let mut children: Page<OrganizationRow> = self
            .marked_window(ORGANIZATION_COLUMNS, "organizations", &scope, from, take)
            .await?;
        if holds_self {
            let sql = format!("SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE id = $1");
            if let Some(itself) = self.fetch_optional(&sql, &[&id]).await? {
                let slot = usize::try_from(at - skip)
                    .unwrap_or(0)
                    .min(children.items.len());
                children.items.insert(slot, itself);
            }
        }
        children.total += 1;
        Ok(children)
    }

    /// Records organization `id` joining (`delta` = 1) or leaving (-1) the lists.
    fn org_joined(&mut self, id: &str, parent: Option<&str>, delta: i64) {
        let lists = &mut self.pending.lists;
        lists.add(List::Organizations, &[], id, delta);
        lists.add_to(siblings(parent), id, delta);
    }
}

#[async_trait]
impl<B: Backend> OrganizationTx for StoreTx<'_, B> {
    async fn lock(&mut self, key: LockKey) -> Result<()> {
        self.lock_until_end(key as i64).await
    }

    async fn insert_organization(&mut self, o: &Organization) -> Result<()> {
        static SQL: LazyLock<String> =
            LazyLock::new(|| OrganizationRow::insert_sql("organizations"));
        let row = OrganizationRow::of(o);
        self.execute_or(&SQL, &row.values(), |e| map_unique(e, ORGANIZATION_UNIQUES))
            .await?;
        self.org_joined(&o.id, o.parent_id.as_deref(), 1);
        Ok(())
    }

    async fn update_organization(&mut self, o: &Organization) -> Result<()> {
        let before: Option<(Option<String>,)> = self
            .fetch_optional(
                "SELECT parent_id FROM organizations WHERE id = $1",
                &[&o.id],
            )
            .await?;
        if let Some((parent,)) =
            before.filter(|(parent,)| parent.as_deref() != o.parent_id.as_deref())
        {
            let lists = &mut self.pending.lists;
            lists.add_to(siblings(parent.as_deref()), &o.id, -1);
            lists.add_to(siblings(o.parent_id.as_deref()), &o.id, 1);
        }
        const KEEP: &[&str] = &["id", "created_at"];
        let row = OrganizationRow::of(o);
        static SQL: LazyLock<String> = LazyLock::new(|| {
            let set = OrganizationRow::set_sql(KEEP);
            format!(
                "UPDATE organizations SET {} WHERE id = ${}",
                set.0,
                set.1 + 1
            )
        });
        let mut args = row.assigned_values(KEEP);
        args.push(&row.id);
        let rows = self
            .execute_or(&SQL, &args, |e| map_unique(e, ORGANIZATION_UNIQUES))
            .await?;
        touched(rows, ErrorKind::OrganizationNotFound)
    }

    async fn delete_organization(&mut self, id: &str) -> Result<()> {
        let (parent,): (Option<String>,) = self
            .fetch_optional_or(
                "DELETE FROM organizations WHERE id = $1 RETURNING parent_id",
                &[&id],
                map_delete,
            )
            .await?
            .ok_or(ErrorKind::OrganizationNotFound)?;
        self.org_joined(id, parent.as_deref(), -1);
        Ok(())
    }

    async fn organization(&mut self, id: &str) -> Result<Option<Organization>> {
        let sql = format!("SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE id = $1");
        let row: Option<OrganizationRow> = self.fetch_optional(&sql, &[&id]).await?;
        Ok(row.map(OrganizationRow::into_domain))
    }

    async fn organization_by_code(&mut self, code: &str) -> Result<Option<Organization>> {
        let sql = format!("SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE code = $1");
        let row: Option<OrganizationRow> = self.fetch_optional(&sql, &[&code]).await?;
        Ok(row.map(OrganizationRow::into_domain))
    }

    async fn first_root_organization(&mut self) -> Result<Option<Organization>> {
        let sql = format!(
            "SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE parent_id IS NULL \
             ORDER BY id LIMIT 1"
        );
        let row: Option<OrganizationRow> = self.fetch_optional(&sql, &[]).await?;
        Ok(row.map(OrganizationRow::into_domain))
    }

    async fn organization_has_children(&mut self, id: &str) -> Result<bool> {
        self.any_row("organizations", "parent_id", id).await
    }

    async fn organization_has_members(&mut self, id: &str) -> Result<bool> {
        // Home or secondary: either way the organization still has the user.
        Ok(self.any_row("users", "org_id", id).await?
            || self.any_row("user_org_relations", "org_id", id).await?)
    }

    async fn organization_in_subtree(&mut self, root: &str, candidate: &str) -> Result<bool> {
        self.in_subtree("organizations", root, candidate).await
    }

    async fn list_organizations(
        &mut self,
        scope: &OrgScope,
        page: PageRequest,
    ) -> Result<Page<Organization>> {
        let cols = ORGANIZATION_COLUMNS;
        let rows: Page<OrganizationRow> = match scope {
            OrgScope::Roots => {
                let scope = Scope::new(List::RootOrganizations, &[]);
                self.marked_page(cols, "organizations", &scope, page)
                    .await?
            }
            OrgScope::All => {
                let scope = Scope::new(List::Organizations, &[]);
                self.marked_page(cols, "organizations", &scope, page)
                    .await?
            }
            OrgScope::WithChildren(id) => self.org_with_children(id, page).await?,
            // A subtree: counted and skipped row by row (it has no list of its own to keep
            // marks for).
            OrgScope::Subtree(id) => {
                let cte = subtree_cte("organizations");
                self.fetch_page(
                    &format!(
                        "{cte} SELECT {cols} FROM organizations \
                         WHERE id IN (SELECT id FROM sub) ORDER BY id"
                    ),
                    &format!("{cte} SELECT COUNT(*) FROM sub"),
                    page,
                    &[id],
                )
                .await?
            }
        };
        Ok(rows.map(OrganizationRow::into_domain))
    }
}
