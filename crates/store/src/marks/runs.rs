//! Keeping the marks in step with the writes, in the writes' transaction.
//!
//! With one writer (SQLite) the mark holding each changed key takes the net change at once:
//! runs grown too long are cut, runs shrunk too far join their neighbour. With concurrent
//! writers (PostgreSQL) each change is a delta row keyed by the row's own key, written without
//! a lock or a look at the marks, so writers of one list never queue on it; a read counts each
//! delta in the run that holds its key at that moment, and a fold (`fold.rs`) now and then
//! moves the deltas into the marks.

use super::changes::ScopeChanges;
use super::{merge_below, part, split_above, List, Scope};
use crate::backend::{Backend, ToArg};
use crate::inserts::Rows;
use crate::store_tx::StoreTx;
use roster_domain::Result;

/// Most changes to one scope a job records as delta rows; more (a bulk import) are added to
/// the runs' counts directly.
const MAX_DELTA_ROWS: usize = 64;

/// The mark holding `$3`, its row count and where the next mark starts.
const LOCATE: &str = "SELECT first_key, row_count, (SELECT MIN(first_key) FROM page_marks \
     WHERE list = $1 AND scope = $2 AND first_key > $3) FROM page_marks \
     WHERE list = $1 AND scope = $2 AND first_key <= $3 ORDER BY first_key DESC LIMIT 1";

/// Writes one run's count.
pub(super) const UPSERT: &str = "INSERT INTO page_marks (list, scope, first_key, row_count) \
     VALUES ($1, $2, $3, $4) \
     ON CONFLICT (list, scope, first_key) DO UPDATE SET row_count = excluded.row_count";

/// A run of a list as stored (its first key, row count and the next run's first key), and a
/// net change to it.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    first: String,
    rows: i64,
    next: Option<String>,
    delta: i64,
}

/// Of `keys` (in order, with their net changes), those the run ending before `next` holds:
/// how many they are and their net change.
fn held_before(keys: &[(String, i64)], next: Option<&str>) -> (usize, i64) {
    let held = keys
        .iter()
        .take_while(|(key, _)| next.is_none_or(|n| key.as_str() < n))
        .count();
    (held, keys.iter().take(held).map(|(_, d)| d).sum())
}

/// Cuts `count` keys, of which `every_part` are the keys at positions `part`, 2·`part`, …,
/// into runs of at least `part` rows (one run when there are fewer): the start keys after
/// the first run's, and each run's size.
fn cut(count: i64, every_part: Vec<String>, part: i64) -> (Vec<String>, Vec<i64>) {
    let runs = (count / part).max(1);
    let starts: Vec<String> = every_part.into_iter().take((runs - 1) as usize).collect();
    let mut sizes = vec![part; starts.len()];
    sizes.insert(0, part);
    if let Some(last) = sizes.last_mut() {
        *last = count - part * (runs - 1);
    }
    (starts, sizes)
}

/// The keys of one scope from `$n` (and before `$n+1`), in order.
fn keys_from(list: List, bounded: bool) -> String {
    let n = list.scope_columns().len();
    let upper = if bounded {
        format!(" AND {} < ${}", list.key(), n + 2)
    } else {
        String::new()
    };
    format!(
        "SELECT {key} FROM {table} WHERE {filter} AND {key} >= ${from}{upper} ORDER BY {key}",
        key = list.key(),
        table = list.table(),
        filter = list.filter(),
        from = n + 1,
    )
}

/// A delta row: a net change to one key of a scope, for a fold to move into its run.
pub(crate) struct Delta {
    list: &'static str,
    scope: String,
    key: String,
    delta: i64,
}

/// `deltas` as rows to insert.
pub(crate) fn delta_rows(deltas: &[Delta]) -> Rows<'_> {
    Rows::new(
        "page_mark_deltas (list, scope, row_key, delta)",
        deltas,
        |d| [&d.list, &d.scope, &d.key, &d.delta],
    )
}

