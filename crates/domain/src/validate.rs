//! Field rules shared by every input: what a text field may hold and how long it may be.
//! Each failure names the field, so the client learns exactly what to fix.

use crate::{Error, Result};
use serde_json::{Map, Value};
use url::Url;

/// Longest URL accepted.
pub const MAX_URL_CHARS: usize = 2000;

/// Longest extension object accepted, serialized.
pub const MAX_EXTENSION_BYTES: usize = 64 * 1024;

fn check_text(field: &str, value: &str, max_chars: usize) -> Result<()> {
    if value.chars().count() > max_chars {
        return Err(Error::invalid(format!(
            "{field} must be at most {max_chars} characters."
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "{field} must not contain control characters."
        )));
    }
    Ok(())
}

/// A required text field: present, not blank, at most `max_chars`.
pub fn required(field: &str, value: Option<String>, max_chars: usize) -> Result<String> {
    match value {
        Some(v) if !v.trim().is_empty() => {
            check_text(field, &v, max_chars)?;
            Ok(v)
        }
        _ => Err(Error::invalid(format!("{field} is required."))),
    }
}

/// An optional text field. The reference treats an empty value as "not given".
pub fn optional(field: &str, value: Option<String>, max_chars: usize) -> Result<Option<String>> {
    match value {
        Some(v) if !v.is_empty() => {
            check_text(field, &v, max_chars)?;
            Ok(Some(v))
        }
        _ => Ok(None),
    }
}

/// A name that identifies something (a username, an account name): no surrounding or
/// embedded line breaks, no leading/trailing blanks, and no invisible or bidirectional
/// formatting characters, any of which would make two names look alike.
pub fn identifier(field: &str, value: &str) -> Result<()> {
    if value.trim() != value {
        return Err(Error::invalid(format!(
            "{field} must not start or end with white space."
        )));
    }
    if let Some(c) = value.chars().find(|&c| is_invisible(c)) {
        return Err(Error::invalid(format!(
            "{field} must not contain invisible or bidirectional formatting characters (U+{:04X}).",
            u32::from(c)
        )));
    }
    Ok(())
}

/// Characters that show nothing or reorder what is shown: Unicode's format characters
/// (general category Cf: zero-width spaces and joiners, bidirectional marks, embeddings,
/// overrides and isolates, the byte-order mark, tags…) and the line and paragraph separators.
pub fn is_invisible(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x2028..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

/// A mobile number: digits, optionally a leading `+` and `-` separators, 3 to 32 characters.
pub fn mobile(value: &str) -> Result<()> {
    let digits = value.strip_prefix('+').unwrap_or(value);
    let ok = (3..=32).contains(&value.len())
        && digits.chars().all(|c| c.is_ascii_digit() || c == '-')
        && digits.chars().any(|c| c.is_ascii_digit())
        && !digits.starts_with('-')
        && !digits.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "mobile must be a phone number: digits, an optional leading '+', '-' separators.",
        ))
    }
}

/// An e-mail address, checked only for shape: one `@` with text on both sides.
pub fn email(value: &str) -> Result<()> {
    match value.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !value.contains(char::is_whitespace) =>
        {
            Ok(())
        }
        _ => Err(Error::invalid("email must be an e-mail address.")),
    }
}

/// A calendar date `yyyy-MM-dd`.
pub fn date(field: &str, value: &str) -> Result<()> {
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .filter(|_| value.len() == 10)
        .map(|_| ())
        .ok_or_else(|| Error::invalid(format!("{field} must be a date yyyy-MM-dd.")))
}

/// A custom-attribute object, bounded in size.
pub fn extension(value: Option<Map<String, Value>>) -> Result<Option<Map<String, Value>>> {
    if let Some(map) = &value {
        let size = serde_json::to_vec(map)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > MAX_EXTENSION_BYTES {
            return Err(Error::invalid(format!(
                "extension must be at most {MAX_EXTENSION_BYTES} bytes of JSON."
            )));
        }
    }
    Ok(value)
}

/// A path id: the shape of an id, or it cannot name anything.
pub fn path_id(value: &str) -> bool {
    crate::id::is_well_formed(value)
}

/// A registered URL, checked: an absolute http(s) URL without a fragment (RFC 6749 §3.1.2)
/// or user information.
pub(crate) fn registered_url(field: &str, text: &str) -> Result<Url> {
    if text.len() > MAX_URL_CHARS {
        return Err(Error::invalid(format!(
            "{field}: a URL has at most {MAX_URL_CHARS} characters."
        )));
    }
    let url = Url::parse(text)
        .map_err(|e| Error::invalid(format!("{field}: '{text}' is not an absolute URL ({e}).")))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(Error::invalid(format!(
            "{field}: '{text}' must be an http or https URL with a host."
        )));
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(format!(
            "{field}: '{text}' may have neither a fragment nor user information."
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert!(required("user_name", None, 10).is_err());
        assert!(required("user_name", Some("  ".into()), 10).is_err());
        assert!(required("user_name", Some("abcdefghijk".into()), 10).is_err());
        assert!(required("user_name", Some("a\nb".into()), 10).is_err());
        assert_eq!(optional("name", Some(String::new()), 10).ok(), Some(None));
    }

    #[test]
    fn shapes() {
        assert!(mobile("+86-13800000000").is_ok());
        assert!(mobile("13800000000").is_ok());
        assert!(mobile("phone").is_err());
        assert!(mobile("+").is_err());
        assert!(email("a@b.c").is_ok());
        assert!(email("a@@b").is_err());
        assert!(date("d", "2020-02-29").is_ok());
        assert!(date("d", "2021-02-29").is_err());
        assert!(date("d", "2021-2-1").is_err());
    }
}
