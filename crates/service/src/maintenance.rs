//! Upkeep an operator starts from the command line.

use crate::Service;
use roster_domain::Result;

impl Service {
    /// Counts the page marks of every list again from the tables, in one transaction; for a
    /// database whose rows were changed other than through Roster. Returns the disagreements
    /// found before (zero when the marks were right).
    pub async fn reindex(&self) -> Result<usize> {
        let clock = self.clock();
        self.store()
            .write(|tx| {
                Box::pin(async move {
                    let found = tx.page_mark_errors().await?.len();
                    tx.rebuild_page_marks().await?;
                    tx.insert_audit(&crate::audit(
                        clock.now(),
                        roster_domain::audit::CLI_ACTOR,
                        "Reindex",
                        "page_marks",
                        "*",
                    ))
                    .await?;
                    Ok(found)
                })
            })
            .await
    }
}
