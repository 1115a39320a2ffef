//! Folding PostgreSQL's delta rows into the marks (only where writers run concurrently;
//! see `runs.rs`).

use super::{split_above, Scope};
use crate::pg::Pg;
use crate::store_tx::StoreTx;
use roster_domain::Result;
use std::collections::BTreeMap;

/// Whether this write should fold its scope's delta rows: about one in 32, so that a list
/// keeps a few dozen of them between folds.
pub(super) fn fold_now() -> bool {
    rand::random::<u32>().is_multiple_of(32)
}

/// The net change per key of a scope's delta rows; keys whose deltas cancel out left out.
fn net(deltas: Vec<(String, i64)>) -> Vec<(String, i64)> {
    let mut net = BTreeMap::<String, i64>::new();
    for (key, delta) in deltas {
        *net.entry(key).or_default() += delta;
    }
    net.into_iter().filter(|(_, d)| *d != 0).collect()
}

impl StoreTx<'_, Pg> {
    /// Moves the scope's delta rows into its marks and cuts runs that grew too long, joins
    /// runs that shrank too far. Its own transaction, after the writes, and in one snapshot
    /// (REPEATABLE READ): a delta it does not see stays for the next fold, and a row it counts
    /// anew has its delta among those it removes. Skipped when another fold or a bulk write
    /// holds the scope. Says whether a bulk write had grown the list (runs had to be cut).
    pub(crate) async fn fold_marks(&mut self, scope: &Scope) -> Result<bool> {
        let (locked,): (bool,) = self
            .fetch_optional("SELECT pg_try_advisory_xact_lock($1)", &[&scope.lock_key()])
            .await?
            .unwrap_or_default();
        if !locked {
            return Ok(false);
        }
        let (name, text) = (scope.list.name(), scope.text());
        let deltas: Vec<(String, i64)> = self
            .fetch_all(
                "DELETE FROM page_mark_deltas WHERE list = $1 AND scope = $2 \
                 RETURNING row_key, delta",
                &[&name, &text],
            )
            .await?;
        self.settle_runs(scope, &net(deltas)).await?;
        // Runs a bulk write made too long.
        let long: Vec<(String, Option<String>)> = self
            .fetch_all(
                "SELECT first_key, next FROM (SELECT first_key, row_count, \
                 LEAD(first_key) OVER (ORDER BY first_key) AS next FROM page_marks \
                 WHERE list = $1 AND scope = $2) m WHERE row_count > $3",
                &[&name, &text, &split_above::<Pg>()],
            )
            .await?;
        let grew = !long.is_empty();
        for (first, next) in long {
            self.recount_mark(scope, &first, next.as_deref()).await?;
        }
        Ok(grew)
    }

    /// The scopes to fold after this transaction commits, each once.
    pub(crate) fn take_folds(&mut self) -> Vec<Scope> {
        let mut folds = std::mem::take(&mut self.pending.lists.folds);
        folds.sort();
        folds.dedup();
        folds
    }

    /// Scopes with deltas to fold or runs to cut, left by writers that stopped before folding
    /// (a command-line import ends right after its commit).
    pub(crate) async fn scopes_to_fold(&mut self) -> Result<Vec<Scope>> {
        let stored: Vec<(String, String)> = self
            .fetch_all(
                "SELECT DISTINCT list, scope FROM page_mark_deltas \
                 UNION SELECT list, scope FROM page_marks WHERE row_count > $1",
                &[&split_above::<Pg>()],
            )
            .await?;
        Ok(stored
            .iter()
            .filter_map(|(list, scope)| Scope::from_stored(list, scope))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::net;

    #[test]
    fn deltas_of_one_key_are_netted_and_cancelled_ones_dropped() {
        let deltas = vec![
            ("B".to_owned(), 1),
            ("A".to_owned(), 1),
            ("B".to_owned(), -1),
            ("A".to_owned(), 1),
        ];
        assert_eq!(net(deltas), vec![("A".to_owned(), 2)]);
    }
}
