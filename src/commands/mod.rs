//! The subcommands that are more than a line or two.

pub mod audit;
pub mod audit_member;
pub mod bench;
pub mod keys;
pub mod migrate;
pub mod serve;
pub mod store_copy;
pub mod submit;
pub mod verify;
