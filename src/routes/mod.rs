//! HTTP handlers, one file per resource. Handlers parse, call the domain and the store, and map
//! outcomes to responses; the route table itself is in `startup.rs`.

pub mod admin;
pub mod audit;
pub mod body;
pub mod fallback;
pub mod inbox;
pub mod items;
pub mod keys;
pub mod reports;
pub mod stats;
