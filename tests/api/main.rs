//! Black-box tests: the real gateway over real mutual TLS, spoken to as members would.

mod admin;
mod audit;
mod auth;
mod bench;
mod cli;
mod conformance;
mod crl;
mod errors;
mod helpers;
mod limits;
mod logs;
mod process;
mod receipts;
mod reload;
mod restart;
mod retention;
mod routing;
mod stats;
mod submit;
