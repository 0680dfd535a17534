//! Why a store operation failed, by what the caller should answer.

use crate::domain::StatusRefusal;

/// Why a store operation failed. Nothing was written, except where said.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The same member sent the same report id with other content (409).
    #[error("report id already used with other content")]
    Conflict,
    /// A status change that the rules refuse (404, 403, 409, 422 as the refusal says).
    #[error("status change refused")]
    Refused(StatusRefusal),
    /// A cursor beyond the member's last inbox entry: it names no place in the inbox (400).
    #[error("no such cursor")]
    NoSuchCursor,
    /// The storage cannot be reached or cannot write now: a disk fault, a store reopening, a
    /// database that does not answer. Nothing was acknowledged; trying again later may work
    /// (503).
    #[error("storage unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// What the store holds does not read as it should (a corrupt record), or a bug: trying
    /// again will not help (500).
    #[error("corrupt store")]
    Corrupt(#[source] anyhow::Error),
}