impl<B: Backend> StoreTx<'_, B> {
    /// Applies what the job changed in lists, per scope (see the module's text); the delta
    /// rows left to insert with the job's other rows (PostgreSQL).
    pub(crate) async fn apply_list_changes(&mut self) -> Result<Vec<Delta>> {
        let mut deltas = Vec::new();
        if self.pending.lists.is_empty() {
            return Ok(deltas);
        }
        for ScopeChanges { scope, keys, gone } in self.pending.lists.take() {
            if gone {
                self.drop_marks(&scope).await?;
            } else if !B::CONCURRENT {
                self.settle_runs(&scope, &keys).await?;
            } else {
                if keys.len() > MAX_DELTA_ROWS {
                    self.add_to_runs(&scope, &keys).await?;
                } else {
                    deltas.extend(keys.into_iter().map(|(key, delta)| Delta {
                        list: scope.list.name(),
                        scope: scope.text(),
                        key,
                        delta,
                    }));
                }
                if super::fold::fold_now() {
                    self.pending.lists.folds.push(scope);
                }
            }
        }
        Ok(deltas)
    }

    /// Removes the marks (and delta rows) of a scope that no longer exists.
    async fn drop_marks(&mut self, scope: &Scope) -> Result<()> {
        let (name, text) = (scope.list.name(), scope.text());
        if B::CONCURRENT {
            self.lock_until_end(scope.lock_key()).await?;
            self.execute(
                "DELETE FROM page_mark_deltas WHERE list = $1 AND scope = $2",
                &[&name, &text],
            )
            .await?;
        }
        self.execute(
            "DELETE FROM page_marks WHERE list = $1 AND scope = $2",
            &[&name, &text],
        )
        .await?;
        Ok(())
    }

    /// Adds each of `keys`' net changes to the run holding it, settling each run.
    pub(super) async fn settle_runs(
        &mut self,
        scope: &Scope,
        keys: &[(String, i64)],
    ) -> Result<()> {
        for run in self.runs_of(scope, keys).await? {
            let rows = run.rows + run.delta;
            self.settle_mark(scope, &run.first, rows, run.delta, run.next.as_deref())
                .await?;
        }
        Ok(())
    }

    /// With concurrent writers, many changes to one scope at once (a bulk import): added to
    /// the counts of the runs holding them, under the scope's lock (so no fold moves the runs
    /// meanwhile); runs grown too long are cut by the next fold.
    async fn add_to_runs(&mut self, scope: &Scope, keys: &[(String, i64)]) -> Result<()> {
        self.lock_until_end(scope.lock_key()).await?;
        let (name, text) = (scope.list.name(), scope.text());
        for run in self.runs_of(scope, keys).await? {
            self.execute(
                "INSERT INTO page_marks (list, scope, first_key, row_count) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (list, scope, first_key) \
                 DO UPDATE SET row_count = page_marks.row_count + excluded.row_count",
                &[&name, &text, &run.first, &run.delta],
            )
            .await?;
        }
        self.pending.lists.folds.push(scope.clone());
        Ok(())
    }

    /// The runs holding `keys` (in order), each with the net change of its keys; runs with
    /// none left out. Settling one run leaves the others' marks as they were (it writes only
    /// marks from its own start to the next run's, and adds to the one before), so all can be
    /// found first.
    async fn runs_of(&mut self, scope: &Scope, keys: &[(String, i64)]) -> Result<Vec<Run>> {
        let (name, text) = (scope.list.name(), scope.text());
        let mut runs = Vec::new();
        let mut rest = keys;
        while let Some((key, _)) = rest.first() {
            let (first, rows, next): (String, i64, Option<String>) = self
                .fetch_optional(LOCATE, &[&name, &text, key])
                .await?
                .unwrap_or_default();
            let (held, delta) = held_before(rest, next.as_deref());
            // The run holding `key` holds at least it (a key sorts at or after its run's
            // first); guard the loop all the same.
            rest = rest.get(held.max(1)..).unwrap_or_default();
            if delta != 0 {
                runs.push(Run {
                    first,
                    rows,
                    next,
                    delta,
                });
            }
        }
        Ok(runs)
    }

    /// Writes the run from `first` (up to `next`) with `rows` rows, after a change of
    /// `delta`: cut if too long, joined to the run before if too short.
    async fn settle_mark(
        &mut self,
        scope: &Scope,
        first: &str,
        rows: i64,
        delta: i64,
        next: Option<&str>,
    ) -> Result<()> {
        let (name, text) = (scope.list.name(), scope.text());
        if !(0..=split_above::<B>()).contains(&rows) {
            // Too long, or out of step with its rows (never expected): count the run again
            // and cut it.
            self.recount_mark(scope, first, next).await
        } else if rows < merge_below::<B>() && delta < 0 && !first.is_empty() {
            self.execute(
                "DELETE FROM page_marks WHERE list = $1 AND scope = $2 AND first_key = $3",
                &[&name, &text, &first],
            )
            .await?;
            self.execute(
                "UPDATE page_marks SET row_count = row_count + $4 WHERE list = $1 \
                 AND scope = $2 AND first_key = (SELECT MAX(first_key) FROM page_marks \
                 WHERE list = $1 AND scope = $2 AND first_key < $3)",
                &[&name, &text, &first, &rows],
            )
            .await?;
            Ok(())
        } else {
            self.execute(UPSERT, &[&name, &text, &first, &rows]).await?;
            Ok(())
        }
    }

    /// Counts the rows of the run from `first` to `next` and writes it again as runs of about
    /// `part` rows.
    pub(super) async fn recount_mark(
        &mut self,
        scope: &Scope,
        first: &str,
        next: Option<&str>,
    ) -> Result<()> {
        let part = part::<B>();
        let sql = keys_from(scope.list, next.is_some());
        let mut args: Vec<&dyn ToArg> = scope.values.iter().map(|v| v as &dyn ToArg).collect();
        args.push(&first);
        if let Some(next) = &next {
            args.push(next);
        }
        let mut count: i64 = 0;
        let mut every_part = Vec::new();
        self.fetch_each(&sql, &args, |(key,): (String,)| {
            if count > 0 && count % part == 0 {
                every_part.push(key);
            }
            count += 1;
        })
        .await?;
        let (starts, sizes) = cut(count, every_part, part);
        let (name, text) = (scope.list.name(), scope.text());
        let firsts = std::iter::once(first.to_owned()).chain(starts);
        for (start, size) in firsts.zip(sizes) {
            self.execute(UPSERT, &[&name, &text, &start, &size]).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
        pairs.iter().map(|(k, d)| ((*k).to_owned(), *d)).collect()
    }

    #[test]
    fn a_run_takes_the_keys_before_the_next_runs_first() {
        let changed = keys(&[("A", 1), ("B", 1), ("C", -1), ("D", 1)]);
        assert_eq!(held_before(&changed, Some("C")), (2, 2));
        // The next run's first key itself belongs to the next run.
        assert_eq!(held_before(&changed, Some("B")), (1, 1));
        // The last run holds every key after its first.
        assert_eq!(held_before(&changed, None), (4, 2));
        assert_eq!(held_before(&[], None), (0, 0));
    }

    #[test]
    fn cutting_makes_runs_of_at_least_a_part_and_keeps_every_row() {
        // 10 rows in parts of 4: runs of 4 and 6 (a last short run joins the one before).
        let every_part = vec!["K4".to_owned(), "K8".to_owned()];
        let (starts, sizes) = cut(10, every_part, 4);
        assert_eq!(starts, vec!["K4".to_owned()]);
        assert_eq!(sizes, vec![4, 6]);
        // Exactly three parts.
        let (starts, sizes) = cut(12, vec!["K4".into(), "K8".into()], 4);
        assert_eq!(starts.len(), 2);
        assert_eq!(sizes, vec![4, 4, 4]);
        // Fewer rows than a part: one run with all of them, even none.
        assert_eq!(cut(3, Vec::new(), 4), (Vec::new(), vec![3]));
        assert_eq!(cut(0, Vec::new(), 4), (Vec::new(), vec![0]));
    }

    #[test]
    fn cut_runs_add_up_to_the_count_for_any_length() {
        for count in 0..100 {
            let every_part: Vec<String> = (1..)
                .map(|n| n * 7)
                .take_while(|&n| n < count)
                .map(|n| format!("K{n:03}"))
                .collect();
            let (starts, sizes) = cut(count, every_part, 7);
            assert_eq!(sizes.iter().sum::<i64>(), count, "{count}");
            assert_eq!(sizes.len(), starts.len() + 1);
            assert!(sizes.iter().all(|&s| s < 14), "no run above twice a part");
        }
    }

    #[test]
    fn keys_of_a_scope_are_read_from_the_value_after_its_scope_columns() {
        let sql = keys_from(List::AccountsOfType, true);
        assert!(
            sql.contains("application_id = $1 AND account_type = $2"),
            "{sql}"
        );
        assert!(sql.contains("id >= $3 AND id < $4 ORDER BY id"), "{sql}");
        let sql = keys_from(List::Users, false);
        assert!(sql.ends_with("id >= $1 ORDER BY id"), "{sql}");
    }
}
