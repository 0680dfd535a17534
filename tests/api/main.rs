//! Black-box tests: the real gateway over real mutual TLS, spoken to as members would, on the
//! embedded store. `tests/api_postgres/main.rs` runs the suites that hold for every backend on
//! PostgreSQL too (the same files: `support::app::test_settings` reads `BACKEND`).

/// The store this test binary runs the gateways on.
pub const BACKEND: hotline_gateway::config::Backend = hotline_gateway::config::Backend::Sled;

/// The throwaway PostgreSQL (used by `api_postgres`; here only compiled, for `support::app`).
#[path = "../support/postgres.rs"]
mod postgres;
/// A real SMTP server for the notice e-mails, and the schemas their attachments are held to.
#[path = "../support/smtp.rs"]
mod smtp;
#[path = "../support/xarf.rs"]
mod xarf_schemas;

mod admin;
mod audit;
mod auth;
mod backup;
mod bench;
mod cert_paths;
mod cli;
mod console;
mod crash;
mod crl;
mod deploy;
mod errors;
mod file_modes;
mod followup;
mod handshake_log;
mod hostile;
mod inbox;
mod keys;
mod lifecycle;
mod limits;
mod logs;
mod notices_mail;
mod pki;
mod push;
mod receipts;
mod reload;
mod reload_tls;
mod restart;
mod retention;
mod routing;
mod startup_errors;
mod stats;
mod status_rules;
mod storage_faults;
mod submit;
mod support;
mod transparency;

/// The tests' own RFC 9162 Merkle tree, to check the gateway's proofs with.
#[path = "../support/merkle.rs"]
mod merkle_reference;
