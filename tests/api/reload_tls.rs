//! SIGHUP reloads more than the member list: the TLS material (server certificate and key,
//! client CAs, CRLs), the delivery certificate and the GeoIP database, without a restart. New
//! handshakes take the new material; a file that does not load keeps the old, and the log says
//! why. The expiry metrics follow what is in force.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::json;

use crate::support::bodies::report;
use crate::support::chains::Ca;
use crate::support::network::{member, standard_members};
use crate::support::process::{binary, config, Gateway, Site};

const TLS_RELOADED: &str = "SIGHUP: TLS material";
const KEPT: &str = "not reloaded; the one in force stays";

/// Runs `hotline-gateway ARGS` in the site; panics unless it succeeds.
fn run(site: &Site, args: &[&str]) {
    let out = binary()
        .args(args)
        .current_dir(site.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The site's development CA.
fn dev_ca(site: &Site) -> Ca {
    let certs = site.path().join("certs");
    Ca::from_files(&certs.join("ca.crt"), &certs.join("ca.key"))
}

fn write_key(path: &Path, pem: &str) {
    std::fs::write(path, pem).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Sends SIGHUP and waits until the TLS part of the reload has been logged once more.
async fn reload(gateway: &Gateway) {
    let seen = gateway.count(TLS_RELOADED);
    gateway.signal("HUP");
    gateway.wait_for_log(TLS_RELOADED, seen).await;
}

/// Whether a new connection as `member` gets 200 for `GET /v1/keys` (false: the handshake
/// or the request failed).
async fn gets_in(site: &Site, gateway: &Gateway, member: &str) -> bool {
    let client = site.client(member);
    match client.get(gateway.url("/v1/keys")).send().await {
        Ok(response) => response.status() == 200,
        Err(_) => false,
    }
}

/// The certificate the gateway presents to a new connection.
async fn served_certificate(site: &Site, gateway: &Gateway) -> CertificateDer<'static> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(site.tls_config("hotline-fr")));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", gateway.port))
        .await
        .unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].clone()
}

/// The value of the first sample of `metric` whose line holds `label`.
async fn gauge(gateway: &Gateway, metric: &str, label: &str) -> Option<i64> {
    let text = gateway.admin_get("/metrics").await.text().await.unwrap();
    text.lines()
        .find(|line| line.starts_with(metric) && line.contains(label))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn a_member_revoked_by_a_new_crl_is_refused_after_sighup_without_a_restart() {
    let site = Site::new(&config("", &standard_members()));
    let gateway = site.serve(&[]);
    assert!(gets_in(&site, &gateway, "hotline-nl").await);

    // The operator revokes hotline-nl with `pki crl` and names the CRL in the configuration.
    run(
        &site,
        &[
            "pki",
            "crl",
            "--config",
            "gateway.toml",
            "--out",
            "certs/members.crl",
            "--cert",
            "certs/members/hotline-nl.crt",
        ],
    );
    let with_crl = config("", &standard_members()).replace(
        "[routing]",
        "[tls]\ncrls = [\"certs/members.crl\"]\n\n[routing]",
    );
    site.write_config(&with_crl);
    reload(&gateway).await;
    assert!(
        !gets_in(&site, &gateway, "hotline-nl").await,
        "the revoked member still gets in"
    );
    assert!(gets_in(&site, &gateway, "hotline-fr").await);
    let next = gauge(&gateway, "hgw_crl_next_update_seconds", "members.crl").await;
    let next = next.expect("a nextUpdate metric for the CRL");
    assert!(next > 29 * 86_400 && next <= 30 * 86_400, "{next}");

    // A CRL that does not parse is refused; the one in force stays.
    std::fs::write(site.path().join("certs/members.crl"), b"not a CRL").unwrap();
    let seen = gateway.count(KEPT);
    gateway.signal("HUP");
    gateway.wait_for_log(KEPT, seen).await;
    assert!(!gets_in(&site, &gateway, "hotline-nl").await);
    assert!(gets_in(&site, &gateway, "hotline-fr").await);
    gateway.terminate().await;
}

#[tokio::test]
async fn a_new_server_certificate_is_served_after_sighup_and_a_bad_one_keeps_the_old() {
    let site = Site::new(&config("", &standard_members()));
    let gateway = site.serve(&[]);
    let before = served_certificate(&site, &gateway).await;
    let kept_alive = site.client("hotline-fr");
    assert_eq!(gateway.get(&kept_alive, "/v1/keys").await, 200);

    // Rotation: a new certificate and key under new names, the configuration pointed at them.
    let (cert, key) = dev_ca(&site).server("gateway.test rotated", 30);
    std::fs::write(site.path().join("certs/gateway-2.crt"), &cert).unwrap();
    write_key(&site.path().join("certs/gateway-2.key"), &key);
    let rotated = |cert: &str, key: &str| {
        config("", &standard_members()).replace(
            "[routing]",
            &format!("[tls]\ncert = \"{cert}\"\nkey = \"{key}\"\n\n[routing]"),
        )
    };
    site.write_config(&rotated("certs/gateway-2.crt", "certs/gateway-2.key"));
    reload(&gateway).await;
    let after = served_certificate(&site, &gateway).await;
    assert_ne!(after, before);
    let expected = rustls_pki_types::pem::PemObject::from_pem_slice(cert.as_bytes()).unwrap();
    assert_eq!(after, expected, "the new certificate is served");
    // Requests keep being answered across the rotation.
    assert_eq!(gateway.get(&kept_alive, "/v1/keys").await, 200);
    let left = gauge(&gateway, "hgw_certificate_expiry_seconds", "\"server\"").await;
    let left = left.expect("the server certificate's expiry metric");
    assert!(left > 29 * 86_400 && left <= 30 * 86_400, "{left}");

    // A key that does not fit the certificate: refused, the rotated pair stays in force.
    site.write_config(&rotated("certs/gateway-2.crt", "certs/gateway.key"));
    let seen = gateway.count(KEPT);
    gateway.signal("HUP");
    gateway.wait_for_log(KEPT, seen).await;
    assert!(gateway.log().iter().any(|l| l.contains("does not fit")));
    assert_eq!(served_certificate(&site, &gateway).await, after);
    assert!(gets_in(&site, &gateway, "hotline-fr").await);
    gateway.terminate().await;
}

#[tokio::test]
async fn a_new_geoip_file_routes_by_it_after_sighup() {
    let write_geoip = |site: &Site, text: &str| {
        let next = site.path().join("geo.csv.next");
        std::fs::write(&next, text).unwrap();
        std::fs::rename(next, site.path().join("geo.csv")).unwrap();
    };
    let text =
        config("", &standard_members()).replace("[routing]", "[routing]\ngeoip = \"geo.csv\"");
    let site = Site::new(&text);
    write_geoip(&site, "192.0.2.0,192.0.2.255,NL\n");
    let gateway = site.serve(&[]);
    let fr = site.client("hotline-fr");
    let hosted = |id: &str| {
        let url = format!("https://files.example/{id}");
        report(id, &url, json!({ "ip": "192.0.2.10", "country": "FR" }))
    };
    let country =
        |receipt: &serde_json::Value| receipt["receipt"]["items"][0]["hosting_country"].clone();
    let (status, receipt) = gateway.post(&fr, "/v1/reports", &hosted("FR-1")).await;
    assert_eq!(status, 202, "{receipt}");
    assert_eq!(country(&receipt), "NL");

    write_geoip(&site, "192.0.2.0,192.0.2.255,DE\n");
    let seen = gateway.count("SIGHUP: GeoIP database");
    gateway.signal("HUP");
    gateway.wait_for_log("SIGHUP: GeoIP database", seen).await;
    let (status, receipt) = gateway.post(&fr, "/v1/reports", &hosted("FR-2")).await;
    assert_eq!(status, 202, "{receipt}");
    assert_eq!(country(&receipt), "DE");
    assert_eq!(receipt["receipt"]["items"][0]["basis"], "geoip");

    // A file that does not load keeps the database in force.
    write_geoip(&site, "192.0.2.0,not an address,BE\n");
    let seen = gateway.count(KEPT);
    gateway.signal("HUP");
    gateway.wait_for_log(KEPT, seen).await;
    let (status, receipt) = gateway.post(&fr, "/v1/reports", &hosted("FR-3")).await;
    assert_eq!(status, 202, "{receipt}");
    assert_eq!(country(&receipt), "DE");
    gateway.terminate().await;
}

#[tokio::test]
async fn expiry_metrics_show_the_certificates_in_force_and_the_members_seen() {
    // A member with an endpoint, so that the gateway has a push client (nothing listens there:
    // its pushes fail and are retried, which does not matter here).
    let members = format!(
        "{}{}",
        standard_members(),
        member(
            "hotline-be",
            "hotline",
            "BE",
            "endpoint = \"https://localhost:9/hook\""
        )
    );
    let site = Site::new(&config("", &members));
    let gateway = site.serve(&[]);
    assert!(gets_in(&site, &gateway, "hotline-fr").await);
    let day = 86_400;
    for (metric, label, at_least, at_most) in [
        (
            "hgw_certificate_expiry_seconds",
            "\"server\"",
            800 * day,
            826 * day,
        ),
        (
            "hgw_certificate_expiry_seconds",
            "\"delivery\"",
            800 * day,
            826 * day,
        ),
        (
            "hgw_certificate_expiry_seconds",
            "\"client_ca\"",
            3600 * day,
            3651 * day,
        ),
        (
            "hgw_member_certificate_expiry_seconds",
            "\"hotline-fr\"",
            800 * day,
            826 * day,
        ),
    ] {
        let value = gauge(&gateway, metric, label).await;
        let value = value.unwrap_or_else(|| panic!("no {metric} {label}"));
        assert!(
            (at_least..=at_most).contains(&value),
            "{metric} {label}: {value}"
        );
    }
    assert_eq!(
        gauge(
            &gateway,
            "hgw_member_certificate_expiry_seconds",
            "\"hotline-nl\""
        )
        .await,
        None,
        "hotline-nl never connected"
    );

    // A new delivery certificate, reloaded: its metric follows.
    let (cert, key) = dev_ca(&site).client("gateway.test", 20);
    std::fs::write(site.path().join("certs/delivery-2.crt"), cert).unwrap();
    write_key(&site.path().join("certs/delivery-2.key"), &key);
    let text = config("", &members).replace(
        "[routing]",
        "[delivery]\nclient_cert = \"certs/delivery-2.crt\"\nclient_key = \"certs/delivery-2.key\"\n\n[routing]",
    );
    site.write_config(&text);
    let seen = gateway.count("SIGHUP: delivery certificate");
    gateway.signal("HUP");
    gateway
        .wait_for_log("SIGHUP: delivery certificate", seen)
        .await;
    assert!(gateway
        .log()
        .iter()
        .any(|l| l.contains("SIGHUP: delivery certificate") && l.contains("reloaded")));
    let left = gauge(&gateway, "hgw_certificate_expiry_seconds", "\"delivery\"").await;
    let left = left.expect("the delivery certificate's metric");
    assert!(left > 19 * day && left <= 20 * day, "{left}");
    gateway.terminate().await;
}
