//! URL normalisation (README "Routing" rule 4): scheme and host lower-cased, the default port
//! and the fragment dropped. Duplicates are detected on the normal form, so it has to be
//! idempotent, equal for URLs that differ only in those respects, and different otherwise.
//! User-info is refused, never normalised away: it hides the real host. So is a backslash
//! before the path: parsers disagree on where such a host ends.

use hotline_gateway::domain::{ReportedUrl, MAX_URL_LEN};
use proptest::prelude::*;
use proptest::sample::select;

/// A URL taken apart; rendered with the case, port and fragment variations under test.
#[derive(Clone, Debug)]
struct Parts {
    https: bool,
    /// Lower case; ASCII labels, or Unicode ones for an IDN host.
    host: String,
    /// `None`, or a port that is not the scheme's default.
    port: Option<u16>,
    /// Always starts with `/`; no dot segments, nothing the parser re-encodes.
    path: String,
    /// Without the `?`; never empty.
    query: Option<String>,
}

/// How one spelling of [`Parts`] differs from the plain one.
#[derive(Clone, Debug, Default)]
struct Spelling {
    scheme_case: Vec<bool>,
    host_case: Vec<bool>,
    explicit_default_port: bool,
    fragment: Option<String>,
}

impl Parts {
    fn scheme(&self) -> &'static str {
        ["http", "https"][usize::from(self.https)]
    }

    fn default_port(&self) -> u16 {
        [80, 443][usize::from(self.https)]
    }

    /// The plain spelling: lower case, no default port, no fragment.
    fn plain(&self) -> String {
        self.render(&Spelling::default())
    }

    fn render(&self, s: &Spelling) -> String {
        let port = match (self.port, s.explicit_default_port) {
            (Some(port), _) => format!(":{port}"),
            (None, true) => format!(":{}", self.default_port()),
            (None, false) => String::new(),
        };
        let query = self
            .query
            .as_ref()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        let fragment = s
            .fragment
            .as_ref()
            .map(|f| format!("#{f}"))
            .unwrap_or_default();
        format!(
            "{}://{}{port}{}{query}{fragment}",
            flip_case(self.scheme(), &s.scheme_case),
            flip_case(&self.host, &s.host_case),
            self.path,
        )
    }
}

/// Upper-cases the characters whose flag is set, where that is one character that lower-cases
/// back to the original (so `ß` and friends are left alone).
fn flip_case(text: &str, flags: &[bool]) -> String {
    text.chars()
        .enumerate()
        .map(|(i, c)| {
            let mut upper = c.to_uppercase();
            match (flags.get(i), upper.next(), upper.next()) {
                (Some(true), Some(u), None) if u.to_lowercase().eq([c]) => u,
                _ => c,
            }
        })
        .collect()
}

fn ascii_host() -> impl Strategy<Value = String> {
    (
        // `xn--` starts a Punycode label, which must decode: WHATWG rejects `xn--0`, rightly.
        prop::collection::vec(
            "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?"
                .prop_filter("not Punycode", |l| !l.starts_with("xn--")),
            0..3,
        ),
        "[a-z]{2,6}",
    )
        .prop_map(|(mut labels, tld)| {
            labels.insert(0, "host".to_owned());
            labels.push(tld);
            labels.join(".")
        })
}

fn idn_host() -> impl Strategy<Value = String> {
    select(vec![
        "bücher.example",
        "münchen.de",
        "пример.рф",
        "例子.测试",
        "παράδειγμα.ελ",
        "åse.øst.no",
        "files.straße.de",
    ])
    .prop_map(str::to_owned)
}

fn path() -> impl Strategy<Value = String> {
    (
        prop::collection::vec("[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,8}", 0..4),
        any::<bool>(),
    )
        .prop_map(|(segments, trailing)| {
            let mut path = format!("/{}", segments.join("/"));
            if trailing && !segments.is_empty() {
                path.push('/');
            }
            path
        })
}

fn query() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[A-Za-z0-9=&_.~-]{1,12}")
}

fn parts() -> impl Strategy<Value = Parts> {
    (
        any::<bool>(),
        prop_oneof![9 => ascii_host(), 1 => idn_host()],
        any::<bool>(),
        1u16..=65535,
        path(),
        query(),
    )
        .prop_map(|(https, host, with_port, port, path, query)| {
            let default = [80, 443][usize::from(https)];
            Parts {
                https,
                host,
                port: (with_port && port != default).then_some(port),
                path,
                query,
            }
        })
}

fn spelling() -> impl Strategy<Value = Spelling> {
    (
        prop::collection::vec(any::<bool>(), 5),
        prop::collection::vec(any::<bool>(), 0..40),
        any::<bool>(),
        prop::option::of(prop_oneof!["[A-Za-z0-9/?#=&._~-]{0,12}", "\\PC{0,8}"]),
    )
        .prop_map(
            |(scheme_case, host_case, explicit_default_port, fragment)| Spelling {
                scheme_case,
                host_case,
                explicit_default_port,
                fragment,
            },
        )
}

