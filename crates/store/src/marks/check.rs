//! Counting the marks again from the tables: rebuilding them (`roster reindex`, a migration)
//! and checking them (`roster check`, tests).

use super::runs::UPSERT;
use super::{part, List};
use crate::backend::Backend;
use crate::store_tx::StoreTx;
use roster_domain::Result;
use std::collections::BTreeMap;

/// A scope's runs as a check counts them: first key, stored count, rows found.
type Counted = Vec<(String, i64, i64)>;

/// The index, in `runs` (ordered by first key), of the run that holds `key`: the last one
/// whose first key is not after it.
fn holder<T>(runs: &[(String, T, T)], key: &str) -> Option<usize> {
    runs.partition_point(|(first, _, _)| first.as_str() <= key)
        .checked_sub(1)
}

/// Adds a row `key` (of one scope, in key order) to the runs being rebuilt, `part` rows a
/// run; the first run of a scope starts at ''.
fn add_to_rebuilt(runs: &mut Vec<(String, String, i64)>, scope: String, key: String, part: i64) {
    match runs.last_mut() {
        Some(run) if run.0 == scope && run.2 < part => run.2 += 1,
        Some(run) if run.0 == scope => runs.push((scope, key, 1)),
        _ => runs.push((scope, String::new(), 1)),
    }
}

/// What disagrees in one list's `scopes`, counted.
fn disagreements(list: List, scopes: BTreeMap<String, Counted>, errors: &mut Vec<String>) {
    for (scope, marks) in scopes {
        if marks.first().is_some_and(|(first, _, _)| !first.is_empty()) {
            errors.push(format!("{} {scope}: the first mark is not ''", list.name()));
        }
        for (first, stored, real) in marks {
            if stored != real {
                errors.push(format!(
                    "{} {scope} from '{first}': {stored} stored, {real} rows",
                    list.name()
                ));
            }
        }
    }
}

impl<B: Backend> StoreTx<'_, B> {
    /// Replaces every mark by marks counted from the tables.
    pub(crate) async fn rebuild_marks(&mut self) -> Result<()> {
        if B::CONCURRENT {
            // Reading every list of a large database takes longer than a request may.
            self.execute("SET LOCAL statement_timeout = 0", &[]).await?;
            // Waits for writers that are changing marks to commit, and holds off new ones:
            // their rows are then either counted here or applied after.
            self.execute(
                "LOCK TABLE page_marks, page_mark_deltas IN EXCLUSIVE MODE",
                &[],
            )
            .await?;
            self.execute("DELETE FROM page_mark_deltas", &[]).await?;
        }
        self.execute("DELETE FROM page_marks", &[]).await?;
        for list in List::ALL {
            // (scope, first key, rows) of every run, written once the read is done.
            let mut runs: Vec<(String, String, i64)> = Vec::new();
            self.fetch_each(&list.every_row(), &[], |(scope, key): (String, String)| {
                add_to_rebuilt(&mut runs, scope, key, part::<B>());
            })
            .await?;
            for (scope, first, rows) in runs {
                self.execute(UPSERT, &[&list.name(), &scope, &first, &rows])
                    .await?;
            }
        }
        Ok(())
    }

    /// Where the marks disagree with the rows they count; empty when they agree.
    pub(crate) async fn mark_errors(&mut self) -> Result<Vec<String>> {
        let mut errors = Vec::new();
        for list in List::ALL {
            // Marks and deltas in one statement: one snapshot, whatever folds run.
            let sql = if B::CONCURRENT {
                "SELECT scope, first_key, row_count, FALSE FROM page_marks WHERE list = $1 \
                 UNION ALL SELECT scope, row_key, delta, TRUE FROM page_mark_deltas \
                 WHERE list = $1"
            } else {
                "SELECT scope, first_key, row_count, FALSE FROM page_marks WHERE list = $1"
            };
            let counted: Vec<(String, String, i64, bool)> =
                self.fetch_all(sql, &[&list.name()]).await?;
            let (deltas, mut stored): (Vec<_>, Vec<_>) =
                counted.into_iter().partition(|(_, _, _, delta)| *delta);
            stored.sort();
            let mut scopes: BTreeMap<String, Counted> = BTreeMap::new();
            for (scope, first, rows, _) in stored {
                scopes.entry(scope).or_default().push((first, rows, 0));
            }
            // A delta counts in the run that holds its key (a '' run if none is written yet).
            for (scope, key, delta, _) in deltas {
                let marks = scopes.entry(scope).or_default();
                match holder(marks, &key).and_then(|i| marks.get_mut(i)) {
                    Some(mark) => mark.1 += delta,
                    None => marks.insert(0, (String::new(), delta, 0)),
                }
            }
            self.fetch_each(&list.every_row(), &[], |(scope, key): (String, String)| {
                let mark = scopes
                    .get_mut(&scope)
                    .and_then(|m| holder(m, &key).and_then(|i| m.get_mut(i)));
                match mark {
                    Some(mark) => mark.2 += 1,
                    None => errors.push(format!("{} {scope}: no mark holds {key}", list.name())),
                }
            })
            .await?;
            disagreements(list, scopes, &mut errors);
        }
        Ok(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(firsts: &[&str]) -> Counted {
        firsts.iter().map(|f| ((*f).to_owned(), 0, 0)).collect()
    }

    #[test]
    fn the_run_holding_a_key_is_the_last_starting_at_or_before_it() {
        let marks = runs(&["", "D", "M"]);
        assert_eq!(holder(&marks, "A"), Some(0));
        assert_eq!(
            holder(&marks, "D"),
            Some(1),
            "a run holds its own first key"
        );
        assert_eq!(holder(&marks, "L"), Some(1));
        assert_eq!(holder(&marks, "Z"), Some(2));
        assert_eq!(holder(&runs(&["D"]), "A"), None, "no run starts before A");
        assert_eq!(holder(&runs(&[]), "A"), None);
    }

    #[test]
    fn rebuilt_runs_start_at_empty_and_hold_a_part_each_per_scope() {
        let mut rebuilt = Vec::new();
        for (scope, key) in [("s1", "A"), ("s1", "B"), ("s1", "C"), ("s2", "A")] {
            add_to_rebuilt(&mut rebuilt, scope.into(), key.into(), 2);
        }
        assert_eq!(
            rebuilt,
            vec![
                ("s1".into(), String::new(), 2),
                ("s1".into(), "C".into(), 1),
                ("s2".into(), String::new(), 1),
            ]
        );
    }

    #[test]
    fn a_check_names_each_run_out_of_step() {
        let mut scopes = BTreeMap::new();
        scopes.insert("".to_owned(), vec![("".into(), 3, 3), ("K".into(), 2, 1)]);
        scopes.insert("x".to_owned(), vec![("B".into(), 1, 1)]);
        let mut errors = Vec::new();
        disagreements(List::Users, scopes, &mut errors);
        assert_eq!(
            errors,
            vec![
                "users  from 'K': 2 stored, 1 rows".to_owned(),
                "users x: the first mark is not ''".to_owned(),
            ]
        );
    }
}
