//! Reading a page by the marks: they give the total and the run where the page starts; the
//! page's keys are found on the list's index from there, then only those rows are read.

use super::Scope;
use crate::backend::{Backend, Decoded, ToArg};
use crate::store_tx::StoreTx;
use roster_domain::page::{Page, PageRequest};
use roster_domain::Result;

/// The count of each run of a list, in key order.
const RUN_COUNTS: &str = "SELECT row_count FROM page_marks \
     WHERE list = $1 AND scope = $2 ORDER BY first_key";

/// The first key of a list's run number `$3` (from 0, in key order).
const RUN_FIRST_KEY: &str = "SELECT first_key FROM page_marks \
     WHERE list = $1 AND scope = $2 ORDER BY first_key LIMIT 1 OFFSET $3";

/// A list's total, where its marks hold every row (one writer at a time).
const TOTAL: &str = "SELECT CAST(COALESCE(SUM(row_count), 0) AS BIGINT) FROM page_marks \
     WHERE list = $1 AND scope = $2";

/// A list's total where writers run concurrently: its marks' counts and the deltas not folded
/// in yet.
const TOTAL_WITH_DELTAS: &str = "SELECT CAST(COALESCE((SELECT SUM(row_count) FROM page_marks \
     WHERE list = $1 AND scope = $2), 0) + COALESCE((SELECT SUM(delta) FROM page_mark_deltas \
     WHERE list = $1 AND scope = $2), 0) AS BIGINT)";

/// From the counts of a list's runs (in key order): which run holds row `skip` (the last one
/// not past it), the rows before it, and the list's total; `None` for a list without runs.
fn page_start(counts: &[i64], skip: i64) -> Option<(usize, i64, i64)> {
    let total = counts.iter().sum();
    let mut before = 0;
    let mut found = None;
    for (run, count) in counts.iter().enumerate() {
        if before > skip {
            break;
        }
        found = Some((run, before));
        before += count;
    }
    found.map(|(run, before)| (run, before, total))
}

/// Where writers run concurrently, for a page starting at row `$3`: the run holding that row,
/// the rows before it, and the list's total, each run's count being its mark's plus the
/// deltas, not folded in yet, whose keys it holds now.
const FIND_PAGE_WITH_DELTAS: &str = "SELECT first_key, before, total FROM (\
     SELECT first_key, \
     CAST(SUM(row_count) OVER (ORDER BY first_key ROWS UNBOUNDED PRECEDING) - row_count AS BIGINT) AS before, \
     CAST(SUM(row_count) OVER () AS BIGINT) AS total \
     FROM (SELECT first_key, SUM(n) AS row_count FROM (\
     SELECT first_key, row_count AS n FROM page_marks WHERE list = $1 AND scope = $2 \
     UNION ALL SELECT COALESCE((SELECT MAX(m.first_key) FROM page_marks m \
     WHERE m.list = $1 AND m.scope = $2 AND m.first_key <= d.row_key), ''), d.delta \
     FROM page_mark_deltas d WHERE d.list = $1 AND d.scope = $2\
     ) u GROUP BY first_key) g) m \
     WHERE before <= $3 ORDER BY first_key DESC LIMIT 1";

/// The rows (`cols` of `row_table`) of `limit` keys of `scope` from `skip_in_run` keys past
/// the run's first key, bound to the scope's values and then the first key.
fn window_sql(cols: &str, row_table: &str, scope: &Scope, skip_in_run: i64, limit: i64) -> String {
    let list = scope.list;
    format!(
        "SELECT {cols} FROM {row_table} WHERE id IN (SELECT {key} FROM {table} \
         WHERE {filter} AND {key} >= ${from} ORDER BY {key} LIMIT {limit} \
         OFFSET {skip_in_run}) ORDER BY id",
        key = list.key(),
        table = list.table(),
        filter = list.filter(),
        from = list.scope_columns().len() + 1,
    )
}