fn normal(raw: &str) -> String {
    match ReportedUrl::parse(raw) {
        Ok(url) => url.normalized().to_owned(),
        Err(e) => panic!("{raw:?} rejected: {e}"),
    }
}

/// Checks what an accepted URL must be: http(s) with a host, no fragment in its normal form,
/// the original kept as sent, and its normal form a fixed point.
fn check_accepted(raw: &str) -> Result<(), TestCaseError> {
    let Ok(url) = ReportedUrl::parse(raw) else {
        return Ok(());
    };
    prop_assert_eq!(url.as_str(), raw);
    prop_assert!(raw.chars().count() <= MAX_URL_LEN);
    let parsed = url::Url::parse(url.normalized()).expect("a normal form that is a URL");
    prop_assert!(matches!(parsed.scheme(), "http" | "https"), "{:?}", raw);
    prop_assert!(
        parsed.host_str().is_some_and(|h| !h.is_empty()),
        "{:?}",
        raw
    );
    prop_assert_eq!(parsed.fragment(), None);
    prop_assert_eq!(parsed.username(), "", "{:?}", raw);
    prop_assert_eq!(parsed.password(), None, "{:?}", raw);
    // Read by a parser that takes a backslash for an ordinary character (curl), it names the
    // same host: no backslash came before the path.
    let whatwg = url::Url::parse(raw).expect("an accepted URL parses");
    let curl = url::Url::parse(&raw.replace('\\', "%5C"));
    prop_assert_eq!(
        curl.as_ref().ok().and_then(url::Url::host_str),
        whatwg.host_str(),
        "{:?}",
        raw
    );
    // Not `parse`: a normal form can outgrow MAX_URL_LEN (fuzz/regressions/url/).
    let again = ReportedUrl::normal_form(url.normalized());
    prop_assert!(
        again.is_ok(),
        "{:?}: normal form {:?} rejected",
        raw,
        url.normalized()
    );
    prop_assert_eq!(again.unwrap(), url.normalized(), "from {:?}", raw);
    Ok(())
}

