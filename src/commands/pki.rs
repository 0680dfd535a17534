//! `dev-pki`: make the development certificates that are missing;
//! `pki sign`: read a member's request, sign it with the operator's CA, write the certificate;
//! `pki crl`: issue the CRL with what is revoked.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use crate::config::Settings;
use crate::pki::crl::{issue, serial_of, CrlRequest};
use crate::pki::sign::{default_ca, sign, SignRequest};

/// `dev-pki`: makes the development CA and certificates that are missing, and says which.
pub fn dev_pki(settings: &Settings) -> anyhow::Result<ExitCode> {
    let written = crate::pki::ensure_dev_pki(settings)?;
    if written.is_empty() {
        println!("every development certificate is already there");
    }
    for path in &written {
        println!("wrote {}", path.display());
    }
    if written
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "p12"))
    {
        println!(
            "members/<id>.p12 (for a browser) are encrypted with the development password \"{}\"",
            crate::pki::P12_PASSWORD
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// What `pki sign` is given on the command line.
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The member's request, PEM (-----BEGIN CERTIFICATE REQUEST-----).
    #[arg(long, value_name = "FILE")]
    pub csr: PathBuf,
    /// The member id the certificate is for: its Common Name.
    #[arg(long, value_name = "ID")]
    pub member: String,
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Days of validity.
    #[arg(long, value_name = "N", default_value_t = 365)]
    pub days: u32,
    /// Write the certificate here (never replacing a file); default: standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The CA certificate (PEM; of several, the one matching --ca-key); default:
    /// tls.client_ca.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// The CA's private key (PEM); default: tls.client_ca with the extension .key.
    #[arg(long, value_name = "FILE")]
    pub ca_key: Option<PathBuf>,
}

pub fn sign_command(settings: &Settings, args: SignArgs) -> anyhow::Result<ExitCode> {
    let csr_pem = std::fs::read_to_string(&args.csr)
        .with_context(|| format!("cannot read the request {}", args.csr.display()))?;
    let (ca_cert, ca_key) = default_ca(settings);
    let request = SignRequest {
        csr_pem,
        member: args.member,
        days: args.days,
        ca_cert: args.ca_cert.unwrap_or(ca_cert),
        ca_key: args.ca_key.unwrap_or(ca_key),
    };
    let signed =
        sign(settings, &request).with_context(|| format!("not signing {}", args.csr.display()))?;
    match &args.out {
        Some(out) => write_new(out, signed.pem.as_bytes())?,
        None => print!("{}", signed.pem),
    }
    eprintln!(
        "signed a client certificate for member {}: serial {}, valid until {}{}",
        request.member,
        signed.serial,
        crate::clock::format(signed.not_after),
        args.out
            .as_ref()
            .map(|out| format!(", written to {}", out.display()))
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes a new file; an existing one is never replaced (a certificate may be the only copy).
fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} already exists; not replacing it", path.display())
        }
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
    };
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// What `pki crl` is given on the command line.
#[derive(Debug, clap::Args)]
pub struct CrlArgs {
    /// The CRL file: read for what was revoked before (when it exists), then replaced.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// A certificate to revoke (PEM); repeatable.
    #[arg(long = "cert", value_name = "FILE")]
    pub certs: Vec<PathBuf>,
    /// A serial to revoke, hex (as `pki sign` printed it); repeatable.
    #[arg(long = "serial", value_name = "HEX")]
    pub serials: Vec<String>,
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Days until nextUpdate.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub days: u32,
    /// The CA certificate; default: tls.client_ca.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// The CA's private key; default: tls.client_ca with the extension .key.
    #[arg(long, value_name = "FILE")]
    pub ca_key: Option<PathBuf>,
}

pub fn crl_command(settings: &Settings, args: CrlArgs) -> anyhow::Result<ExitCode> {
    let mut revoke = Vec::new();
    for cert in &args.certs {
        revoke.push(serial_of(cert)?);
    }
    for serial in &args.serials {
        let hex = serial.trim().trim_start_matches("0x").replace(':', "");
        revoke.push(hex::decode(&hex).with_context(|| format!("{serial:?} is not a hex serial"))?);
    }
    let (ca_cert, ca_key) = default_ca(settings);
    let request = CrlRequest {
        path: args.out,
        revoke,
        days: args.days,
        ca_cert: args.ca_cert.unwrap_or(ca_cert),
        ca_key: args.ca_key.unwrap_or(ca_key),
    };
    let issued = issue(&request)?;
    eprintln!(
        "wrote CRL number {} to {}: {} certificate(s) revoked ({} new), next update due {}; \
         reload the gateway to put it in force",
        issued.number,
        request.path.display(),
        issued.revoked,
        issued.added,
        crate::clock::format(issued.next_update)
    );
    Ok(ExitCode::SUCCESS)
}
