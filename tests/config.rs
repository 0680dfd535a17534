//! Loading the configuration: the default loads, and every kind of mistake stops the gateway
//! with a message that names what to fix.

use std::time::Duration;

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
    assert_eq!(settings.gateway.listen.to_string(), "127.0.0.1:8443");
    assert_eq!(
        settings.routing.fallback.as_deref(),
        Some("inhope-fallback")
    );
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

/// The defaults are the code's (what a file that leaves a key out gets); `config/default.toml`
/// spells them out for the operator, and must say the same, but for the demo network it sets up.
#[test]
fn the_default_file_says_what_the_code_defaults_to_but_for_the_demo_network() {
    let mut file = load(EMBEDDED_DEFAULT).unwrap();
    assert_eq!(
        file.gateway.pid_file.take().as_deref(),
        Some(std::path::Path::new("data/gateway.pid"))
    );
    assert_eq!(
        file.routing.fallback.take().as_deref(),
        Some("inhope-fallback")
    );
    assert_eq!(std::mem::take(&mut file.members).len(), 7);
    assert_eq!(format!("{file:#?}"), format!("{:#?}", Settings::default()));
}

#[test]
fn an_empty_value_means_none_and_milliseconds_are_durations() {
    let s = load(
        "[gateway]\npid_file = \"\"\nbody_timeout_ms = 1500\n[routing]\ngeoip = \"\"\n\
         fallback = \" \"\n[delivery]\nca = \"\"\nmax_backoff_ms = 2000\n[store]\nflush_timeout_ms = 7\n",
    )
    .unwrap();
    assert_eq!(s.gateway.pid_file, None);
    assert_eq!(s.routing.geoip, None);
    assert_eq!(s.routing.fallback, None);
    assert_eq!(s.delivery.ca, None);
    assert_eq!(s.gateway.body_timeout, Duration::from_millis(1500));
    assert_eq!(s.delivery.max_backoff, Duration::from_secs(2));
    assert_eq!(s.store.flush_timeout, Duration::from_millis(7));
    let s = load("[routing]\ngeoip = \"geo.csv\"\n[delivery]\nca = \"roots.crt\"").unwrap();
    assert_eq!(
        s.routing.geoip.as_deref(),
        Some(std::path::Path::new("geo.csv"))
    );
    assert_eq!(
        s.delivery.ca.as_deref(),
        Some(std::path::Path::new("roots.crt"))
    );
}

#[test]
fn an_empty_file_gets_the_defaults_of_spec() {
    let s = load("").unwrap();
    assert_eq!(s.gateway.id, "gateway.example");
    assert_eq!(s.gateway.max_body_bytes, 262_144);
    assert_eq!(s.gateway.header_timeout, Duration::from_secs(10));
    assert_eq!(s.gateway.handshake_timeout, Duration::from_secs(10));
    assert_eq!(s.gateway.max_connections, 512);
    assert_eq!(s.gateway.max_connections_per_ip, 64);
    assert_eq!(s.gateway.first_byte_timeout, Duration::from_secs(3));
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
    let cases: Vec<(String, &str)> =
        vec![
        ("[gateway]\nlisten = \"nowhere\"".into(), "gateway.listen"),
        (
            "[gateway]\nadmin_listen = \"127.0.0.1\"".into(),
            "gateway.admin_listen: \"127.0.0.1\" is not an address and port such as 127.0.0.1:8443",
        ),
        ("[gateway]\nbody_timeout_ms = -1".into(), "gateway.body_timeout_ms"),
        ("[gateway]\nlistne = \"127.0.0.1:1\"".into(), "listne"),
        ("[gatewy]\nid = \"x\"".into(), "gatewy"),
        ("[gateway]\nid = \"\"".into(), "gateway.id"),
        ("[gateway]\nmax_body_bytes = 0".into(), "max_body_bytes"),
        (
            "[gateway]\nheader_timeout_ms = 0".into(),
            "header_timeout_ms",
        ),
        ("[gateway]\nheader_timeout_ms = 999".into(), "at least 1000"),
        (
            "[gateway]\nheader_timeout_ms = 3600001".into(),
            "header_timeout_ms",
        ),
        (
            "[gateway]\nhandshake_timeout_ms = 0".into(),
            "handshake_timeout_ms",
        ),
        (
            "[gateway]\nhandshake_timeout_ms = 3600001".into(),
            "at most",
        ),
        ("[gateway]\nmax_connections = 0".into(), "max_connections"),
        ("[gateway]\nmax_connections = -1".into(), "max_connections"),
        (
            "[gateway]\nmax_connections_per_ip = 0".into(),
            "max_connections_per_ip",
        ),
        (
            "[gateway]\nfirst_byte_timeout_ms = 0".into(),
            "first_byte_timeout_ms",
        ),
        (
            "[gateway]\nfirst_byte_timeout_ms = 3600001".into(),
            "first_byte_timeout_ms",
        ),
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

#[test]
fn the_connection_keys_load_from_the_file_and_from_the_environment() {
    let s =
        load("[gateway]\nheader_timeout_ms = 1000\nhandshake_timeout_ms = 1\nmax_connections = 1")
            .unwrap();
    assert_eq!(
        (
            s.gateway.header_timeout,
            s.gateway.handshake_timeout,
            s.gateway.max_connections
        ),
        (Duration::from_secs(1), Duration::from_millis(1), 1)
    );
    // `HGW__` overrides reach these keys like every other: a wrong value in the environment,
    // over a right one in the file, stops the gateway with the key's name. (In a child process:
    // the environment is shared by the tests of this one.)
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.toml");
    let ca = dir.path().join("certs/ca.crt");
    let file = format!(
        "[gateway]\nheader_timeout_ms = 5000\nhandshake_timeout_ms = 5000\nmax_connections = 64\n\
         [tls]\nclient_ca = {:?}\n",
        ca.display().to_string()
    );
    std::fs::write(&path, file).unwrap();
    let dev_pki = |env: &[(&str, &str)]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hotline-gateway"));
        // In the temporary directory: the default certificate paths are relative, and must
        // not land in the repository's own certs/ (a later `serve` would pair them with
        // another CA).
        command
            .current_dir(dir.path())
            .arg("dev-pki")
            .arg("--config")
            .arg(&path);
        for (variable, _) in std::env::vars_os() {
            if variable.to_string_lossy().starts_with("HGW__") {
                command.env_remove(variable);
            }
        }
        command.envs(env.iter().copied());
        command.output().unwrap()
    };
    let fine = dev_pki(&[
        ("HGW__GATEWAY__HEADER_TIMEOUT_MS", "2000"),
        ("HGW__GATEWAY__HANDSHAKE_TIMEOUT_MS", "2000"),
        ("HGW__GATEWAY__MAX_CONNECTIONS", "8"),
    ]);
    assert!(
        fine.status.success(),
        "{}",
        String::from_utf8_lossy(&fine.stderr)
    );
    for (variable, value, key) in [
        (
            "HGW__GATEWAY__HEADER_TIMEOUT_MS",
            "10",
            "gateway.header_timeout_ms",
        ),
        (
            "HGW__GATEWAY__HANDSHAKE_TIMEOUT_MS",
            "0",
            "gateway.handshake_timeout_ms",
        ),
        (
            "HGW__GATEWAY__MAX_CONNECTIONS",
            "0",
            "gateway.max_connections",
        ),
    ] {
        let refused = dev_pki(&[(variable, value)]);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "{variable}={value} was taken");
        assert!(stderr.contains(key), "{variable}={value}: {stderr}");
    }
}