proptest! {
    #![proptest_config(crate::config())]

    #[test]
    fn normalising_is_idempotent(parts in parts(), spelling in spelling()) {
        let raw = parts.render(&spelling);
        let once = normal(&raw);
        prop_assert_eq!(normal(&once), once.clone(), "from {:?}", raw);
    }

    #[test]
    fn case_default_port_and_fragment_do_not_change_the_normal_form(
        parts in parts(),
        a in spelling(),
        b in spelling(),
    ) {
        let (raw_a, raw_b) = (parts.render(&a), parts.render(&b));
        prop_assert_eq!(normal(&raw_a), normal(&raw_b), "{:?} vs {:?}", raw_a, raw_b);
        prop_assert_eq!(normal(&raw_a), normal(&parts.plain()));
        if parts.host.is_ascii() {
            // For an ASCII host the plain spelling is the normal form itself.
            prop_assert_eq!(normal(&raw_a), parts.plain());
        }
    }

    #[test]
    fn a_different_path_query_port_or_scheme_gives_a_different_normal_form(
        parts in parts(),
        other in parts(),
        which in 0..4u8,
        a in spelling(),
        b in spelling(),
    ) {
        let mut changed = parts.clone();
        match which {
            0 => {
                changed.path = other.path;
                if changed.path == parts.path {
                    changed.path.push('x');
                }
            }
            1 => {
                changed.query = other.query;
                if changed.query == parts.query {
                    changed.query = Some(format!("{}x", parts.query.clone().unwrap_or_default()));
                }
            }
            2 => {
                changed.port = other.port.filter(|&p| p != parts.default_port());
                if changed.port == parts.port {
                    changed.port = if parts.port.is_some() { None } else { Some(8080) };
                }
            }
            // `http://h:443/` and `https://h/` differ too, so a port stays as it is.
            _ => changed.https = !parts.https,
        }
        let (raw_a, raw_b) = (parts.render(&a), changed.render(&b));
        prop_assert_ne!(normal(&raw_a), normal(&raw_b), "{:?} vs {:?}", raw_a, raw_b);
    }

    #[test]
    fn parse_never_panics_on_any_string(raw in any::<String>()) {
        check_accepted(&raw)?;
    }

    #[test]
    fn parse_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        check_accepted(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn parse_never_panics_after_an_http_prefix(
        prefix in select(vec!["http://", "HTTPS://", "https://a.nl", "http://[", "https://x@", "http:"]),
        rest in prop_oneof![
            any::<String>(),
            "[ -~]{0,40}",
            "[a-z0-9.:/?#\\[\\]@%\\\\-]{0,40}",
        ],
    ) {
        check_accepted(&format!("{prefix}{rest}"))?;
    }

    #[test]
    fn a_url_with_user_info_is_refused(
        parts in parts(),
        spelling in spelling(),
        user in "[A-Za-z0-9._~%-]{0,12}",
        password in prop::option::of("[A-Za-z0-9._~%-]{0,12}"),
    ) {
        let plain = parts.render(&spelling);
        let (scheme, rest) = plain.split_once("://").unwrap();
        let password = password.map(|p| format!(":{p}")).unwrap_or_default();
        let raw = format!("{scheme}://{user}{password}@{rest}");
        match ReportedUrl::parse(&raw) {
            Ok(url) => prop_assert!(false, "{:?} accepted as {:?}", raw, url.normalized()),
            Err(e) => prop_assert!(e.contains("user-info"), "{:?}: {}", raw, e),
        }
    }

    #[test]
    fn a_backslash_before_the_path_is_refused(
        parts in parts(),
        spelling in spelling(),
        how in 0..5u8,
        at in any::<prop::sample::Index>(),
    ) {
        let plain = parts.render(&spelling);
        let (scheme, rest) = plain.split_once("://").unwrap();
        let (authority, after) = rest.split_at(rest.find('/').unwrap());
        let raw = match how {
            // One of the two slashes, or both, the other way round.
            0 => format!("{scheme}:\\/{rest}"),
            1 => format!("{scheme}:/\\{rest}"),
            2 => format!("{scheme}:\\\\{rest}"),
            // Where the authority ends, or in the host (WHATWG ends the host there).
            3 => format!("{scheme}://{authority}\\{after}"),
            _ => {
                let host: Vec<char> = parts.host.chars().collect();
                let (head, tail) = host.split_at(at.index(host.len() + 1));
                let (head, tail): (String, String) = (head.iter().collect(), tail.iter().collect());
                let port = parts.port.map(|p| format!(":{p}")).unwrap_or_default();
                format!("{scheme}://{head}\\{tail}{port}\\@evil.example{after}")
            }
        };
        match ReportedUrl::parse(&raw) {
            Ok(url) => prop_assert!(false, "{:?} accepted as {:?}", raw, url.normalized()),
            Err(e) => prop_assert!(e.contains("backslash"), "{:?}: {}", raw, e),
        }
    }

    #[test]
    fn a_backslash_in_the_path_or_query_is_taken(
        parts in parts(),
        at in any::<prop::sample::Index>(),
    ) {
        let plain = parts.plain();
        let path_start = plain.find("://").unwrap() + 3;
        let path_start = path_start + plain[path_start..].find('/').unwrap();
        let offsets: Vec<usize> = plain
            .char_indices()
            .map(|(i, _)| i)
            .chain([plain.len()])
            .filter(|&i| i > path_start)
            .collect();
        let i = offsets[at.index(offsets.len())];
        let raw = format!("{}\\{}", &plain[..i], &plain[i..]);
        let url = ReportedUrl::parse(&raw);
        prop_assert!(url.is_ok(), "{:?}: {:?}", raw, url);
        check_accepted(&raw)?;
        let host = |u: &str| url::Url::parse(u).unwrap().host_str().map(str::to_owned);
        prop_assert_eq!(host(url.unwrap().normalized()), host(&normal(&plain)));
    }

    #[test]
    fn other_schemes_are_rejected(
        scheme in select(vec!["ftp", "file", "ws", "wss", "mailto", "data", "javascript", "gopher", "httpx", "hxxp"]),
        case in prop::collection::vec(any::<bool>(), 10),
        rest in "[a-z0-9./]{0,20}",
    ) {
        let raw = format!("{}://host.example/{rest}", flip_case(scheme, &case));
        prop_assert!(ReportedUrl::parse(&raw).is_err(), "{:?} accepted", raw);
    }

    #[test]
    fn too_long_urls_are_rejected(parts in parts(), extra in 1usize..64) {
        let plain = parts.plain();
        let fill = MAX_URL_LEN - plain.chars().count();
        let at_limit = format!("{plain}{}", "#".to_owned() + &"f".repeat(fill - 1));
        prop_assert!(ReportedUrl::parse(&at_limit).is_ok());
        let over = format!("{at_limit}{}", "f".repeat(extra));
        prop_assert!(ReportedUrl::parse(&over).is_err());
    }
}

#[test]
fn an_idn_host_and_its_punycode_have_one_normal_form() {
    for (unicode, ascii) in [
        (
            "https://Bücher.example/a",
            "https://xn--bcher-kva.example/a",
        ),
        ("http://ПРИМЕР.рф:80/#x", "HTTP://XN--E1AFMKFD.XN--P1AI/"),
    ] {
        assert_eq!(normal(unicode), normal(ascii), "{unicode} vs {ascii}");
    }
}
