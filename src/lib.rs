//! `hotline-gateway`: the exchange through which hotlines, police points of contact and hosting
//! providers pass reports of illegal content across borders. It carries URLs, hosting facts,
//! hashes and assessments: never the content itself.
//!
//! Code map (ARCHITECTURE.md has the bird's-eye view):
//! - [`cli`], [`commands`]: the subcommands; `main.rs` only parses and hands off.
//! - [`config`]: the `Settings` tree (TOML, then `HGW__` environment overrides), checked on load.
//! - [`startup`]: `Application::build` (binds, port 0 works) and the one route table;
//!   `server`: the API server (actix-server, actix-tls, actix-http), with `admission`
//!   deciding before TLS which connections keep a slot, `heads` timing every request head
//!   between TLS and HTTP (and answering the heads actix-http would refuse), and
//!   `unread_body` closing a connection whose request body an answer left unread.
//! - [`tls`], [`pki`], `identity`: mutual TLS, development certificates, and the member behind
//!   a connection; `file_modes`: the data directory and private keys are the gateway user's
//!   alone.
//! - [`domain`]: validated types; [`schemas`]: the only way from a body to a `Report`.
//! - [`routing`], [`geoip`], [`members`]: where an item goes.
//! - [`store`]: everything kept, behind one interface of domain-level operations, on sled
//!   (embedded) or PostgreSQL (several gateways), and `store::copy`, which moves a store to the
//!   other backend; `wire`: the JSON shapes members see; [`receipts`]: what is signed, and how;
//!   [`documents`]: a saved receipt, inbox entry or checkpoint, told apart strictly before it is
//!   verified; [`merkle`]: RFC 9162, the audit log's Merkle tree and its proofs;
//!   [`checkpoint`]: what members keep of it.
//! - `delivery`: push of inbox entries to members' endpoints.
//! - `routes`, `error`: HTTP handlers and the one mapping of errors to problem+json;
//!   `actions`: what a parsed status change or acknowledgement does, for the API and the
//!   console alike; `console`: the members' web pages under `/console/`.
//!
//! Invariants: nothing is acknowledged before it is durable; a report is stored whole or not at
//! all; bad input changes nothing; a signature covers the canonical (RFC 8785) form.

#![forbid(unsafe_code)]

pub(crate) mod actions;
pub(crate) mod admission;
pub mod backup;
pub mod checkpoint;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub(crate) mod console;
pub(crate) mod delivery;
pub mod documents;
pub mod domain;
pub(crate) mod error;
pub(crate) mod expiry;
pub(crate) mod file_modes;
pub(crate) mod followup;
pub mod geoip;
pub(crate) mod heads;
pub(crate) mod identity;
pub(crate) mod json;
pub(crate) mod live;
pub mod members;
pub mod merkle;
pub(crate) mod metrics;
pub mod notices;
pub mod observe;
pub mod pid_file;
pub mod pki;
pub mod receipts;
pub(crate) mod reload;
pub(crate) mod retention;
pub(crate) mod routes;
pub mod routing;
pub mod schemas;
pub(crate) mod server;
pub mod startup;
pub(crate) mod state;
pub mod store;
pub mod telemetry;
pub mod tls;
pub(crate) mod unread_body;
pub(crate) mod wire;
