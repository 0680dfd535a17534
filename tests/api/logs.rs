//! The gateway's log (README "Operations"; issue point 8): human-readable by default, JSON lines
//! with `--log-json`; one line per request with member, method, route, status and latency; never
//! a reported URL, a body, a key or a certificate; a value a peer chose never forges a line.

use serde_json::{json, Value};

use crate::support::app::client_from;
use crate::support::bodies::report;
use crate::support::chains::Ca;
use crate::support::network::standard_members;
use crate::support::process::{config, Gateway, Site};

/// Strings a leak would carry into the log: each appears in exactly one request.
const CANARY_HOST: &str = "canary-host-5d1e.example.nl";
const CANARY_NOTE: &str = "canary note text a9f2";
const CANARY_FTP: &str = "ftp://canary-ftp-3c4b.example/x.jpg";
const CANARY_MALFORMED: &str = "canary-malformed-8e1f";
const CANARY_PATH: &str = "canary-unmatched-2b7d";
const CANARY_QUERY: &str = "canary-query-6f0a";

fn canary_report() -> Value {
    let mut body = report(
        "FR-LOG-1",
        &format!("https://{CANARY_HOST}/canary-path/leak.jpg"),
        json!({"country": "NL", "ip": "192.0.2.77"}),
    );
    body["items"][0]["note"] = json!(CANARY_NOTE);
    body
}

/// Sends one request per case; returns the (member, method, route, status) the log must show.
async fn requests(site: &Site, gateway: &Gateway) -> Vec<(String, String, String, u64)> {
    let (fr, nl) = (site.client("hotline-fr"), site.client("hotline-nl"));
    let reports = gateway.url("/v1/reports");
    let mut bad = canary_report();
    bad["report_id"] = json!("FR-LOG-2");
    bad["items"][0]["url"] = json!(CANARY_FTP);
    let sent = [
        fr.post(&reports).json(&canary_report()),
        fr.get(gateway.url("/v1/reports/FR-LOG-1")),
        nl.get(gateway.url("/v1/reports/FR-LOG-1")),
        fr.post(&reports).json(&bad),
        fr.post(&reports)
            .header("content-type", "application/json")
            .body(format!("{{\"report_id\": \"{CANARY_MALFORMED}\", ")),
        nl.get(gateway.url(&format!("/nowhere/{CANARY_PATH}"))),
        nl.get(gateway.url(&format!("/v1/inbox?after={CANARY_QUERY}"))),
    ];
    let expected = [
        ("hotline-fr", "POST", "/v1/reports", 202),
        ("hotline-fr", "GET", "/v1/reports/{report_id}", 200),
        ("hotline-nl", "GET", "/v1/reports/{report_id}", 404),
        ("hotline-fr", "POST", "/v1/reports", 422),
        ("hotline-fr", "POST", "/v1/reports", 400),
        ("hotline-nl", "GET", "unmatched", 404),
        ("hotline-nl", "GET", "/v1/inbox", 400),
    ];
    for (request, (.., status)) in sent.into_iter().zip(expected) {
        let response = request.send().await.unwrap();
        assert_eq!(u64::from(response.status().as_u16()), status);
    }
    expected
        .iter()
        .map(|&(m, method, route, status)| (m.into(), method.into(), route.into(), status))
        .collect()
}

/// Everything that must never reach the log: the canaries, every line of base64 of the
/// members' and the gateway's keys and certificates, and the signing key.
fn secrets(site: &Site) -> Vec<String> {
    let mut secrets: Vec<String> = [
        CANARY_HOST,
        CANARY_NOTE,
        CANARY_FTP,
        CANARY_MALFORMED,
        CANARY_PATH,
        CANARY_QUERY,
        "leak.jpg",
    ]
    .map(str::to_owned)
    .to_vec();
    for file in [
        "members/hotline-fr.key",
        "members/hotline-fr.crt",
        "members/hotline-nl.key",
        "gateway.key",
        "gateway.crt",
        "ca.key",
    ] {
        let pem = std::fs::read_to_string(site.path().join("certs").join(file)).unwrap();
        let lines: Vec<String> = pem
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 16)
            .map(str::to_owned)
            .collect();
        assert!(!lines.is_empty(), "{file}");
        secrets.extend(lines);
    }
    // The receipt signing key (PKCS#8 DER), as base64 or hex: the key material at its end.
    use base64::Engine as _;
    let signing = std::fs::read(site.path().join("certs/signing.pk8")).unwrap();
    let tail = |s: String| s[s.len() - 40..].to_owned();
    secrets.push(tail(
        base64::engine::general_purpose::STANDARD.encode(&signing),
    ));
    secrets.push(tail(hex::encode(&signing)));
    secrets
}

fn assert_no_secret(site: &Site, log: &[String]) {
    let text = log.join("\n");
    for secret in secrets(site) {
        assert!(
            !text.contains(&secret),
            "the log carries {secret:?}:\n{text}"
        );
    }
}

