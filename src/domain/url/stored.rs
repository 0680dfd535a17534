//! A [`ReportedUrl`] read back from a store: checked as its doc says, never parsed again.

use serde::Deserialize;

use super::{raw_authority, ReportedUrl, MAX_URL_LEN};

/// A [`ReportedUrl`] as stored (`{original, normalized}`), before it is checked.
#[derive(Deserialize)]
pub(super) struct StoredUrl {
    original: String,
    normalized: String,
}

impl TryFrom<StoredUrl> for ReportedUrl {
    type Error = String;

    /// The error names what is wrong, never the URL: it goes to the log.
    fn try_from(stored: StoredUrl) -> Result<ReportedUrl, String> {
        let StoredUrl {
            original,
            normalized,
        } = stored;
        if original.chars().count() > MAX_URL_LEN {
            return Err(format!(
                "a stored URL is longer than {MAX_URL_LEN} characters"
            ));
        }
        let scheme = original
            .trim_start_matches(|c: char| c <= ' ')
            .split_once(':')
            .map(|(scheme, _)| scheme);
        let http = scheme
            .is_some_and(|s| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"));
        let host = raw_authority(&original)
            .rsplit_once('@')
            .map_or(raw_authority(&original), |(_, host)| host);
        if !http || host.is_empty() {
            return Err("a stored URL is not an absolute http(s) URL with a host".to_owned());
        }
        let normal_host = normalized
            .strip_prefix("https://")
            .or_else(|| normalized.strip_prefix("http://"));
        if normal_host.is_none_or(|rest| rest.is_empty() || rest.starts_with('/')) {
            return Err("a stored URL's normal form is not an http(s) URL".to_owned());
        }
        Ok(ReportedUrl {
            original,
            normalized,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ReportedUrl;

    /// A stored `{original, normalized}` pair, read as a store reads it.
    fn stored(original: &str, normalized: &str) -> Result<ReportedUrl, serde_json::Error> {
        serde_json::from_value(serde_json::json!({"original": original, "normalized": normalized}))
    }

    #[test]
    fn a_stored_url_is_read_back_as_it_was_written() {
        let url = ReportedUrl::parse("https://Files.Example.NL:443/a#f").unwrap();
        let json = serde_json::to_string(&url).unwrap();
        let back: ReportedUrl = serde_json::from_str(&json).unwrap();
        assert_eq!(back, url);
    }

    #[test]
    fn a_url_stored_before_a_stricter_rule_still_loads() {
        // Each refused by today's `parse`: a backslash before the path, user-info, a host IDNA
        // refuses, a bidirectional control character. The stored normal form is kept as it
        // was, not derived again.
        for (original, normalized) in [
            (
                "https://evil.example\\@files.example.nl/a.jpg",
                "https://evil.example/@files.example.nl/a.jpg",
            ),
            (
                "https://user@files.example.nl/a",
                "https://user@files.example.nl/a",
            ),
            ("https://xn--a.example/", "https://xn--a.example/"),
            (
                "https://files.example.nl/\u{202E}gpj.exe",
                "https://files.example.nl/%E2%80%AEgpj.exe",
            ),
        ] {
            assert!(ReportedUrl::parse(original).is_err(), "{original}");
            let url = stored(original, normalized).unwrap_or_else(|e| panic!("{original}: {e}"));
            assert_eq!(url.as_str(), original);
            assert_eq!(url.normalized(), normalized);
        }
    }

    #[test]
    fn a_forged_stored_url_is_refused() {
        let long = format!("https://example.nl/{}", "a".repeat(2048));
        for (original, normalized) in [
            ("not a url", "https://files.example.nl/"),
            ("ftp://files.example.nl/a", "ftp://files.example.nl/a"),
            ("javascript:alert(1)", "https://files.example.nl/"),
            ("https://", "https://files.example.nl/"),
            ("https://user@/a", "https://files.example.nl/a"),
            ("", "https://files.example.nl/"),
            (long.as_str(), "https://example.nl/"),
            ("https://files.example.nl/a", ""),
            ("https://files.example.nl/a", "files.example.nl/a"),
            ("https://files.example.nl/a", "https:///a"),
        ] {
            let error = stored(original, normalized)
                .expect_err(original)
                .to_string();
            // The refusal goes to the log: it says what is wrong, never the URL.
            assert!(error.contains("stored URL"), "{error}");
            assert!(!error.contains("files.example"), "{error}");
        }
        for missing in [
            serde_json::json!({"original": "https://files.example.nl/"}),
            serde_json::json!("https://files.example.nl/"),
        ] {
            assert!(serde_json::from_value::<ReportedUrl>(missing).is_err());
        }
    }
}
