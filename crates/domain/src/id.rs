//! Entity ids shaped like the reference's: `yyyyMMddHHmmssSSS-XXXX-XXXXXXXXX` (32 characters:
//! a UTC timestamp, 4 and 9 upper-case hex digits). Clients treat them as opaque strings, but
//! keeping the shape keeps their column sizes and log parsers working.

use crate::time::Millis;
use rand::Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::marker::PhantomData;

pub const ID_LEN: usize = 32;

pub fn new_id(at: Millis) -> String {
    // The reference's time (`yyyy-MM-dd HH:mm:ss.SSS`) without its separators.
    let stamp: String = crate::time::format_millis(at)
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let mut rng = rand::thread_rng();
    let a: u16 = rng.gen();
    let b: u64 = rng.gen_range(0..(1u64 << 36));
    format!("{stamp}-{a:04X}-{b:09X}")
}

/// The id of an entity of kind `K` (`Id<User>`, `Id<Application>`): ids of different kinds
/// are different types, so a use case cannot be handed a user's id where an application's is
/// meant. Its text is whatever the client or the database gave; [`is_well_formed`] says
/// whether Roster could have issued it.
pub struct Id<K> {
    text: String,
    kind: PhantomData<fn() -> K>,
}

impl<K> Id<K> {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            kind: PhantomData,
        }
    }

    /// A new id for an entity created at `at`.
    pub fn generate(at: Millis) -> Self {
        Self::new(new_id(at))
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn into_string(self) -> String {
        self.text
    }
}

// By hand, not derived: a derive would ask the same of `K`, which is an entity, not a value.
impl<K> Clone for Id<K> {
    fn clone(&self) -> Self {
        Self::new(self.text.clone())
    }
}

impl<K> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl<K> Eq for Id<K> {}

impl<K> PartialOrd for Id<K> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<K> Ord for Id<K> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

impl<K> std::hash::Hash for Id<K> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl<K> std::fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.text, f)
    }
}

impl<K> std::fmt::Display for Id<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl<K> std::ops::Deref for Id<K> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

/// Any text reads as an id (command-line arguments); whether it names a row is for the
/// store to say.
impl<K> std::str::FromStr for Id<K> {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(text))
    }
}

impl<K> Serialize for Id<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de, K> Deserialize<'de> for Id<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
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
    fn ids_of_one_kind_compare_by_their_text() {
        struct Thing;
        let a: Id<Thing> = Id::new("20210621095931341-4CB3-122995DE2");
        assert_eq!(a, a.clone());
        assert_eq!(a.to_string(), "20210621095931341-4CB3-122995DE2");
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            "\"20210621095931341-4CB3-122995DE2\""
        );
        let back: Id<Thing> = serde_json::from_str("\"x\"").unwrap();
        assert_eq!(back.as_str(), "x");
        assert!(is_well_formed(&Id::<Thing>::generate(0)));
    }

    #[test]
    fn new_ids_are_well_formed() {
        for _ in 0..1000 {
            let id = new_id(crate::time::now_millis());
            assert!(is_well_formed(&id), "{id}");
        }
        assert!(new_id(1_644_483_986_333).starts_with("20220210090626333-"));
        assert!(is_well_formed("20210621095931341-4CB3-122995DE2"));
        assert!(!is_well_formed("20210621095931341-4cb3-122995DE2"));
        assert!(!is_well_formed("20210621095931341-4CB3-122995DE"));
        assert!(!is_well_formed("../../etc/passwd"));
    }
}
