//! Test mode's snapshots on PostgreSQL: each is a schema of its own (`roster_snapshot_NAME`)
//! holding a copy of every table of Roster's schema, taken from one snapshot of the database
//! (repeatable read). Restoring empties every table and copies the rows back, parents before
//! children, in one transaction, then tells every node that everything changed.

use super::client::PgClient;
use super::map_pg;
use crate::backend::ToArg;
use roster_domain::test_mode::SnapshotName;
use roster_domain::{Error, ErrorKind, Result};
use std::collections::{BTreeMap, BTreeSet};

const PREFIX: &str = "roster_snapshot_";

/// The schema of snapshot `name`, quoted (a name is lower-case letters, digits, `-`, `_`).
fn schema_of(name: &SnapshotName) -> String {
    format!("\"{PREFIX}{name}\"")
}

/// Roster's tables, parents before the tables whose foreign keys point at them.
async fn tables(conn: &mut PgClient) -> Result<Vec<String>> {
    let mut names = Vec::new();
    conn.fetch_each(
        "SELECT c.relname::text FROM pg_class c \
         WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' \
         AND c.relname <> '_sqlx_migrations' ORDER BY 1",
        &[],
        |(name,): (String,)| names.push(name),
    )
    .await
    .map_err(map_pg)?;
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    conn.fetch_each(
        "SELECT c.relname::text, p.relname::text FROM pg_constraint k \
         JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid \
         WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace",
        &[],
        |(child, parent): (String, String)| {
            if child != parent {
                parents.entry(child).or_default().insert(parent);
            }
        },
    )
    .await
    .map_err(map_pg)?;
    Ok(parents_first(names, &parents))
}

fn parents_first(
    mut names: Vec<String>,
    parents: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let mut placed: BTreeSet<String> = BTreeSet::new();
    let mut ordered = Vec::with_capacity(names.len());
    while !names.is_empty() {
        let (ready, waiting): (Vec<String>, Vec<String>) = names.into_iter().partition(|t| {
            parents
                .get(t)
                .is_none_or(|ps| ps.iter().all(|p| placed.contains(p)))
        });
        if ready.is_empty() {
            // A cycle of foreign keys (Roster has none): the database will say what fails.
            ordered.extend(waiting);
            break;
        }
        placed.extend(ready.iter().cloned());
        ordered.extend(ready);
        names = waiting;
    }
    ordered
}

async fn exists(conn: &mut PgClient, name: &SnapshotName) -> Result<bool> {
    let schema = format!("{PREFIX}{name}");
    let mut found = false;
    conn.fetch_each(
        "SELECT 1::bigint FROM pg_namespace WHERE nspname = $1",
        &[&schema as &dyn ToArg],
        |(_,): (i64,)| found = true,
    )
    .await
    .map_err(map_pg)?;
    Ok(found)
}

/// Copies every table into the schema of `name` (made anew). The first statement of the
/// transaction: every copy then reads the same snapshot.
pub(super) async fn take(conn: &mut PgClient, name: &SnapshotName) -> Result<()> {
    // Without notices: the first snapshot of a name drops a schema that is not there.
    conn.batch(
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SET LOCAL client_min_messages = warning",
    )
    .await
    .map_err(map_pg)?;
    let schema = schema_of(name);
    let mut sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};");
    for table in tables(conn).await? {
        sql.push_str(&format!(
            " CREATE TABLE {schema}.\"{table}\" AS TABLE \"{table}\";"
        ));
    }
    conn.batch(&sql).await.map_err(map_pg)
}

/// Empties every table and copies snapshot `name`'s rows back; sequences continue after the
/// largest id restored; every node hears that everything changed.
pub(super) async fn restore(conn: &mut PgClient, name: &SnapshotName) -> Result<()> {
    if !exists(conn, name).await? {
        return Err(Error::with_detail(
            ErrorKind::SnapshotNotFound,
            format!("no snapshot '{name}' was taken."),
        ));
    }
    let schema = schema_of(name);
    let tables = tables(conn).await?;
    let mut serials: Vec<(String, String)> = Vec::new();
    conn.fetch_each(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'",
        &[],
        |row: (String, String)| serials.push(row),
    )
    .await
    .map_err(map_pg)?;
    let listed: Vec<String> = tables.iter().map(|t| format!("\"{t}\"")).collect();
    let mut sql = format!("TRUNCATE {};", listed.join(", "));
    for table in &tables {
        sql.push_str(&format!(
            " INSERT INTO \"{table}\" SELECT * FROM {schema}.\"{table}\";"
        ));
    }
    for (table, column) in &serials {
        sql.push_str(&format!(
            " SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), \
             COALESCE((SELECT MAX(\"{column}\") FROM \"{table}\"), 0) + 1, false);"
        ));
    }
    sql.push_str(" SELECT pg_notify('roster_changes', '');");
    conn.batch(&sql).await.map_err(map_pg)
}

/// Drops snapshot `name`'s schema.
pub(super) async fn delete(conn: &mut PgClient, name: &SnapshotName) -> Result<()> {
    if !exists(conn, name).await? {
        return Err(Error::with_detail(
            ErrorKind::SnapshotNotFound,
            format!("no snapshot '{name}' was taken."),
        ));
    }
    conn.batch(&format!("DROP SCHEMA {} CASCADE", schema_of(name)))
        .await
        .map_err(map_pg)
}

/// The snapshots taken in this database.
pub(super) async fn names(conn: &mut PgClient) -> Result<Vec<String>> {
    let mut names = Vec::new();
    conn.fetch_each(
        "SELECT substr(nspname, 17) FROM pg_namespace WHERE nspname LIKE 'roster\\_snapshot\\_%' \
         ORDER BY 1",
        &[],
        |(name,): (String,)| names.push(name),
    )
    .await
    .map_err(map_pg)?;
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_are_restored_before_children() {
        let names = ["accounts", "applications", "role_members", "roles", "users"]
            .map(str::to_owned)
            .to_vec();
        let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (child, parent) in [
            ("accounts", "applications"),
            ("accounts", "users"),
            ("roles", "applications"),
            ("role_members", "roles"),
            ("role_members", "accounts"),
        ] {
            parents
                .entry(child.to_owned())
                .or_default()
                .insert(parent.to_owned());
        }
        let ordered = parents_first(names, &parents);
        let at = |t: &str| ordered.iter().position(|n| n == t);
        assert!(at("applications") < at("accounts"));
        assert!(at("users") < at("accounts"));
        assert!(at("roles") < at("role_members"));
        assert!(at("accounts") < at("role_members"));
    }
}
