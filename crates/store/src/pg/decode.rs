//! Rows as PostgreSQL returns them, decoded by column name (`rows::row!` structs) or by
//! position (tuples of a few unnamed columns).

use tokio_postgres::types::FromSqlOwned;
use tokio_postgres::Row;

type PgError = tokio_postgres::Error;

/// A row type decoded from PostgreSQL's columns (see `rows::row!`).
pub(crate) trait FromPgRow: Sized {
    fn from_pg_row(row: &Row) -> Result<Self, PgError>;
}

/// A field of a row struct: a column by its name, or a row struct flattened into the same
/// columns.
pub(crate) trait PgColumn: Sized {
    fn pg_column(row: &Row, name: &str) -> Result<Self, PgError>;
}

impl<T: FromSqlOwned> PgColumn for T {
    fn pg_column(row: &Row, name: &str) -> Result<Self, PgError> {
        row.try_get(name)
    }
}

/// Tuples, as rows of a few unnamed columns, by position.
macro_rules! tuple_rows {
    ($($t:ident $i:tt),+) => {
        impl<$($t: FromSqlOwned),+> FromPgRow for ($($t,)+) {
            fn from_pg_row(row: &Row) -> Result<Self, PgError> {
                Ok(($(row.try_get::<usize, $t>($i)?,)+))
            }
        }
    };
}

tuple_rows!(A 0);
tuple_rows!(A 0, B 1);
tuple_rows!(A 0, B 1, C 2);
tuple_rows!(A 0, B 1, C 2, D 3);
tuple_rows!(A 0, B 1, C 2, D 3, E 4);
tuple_rows!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_rows!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_rows!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_rows!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_rows!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_rows!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_rows!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
