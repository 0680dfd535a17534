//! The one harness of the black-box suites, one concern per file:
//!
//! - `app`: a gateway in this process (`spawn_app`, `TestApp`: its settings, clients and raw
//!   requests, a restart on the same data) and its test PKI;
//! - `answer`: what a request got, kept by the crash and fault tests to check later;
//! - `network`: the test network, the one list of members of every gateway the suites start;
//! - `process`: a gateway as a child process (`serve --config`, the binary's exit, its
//!   stderr, a kill), for what only a process shows (signals, crashes, exit codes);
//! - `receiver`: a member's HTTPS endpoint that push delivery posts to;
//! - `bodies`: what members send: items, reports, hosting facts, times;
//! - `member`: `TestApp` acting as a member, checking each answer: submit, change a status, read
//!   and acknowledge the inbox, delivery status, the report view, stats;
//! - `checks`: what tests assert of answers: problems, signed receipts and inbox entries, the
//!   published schemas; and accessors of receipts, inbox pages and report views;
//! - `replay`: report FR-1, a post that must be new (its receipt's bytes kept) and one that must
//!   replay it byte for byte;
//! - `routing`: what the routing suites send and expect of each receipt item (`Route`), a report
//!   sent as a table of items and their routes, and the duplicate rule's checks;
//! - `metrics`: the admin listener and its OpenMetrics samples;
//! - `audit`: `audit verify` on a stopped gateway's store;
//! - `faults`: storage faults (file-size limit, full tmpfs, read-only directory) and their undoing;
//! - `chains`: client-certificate chains of the test's own (roots with or without a
//!   pathLenConstraint, intermediates, leaves with any Common Names) and the TLS configuration
//!   that presents them;
//! - `wire`: HTTP/1.1 answers read off the wire, for the requests written by hand.

pub mod answer;
pub mod app;
pub mod audit;
pub mod bodies;
pub mod chains;
pub mod checks;
pub mod faults;
pub mod member;
pub mod metrics;
pub mod network;
pub mod process;
pub mod receiver;
pub mod replay;
pub mod routing;
pub mod wire;
