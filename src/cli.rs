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
    /// (sled to PostgreSQL, or back), the gateways stopped.
    Store {
        #[command(subcommand)]
        action: StoreAction,
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
            for path in &written {
                println!("wrote {}", path.display());
            }
            if written
                .iter()
                .any(|p| p.extension().is_some_and(|e| e == "p12"))
            {
                println!(
                    "members/<id>.p12 (for a browser) are encrypted with the development \
                     password \"{}\"",
                    crate::pki::P12_PASSWORD
                );
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