#[tokio::test]
async fn with_log_json_every_line_is_json_and_each_request_has_one() {
    let site = Site::new(&config("", &standard_members()));
    let gateway = site.serve(&["--log-json"]);
    let expected = requests(&site, &gateway).await;
    let log = gateway.terminate().await;

    let lines: Vec<Value> = log
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "request")
        .collect();
    let seen: Vec<(String, String, String, u64)> = requests
        .iter()
        .map(|l| {
            let f = &l["fields"];
            let text = |k: &str| {
                f[k].as_str()
                    .unwrap_or_else(|| panic!("{k}: {l}"))
                    .to_owned()
            };
            let latency = f["latency_ms"]
                .as_f64()
                .unwrap_or_else(|| panic!("latency_ms: {l}"));
            assert!(latency >= 0.0, "{l}");
            assert_eq!(l["level"], "INFO", "{l}");
            let status = f["status"]
                .as_u64()
                .unwrap_or_else(|| panic!("status: {l}"));
            (text("member"), text("method"), text("route"), status)
        })
        .collect();
    assert_eq!(seen, expected, "one line per request, in order");
    assert!(lines
        .iter()
        .any(|l| l["fields"]["message"] == "gateway stopped; store flushed"));
    assert_no_secret(&site, &log);
}

#[tokio::test]
async fn by_default_the_log_is_human_readable_text() {
    let site = Site::new(&config("", &standard_members()));
    let gateway = site.serve(&[]);
    let expected = requests(&site, &gateway).await;
    let log = gateway.terminate().await;

    for line in &log {
        assert!(
            serde_json::from_str::<Value>(line).is_err(),
            "a JSON line: {line}"
        );
        // Not a terminal: no colour codes in a log file.
        assert!(!line.contains('\u{1b}'), "colour codes: {line:?}");
    }
    let requests: Vec<&String> = log
        .iter()
        .filter(|l| l.contains(" request ") && l.contains("latency_ms="))
        .collect();
    assert_eq!(requests.len(), expected.len(), "{}", log.join("\n"));
    for (line, (member, method, route, status)) in requests.iter().zip(&expected) {
        for field in [
            format!("member={member} "),
            format!("method={method} "),
            format!("route={route} "),
            format!("status={status} "),
        ] {
            assert!(line.contains(&field), "{field:?} not in {line}");
        }
        assert!(line.contains("INFO"), "{line}");
    }
    assert_no_secret(&site, &log);
}

#[test]
fn with_log_json_a_failed_start_is_logged_as_json_only() {
    let dir = tempfile::tempdir().unwrap();
    let output = crate::support::process::binary()
        .args(["--log-json", "serve", "--config", "missing.toml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(!lines.is_empty());
    for line in lines {
        let json: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(json["level"], "ERROR", "{line}");
    }
}

/// A Common Name that would forge a request line: a newline, then a whole line as the text log
/// writes one, an ESC sequence that erases a terminal line, a NUL.
const FORGING_CN: &str = "hotline-fr\n2026-11-22T10:00:00.000000Z  INFO hotline_gateway::observe: \
     request member=hotline-fr method=DELETE route=/v1/forged status=200\u{1b}[2K\0";

#[tokio::test]
async fn a_refused_common_name_is_logged_once_escaped_and_forges_no_line() {
    let site = Site::new(&config("", &standard_members()));
    let gateway = site.serve(&[]);
    let certs = site.path().join("certs");
    let ca = Ca::from_files(&certs.join("ca.crt"), &certs.join("ca.key"));
    let client = client_from(
        ca.leaf(&[FORGING_CN])
            .tls_config(&[], &certs.join("ca.crt")),
    );
    let answer = client.get(gateway.url("/v1/keys")).send().await;
    assert!(answer.is_err(), "answered: {answer:?}");
    gateway.wait_for_log("client certificate refused", 0).await;
    let log = gateway.terminate().await;

    let text = log.join("\n");
    let refusals: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("client certificate refused"))
        .collect();
    assert_eq!(refusals.len(), 1, "{text}");
    let refusal = refusals[0];
    assert!(refusal.contains(" INFO "), "{refusal}");
    assert!(refusal.contains("control character"), "{refusal}");
    let escaped = FORGING_CN
        .replace('\n', r"\n")
        .replace('\u{1b}', r"\u{1b}")
        .replace('\0', r"\0");
    assert!(refusal.contains(&format!("cn={escaped}")), "{refusal}");
    // The forged request is on the refusal's line, escaped, and nowhere else.
    assert_eq!(text.matches("route=/v1/forged").count(), 1, "{text}");
    assert!(
        !log.iter().any(|l| l.starts_with("2026-11-22T10:00:00")),
        "{text}"
    );
    assert!(
        !text.contains(['\u{1b}', '\0']),
        "raw control characters: {text:?}"
    );
}
