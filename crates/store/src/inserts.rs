//! Rows written in bulk: what a job defers to its end (audit records, tokens, codes, page-mark
//! deltas), as multi-row inserts. On PostgreSQL a job's rows of every table go in one
//! statement (each table's insert but the last in a `WITH`): one round trip where there was
//! one per table, and a round trip costs more than the insert. SQLite allows no insert in a
//! `WITH` and has no round trips: a statement per table.

use crate::backend::{values_list, Backend, ToArg};

/// Most parameters of one statement: far under both databases' limits (SQLite 32,766,
/// PostgreSQL 65,535), so that a statement's text stays cheap to build and parse.
const MAX_PARAMS: usize = 6_000;

/// Rows to insert into one table.
pub(crate) struct Rows<'a> {
    /// The table, with its columns (`audit_log (at, actor, …)`) unless `column_names` has them.
    into: &'static str,
    column_names: Option<&'static str>,
    columns: usize,
    /// Each row's values in column order, row after row.
    values: Vec<&'a dyn ToArg>,
}

impl<'a> Rows<'a> {
    /// The rows `row` makes of `items`, into `into` (a table and its `N` columns).
    pub(crate) fn new<T, const N: usize>(
        into: &'static str,
        items: &'a [T],
        row: impl Fn(&'a T) -> [&'a dyn ToArg; N],
    ) -> Self {
        debug_assert!(
            into.matches(',').count() + 1 == N || !into.contains('('),
            "{into}"
        );
        Self {
            into,
            column_names: None,
            columns: N,
            values: items.iter().flat_map(row).collect(),
        }
    }

    /// The rows of a table declared with `rows::table_row!`: its `COLUMNS` and `values`.
    pub(crate) fn of_table<T, const N: usize>(
        table: &'static str,
        columns: &'static str,
        items: &'a [T],
        row: impl Fn(&'a T) -> [&'a dyn ToArg; N],
    ) -> Self {
        Self {
            column_names: Some(columns),
            ..Self::new(table, items, row)
        }
    }

    fn len(&self) -> usize {
        self.values.len() / self.columns
    }

    /// Most rows of this table one statement holds.
    fn rows_per_piece(&self) -> usize {
        (MAX_PARAMS / self.columns).max(1)
    }
}

/// Some consecutive rows of one table.
struct Piece<'r, 'a> {
    rows: &'r Rows<'a>,
    from: usize,
    to: usize,
}

impl<'a> Piece<'_, 'a> {
    fn params(&self) -> usize {
        (self.to - self.from) * self.rows.columns
    }

    fn values(&self) -> impl Iterator<Item = &'a dyn ToArg> + '_ {
        let columns = self.rows.columns;
        self.rows
            .values
            .iter()
            .skip(self.from * columns)
            .take(self.params())
            .copied()
    }
}

/// The statements writing `tables`, each a list of pieces: each table cut into pieces of at
/// most [`MAX_PARAMS`] parameters; on PostgreSQL pieces share a statement while their
/// parameters fit in one.
fn statements<'r, 'a, B: Backend>(tables: &'r [Rows<'a>]) -> Vec<Vec<Piece<'r, 'a>>> {
    let mut statements: Vec<Vec<Piece>> = Vec::new();
    let mut params = 0;
    for rows in tables {
        let per_piece = rows.rows_per_piece();
        for from in (0..rows.len()).step_by(per_piece) {
            let piece = Piece {
                rows,
                from,
                to: (from + per_piece).min(rows.len()),
            };
            match statements.last_mut() {
                Some(last) if B::INSERT_IN_WITH && params + piece.params() <= MAX_PARAMS => {
                    params += piece.params();
                    last.push(piece);
                }
                _ => {
                    params = piece.params();
                    statements.push(vec![piece]);
                }
            }
        }
    }
    statements
}

