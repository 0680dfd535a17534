//! Reported URLs and their normal form, which is what duplicates are detected on.

use serde::{Deserialize, Serialize};

/// The longest URL a report may carry.
pub const MAX_URL_LEN: usize = 2048;

/// An http(s) URL as a member reported it, with its normal form.
///
/// Invariants: `original` parses as an absolute `http` or `https` URL with a host and is at most
/// [`MAX_URL_LEN`] characters; `normalized` is its [`ReportedUrl::normal_form`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedUrl {
    original: String,
    normalized: String,
}

impl ReportedUrl {
    pub fn parse(raw: &str) -> Result<ReportedUrl, String> {
        if raw.chars().count() > MAX_URL_LEN {
            return Err(format!("a URL is at most {MAX_URL_LEN} characters"));
        }
        Ok(ReportedUrl {
            original: raw.to_owned(),
            normalized: ReportedUrl::normal_form(raw)?,
        })
    }

    /// The normal form of an absolute `http` or `https` URL with a host: the URL with scheme
    /// and host lower-cased (an internationalised host in its punycode form), the default
    /// port, the fragment and any user-info dropped (the WHATWG URL serialisation), so two
    /// URLs that differ only in those respects have the same normal form, and normalising a
    /// normal form changes nothing.
    ///
    /// No length limit: percent-encoding and punycode can make the normal form of a URL of
    /// [`MAX_URL_LEN`] characters longer than that, so a normal form is not always itself a
    /// URL that [`ReportedUrl::parse`] takes (fuzzing found this: fuzz/regressions/url/).
    pub fn normal_form(raw: &str) -> Result<String, String> {
        let mut parsed = url::Url::parse(raw).map_err(|e| format!("not a valid URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("only http and https URLs can be reported".to_owned());
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err("the URL has no host".to_owned());
        }
        parsed.set_fragment(None);
        // Credentials are not part of the resource (and `https://bank.example@evil.example/`
        // names evil.example): two reports of one resource must share a normal form.
        let _ = parsed.set_username("");
        let _ = parsed.set_password(None);
        Ok(parsed.into())
    }

    /// The URL exactly as the member sent it.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The normal form; equal for URLs that name the same resource.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

#[cfg(test)]
mod tests {
    use super::ReportedUrl;

    #[test]
    fn normal_form_drops_case_default_port_and_fragment() {
        let cases = [
            (
                "https://Files.Example.NL/a/B.jpg",
                "https://files.example.nl/a/B.jpg",
            ),
            (
                "HTTPS://files.example.nl:443/a",
                "https://files.example.nl/a",
            ),
            (
                "http://files.example.nl:80/a#frag",
                "http://files.example.nl/a",
            ),
            (
                "http://files.example.nl:8080/a",
                "http://files.example.nl:8080/a",
            ),
            ("https://files.example.nl", "https://files.example.nl/"),
            (
                "https://user:pw@files.example.nl/a",
                "https://files.example.nl/a",
            ),
            (
                "https://bank.example@evil.example/a",
                "https://evil.example/a",
            ),
            (
                "https://BÜCHER.example/a",
                "https://xn--bcher-kva.example/a",
            ),
        ];
        for (raw, want) in cases {
            let url = ReportedUrl::parse(raw).unwrap();
            assert_eq!(url.normalized(), want, "{raw}");
            assert_eq!(url.as_str(), raw);
            let again = ReportedUrl::normal_form(url.normalized()).unwrap();
            assert_eq!(again, want, "normalising twice changed {raw}");
        }
    }

    #[test]
    fn only_http_and_https_with_a_host() {
        for bad in [
            "ftp://example.nl/a",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://",
            "not a url",
            "mailto:a@example.nl",
        ] {
            assert!(ReportedUrl::parse(bad).is_err(), "{bad} was accepted");
        }
        let long = format!("https://example.nl/{}", "a".repeat(2048));
        assert!(ReportedUrl::parse(&long).is_err());
    }

    #[test]
    fn a_normal_form_may_be_longer_than_a_reportable_url() {
        // Each space becomes `%20`: the normal form outgrows MAX_URL_LEN, and stays the same
        // when normalised again.
        let raw = format!("https://example.nl/{}", " a".repeat(1000));
        let url = ReportedUrl::parse(&raw).unwrap();
        assert!(url.normalized().len() > super::MAX_URL_LEN);
        assert!(ReportedUrl::parse(url.normalized()).is_err());
        assert_eq!(
            ReportedUrl::normal_form(url.normalized()).unwrap(),
            url.normalized()
        );
    }
}
