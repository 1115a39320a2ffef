//! Paging as the reference defines it: `offset` is a page number (0 is the first page) and
//! `limit` the page size. Every list is paged; none returns a whole table.

use crate::{Error, Result};

pub const MAX_LIMIT: i64 = 100;
pub const DEFAULT_LIMIT: i64 = 10;
/// Deepest page accepted; beyond it `offset × limit` leaves any realistic table.
pub const MAX_OFFSET: i64 = 10_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Page number, from 0.
    pub offset: i64,
    /// Rows per page, 1 to [`MAX_LIMIT`].
    pub limit: i64,
}

impl PageRequest {
    /// Checks the query parameters; absent ones take the first page of [`DEFAULT_LIMIT`].
    pub fn new(offset: Option<i64>, limit: Option<i64>) -> Result<Self> {
        let offset = offset.unwrap_or(0);
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(0..=MAX_OFFSET).contains(&offset) {
            return Err(Error::invalid(format!(
                "offset is a page number from 0 to {MAX_OFFSET}."
            )));
        }
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::invalid(format!(
                "limit is a page size from 1 to {MAX_LIMIT}."
            )));
        }
        Ok(Self { offset, limit })
    }

    /// Refuses a page size below `min`, for lists whose reference page documents a minimum.
    pub fn with_min_limit(self, min: i64) -> Result<Self> {
        if self.limit < min {
            return Err(Error::invalid(format!(
                "limit is a page size from {min} to {MAX_LIMIT} for this list."
            )));
        }
        Ok(self)
    }

    /// Rows before this page.
    pub fn skip(&self) -> i64 {
        self.offset.saturating_mul(self.limit)
    }
}

/// One page of a list and the size of the whole list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub total: i64,
    pub items: Vec<T>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            total: self.total,
            items: self.items.into_iter().map(f).collect(),
        }
    }

    /// [`Page::map`] with a conversion that may fail: the first failure is the result.
    pub fn try_map<U>(self, f: impl FnMut(T) -> Result<U>) -> Result<Page<U>> {
        Ok(Page {
            total: self.total,
            items: self.items.into_iter().map(f).collect::<Result<_>>()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_not_row_offsets() {
        let p = PageRequest::new(Some(3), Some(20)).unwrap();
        assert_eq!(p.skip(), 60);
        assert!(PageRequest::new(Some(-1), None).is_err());
        assert!(PageRequest::new(None, Some(0)).is_err());
        assert!(PageRequest::new(None, Some(101)).is_err());
        assert_eq!(
            PageRequest::new(None, None).ok(),
            Some(PageRequest {
                offset: 0,
                limit: 10
            })
        );
    }
}
