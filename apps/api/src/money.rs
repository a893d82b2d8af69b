//! Exact money amounts in integer cents: parsed from the JSON text itself, never via `f64`.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// The largest accepted amount: 99,999.99.
pub const MAX_CENTS: i64 = 9_999_999;

/// A non-negative amount with two decimals, stored as cents. JSON: accepts a number (`12.5`)
/// or a string (`"12.50"`); always written as a string (`"12.50"`) so no client reads a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(i64);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "payment must be a decimal amount between 0.00 and 99999.99 with at most two decimals, \
     like 12.34 or \"12.34\""
)]
pub struct MoneyError;

impl Money {
    pub fn from_cents(cents: i64) -> Result<Self, MoneyError> {
        (0..=MAX_CENTS)
            .contains(&cents)
            .then_some(Self(cents))
            .ok_or(MoneyError)
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// Parses `123`, `123.4`, `123.45` (extra decimals only if they are zeros).
    pub fn parse(text: &str) -> Result<Self, MoneyError> {
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty()
            || !digits(int)
            || !digits(frac)
            || (text.contains('.') && frac.is_empty())
        {
            return Err(MoneyError);
        }
        let int = int.trim_start_matches('0');
        let (cents_part, rest) = frac.split_at(frac.len().min(2));
        if int.len() > 5 || rest.bytes().any(|b| b != b'0') {
            return Err(MoneyError);
        }
        let whole: i64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| MoneyError)?
        };
        let mut cents: i64 = cents_part.parse().unwrap_or(0);
        if cents_part.len() == 1 {
            cents *= 10;
        }
        Self::from_cents(whole * 100 + cents)
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        let text = raw.get();
        let text = match text.strip_prefix('"') {
            Some(_) => serde_json::from_str::<String>(text).map_err(D::Error::custom)?,
            None => text.to_owned(),
        };
        Money::parse(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly() {
        let c = |s: &str| Money::parse(s).map(Money::cents);
        assert_eq!(c("0"), Ok(0));
        assert_eq!(c("12"), Ok(1200));
        assert_eq!(c("12.3"), Ok(1230));
        assert_eq!(c("12.34"), Ok(1234));
        assert_eq!(c("0.1"), Ok(10));
        assert_eq!(c("12.340000"), Ok(1234));
        assert_eq!(c("00099999.99"), Ok(9_999_999));
        for bad in [
            "", ".5", "5.", "-1", "+1", "1e3", "12.345", "100000", "1,5", " 1", "0x1",
        ] {
            assert_eq!(c(bad), Err(MoneyError), "{bad:?}");
        }
    }

    #[test]
    fn json_round_trip() {
        let m: Money = serde_json::from_str("0.29").unwrap();
        assert_eq!(m.cents(), 29);
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"0.29\"");
        let m: Money = serde_json::from_str("\"99999.99\"").unwrap();
        assert_eq!(m.to_string(), "99999.99");
        for bad in [
            "true",
            "null",
            "[]",
            "{}",
            "\"1.234\"",
            "1.005",
            "-0.01",
            "1E2",
        ] {
            assert!(serde_json::from_str::<Money>(bad).is_err(), "{bad}");
        }
        assert_eq!(Money::from_cents(5).unwrap().to_string(), "0.05");
    }
}
