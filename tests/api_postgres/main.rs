//! The black-box suites that hold for every backend (`tests/api/`), run on PostgreSQL: the same
//! files, with `BACKEND` telling `support::app::test_settings` to give each gateway a fresh database
//! of one throwaway PostgreSQL server (`tests/support/postgres.rs`, started on first use). Left
//! out: what is about the embedded store itself (its files, its storage faults, sled's lock,
//! tampering with sled's tables) or not about storage at all (TLS, slow clients, the CLI's
//! defaults), which the `api` binary runs once. For PostgreSQL alone: `multi`, two gateways on
//! one database (started by `gateways`), each rule of the contract across them; `faults`, a
//! gateway killed under load while another serves on, and the database stopped and started
//! under load; `backup`, `pg_dump` under load and `pg_restore` as the operator's guide has them;
//! `store_copy`, a store copied from sled to PostgreSQL and back; `schema`, the
//! migrations and a schema newer than the gateway.
//!
//! Some helpers of the shared files are not used by the suites run here.
#![allow(dead_code)]

/// The store this test binary runs the gateways on.
pub const BACKEND: hotline_gateway::config::Backend = hotline_gateway::config::Backend::Postgres;

#[path = "../support/postgres.rs"]
mod postgres;
#[path = "../support/smtp.rs"]
mod smtp;
#[path = "../support/xarf.rs"]
mod xarf_schemas;

#[path = "../api/admin.rs"]
mod admin;
mod backup;
#[path = "../api/console/pages.rs"]
mod console_pages;
#[path = "../api/errors/mod.rs"]
mod errors;
mod faults;
#[path = "../api/followup.rs"]
mod followup;
mod gateways;
#[path = "../api/inbox.rs"]
mod inbox;
#[path = "../api/lifecycle/mod.rs"]
mod lifecycle;
mod multi;
#[path = "../api/notices_mail.rs"]
mod notices_mail;
#[path = "../api/push.rs"]
mod push;
#[path = "../api/receipts.rs"]
mod receipts;
#[path = "../api/retention.rs"]
mod retention;
#[path = "../api/routing/mod.rs"]
mod routing;
mod schema;
#[path = "../api/stats.rs"]
mod stats;
#[path = "../api/status_rules/mod.rs"]
mod status_rules;
mod store_copy;
#[path = "../api/submit.rs"]
mod submit;
#[path = "../api/support/mod.rs"]
mod support;
#[path = "../api/transparency/mod.rs"]
mod transparency;

/// The tests' own RFC 9162 Merkle tree, to check the gateway's proofs with.
#[path = "../support/merkle.rs"]
mod merkle_reference;
