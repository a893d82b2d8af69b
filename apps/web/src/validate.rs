//! The users API's rules, checked before calling it so a typo costs no round trip. The API
//! stays authoritative; the messages are its own (apps/users/src/model.rs).

/// The largest ID: JavaScript's `Number.MAX_SAFE_INTEGER`, as the users API allows.
pub const MAX_ID: u64 = 9_007_199_254_740_991;
/// The longest name, in characters, after trimming.
pub const MAX_NAME: usize = 100;

/// An ID typed in a form: 1 to [`MAX_ID`] in plain digits (surrounding spaces ignored).
pub fn id(raw: &str) -> Result<u64, String> {
    let raw = raw.trim();
    match raw.parse::<u64>() {
        Ok(id) if raw.bytes().all(|b| b.is_ascii_digit()) && (1..=MAX_ID).contains(&id) => Ok(id),
        _ => Err(match raw.parse::<i128>() {
            Ok(n) => format!("id must be a positive integer up to {MAX_ID} (got {n})"),
            Err(_) => format!("id must be a positive integer up to {MAX_ID}"),
        }),
    }
}

/// An ID from a path segment: the same rule, without the message (such pages are 404s).
pub fn path_id(raw: &str) -> Option<u64> {
    (raw.bytes().all(|b| b.is_ascii_digit()))
        .then(|| raw.parse().ok())
        .flatten()
        .filter(|id| (1..=MAX_ID).contains(id))
}

/// A name as the API stores it: trimmed, 1 to [`MAX_NAME`] characters, no control characters.
pub fn name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 {
        return Err("name must not be empty".into());
    }
    if chars > MAX_NAME {
        return Err(format!(
            "name must be at most {MAX_NAME} characters (got {chars})"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("name must not contain control characters".into());
    }
    Ok(name.to_owned())
}

/// A message as a sentence for the page: capital first letter, the word `id` as `ID`, a
/// final period.
pub fn sentence(message: &str) -> String {
    let words: Vec<&str> = message
        .split(' ')
        .map(|w| if w == "id" { "ID" } else { w })
        .collect();
    let text = words.join(" ");
    let text = text.trim();
    let mut out = String::with_capacity(text.len() + 1);
    let mut chars = text.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
        out.push_str(chars.as_str());
    }
    if !out.is_empty() && !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(id("1"), Ok(1));
        assert_eq!(id(" 42 "), Ok(42));
        assert_eq!(id("9007199254740991"), Ok(MAX_ID));
        assert_eq!(
            id("0").unwrap_err(),
            "id must be a positive integer up to 9007199254740991 (got 0)"
        );
        for bad in ["", "-1", "+1", "1.5", "abc", "9007199254740992", "1e3"] {
            assert!(id(bad).is_err(), "{bad:?}");
        }
        assert_eq!(path_id("7"), Some(7));
        for bad in [
            "0",
            "",
            "+7",
            "x",
            "99999999999999999999",
            "9007199254740992",
        ] {
            assert_eq!(path_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(name("  Ada Lovelace ").unwrap(), "Ada Lovelace");
        assert_eq!(name(&"é".repeat(100)).unwrap().chars().count(), 100);
        assert_eq!(
            name(&"é".repeat(101)).unwrap_err(),
            "name must be at most 100 characters (got 101)"
        );
        assert_eq!(name(" \t ").unwrap_err(), "name must not be empty");
        for bad in ["a\0b", "a\u{7f}b", "a\nb"] {
            assert_eq!(
                name(bad).unwrap_err(),
                "name must not contain control characters"
            );
        }
    }

    #[test]
    fn sentences() {
        assert_eq!(
            sentence("a user with id 1 already exists"),
            "A user with ID 1 already exists."
        );
        assert_eq!(sentence("id must be 1"), "ID must be 1.");
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(sentence("élan"), "Élan.");
        assert_eq!(
            sentence("no user with id 9 (ids: idle)"),
            "No user with ID 9 (ids: idle)."
        );
        assert_eq!(sentence(""), "");
    }
}
