//! Black-box tests: the real gateway over real mutual TLS, spoken to as members would.

mod auth;
mod cli;
mod conformance;
mod helpers;
mod receipts;
mod restart;
mod submit;
