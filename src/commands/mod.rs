//! The subcommands that are more than a line or two.

pub mod audit;
pub mod audit_member;
pub mod backup;
pub mod bench;
pub mod keys;
pub mod member_client;
pub mod migrate;
pub mod pki;
pub mod serve;
pub mod store_copy;
pub mod submit;
pub mod verify;
