//! `pki sign`: the operator's CA signs a member's certificate request (made here with rcgen, as
//! a member would with any tool), and the certificate connects; requests the gateway must not
//! sign are refused, saying why.

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateSigningRequestDer;

use crate::support::network::standard_members;
use crate::support::process::{binary, config, Site};

/// `pki sign --config gateway.toml --csr FILE --member ID [more]` in the site.
fn sign(site: &Site, csr: &str, member: &str, more: &[&str]) -> Output {
    binary()
        .args(["pki", "sign", "--config", "gateway.toml", "--csr", csr])
        .args(["--member", member])
        .args(more)
        .current_dir(site.path())
        .output()
        .unwrap()
}

/// A request as a member makes it: its own key, a subject of its choosing.
fn request(subject: &str) -> (String, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, subject);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Some hotline");
    let csr = params.serialize_request(&key).unwrap();
    (csr.pem().unwrap(), key)
}

#[tokio::test]
async fn a_signed_request_connects_as_its_member() {
    let site = Site::new(&config("", &standard_members()));
    // The member asked for another name: the certificate names the member it was signed for.
    let (csr, key) = request("anything the member typed");
    std::fs::write(site.path().join("nl.csr"), csr).unwrap();
    let out = sign(
        &site,
        "nl.csr",
        "hotline-nl",
        &["--days", "90", "--out", "nl.crt"],
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("serial") && said.contains("hotline-nl"),
        "{said}"
    );

    let pem = std::fs::read(site.path().join("nl.crt")).unwrap();
    let der = rustls_pki_types::CertificateDer::from_pem_slice(&pem).unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).unwrap();
    assert_eq!(cert.version(), x509_parser::x509::X509Version::V3);
    assert_eq!(cert.subject().to_string(), "CN=hotline-nl");
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.client_auth && !eku.server_auth);
    assert!(!cert.is_ca());
    let days = (cert.validity().not_after.timestamp()
        - time::OffsetDateTime::now_utc().unix_timestamp())
        / 86_400;
    assert!((89..=90).contains(&days), "{days}");

    let key_path = site.path().join("nl.key");
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let gateway = site.serve(&[]);
    let tls = hotline_gateway::tls::client_config(
        &site.path().join("certs/ca.crt"),
        &site.path().join("nl.crt"),
        &key_path,
    )
    .unwrap();
    let client = crate::support::app::client_from(tls);
    let response = client.get(gateway.url("/v1/inbox")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    // It was served as hotline-nl: the log names the member of the request.
    assert!(gateway
        .log()
        .iter()
        .any(|l| l.contains("member=hotline-nl") && l.contains("/v1/inbox")));
    // An existing file is never replaced.
    let again = sign(&site, "nl.csr", "hotline-nl", &["--out", "nl.crt"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    gateway.terminate().await;
}

#[test]
fn requests_that_must_not_be_signed_are_refused_saying_why() {
    let site = Site::new(&config("", &standard_members()));
    let (csr, _) = request("hotline-fr");
    std::fs::write(site.path().join("good.csr"), &csr).unwrap();
    // The same request with one byte of its signature flipped.
    let der = CertificateSigningRequestDer::from_pem_slice(csr.as_bytes()).unwrap();
    let mut bytes = der.as_ref().to_vec();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x01;
    let tampered = pem_of("CERTIFICATE REQUEST", &bytes);
    std::fs::write(site.path().join("tampered.csr"), tampered).unwrap();
    std::fs::write(site.path().join("garbage.csr"), "hello").unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rsa1024.csr"),
        site.path().join("weak.csr"),
    )
    .unwrap();

    for (csr, member, more, says) in [
        (
            "tampered.csr",
            "hotline-fr",
            &[][..],
            "signature does not verify",
        ),
        (
            "good.csr",
            "hotline-xx",
            &[][..],
            "is not a member in the configuration",
        ),
        ("weak.csr", "hotline-fr", &[][..], "RSA key has 1024 bits"),
        (
            "garbage.csr",
            "hotline-fr",
            &[][..],
            "no PEM certificate request",
        ),
        (
            "good.csr",
            "hotline-fr",
            &["--days", "40000"][..],
            "would outlive the CA",
        ),
        ("good.csr", "hotline-fr", &["--days", "0"][..], "at least 1"),
    ] {
        let out = sign(&site, csr, member, more);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{csr} {member} {more:?} was signed");
        assert!(said.contains(says), "{csr} {member}: {said}");
        assert!(out.stdout.is_empty(), "{csr}: a certificate was printed");
    }
}

/// PEM of `der` under `label`.
fn pem_of(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}
