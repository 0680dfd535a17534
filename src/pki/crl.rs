//! `pki crl`: the operator's CA issues the CRL that `tls.crls` names: the certificates revoked
//! so far (read from the CRL file as it is), those revoked now, a CRL number one higher, and a
//! nextUpdate `days` ahead. Run with nothing to revoke, it issues the same list again with a
//! later nextUpdate (do so well before `hgw_crl_next_update_seconds` reaches zero), then
//! reload the gateway (SIGHUP).
//!
//! Invariants: a certificate once revoked stays in every later CRL; the file is replaced whole
//! (written beside, then renamed), so a gateway reloading meanwhile reads the old or the new.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use rcgen::{
    CertificateRevocationListParams, KeyIdMethod, RevocationReason, RevokedCertParams, SerialNumber,
};

use super::sign::load_ca;

/// What to issue.
pub struct CrlRequest {
    /// The CRL file: read (when it exists) for what was revoked before, then replaced.
    pub path: PathBuf,
    /// Serials (big-endian bytes) to revoke now.
    pub revoke: Vec<Vec<u8>>,
    /// Days until nextUpdate.
    pub days: u32,
    pub ca_cert: PathBuf,
    pub ca_key: PathBuf,
}

/// What the new CRL holds.
pub struct Issued {
    pub revoked: usize,
    pub added: usize,
    pub number: u128,
    pub next_update: time::OffsetDateTime,
}

/// The serial of the certificate in a PEM file, as a CRL names it.
pub fn serial_of(cert: &Path) -> anyhow::Result<Vec<u8>> {
    let der = crate::tls::load_certs(cert)?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("{} holds no certificate", cert.display()))?;
    let (_, parsed) = x509_parser::parse_x509_certificate(der.as_ref())
        .map_err(|_| anyhow!("{} does not parse as a certificate", cert.display()))?;
    Ok(parsed.raw_serial().to_vec())
}

pub fn issue(request: &CrlRequest) -> anyhow::Result<Issued> {
    if request.days == 0 {
        bail!("--days must be at least 1");
    }
    let (issuer, _) = load_ca(&request.ca_cert, &request.ca_key)?;
    let now = time::OffsetDateTime::now_utc();
    let (mut revoked, last_number) = if request.path.exists() {
        earlier(&request.path)?
    } else {
        (Vec::new(), 0)
    };
    let mut added = 0;
    for serial in &request.revoke {
        if revoked
            .iter()
            .any(|r: &RevokedCertParams| r.serial_number.as_ref() == serial.as_slice())
        {
            continue;
        }
        revoked.push(RevokedCertParams {
            serial_number: SerialNumber::from(serial.clone()),
            revocation_time: now,
            reason_code: None,
            invalidity_date: None,
        });
        added += 1;
    }
    let number = last_number + 1;
    let next_update = now + time::Duration::days(i64::from(request.days));
    let crl = CertificateRevocationListParams {
        this_update: now - time::Duration::minutes(5),
        next_update,
        crl_number: SerialNumber::from(number.to_be_bytes().to_vec()),
        issuing_distribution_point: None,
        revoked_certs: revoked,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let count = crl.revoked_certs.len();
    let crl = crl.signed_by(&issuer).context("cannot sign the CRL")?;
    let pem = crl.pem().context("cannot write the CRL as PEM")?;
    replace(&request.path, pem.as_bytes())?;
    Ok(Issued {
        revoked: count,
        added,
        number,
        next_update,
    })
}

/// The entries of the CRL in force, and its number.
fn earlier(path: &Path) -> anyhow::Result<(Vec<RevokedCertParams>, u128)> {
    let der = crate::tls::load_crl(path)?;
    let (_, crl) = x509_parser::parse_x509_crl(der.as_ref())
        .map_err(|_| anyhow!("{} is not a CRL", path.display()))?;
    let number = crl
        .crl_number()
        .map(|n| n.to_bytes_be())
        .filter(|bytes| bytes.len() <= 16)
        .map_or(0, |bytes| {
            bytes.iter().fold(0u128, |n, &b| (n << 8) | u128::from(b))
        });
    let revoked = crl
        .iter_revoked_certificates()
        .map(|entry| RevokedCertParams {
            serial_number: SerialNumber::from(entry.raw_serial().to_vec()),
            revocation_time: entry.revocation_date.to_datetime(),
            reason_code: entry.reason_code().and_then(|(_, code)| reason(code.0)),
            invalidity_date: None,
        })
        .collect();
    Ok((revoked, number))
}

fn reason(code: u8) -> Option<RevocationReason> {
    Some(match code {
        0 => RevocationReason::Unspecified,
        1 => RevocationReason::KeyCompromise,
        2 => RevocationReason::CaCompromise,
        3 => RevocationReason::AffiliationChanged,
        4 => RevocationReason::Superseded,
        5 => RevocationReason::CessationOfOperation,
        6 => RevocationReason::CertificateHold,
        8 => RevocationReason::RemoveFromCrl,
        9 => RevocationReason::PrivilegeWithdrawn,
        10 => RevocationReason::AaCompromise,
        _ => return None,
    })
}

/// Writes `bytes` beside `path`, then renames it over `path`.
fn replace(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut next = path.as_os_str().to_owned();
    next.push(".next");
    let next = PathBuf::from(next);
    std::fs::write(&next, bytes).with_context(|| format!("cannot write {}", next.display()))?;
    std::fs::rename(&next, path).with_context(|| format!("cannot replace {}", path.display()))
}
