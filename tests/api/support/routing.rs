//! Routing as members read it off their receipts, for the suites that check it (`routing/`,
//! `restart`, and on PostgreSQL `store_copy`): the items they send (any category, hosted in a
//! country, not hosted at all), what a receipt item must say of its routing (`Route`), a report
//! sent as a table of items and the routes they must get, and the duplicate rule's checks.

use serde_json::{json, Value};

use crate::support::app::TestApp;
use crate::support::bodies::{item, report_of};

/// Where an item hosted in NL goes: its hotline, and (lea_copy, on by default) its police.
pub const NL: &[&str] = &["hotline-nl", "police-nl"];

/// Hosting facts that give the country alone.
pub fn hosted(country: &str) -> Value {
    json!({ "country": country })
}

/// `bodies::item` with another category.
pub fn item_in(category: &str, url: &str, hosting: Value) -> Value {
    let mut item = item(url, hosting);
    item["category"] = json!(category);
    item
}

/// An item without any `hosting` member.
pub fn unhosted(url: &str) -> Value {
    let mut item = item(url, json!({}));
    item.as_object_mut().unwrap().remove("hosting");
    item
}

/// What a receipt (or view) item must say of its routing, in the order `assert_routing` takes
/// it: `hosting_country`, `basis`, `status` and `routed_to`; and no `duplicate_of`.
#[derive(Clone, Copy, Debug)]
pub struct Route(
    pub Option<&'static str>,
    pub &'static str,
    pub &'static str,
    pub &'static [&'static str],
);

/// Asserts a receipt (or view) item's routing; `routed_to` in its exact order.
#[track_caller]
pub fn assert_routing(
    item: &Value,
    hosting_country: Option<&str>,
    basis: &str,
    status: &str,
    routed_to: &[&str],
) {
    let url = item["url"].as_str().unwrap_or("?");
    assert_eq!(
        item["hosting_country"],
        json!(hosting_country),
        "hosting_country of {url}"
    );
    assert_eq!(item["basis"], basis, "basis of {url}");
    assert_eq!(item["status"], status, "status of {url}");
    assert_eq!(item["routed_to"], json!(routed_to), "routed_to of {url}");
    assert!(
        item.get("duplicate_of").is_none(),
        "{url} is not a duplicate but has duplicate_of"
    );
}

/// Asserts that `item` is a duplicate of `original` (a receipt item): not routed again.
#[track_caller]
pub fn assert_duplicate(
    item: &Value,
    original: &Value,
    hosting_country: Option<&str>,
    basis: &str,
) {
    let url = item["url"].as_str().unwrap_or("?");
    assert_eq!(item["status"], "duplicate", "status of {url}");
    assert_eq!(
        item["duplicate_of"], original["item_id"],
        "duplicate_of of {url} (original {})",
        original["url"]
    );
    assert_ne!(item["item_id"], original["item_id"], "{url} has its own id");
    assert_eq!(item["routed_to"], json!([]), "routed_to of {url}");
    // Rule 1 still applies to a duplicate: the receipt says where it is hosted.
    assert_eq!(
        item["hosting_country"],
        json!(hosting_country),
        "hosting_country of {url}"
    );
    assert_eq!(item["basis"], basis, "basis of {url}");
}

impl TestApp {
    /// Submits `member`'s report `report_id` of the table's items, in order, and asserts that
    /// each receipt item is routed as its row says. Returns the receipt's items.
    pub async fn submit_routed(
        &self,
        member: &str,
        report_id: &str,
        table: &[(Value, Route)],
    ) -> Vec<Value> {
        let items = table.iter().map(|(item, _)| item.clone()).collect();
        let got = self
            .submit_items(member, &report_of(report_id, items))
            .await;
        for (item, (_, Route(country, basis, status, to))) in got.iter().zip(table) {
            assert_routing(item, *country, basis, status, to);
        }
        got
    }

    /// The duplicate rule on `url`, open as `original` (hosted in NL): hotline-de's report DE-1
    /// of it hosted in NL is its duplicate; DE-2, hosted in BE, is another case, routed there.
    /// Returns the receipt items of DE-1 and DE-2.
    pub async fn assert_duplicate_in_its_country_only(
        &self,
        url: &str,
        original: &Value,
    ) -> (Value, Value) {
        let same = self
            .submit_item("hotline-de", "DE-1", item(url, hosted("NL")))
            .await;
        assert_duplicate(&same, original, Some("NL"), "sender");
        let elsewhere = self
            .submit_item("hotline-de", "DE-2", item(url, hosted("BE")))
            .await;
        assert_routing(&elsewhere, Some("BE"), "sender", "routed", &["police-be"]);
        (same, elsewhere)
    }
}
