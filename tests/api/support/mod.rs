//! What the suites share beyond `helpers` (which starts the gateway and holds the clients and the
//! raw requests), one concern per file:
//!
//! - `bodies`: what members send: items, reports, hosting facts, times;
//! - `member`: `TestApp` acting as a member, checking each answer: submit, change a status, read
//!   and acknowledge the inbox, delivery status, the report view, stats;
//! - `checks`: what tests assert of answers: problems, signed receipts and inbox entries; and
//!   accessors of receipts, inbox pages and report views;
//! - `status_rules`: for the `status_rules*` suites, the item they change and refused changes
//!   that must change nothing;
//! - `metrics`: the admin listener and its OpenMetrics samples;
//! - `audit`: `audit verify` on a stopped gateway's store;
//! - `faults`: storage faults (file-size limit, full tmpfs, read-only directory) and their undoing;
//! - `chains`: client-certificate chains of the test's own (roots with or without a
//!   pathLenConstraint, intermediates, leaves with any Common Names) and the TLS configuration
//!   that presents them;
//! - `wire`: HTTP/1.1 answers read off the wire, for the requests written by hand.

pub mod audit;
pub mod bodies;
pub mod chains;
pub mod checks;
pub mod faults;
pub mod member;
pub mod metrics;
pub mod status_rules;
pub mod wire;
