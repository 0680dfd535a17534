//! Black-box tests: the real gateway over real mutual TLS, spoken to as members would.

mod auth;
mod cli;
mod conformance;
mod crl;
mod errors;
mod helpers;
mod inbox;
mod lifecycle;
mod lifecycle_paths;
mod lifecycle_support;
mod push;
mod receipts;
mod receiver;
mod restart;
mod routing;
mod status_rules;
mod status_rules_auth;
mod status_rules_machine;
mod status_rules_repeat;
mod submit;
