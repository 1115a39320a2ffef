//! Entity ids shaped like the reference's: `yyyyMMddHHmmssSSS-XXXX-XXXXXXXXX` (32 characters:
//! a UTC timestamp, 4 and 9 upper-case hex digits). Clients treat them as opaque strings, but
//! keeping the shape keeps their column sizes and log parsers working.

use crate::time::Millis;
use chrono::{DateTime, Utc};
use rand::Rng;

pub const ID_LEN: usize = 32;

pub fn new_id(at: Millis) -> String {
    let stamp = DateTime::<Utc>::from_timestamp_millis(at)
        .unwrap_or_default()
        .format("%Y%m%d%H%M%S%3f");
    let mut rng = rand::thread_rng();
    let a: u16 = rng.gen();
    let b: u64 = rng.gen_range(0..(1u64 << 36));
    format!("{stamp}-{a:04X}-{b:09X}")
}

/// Whether `s` has the shape of an id Roster could have issued.
pub fn is_well_formed(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() == ID_LEN
        && bytes.iter().enumerate().all(|(i, &c)| match i {
            17 | 22 => c == b'-',
            0..=16 => c.is_ascii_digit(),
            _ => c.is_ascii_digit() || (b'A'..=b'F').contains(&c),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_well_formed() {
        for _ in 0..1000 {
            let id = new_id(crate::time::now_millis());
            assert!(is_well_formed(&id), "{id}");
        }
        assert!(is_well_formed("20210621095931341-4CB3-122995DE2"));
        assert!(!is_well_formed("20210621095931341-4cb3-122995DE2"));
        assert!(!is_well_formed("20210621095931341-4CB3-122995DE"));
        assert!(!is_well_formed("../../etc/passwd"));
    }
}
