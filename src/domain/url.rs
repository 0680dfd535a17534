//! Reported URLs and their normal form, which is what duplicates are detected on.

use serde::{Deserialize, Serialize};

mod stored;

/// The longest URL a report may carry.
pub const MAX_URL_LEN: usize = 2048;

/// An http(s) URL as a member reported it, with its normal form.
///
/// What it refuses, beyond what is not an absolute http(s) URL with a host: user-info
/// (`https://bank.example@evil.example/` leads to evil.example, and whoever reads the report
/// would take it for the bank's), a backslash anywhere before the path (a browser reads
/// `https://evil.example\@files.example.nl/` as evil.example, curl as files.example.nl; one
/// in the path or query is taken, and WHATWG-normalised), a bidirectional control character
/// anywhere (U+202E makes the text read otherwise than where it leads), and a host that IDNA
/// (UTS #46, as WHATWG applies it) refuses: a `xn--` label that is not valid Punycode, a forbidden code point, a label that
/// breaks the bidi rules, a mapping to something that is no host. A lookalike host (a Cyrillic
/// `а` in `аpple.example`) is a real, different address: it is taken, and its normal form is its
/// own `xn--` form, never the Latin one's.
///
/// Invariants: `original` parses as an absolute `http` or `https` URL with a host and without
/// user-info, has no backslash before its path and no bidirectional control character, and is
/// at most [`MAX_URL_LEN`]
/// characters; `normalized` is its [`ReportedUrl::normal_form`]: the URL with scheme and host
/// lower-cased (an internationalised
/// host in its punycode form, full-width letters and dots mapped to ASCII, ignored code points
/// such as U+00AD dropped), the default port and the fragment dropped (the WHATWG URL
/// serialisation), so two URLs that differ only in those respects have the same `normalized`,
/// and normalising twice changes nothing.
///
/// Read back from a store (a sled record, a PostgreSQL row, a `store copy` dump), a
/// `ReportedUrl` is not parsed again: a URL taken before a rule got stricter (the backslash
/// before the path, user-info, the IDNA rules of a newer `url` crate) must still load, and its
/// `normalized` must stay the key its duplicates were found by. Deserialising therefore checks
/// only what every version ever stored, by the text: `original` is at most [`MAX_URL_LEN`]
/// characters, names the `http` or `https` scheme and has a non-empty host part; `normalized`
/// begins `http://` or `https://` and a host (as the WHATWG serialisation always does).
/// Anything else is a corrupt record, refused on read. A report body never comes this way: it
/// is parsed, with every rule above, by [`ReportedUrl::parse`]
/// (`crate::schemas::Schemas::parse_report`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "stored::StoredUrl")]
pub struct ReportedUrl {
    original: String,
    normalized: String,
}

/// The bidirectional formatting characters: ALM, LRM, RLM, the embeddings and overrides
/// (U+202A to U+202E) and the isolates (U+2066 to U+2069).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Everything in `raw` before its path: the scheme, the slashes after it (either way round),
/// and the authority up to the first `/`, `?` or `#`. A backslash in there is read as the end
/// of the host by WHATWG parsers (browsers, the `url` crate) and as part of the authority by
/// others (curl), so `https://evil.example\@files.example.nl/` leads to two different hosts.
fn before_path(raw: &str) -> &str {
    let Some((_, rest)) = raw.split_once(':') else {
        return raw;
    };
    let authority = rest.trim_start_matches(['/', '\\', '\t', '\n', '\r']);
    let start = raw.len() - authority.len();
    let end = authority
        .find(['/', '?', '#'])
        .map_or(raw.len(), |i| start + i);
    &raw[..end]
}

/// The authority of `raw` as the WHATWG parser delimits it for http(s): after the scheme and
/// its slashes (either way round), up to the first `/`, `\`, `?` or `#`.
fn raw_authority(raw: &str) -> &str {
    let rest = raw.trim_start_matches(|c: char| c <= ' ');
    let rest = rest.split_once(':').map_or("", |(_, rest)| rest);
    let rest = rest.trim_start_matches(['/', '\\', '\t', '\n', '\r']);
    rest.find(['/', '\\', '?', '#'])
        .map_or(rest, |end| &rest[..end])
}

impl ReportedUrl {
    pub fn parse(raw: &str) -> Result<ReportedUrl, String> {
        if raw.chars().count() > MAX_URL_LEN {
            return Err(format!("a URL is at most {MAX_URL_LEN} characters"));
        }
        if let Some(c) = raw.chars().find(|&c| is_bidi_control(c)) {
            return Err(format!(
                "a URL must not contain a bidirectional control character (U+{:04X}): it makes \
                 the URL read otherwise than where it leads",
                u32::from(c)
            ));
        }
        Ok(ReportedUrl {
            original: raw.to_owned(),
            normalized: ReportedUrl::normal_form(raw)?,
        })
    }

