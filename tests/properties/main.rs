//! Property tests (issue 6, point 3): the status state machine, URL normalisation, and
//! canonical JSON with its signatures, each checked against the README on generated inputs.
//!
//! Every property runs a fixed number of cases (see [`config`]) so the binary stays quick in a
//! debug build; a property that ever failed is kept below its module as a named regression test.

mod signing;
mod state_machine;
mod urls;

use proptest::test_runner::Config;

/// The proptest configuration shared by every property: a fixed number of cases (256, or
/// `PROPTEST_CASES` when set, for a longer hunt by hand), and no regression files written next
/// to the sources (failures are turned into named tests instead).
pub fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}
