//! The store's own upkeep: tasks migrations leave for the first start, page mark checks, the
//! health probe's write.

use crate::backend::Backend;
use crate::store_tx::StoreTx;
use crate::tx::MaintenanceTx;
use async_trait::async_trait;
use roster_domain::time::Millis;
use roster_domain::user::{mobile_key, user_name_key};
use roster_domain::Result;
use std::collections::HashSet;

/// Size of the `/health` probe write.
pub(crate) const PROBE_BYTES: usize = 256 * 1024;

impl<B: Backend> StoreTx<'_, B> {
    /// Runs the upkeep a migration asked for (once, whichever node gets there first).
    pub(crate) async fn run_maintenance(&mut self) -> Result<()> {
        if self.take_task("rebuild_page_marks").await? {
            tracing::info!("counting the page marks of every list");
            self.rebuild_marks().await?;
        }
        if self.take_task("fill_user_keys").await? {
            self.fill_user_keys().await?;
        }
        Ok(())
    }

    /// Whether `task` was due; it is not any more.
    async fn take_task(&mut self, task: &str) -> Result<bool> {
        let due = self
            .execute("DELETE FROM maintenance WHERE task = $1", &[&task])
            .await?;
        Ok(due > 0)
    }

    /// Gives users from before the uniqueness keys their keys. Where two existing users share
    /// a key (look-alikes written by an older Roster), the later one's stays empty, and is
    /// logged for an operator to rename.
    async fn fill_user_keys(&mut self) -> Result<()> {
        if B::CONCURRENT {
            self.execute("SET LOCAL statement_timeout = 0", &[]).await?;
        }
        let users: Vec<(String, String, String)> = self
            .fetch_all("SELECT id, user_name, mobile FROM users ORDER BY id", &[])
            .await?;
        tracing::info!(users = users.len(), "computing user name and mobile keys");
        let mut names = HashSet::new();
        let mut mobiles = HashSet::new();
        for (id, user_name, mobile) in users {
            let name_key = Some(user_name_key(&user_name)).filter(|k| names.insert(k.clone()));
            let mobile_key = Some(mobile_key(&mobile)).filter(|k| mobiles.insert(k.clone()));
            if name_key.is_none() || mobile_key.is_none() {
                tracing::warn!(user_id = %id, %user_name, %mobile,
                    "an earlier user has a look-alike user name or mobile; rename this one");
            }
            self.execute(
                "UPDATE users SET user_name_key = $1, mobile_key = $2 WHERE id = $3",
                &[&name_key, &mobile_key, &id],
            )
            .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl<B: Backend> MaintenanceTx for StoreTx<'_, B> {
    async fn rebuild_page_marks(&mut self) -> Result<()> {
        self.rebuild_marks().await
    }

    async fn page_mark_errors(&mut self) -> Result<Vec<String>> {
        self.mark_errors().await
    }

    async fn probe_write(&mut self, at: Millis) -> Result<()> {
        // Bytes that do not compress, as many as a large request writes: a write that fits in
        // the last free page proves nothing.
        let filler: Vec<u8> = (0..PROBE_BYTES).map(|_| rand::random::<u8>()).collect();
        self.execute(
            "UPDATE write_probe SET at = $1, filler = $2 WHERE id = 1",
            &[&at, &filler],
        )
        .await?;
        Ok(())
    }
}
