//! Rows as SQLite returns them, decoded by column name (`rows::row!` structs) or by position
//! (tuples of a few unnamed columns).

use rusqlite::types::FromSql;
use rusqlite::{Row, Statement};

pub(crate) fn decode<R: FromColumns>(row: &Row<'_>) -> rusqlite::Result<R> {
    R::from_columns(&mut Columns { row, next: 0 })
}

/// A row being decoded, and the column after the one read last: a struct's fields usually
/// follow the `SELECT` list, so a column is found by name without a search.
pub(crate) struct Columns<'r, 's> {
    row: &'r Row<'s>,
    next: usize,
}

impl Columns<'_, '_> {
    /// The column named `name`.
    fn named<T: FromSql>(&mut self, name: &str) -> rusqlite::Result<T> {
        let stmt: &Statement<'_> = self.row.as_ref();
        let index = match stmt.column_name(self.next) {
            Ok(next) if next.eq_ignore_ascii_case(name) => self.next,
            _ => stmt.column_index(name)?,
        };
        self.next = index + 1;
        self.row.get(index)
    }

    /// The next column, in order (tuples).
    fn next<T: FromSql>(&mut self) -> rusqlite::Result<T> {
        let index = self.next;
        self.next += 1;
        self.row.get(index)
    }
}

/// A row type decoded from SQLite's columns (see `rows::row!`).
pub(crate) trait FromColumns: Sized {
    fn from_columns(row: &mut Columns<'_, '_>) -> rusqlite::Result<Self>;
}

/// A field of a row struct: a column by its name, or a row struct flattened into the same
/// columns.
pub(crate) trait Column: Sized {
    fn column(row: &mut Columns<'_, '_>, name: &str) -> rusqlite::Result<Self>;
}

impl<T: FromSql> Column for T {
    fn column(row: &mut Columns<'_, '_>, name: &str) -> rusqlite::Result<Self> {
        row.named(name)
    }
}

/// Tuples, as rows of a few unnamed columns, by position.
macro_rules! tuple_rows {
    ($($t:ident),+) => {
        impl<$($t: FromSql),+> FromColumns for ($($t,)+) {
            fn from_columns(row: &mut Columns<'_, '_>) -> rusqlite::Result<Self> {
                Ok(($(row.next::<$t>()?,)+))
            }
        }
    };
}

tuple_rows!(A);
tuple_rows!(A, B);
tuple_rows!(A, B, C);
tuple_rows!(A, B, C, D);
tuple_rows!(A, B, C, D, E);
tuple_rows!(A, B, C, D, E, F);
tuple_rows!(A, B, C, D, E, F, G);
tuple_rows!(A, B, C, D, E, F, G, H);
tuple_rows!(A, B, C, D, E, F, G, H, I);
tuple_rows!(A, B, C, D, E, F, G, H, I, J);
tuple_rows!(A, B, C, D, E, F, G, H, I, J, K);
tuple_rows!(A, B, C, D, E, F, G, H, I, J, K, L);
