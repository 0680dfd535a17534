//! Loading the configuration: the default loads, and every kind of mistake stops the gateway
//! with a message that names what to fix.

use hotline_gateway::config::{ConfigSource, Settings, EMBEDDED_DEFAULT};

fn load(toml: &str) -> Result<Settings, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, toml).unwrap();
    Settings::load(&ConfigSource::File(path)).map_err(|e| format!("{e:#}"))
}

#[test]
fn the_embedded_default_is_the_repository_default_and_loads() {
    let on_disk =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/default.toml"));
    assert_eq!(on_disk.unwrap(), EMBEDDED_DEFAULT);
    let settings = load(EMBEDDED_DEFAULT).unwrap();
    assert_eq!(settings.gateway.listen, "127.0.0.1:8443");
    assert_eq!(settings.routing.fallback_member(), Some("inhope-fallback"));
    let ids: Vec<&str> = settings.members.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "hotline-fr",
            "hotline-nl",
            "hotline-de",
            "police-fr",
            "police-nl",
            "hoster-nl",
            "inhope-fallback"
        ]
    );
}

#[test]
fn an_empty_file_gets_the_defaults_of_spec() {
    let s = load("").unwrap();
    assert_eq!(s.gateway.id, "gateway.example");
    assert_eq!(s.gateway.max_body_bytes, 262_144);
    assert_eq!(s.tls.client_ca.to_str(), Some("certs/ca.crt"));
    assert!(s.routing.lea_copy);
    assert_eq!(s.delivery.max_attempts, 12);
    assert_eq!(s.limits.requests_per_second, 200);
    assert_eq!(s.retention.closed_item_days, 400);
    assert!(s.members.is_empty());
}

#[test]
fn mistakes_are_refused_with_a_message_that_names_them() {
    let member = |extra: &str| {
        format!("[[members]]\nid = \"a\"\nrole = \"hotline\"\ncountry = \"FR\"\n{extra}")
    };
    let cases: Vec<(String, &str)> = vec![
        ("[gateway]\nlisten = \"nowhere\"".into(), "gateway.listen"),
        ("[gateway]\nlistne = \"127.0.0.1:1\"".into(), "listne"),
        ("[gatewy]\nid = \"x\"".into(), "gatewy"),
        ("[gateway]\nid = \"\"".into(), "gateway.id"),
        ("[gateway]\nmax_body_bytes = 0".into(), "max_body_bytes"),
        ("[routing]\nfallback = \"nobody\"".into(), "nobody"),
        (format!("{}{}", member(""), member("")), "declared twice"),
        (
            member("role = \"x\"").replace("role = \"hotline\"\n", ""),
            "role",
        ),
        (member("").replace("\"FR\"", "\"fr\""), "ISO 3166-1"),
        (member("endpoint = \"http://example.fr/in\""), "https"),
        (member("asns = [64500]"), "hosting_provider"),
        (member("categories = [\"spam\"]"), "spam"),
        ("[delivery]\nmax_attempts = 0".into(), "max_attempts"),
        ("this is not toml".into(), "gateway.toml"),
    ];
    for (toml, expected) in cases {
        let error = load(&toml).expect_err(&toml);
        assert!(error.contains(expected), "for {toml:?}: {error}");
    }
}

#[test]
fn a_missing_file_is_named() {
    let error = Settings::load(&ConfigSource::File("/no/such/gateway.toml".into())).unwrap_err();
    assert!(format!("{error:#}").contains("/no/such/gateway.toml"));
}
