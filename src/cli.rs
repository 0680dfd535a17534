//! The command line: one binary, one subcommand per job.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;
use crate::config::{ConfigSource, Settings};

#[derive(Debug, Parser)]
#[command(
    name = "hotline-gateway",
    version,
    about = "Exchange for hotline reports across borders"
)]
pub struct Cli {
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway. Without --config: config/default.toml (or the embedded copy), making
    /// development certificates if they are missing.
    Serve {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Make a development CA, the gateway's certificates and one client certificate per member
    /// (only the missing ones).
    DevPki {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Send a report as a member, with its development certificate; print the receipt.
    Submit {
        /// The member to send as (its certificate is certs/members/ID.crt).
        #[arg(long, value_name = "ID")]
        member: String,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The gateway's base URL; default: https:// and the configured listen address.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// The report, a JSON file.
        file: PathBuf,
    },
    /// Bring a PostgreSQL store's schema up to date (`store.backend = "postgres"`), as `serve`
    /// does when it starts; refuses a schema newer than this binary knows.
    Migrate {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// The audit trail: `audit verify` walks the hash chain and names the first broken event
    /// (with the embedded store, the gateway stopped: sled locks its directory; with
    /// PostgreSQL, while the gateways run). Exit status 0 if intact.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// The store: `store copy` moves everything one configuration's store keeps into another's
    /// (sled to PostgreSQL, or back), the gateways stopped; `store backup` backs up a running
    /// gateway's embedded store.
    Store {
        #[command(subcommand)]
        action: StoreAction,
    },
    /// The operator's PKI: `pki sign` signs a member's certificate request with the CA.
    Pki {
        #[command(subcommand)]
        action: PkiAction,
    },
    /// Load a running gateway as several members over mutual TLS; print throughput, latency
    /// percentiles and errors.
    Bench(crate::commands::bench::BenchArgs),
    /// Check a saved receipt or inbox entry offline: read strictly (a key twice anywhere is
    /// refused), exactly one of the two and valid against its schema, then its signature.
    /// Exit status 0 if it verifies; otherwise it says what the document is not, or that the
    /// signature does not match.
    Verify {
        /// The receipt or inbox entry, a JSON file.
        file: PathBuf,
        /// A JWK Set (as GET /v1/keys gives); default: the public half of the configured
        /// signing key.
        #[arg(long, value_name = "JWKS_FILE")]
        keys: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check the chain from the first event to the head.
    Verify {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreAction {
    /// Copy everything one configuration's store keeps into another's, which must be empty.
    ///
    /// From sled to PostgreSQL, from PostgreSQL to sled (or to the same backend). Reports
    /// and their receipts byte for byte, items with their history and close times, the open-URL
    /// index, status receipts byte for byte, inboxes with their cursors and acknowledgements,
    /// push state, the audit chain (it still verifies), statistics and keys. Stop the gateways
    /// of both first. A target that holds anything is refused, naming a table that does;
    /// prints how many records of each kind were copied.
    Copy {
        /// The configuration whose store is read.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// The configuration whose store is written: a new sled data directory, or a
        /// PostgreSQL database with nothing in it (its schema is made if missing).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Back up the running gateway's embedded store, consistent at one point in time, while
    /// it serves.
    ///
    /// The gateway writes the backup, a sled data directory, into DIR (absolute or relative
    /// to here; new or empty): every report with its items and receipts, inboxes, the audit
    /// chain (it verifies), statistics and keys. Changes wait while it reads; reads go on.
    /// Run it on the gateway's machine as the gateway's user (or root): it reads the data
    /// directory's backup.token. To restore, stop the gateway and serve with gateway.data_dir
    /// set to a copy of DIR. PostgreSQL stores are backed up with pg_dump instead.
    Backup {
        /// The directory to write the backup into.
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The admin listener's address (host:port); default: gateway.admin_listen.
        #[arg(long, value_name = "ADDR")]
        admin: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PkiAction {
    /// Sign a member's certificate signing request (PEM PKCS#10) with the operator's CA.
    ///
    /// The certificate is what the gateway requires of a member: X.509 v3, Common Name the
    /// member id (nothing else in the subject), the request's key, digitalSignature and
    /// clientAuth only, not a CA. Refuses a request whose signature does not verify, a member
    /// that is not in the configuration, and keys other than ECDSA P-256/P-384, Ed25519 or
    /// RSA of 2048 to 8192 bits. The CA is the certificate in tls.client_ca whose key is
    /// beside it with the extension .key (as dev-pki lays it out), unless --ca-cert and
    /// --ca-key say otherwise. Prints the serial (for a later revocation) and the expiry.
    Sign {
        /// The member's request, PEM (-----BEGIN CERTIFICATE REQUEST-----).
        #[arg(long, value_name = "FILE")]
        csr: PathBuf,
        /// The member id the certificate is for: its Common Name.
        #[arg(long, value_name = "ID")]
        member: String,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Days of validity.
        #[arg(long, value_name = "N", default_value_t = 365)]
        days: u32,
        /// Write the certificate here (never replacing a file); default: standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The CA certificate (PEM; of several, the one matching --ca-key); default:
        /// tls.client_ca.
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<PathBuf>,
        /// The CA's private key (PEM); default: tls.client_ca with the extension .key.
        #[arg(long, value_name = "FILE")]
        ca_key: Option<PathBuf>,
    },
    /// Issue the CRL (the file tls.crls names) with the operator's CA: every certificate it
    /// revoked before, those given now (--cert, --serial), a CRL number one higher and a
    /// nextUpdate --days ahead. With nothing to revoke it re-issues the list with a later
    /// nextUpdate. Then reload the gateway (SIGHUP) to put it in force.
    Crl {
        /// The CRL file: read for what was revoked before (when it exists), then replaced.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// A certificate to revoke (PEM); repeatable.
        #[arg(long, value_name = "FILE")]
        cert: Vec<PathBuf>,
        /// A serial to revoke, hex (as `pki sign` printed it); repeatable.
        #[arg(long, value_name = "HEX")]
        serial: Vec<String>,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Days until nextUpdate.
        #[arg(long, value_name = "N", default_value_t = 30)]
        days: u32,
        /// The CA certificate; default: tls.client_ca.
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<PathBuf>,
        /// The CA's private key; default: tls.client_ca with the extension .key.
        #[arg(long, value_name = "FILE")]
        ca_key: Option<PathBuf>,
    },
}

/// Runs the command; errors come back to `main`, which prints them with their causes.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { config } => commands::serve::run(ConfigSource::from_arg(config)).await,
        Command::DevPki { config } => {
            let settings = Settings::load(&ConfigSource::from_arg(config))?;
            let written = crate::pki::ensure_dev_pki(&settings)?;
            if written.is_empty() {
                println!("every development certificate is already there");
            }
            for path in written {
                println!("wrote {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Submit {
            member,
            config,
            url,
            file,
        } => {
            let settings = Settings::load(&ConfigSource::from_arg(config))?;
            commands::submit::run(&settings, &member, url.as_deref(), &file).await
        }
        Command::Migrate { config } => {
            let settings = Settings::load(&ConfigSource::from_arg(config))?;
            commands::migrate::run(&settings).await
        }
        Command::Audit {
            action: AuditAction::Verify { config },
        } => {
            let settings = Settings::load(&ConfigSource::from_arg(config))?;
            commands::audit::verify(&settings).await
        }
        Command::Store {
            action: StoreAction::Copy { from, to },
        } => commands::store_copy::run(&from, &to).await,
        Command::Store {
            action: StoreAction::Backup { to, config, admin },
        } => {
            let settings = Settings::load(&ConfigSource::from_arg(config))?;
            commands::backup::run(&settings, &to, admin.as_deref()).await
        }
        Command::Pki {
            action:
                PkiAction::Sign {
                    csr,
                    member,
                    config,
                    days,
                    out,
                    ca_cert,
                    ca_key,
                },
        } => {
            let settings = Settings::load(&ConfigSource::from_arg(config))?;
            let args = commands::pki::SignArgs {
                csr,
                member,
                days,
                out,
                ca_cert,
                ca_key,
            };
            commands::pki::sign_command(&settings, args)
        }
        Command::Pki {
            action:
                PkiAction::Crl {
                    out,
                    cert,
                    serial,
                    config,
                    days,
                    ca_cert,
                    ca_key,
                },
        } => {
            let settings = Settings::load(&ConfigSource::from_arg(config))?;
            let args = commands::pki::CrlArgs {
                out,
                certs: cert,
                serials: serial,
                days,
                ca_cert,
                ca_key,
            };
            commands::pki::crl_command(&settings, args)
        }
        Command::Bench(args) => commands::bench::run(args).await,
        Command::Verify { file, keys, config } => {
            commands::verify::run(&file, keys.as_deref(), config).map(|ok| {
                if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            })
        }
    }
}
