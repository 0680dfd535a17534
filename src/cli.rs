//! The command line: one binary, one subcommand per job.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;
use crate::config::{ConfigSource, Settings};

/// What `--help` says of the configuration, on every command that reads one.
const OVERRIDES_HELP: &str = "Configuration: a TOML file (--config FILE; default \
config/default.toml, else the copy built into the binary). Every key can be overridden by an \
environment variable HGW__SECTION__KEY, the section and key in any case, e.g. \
HGW__GATEWAY__LISTEN=127.0.0.1:9443 or HGW__LIMITS__REQUESTS_PER_SECOND=1000 (lists \
comma-separated: HGW__TLS__CRLS=a.crl,b.crl). An unknown HGW__ variable stops the command.";

/// The help of every `--config`.
const CONFIG_HELP: &str = "The configuration file (TOML). Default: config/default.toml in the \
working directory, else the copy built into the binary. HGW__SECTION__KEY environment \
variables override its keys";

#[derive(Debug, Parser)]
#[command(
    name = "hotline-gateway",
    version,
    about = "Exchange for hotline reports across borders",
    after_help = OVERRIDES_HELP
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
    ///
    /// Signals: SIGHUP reloads the member list and puts a rotated signing key in force;
    /// SIGTERM or SIGINT stops it cleanly (exit 0). With gateway.pid_file set it writes its
    /// process id there (kill -HUP "$(cat data/gateway.pid)") and refuses to start while the
    /// file names a running gateway.
    #[command(after_help = OVERRIDES_HELP)]
    Serve {
        #[arg(long, value_name = "FILE", help = CONFIG_HELP)]
        config: Option<PathBuf>,
    },
    /// Make a development CA, the gateway's certificates and one client certificate per member
    /// (only the missing ones).
    DevPki {
        #[arg(long, value_name = "FILE", help = CONFIG_HELP)]
        config: Option<PathBuf>,
    },
    /// Send a report as a member, with its development certificate; print the receipt.
    Submit {
        /// The member to send as (its certificate is certs/members/ID.crt).
        #[arg(long, value_name = "ID")]
        member: String,
        #[arg(long, value_name = "FILE", help = CONFIG_HELP)]
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
        #[arg(long, value_name = "FILE", help = CONFIG_HELP)]
        config: Option<PathBuf>,
    },
    /// The audit trail: `audit verify` walks the hash chain and the Merkle tree and names the
    /// first broken event (with the embedded store, the gateway stopped: sled locks its
    /// directory; with PostgreSQL, while the gateways run). Exit status 0 if intact. A
    /// member's checks against a running gateway: `audit checkpoint`, `audit check`, `audit
    /// prove`.
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
    /// Receipt signing keys: `keys rotate` makes a new one.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// The operator's PKI: `pki sign` signs a member's certificate request with the CA.
    Pki {
        #[command(subcommand)]
        action: PkiAction,
    },
    /// Load a running gateway as several members over mutual TLS; print throughput, latency
    /// percentiles and errors.
    Bench(crate::commands::bench::BenchArgs),
    /// Check a saved receipt, inbox entry or audit checkpoint: read strictly (a key twice
    /// anywhere is refused), exactly one of the three and valid against its schema, then its signature against every
    /// key the gateway knows.
    ///
    /// The keys: by default, those in the configuration's store (every key the gateway ever
    /// signed with, as GET /v1/keys lists them) and its signing.key; --keys a saved JWK Set;
    /// --url and --member those a running gateway publishes (GET /v1/keys). The embedded store
    /// cannot be read while a gateway runs on it (sled locks it): then only the current key is
    /// known, and an older receipt needs --keys or --url. Exit status 0 if it verifies;
    /// otherwise it says what the document is not, or that the signature does not match.
    Verify(crate::commands::verify::VerifyArgs),
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check the chain from the first event to the head, then rebuild the Merkle tree from the
    /// events and compare it with the one kept (the operator's check, on the store itself).
    Verify {
        #[arg(long, value_name = "FILE", help = CONFIG_HELP)]
        config: Option<PathBuf>,
    },
    /// A member's: fetch the gateway's signed checkpoint (the size and Merkle root of the audit
    /// log), check its signature, and print it or save it with --out. Keep every one: an
    /// older checkpoint is what a rewritten history is caught against (`audit check`).
    ///
    /// Who you are: --member ID uses the development certificate certs/members/ID.crt; a real
    /// member passes --cert FILE --key FILE (its client certificate and key, PEM) and --ca FILE
    /// (the CA of the gateway's server certificate). Exit status 0 if the signature verifies.
    Checkpoint {
        /// Where to save it (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        connection: commands::audit_member::Connection,
    },
    /// A member's: check that the log of a newer checkpoint extends the log of an older one
    /// (nothing before it was changed, removed or reordered), by the consistency proof fetched
    /// from the gateway (or saved, --proof). Both checkpoints' signatures are checked first.
    ///
    /// Who you are: --member ID, or --cert FILE --key FILE [--ca FILE] (see `audit
    /// checkpoint`). Exit status 0 if NEW extends OLD; 1, saying why, if not.
    Check {
        /// Give twice: the older checkpoint, then the newer.
        #[arg(
            long = "checkpoint",
            value_name = "FILE",
            num_args = 1,
            required = true
        )]
        checkpoints: Vec<PathBuf>,
        /// A consistency proof saved earlier (GET /v1/audit/consistency), instead of fetching it.
        #[arg(long, value_name = "FILE")]
        proof: Option<PathBuf>,
        #[command(flatten)]
        connection: commands::audit_member::Connection,
    },
    /// A member's: check that the event of a saved receipt (its `audit_index`) is in the log
    /// of a checkpoint, by the inclusion proof fetched from the gateway (or saved, --proof).
    /// The receipt's and the checkpoint's signatures are checked first, and the event must
    /// record what the receipt acknowledges.
    ///
    /// Who you are: --member ID, or --cert FILE --key FILE [--ca FILE] (see `audit
    /// checkpoint`); only the member a receipt was issued to gets its event's proof. Exit
    /// status 0 if the event is in the tree; 1, saying why, if not.
    Prove {
        /// The receipt, a JSON file as the gateway answered it.
        receipt: PathBuf,
        #[arg(long, value_name = "FILE")]
        checkpoint: PathBuf,
        /// An inclusion proof saved earlier (GET /v1/audit/proof), instead of fetching it.
        #[arg(long, value_name = "FILE")]
        proof: Option<PathBuf>,
        #[command(flatten)]
        connection: commands::audit_member::Connection,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Make a new Ed25519 signing key for receipts at signing.key (PKCS#8 DER, mode 0600).
    ///
    /// The old key file is kept beside it, named with its kid (certs/signing.<kid>.pk8), and
    /// its public key stays listed in GET /v1/keys, so receipts signed with it still verify.
    /// Both public keys are recorded in the store when it can be opened (PostgreSQL, or the
    /// embedded store with no gateway running). A running gateway goes on signing with the old
    /// key until SIGHUP (systemctl reload hotline-gateway, or kill -HUP "$(cat
    /// data/gateway.pid)"): it then records the new key and signs with it from the next
    /// receipt on; or until it restarts.
    Rotate {
        #[arg(long, value_name = "FILE", help = CONFIG_HELP)]
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
    Sign(commands::pki::SignArgs),
    /// Issue the CRL (the file tls.crls names) with the operator's CA: every certificate it
    /// revoked before, those given now (--cert, --serial), a CRL number one higher and a
    /// nextUpdate --days ahead. With nothing to revoke it re-issues the list with a later
    /// nextUpdate. Then reload the gateway (SIGHUP) to put it in force.
    Crl(commands::pki::CrlArgs),
}

/// Runs the command; errors come back to `main`, which prints them with their causes.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { config } => commands::serve::run(ConfigSource::from_arg(config)).await,
        Command::DevPki { config } => {
            commands::pki::dev_pki(&Settings::load(&ConfigSource::from_arg(config))?)
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
        Command::Audit {
            action: AuditAction::Checkpoint { out, connection },
        } => commands::audit_member::checkpoint(&connection, out.as_deref()).await,
        Command::Audit {
            action:
                AuditAction::Check {
                    checkpoints,
                    proof,
                    connection,
                },
        } => {
            let [old, new] = checkpoints.as_slice() else {
                anyhow::bail!("give --checkpoint twice: the older checkpoint, then the newer");
            };
            commands::audit_member::check(&connection, (old, new), proof.as_deref()).await
        }
        Command::Audit {
            action:
                AuditAction::Prove {
                    receipt,
                    checkpoint,
                    proof,
                    connection,
                },
        } => {
            commands::audit_member::prove(&connection, (&receipt, &checkpoint), proof.as_deref())
                .await
        }
        Command::Store {
            action: StoreAction::Copy { from, to },
        } => commands::store_copy::run(&from, &to).await,
        Command::Keys {
            action: KeysAction::Rotate { config },
        } => {
            let settings = Settings::load(&ConfigSource::from_arg(config))?;
            commands::keys::rotate(&settings).await
        }
        Command::Store {
            action: StoreAction::Backup { to, config, admin },
        } => {
            let settings = Settings::load(&ConfigSource::from_arg(config))?;
            commands::backup::run(&settings, &to, admin.as_deref()).await
        }
        Command::Pki {
            action: PkiAction::Sign(args),
        } => {
            let settings = Settings::load(&ConfigSource::from_arg(args.config.clone()))?;
            commands::pki::sign_command(&settings, args)
        }
        Command::Pki {
            action: PkiAction::Crl(args),
        } => {
            let settings = Settings::load(&ConfigSource::from_arg(args.config.clone()))?;
            commands::pki::crl_command(&settings, args)
        }
        Command::Bench(args) => commands::bench::run(args).await,
        Command::Verify(args) => commands::verify::run(args).await.map(|ok| {
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }),
    }
}
