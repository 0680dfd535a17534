//! `tls.crls`: a revoked member certificate fails the handshake; the others still get in.

use std::path::Path;

use crate::support::app::spawn_app_with;
use hotline_gateway::config::Settings;
use hotline_gateway::pki::member_cert_paths;

/// A CRL from the test CA revoking `member`'s certificate, written as PEM or DER.
fn revoke(settings: &Settings, member: &str, path: &Path, pem: bool) {
    let ca_pem = std::fs::read_to_string(&settings.tls.client_ca).unwrap();
    let ca_key = std::fs::read_to_string(settings.tls.client_ca.with_extension("key")).unwrap();
    let ca_key = rcgen::KeyPair::from_pem(&ca_key).unwrap();
    let issuer = rcgen::Issuer::from_ca_cert_pem(&ca_pem, &ca_key).unwrap();
    let (cert, _) = member_cert_paths(settings, member);
    let cert = std::fs::read(cert).unwrap();
    let (_, pem_block) = x509_parser::pem::parse_x509_pem(&cert).unwrap();
    let serial = pem_block.parse_x509().unwrap().raw_serial().to_vec();
    let now = time::OffsetDateTime::now_utc();
    let crl = rcgen::CertificateRevocationListParams {
        this_update: now - time::Duration::hours(1),
        next_update: now + time::Duration::days(7),
        crl_number: rcgen::SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![rcgen::RevokedCertParams {
            serial_number: rcgen::SerialNumber::from(serial),
            revocation_time: now - time::Duration::minutes(5),
            reason_code: Some(rcgen::RevocationReason::KeyCompromise),
            invalidity_date: None,
        }],
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .unwrap();
    if pem {
        std::fs::write(path, crl.pem().unwrap()).unwrap();
    } else {
        std::fs::write(path, crl.der()).unwrap();
    }
}

#[tokio::test]
async fn a_revoked_certificate_fails_the_handshake_in_pem_and_der() {
    for pem in [true, false] {
        let app = spawn_app_with(|s| {
            let path = s
                .tls
                .client_ca
                .with_file_name(if pem { "crl.pem" } else { "crl.der" });
            revoke(s, "hotline-nl", &path, pem);
            s.tls.crls = vec![path];
        })
        .await;
        let revoked = app
            .client("hotline-nl")
            .get(app.url("/v1/keys"))
            .send()
            .await;
        assert!(
            revoked.is_err(),
            "a revoked certificate got in (pem: {pem})"
        );
        let other = app.get("hotline-fr", "/v1/keys").await;
        assert_eq!(other.status(), 200, "pem: {pem}");
    }
}