/// How many statements `tables` are inserted with.
pub(crate) fn statement_count<B: Backend>(tables: &[Rows<'_>]) -> usize {
    statements::<B>(tables).len()
}

/// One statement inserting `pieces`, and its arguments.
fn statement<'a, B: Backend>(pieces: &[Piece<'_, 'a>]) -> (String, Vec<&'a dyn ToArg>) {
    let mut sql = String::new();
    let mut args: Vec<&'a dyn ToArg> = Vec::new();
    for (n, piece) in pieces.iter().enumerate() {
        let values = values_list::<B>(args.len(), piece.to - piece.from, piece.rows.columns);
        let insert = match piece.rows.column_names {
            Some(columns) => format!(
                "INSERT INTO {} ({columns}) VALUES {values}",
                piece.rows.into
            ),
            None => format!("INSERT INTO {} VALUES {values}", piece.rows.into),
        };
        args.extend(piece.values());
        if n + 1 == pieces.len() {
            sql.push_str(&insert);
        } else {
            sql.push_str(if n == 0 { "WITH " } else { ", " });
            sql.push_str(&format!("w{n} AS ({insert}) "));
        }
    }
    (sql, args)
}

/// The statements that insert `tables`' rows, with their arguments, as few as `B` allows.
pub(crate) fn insert_statements<'a, B: Backend>(
    tables: &[Rows<'a>],
) -> Vec<(String, Vec<&'a dyn ToArg>)> {
    statements::<B>(tables)
        .iter()
        .map(|pieces| statement::<B>(pieces))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pg::Pg;
    use crate::sqlite::SqliteFile;

    fn audit(items: &[(i64, i64)]) -> Rows<'_> {
        Rows::new("audit_log (at, count)", items, |(at, count)| [at, count])
    }

    fn deltas(items: &[(i64, i64, i64)]) -> Rows<'_> {
        Rows::new(
            "page_mark_deltas (list, scope, delta)",
            items,
            |(l, s, d)| [l, s, d],
        )
    }

    #[test]
    fn on_postgres_every_table_goes_in_one_statement_numbered_on() {
        let (a, d) = (vec![(1, 2), (3, 4)], vec![(5, 6, 7)]);
        let tables = [audit(&a), deltas(&d)];
        let statements = statements::<Pg>(&tables);
        assert_eq!(statements.len(), 1);
        let (sql, args) = statement::<Pg>(&statements[0]);
        assert_eq!(
            sql,
            "WITH w0 AS (INSERT INTO audit_log (at, count) VALUES ($1, $2), ($3, $4)) \
             INSERT INTO page_mark_deltas (list, scope, delta) VALUES ($5, $6, $7)"
        );
        assert_eq!(args.len(), 7);
    }

    #[test]
    fn on_sqlite_each_table_has_a_statement() {
        let (a, d) = (vec![(1, 2)], vec![(5, 6, 7)]);
        let tables = [audit(&a), deltas(&d)];
        let statements = statements::<SqliteFile>(&tables);
        assert_eq!(statements.len(), 2);
        assert_eq!(
            statement::<SqliteFile>(&statements[1]).0,
            "INSERT INTO page_mark_deltas (list, scope, delta) VALUES (?, ?, ?)"
        );
    }

    #[test]
    fn rows_beyond_a_statements_parameters_go_in_the_next() {
        let a: Vec<(i64, i64)> = (0..MAX_PARAMS as i64 / 2 + 10).map(|n| (n, n)).collect();
        let d = vec![(5, 6, 7)];
        let tables = [audit(&a), deltas(&d)];
        let statements = statements::<Pg>(&tables);
        let sizes: Vec<Vec<usize>> = statements
            .iter()
            .map(|s| s.iter().map(|p| p.to - p.from).collect())
            .collect();
        assert_eq!(sizes, [vec![MAX_PARAMS / 2], vec![10, 1]]);
        let (sql, args) = statement::<Pg>(&statements[1]);
        assert!(sql.ends_with("($21, $22, $23)"), "{sql}");
        assert_eq!(args.len(), 23);
        assert_eq!(statement_count::<Pg>(&[]), 0);
    }
}
