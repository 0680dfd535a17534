//! Replays: a report sent again with the same content gets its first receipt, byte for byte.
//! The report the suites send and send again, a post that must be new (its receipt's exact
//! bytes kept) and one that must be a replay of it.

use serde_json::{json, Value};

use crate::support::app::TestApp;
use crate::support::bodies::report;

/// Report FR-1: one csam image on files.example.nl, hosted in NL (so, sent by hotline-fr,
/// routed to hotline-nl and police-nl).
pub fn fr_1() -> Value {
    report(
        "FR-1",
        "https://files.example.nl/a.jpg",
        json!({"country": "NL"}),
    )
}

impl TestApp {
    /// Posts `body` as `member`: a new report, so 202. Returns the receipt's exact bytes.
    pub async fn post_new(&self, member: &str, body: &Value) -> Vec<u8> {
        let response = self.post_report(member, body).await;
        let status = response.status();
        let receipt = response.bytes().await.unwrap().to_vec();
        assert_eq!(
            status,
            202,
            "report {} from {member} is not new: {}",
            body["report_id"],
            String::from_utf8_lossy(&receipt)
        );
        receipt
    }

    /// Posts `body` as `member` again: 200, and `receipt` (the first one) byte for byte.
    pub async fn assert_replay(&self, member: &str, body: &Value, receipt: &[u8]) {
        let again = self.post_report(member, body).await;
        assert_eq!(again.status(), 200, "a replay of {}", body["report_id"]);
        assert_eq!(again.bytes().await.unwrap(), receipt);
    }
}