impl<B: Backend> StoreTx<'_, B> {
    /// How many rows the list `scope` names holds, without finding where any page starts.
    pub(crate) async fn marked_total(&mut self, scope: &Scope) -> Result<i64> {
        let sql = if B::CONCURRENT {
            TOTAL_WITH_DELTAS
        } else {
            TOTAL
        };
        let (total,): (i64,) = self
            .fetch_optional(sql, &[&scope.list.name(), &scope.text()])
            .await?
            .unwrap_or((0,));
        Ok(total)
    }

    /// One page of the list `scope` names, as rows of `cols` read from `row_table`.
    pub(crate) async fn marked_page<R: Decoded>(
        &mut self,
        cols: &str,
        row_table: &str,
        scope: &Scope,
        page: PageRequest,
    ) -> Result<Page<R>> {
        self.marked_window(cols, row_table, scope, page.skip(), page.limit)
            .await
    }

    /// [`Self::marked_page`] for `limit` rows from row `skip` (both ≥ 0).
    pub(crate) async fn marked_window<R: Decoded>(
        &mut self,
        cols: &str,
        row_table: &str,
        scope: &Scope,
        skip: i64,
        limit: i64,
    ) -> Result<Page<R>> {
        // The list's total and, unless the page starts past its end, the first key of the run
        // the page starts in and the rows before that run.
        let (total, start): (i64, Option<(String, i64)>) = if B::CONCURRENT {
            let found: Option<(String, i64, i64)> = self
                .fetch_optional(
                    FIND_PAGE_WITH_DELTAS,
                    &[&scope.list.name(), &scope.text(), &skip],
                )
                .await?;
            match found {
                Some((first, before, total)) => (total, (skip < total).then_some((first, before))),
                None => (0, None),
            }
        } else {
            // Summed here: a statement on one database file returns its rows for microseconds,
            // while SQLite's window functions sort them (3× slower for a 10^6-row list). Only
            // the counts are read (a key per run would be an allocation per run); the key of
            // the run wanted is read after.
            let counts: Vec<(i64,)> = self
                .fetch_all(RUN_COUNTS, &[&scope.list.name(), &scope.text()])
                .await?;
            let counts: Vec<i64> = counts.into_iter().map(|(count,)| count).collect();
            match page_start(&counts, skip) {
                Some((run, before, total)) if skip < total => {
                    let run = i64::try_from(run).unwrap_or(i64::MAX);
                    let (first,): (String,) = self
                        .fetch_optional(RUN_FIRST_KEY, &[&scope.list.name(), &scope.text(), &run])
                        .await?
                        .ok_or_else(|| roster_domain::Error::internal("a page mark vanished"))?;
                    (total, Some((first, before)))
                }
                Some((_, _, total)) => (total, None),
                None => (0, None),
            }
        };
        let Some((first, before)) = start else {
            return Ok(Page {
                total,
                items: Vec::new(),
            });
        };
        let sql = window_sql(cols, row_table, scope, skip - before, limit);
        let mut args: Vec<&dyn ToArg> = scope.values.iter().map(|v| v as &dyn ToArg).collect();
        args.push(&first);
        let items = self.fetch_all(&sql, &args).await?;
        Ok(Page { total, items })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marks::List;

    #[test]
    fn the_page_starts_in_the_last_run_not_past_it() {
        let counts = [3, 0, 4];
        assert_eq!(page_start(&counts, 0), Some((0, 0, 7)));
        assert_eq!(page_start(&counts, 2), Some((0, 0, 7)));
        // An empty run (rows deleted) starts where the next does: the last one not past `skip`.
        assert_eq!(page_start(&counts, 3), Some((2, 3, 7)));
        assert_eq!(page_start(&counts, 9), Some((2, 3, 7)));
        assert_eq!(page_start(&[], 0), None);
    }

    #[test]
    fn a_window_starts_at_the_run_and_skips_within_it() {
        let scope = Scope::new(List::RoleMembers, &["R"]);
        let sql = window_sql("id, name", "app_accounts", &scope, 37, 10);
        assert!(
            sql.contains(
                "SELECT account_id FROM app_role_members WHERE role_id = $1 \
                 AND account_id >= $2 ORDER BY account_id LIMIT 10 OFFSET 37"
            ),
            "{sql}"
        );
        assert!(sql.starts_with("SELECT id, name FROM app_accounts WHERE id IN"));
    }
}
