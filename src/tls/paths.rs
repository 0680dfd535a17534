//! The pathLenConstraint of every CA certificate on a client's path, the configured CA's
//! included. webpki reduces a trust anchor to its name and key, so it never applies the
//! configured CA's own basicConstraints to the path under it (`openssl verify` does).
//!
//! The path is rebuilt here from the end entity through the presented intermediates to a
//! configured CA, each link by name (the issuer's subject, byte for byte) and by signature; an
//! intermediate must be a CA and valid now. A client is accepted when some such path has, under
//! each certificate on it, no more intermediates than that certificate's pathLenConstraint
//! allows (every intermediate is counted, as webpki counts them). This runs after webpki has
//! accepted the chain, and only ever refuses more.

use rustls_pki_types::{CertificateDer, UnixTime};
use x509_parser::certificate::X509Certificate;
use x509_parser::time::ASN1Time;

/// No path has more intermediates (webpki's own limit is 6).
const MAX_INTERMEDIATES: usize = 6;

/// At most this many signatures are checked for one client: a client presenting many
/// intermediates of the same name is refused rather than searched for long.
const MAX_SIGNATURES: usize = 64;

/// Why no acceptable path was found.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("a certificate of the chain cannot be parsed")]
    Unparsable,
    #[error(
        "every path to a configured CA has more intermediate certificates than a \
         pathLenConstraint on it allows (the shortest has {intermediates})"
    )]
    TooLong { intermediates: usize },
    #[error("no path by name and signature to a configured CA")]
    NoPath,
    #[error("too many candidate paths to check")]
    TooManyCandidates,
}

/// `Ok` when some path from `end_entity` through `intermediates` to one of `cas` keeps every
/// pathLenConstraint on it.
pub fn check(
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    cas: &[CertificateDer<'_>],
    now: UnixTime,
) -> Result<(), PathError> {
    let leaf = parse(end_entity)?;
    // A presented certificate that does not parse can be on no path; a configured CA always
    // parses (it was loaded at start), and one that did not could anchor nothing.
    let search = Search {
        intermediates: intermediates.iter().filter_map(|c| parse(c).ok()).collect(),
        cas: cas.iter().filter_map(|c| parse(c).ok()).collect(),
        now: i64::try_from(now.as_secs())
            .ok()
            .and_then(|secs| ASN1Time::from_timestamp(secs).ok())
            .ok_or(PathError::NoPath)?,
    };
    let mut state = State {
        signatures: 0,
        shortest_too_long: None,
    };
    if search.up_from(&leaf, &mut Vec::new(), &mut state)? {
        return Ok(());
    }
    Err(match state.shortest_too_long {
        Some(intermediates) => PathError::TooLong { intermediates },
        None => PathError::NoPath,
    })
}

fn parse<'a>(der: &'a CertificateDer<'_>) -> Result<X509Certificate<'a>, PathError> {
    x509_parser::parse_x509_certificate(der.as_ref())
        .map(|(_, cert)| cert)
        .map_err(|_| PathError::Unparsable)
}

struct Search<'a> {
    intermediates: Vec<X509Certificate<'a>>,
    cas: Vec<X509Certificate<'a>>,
    now: ASN1Time,
}

struct State {
    signatures: usize,
    /// The fewest intermediates on a path that reached a CA and broke a constraint.
    shortest_too_long: Option<usize>,
}

impl Search<'_> {
    /// Whether a path goes on from `child` (reached through `path`, the indices of the
    /// intermediates above the end entity so far) to a configured CA within every constraint.
    /// Configured CAs are tried before longer paths.
    fn up_from(
        &self,
        child: &X509Certificate<'_>,
        path: &mut Vec<usize>,
        state: &mut State,
    ) -> Result<bool, PathError> {
        for ca in &self.cas {
            if issued_by(child, ca, state)? {
                if self.within_constraints(path, ca) {
                    return Ok(true);
                }
                let shortest = state.shortest_too_long.get_or_insert(path.len());
                *shortest = (*shortest).min(path.len());
            }
        }
        if path.len() == MAX_INTERMEDIATES {
            return Ok(false);
        }
        for (index, issuer) in self.intermediates.iter().enumerate() {
            if path.contains(&index) || !self.usable_intermediate(issuer) {
                continue;
            }
            if issued_by(child, issuer, state)? {
                path.push(index);
                if self.up_from(issuer, path, state)? {
                    return Ok(true);
                }
                path.pop();
            }
        }
        Ok(false)
    }

    /// A CA certificate, valid now.
    fn usable_intermediate(&self, cert: &X509Certificate<'_>) -> bool {
        let is_ca = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
        is_ca && cert.validity().is_valid_at(self.now)
    }

    /// Whether each certificate of `path` (the intermediates, nearest the end entity first)
    /// and `ca` above them allows the intermediates under it.
    fn within_constraints(&self, path: &[usize], ca: &X509Certificate<'_>) -> bool {
        let on_path = path.iter().map(|&index| &self.intermediates[index]);
        on_path
            .chain([ca])
            .enumerate()
            .all(|(under, cert)| allows(cert, under))
    }
}

/// Whether `cert`'s pathLenConstraint (if any) allows `under` intermediates below it. A
/// certificate whose basicConstraints cannot be read allows nothing.
fn allows(cert: &X509Certificate<'_>, under: usize) -> bool {
    match cert.basic_constraints() {
        Ok(Some(bc)) => bc
            .value
            .path_len_constraint
            .is_none_or(|limit| usize::try_from(limit).is_ok_and(|limit| under <= limit)),
        Ok(None) => true,
        Err(_) => false,
    }
}

/// Whether `issuer` issued `child`: its subject is `child`'s issuer, byte for byte, and its key
/// verifies `child`'s signature. Counts the signatures checked.
fn issued_by(
    child: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
    state: &mut State,
) -> Result<bool, PathError> {
    if child.issuer().as_raw() != issuer.subject().as_raw() {
        return Ok(false);
    }
    state.signatures += 1;
    if state.signatures > MAX_SIGNATURES {
        return Err(PathError::TooManyCandidates);
    }
    Ok(child.verify_signature(Some(issuer.public_key())).is_ok())
}
