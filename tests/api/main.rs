//! Black-box tests: the real gateway over real mutual TLS, spoken to as members would.

mod auth;
mod conformance;
mod helpers;
mod submit;
