//! The example report of the published documents, for the test binaries that `#[path]`-include
//! this file: `schema_docs` holds the examples of `schemas/` to it, `mail` notices one of its
//! items.

/// The body whose receipt is the first example of `receipt.schema.json`
/// (`report.schema.json` carries no examples of its own).
pub const EXAMPLE_REPORT: &str = include_str!("../data/example_report.json");