    /// The normal form of an absolute `http` or `https` URL with a host: the URL with scheme
    /// and host lower-cased (an internationalised host in its punycode form), the default
    /// port and the fragment dropped (the WHATWG URL serialisation; user-info and a backslash
    /// before the path are refused), so two
    /// URLs that differ only in those respects have the same normal form, and normalising a
    /// normal form changes nothing.
    ///
    /// No length limit: percent-encoding and punycode can make the normal form of a URL of
    /// [`MAX_URL_LEN`] characters longer than that, so a normal form is not always itself a
    /// URL that [`ReportedUrl::parse`] takes (fuzzing found this: fuzz/regressions/url/).
    pub fn normal_form(raw: &str) -> Result<String, String> {
        // First: where the host ends is the very thing in doubt, so nothing read from it counts.
        if before_path(raw).contains('\\') {
            return Err(
                "a backslash before the path (in the scheme's slashes or the host part) is not \
                 allowed in a reported URL: parsers disagree on where its host ends"
                    .to_owned(),
            );
        }
        let mut parsed = url::Url::parse(raw).map_err(|e| format!("not a valid URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("only http and https URLs can be reported".to_owned());
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err("the URL has no host".to_owned());
        }
        // The parser drops an empty user-info (`https://@evil.example/`); the text still has it.
        if !parsed.username().is_empty()
            || parsed.password().is_some()
            || raw_authority(raw).contains('@')
        {
            return Err(
                "user-info (a name or password and '@' before the host) is not allowed in a \
                 reported URL: it hides the real host"
                    .to_owned(),
            );
        }
        parsed.set_fragment(None);
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
                "https://BÜCHER.example/a",
                "https://xn--bcher-kva.example/a",
            ),
            // Full-width letters and dots, the ideographic full stop, a soft hyphen: UTS #46
            // maps them, as a browser does.
            (
                "https://ＦＩＬＥＳ．example。nl/a",
                "https://files.example.nl/a",
            ),
            (
                "https://fi\u{AD}les.example.nl/a",
                "https://files.example.nl/a",
            ),
            // A lookalike: its own address, never the Latin one.
            (
                "https://\u{430}pple.example/",
                "https://xn--pple-43d.example/",
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

    /// `parse(raw)`'s refusal, which must mention `what`.
    #[track_caller]
    fn assert_refused(raw: &str, what: &str) {
        match ReportedUrl::parse(raw) {
            Ok(url) => panic!("{raw:?} was accepted as {:?}", url.normalized()),
            Err(e) => assert!(e.contains(what), "{raw:?}: {e}"),
        }
    }

    #[test]
    fn user_info_is_refused_whatever_its_form() {
        for raw in [
            "https://bank.example@evil.example/a",
            "https://user:pass@files.example.nl/a",
            "https://user@files.example.nl/a",
            "https://:pass@files.example.nl/a",
            "https://@files.example.nl/a",
            "https://:@files.example.nl/a",
            "https://a%40b@files.example.nl/a",
            "HTTPS:bank.example@evil.example",
        ] {
            assert_refused(raw, "user-info");
        }
    }

    #[test]
    fn idn_tricks_are_refused() {
        for raw in [
            // Punycode that does not decode.
            "https://xn--0.example/",
            "https://xn--a.example/",
            "https://xn--abc-.example/",
            // Forbidden code points, or a mapping to something that is no host.
            "https://a\u{2488}b.example/",
            "https://example.com\u{FF0F}evil.com/",
            "https://example.com%2Fevil.com/",
            "https://a%00b.example/",
            // A label that breaks the bidi rule (a right-to-left letter beside a Latin one).
            "https://a\u{5D0}.example/",
        ] {
            assert_refused(raw, "international domain name");
        }
        for raw in [
            "https://evil\u{202E}elpmaxe.com/",
            "https://a\u{200F}b.example/",
            "https://a\u{2066}b.example/",
            "https://files.example.nl/\u{202E}gpj.exe",
        ] {
            assert_refused(raw, "bidirectional control character");
        }
    }

    #[test]
    fn an_at_sign_after_the_host_is_no_user_info() {
        for ok in [
            "https://files.example.nl/a@b",
            "https://files.example.nl?mail=a@b.example",
            "https://files.example.nl#a@b",
            "https://files.example.nl/\\@evil.example",
        ] {
            let url = ReportedUrl::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert!(
                url.normalized().starts_with("https://files.example.nl/"),
                "{ok}"
            );
        }
    }

    #[test]
    fn a_backslash_before_the_path_is_refused() {
        // WHATWG ends the host at a backslash; curl and others take it as part of the
        // authority, so the two connect to different hosts.
        for raw in [
            "https://evil.example\\@files.example.nl/",
            "https://files.example.nl\\@evil.example",
            "https:\\\\evil.example/",
            "https:/\\evil.example/",
            "https:\\/evil.example/",
            "https://a.example\\/b",
            "https://a.example\\b",
            "https://a.example:8443\\/b",
            "https://a.example\\?q",
            "https://a.example\\#f",
            "https://a.example\\",
            "https:evil.example\\@files.example.nl/",
            "HTTP:\\\\A.EXAMPLE\\B",
            " https:\\\\evil.example/",
            "https://evil.example\t\\@files.example.nl/",
            "https://[::1]\\@files.example.nl/",
            "http:\\\\bank.example@evil.example/",
            // Where WHATWG would end the host, what is left is not even one.
            "https://host.0\\.example\\@files.example.nl/",
        ] {
            assert_refused(raw, "backslash");
        }
    }

    #[test]
    fn a_backslash_in_the_path_query_or_fragment_is_taken() {
        for (raw, want) in [
            (
                "https://files.example.nl/a\\b",
                "https://files.example.nl/a/b",
            ),
            ("https://files.example.nl/\\", "https://files.example.nl//"),
            (
                "https://files.example.nl/a?q=\\x",
                "https://files.example.nl/a?q=\\x",
            ),
            (
                "https://files.example.nl?\\",
                "https://files.example.nl/?\\",
            ),
            ("https://files.example.nl#\\", "https://files.example.nl/"),
        ] {
            let url = ReportedUrl::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(url.normalized(), want, "{raw}");
        }
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
