//! ISO 3166-1 alpha-2 country codes.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Two upper-case ASCII letters, as ISO 3166-1 alpha-2 writes a country (`NL`, `FR`).
///
/// Invariant: the inner string is exactly two bytes in `A..=Z`; only [`Country::parse`]
/// builds one, so a `Country` never needs checking again.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Country(String);

impl Country {
    /// Accepts exactly two upper-case ASCII letters.
    pub fn parse(code: &str) -> Result<Country, String> {
        if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Country(code.to_owned()))
        } else {
            Err(format!(
                "`{code}` is not an ISO 3166-1 alpha-2 code (two upper-case letters)"
            ))
        }
    }

    /// `ZZ`, the code ISO 3166 leaves for an unknown country: nobody's home.
    pub fn unknown() -> Country {
        Country("ZZ".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Country {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Country::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::Country;

    #[test]
    fn only_two_upper_case_letters_are_a_country() {
        for good in ["NL", "FR", "DE", "ZZ"] {
            assert_eq!(Country::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "N", "nl", "Nl", "NLD", "N1", "ÉÉ", " NL"] {
            assert!(Country::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
