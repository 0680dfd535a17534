//! Black-box tests: the real gateway over real mutual TLS, spoken to as members would.

mod auth;
mod cli;
mod conformance;
mod crl;
mod errors;
mod helpers;
mod receipts;
mod restart;
mod routing;
mod submit;
