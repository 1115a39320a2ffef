//! Upkeep an operator starts from the command line.

use crate::use_case::Cx;
use crate::Service;
use roster_domain::audit::CLI_ACTOR;
use roster_domain::Result;
use roster_store::prelude::*;

impl Service {
    /// Counts the page marks of every list again from the tables, in one transaction; for a
    /// database whose rows were changed other than through Roster. Returns the disagreements
    /// found before (zero when the marks were right).
    pub async fn reindex(&self) -> Result<usize> {
        self.write(CLI_ACTOR, reindex, ()).await
    }
}

async fn reindex(tx: &mut dyn Tx, cx: &mut Cx, (): ()) -> Result<usize> {
    let found = tx.page_mark_errors().await?.len();
    tx.rebuild_page_marks().await?;
    cx.audit("Reindex", "page_marks", "*");
    Ok(found)
}
