//! Order, a report mixing every outcome against the schemas, distinct item ids.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::{assert_view_matches_receipt, write_csv_db};
use crate::support::app::{spawn_app, spawn_app_with};
use crate::support::bodies::{item, report, report_of};
use crate::support::routing::{assert_duplicate, assert_routing, item_in, unhosted};

#[tokio::test]
async fn items_keep_the_reports_order_in_the_receipt_and_the_view() {
    let app = spawn_app().await;
    let hostings = [
        json!({"country": "NL"}),
        json!({"country": "FR"}),
        json!({"country": "BE"}),
        json!({"country": "JP"}),
        json!({"country": "DE"}),
        json!({}),
    ];
    // 100 items (the most a report may hold), URLs not in lexical order, and every tenth item
    // repeats the URL (and the hosting) of the item five before it.
    let repeated = |i: usize| if i % 10 == 9 { i - 5 } else { i };
    let urls: Vec<String> = (0..100)
        .map(|i| format!("https://order.example/{}", (repeated(i) * 37) % 100))
        .collect();
    let items: Vec<Value> = urls
        .iter()
        .enumerate()
        .map(|(i, url)| item(url, hostings[repeated(i) % hostings.len()].clone()))
        .collect();
    let receipt = app
        .submit_items("hotline-fr", &report_of("FR-100", items))
        .await;
    let sent: Vec<&str> = urls.iter().map(String::as_str).collect();
    let got: Vec<&str> = receipt.iter().map(|i| i["url"].as_str().unwrap()).collect();
    assert_eq!(got, sent);

    for (i, item) in receipt.iter().enumerate() {
        if i % 10 == 9 {
            assert_eq!(item["status"], "duplicate", "{i}");
            assert_eq!(item["duplicate_of"], receipt[i - 5]["item_id"], "{i}");
        } else {
            assert_ne!(item["status"], "duplicate", "{i}");
        }
    }

    let seen = app.view("hotline-fr", "FR-100").await;
    assert_view_matches_receipt(&seen, &receipt);

    let ids: HashSet<&str> = receipt
        .iter()
        .map(|i| i["item_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), receipt.len(), "item ids are distinct");
}

#[tokio::test]
async fn a_report_mixing_every_outcome_matches_the_schemas() {
    let geo = tempfile::tempdir().unwrap();
    let path = write_csv_db(&geo);
    let app = spawn_app_with(|s| {
        s.routing.geoip = Some(path.into());
        s.routing.fallback = None;
    })
    .await;
    let earlier = app
        .submit_items(
            "hotline-nl",
            &report(
                "NL-1",
                "https://video.example.de/v/1.mp4",
                json!({"country": "DE"}),
            ),
        )
        .await;
    assert_routing(&earlier[0], Some("DE"), "sender", "routed", &["hotline-de"]);

    let body = report_of(
        "FR-MIX",
        vec![
            item(
                "https://mix.example.nl/a.jpg",
                json!({"ip": "192.0.2.10", "country": "DE"}),
            ),
            item("https://www.example.fr/galerie/1", json!({"country": "FR"})),
            item(
                "http://203.0.113.7:8080/dl/set.zip",
                json!({"country": "JP"}),
            ),
            unhosted("https://mix.example/nowhere"),
            item(
                "https://MIX.example.nl:443/a.jpg#dup",
                json!({"country": "NL"}),
            ),
            item("https://mix.example.be/a", json!({"ip": "2001:db8:2::1"})),
            item("https://video.example.de/v/1.mp4", json!({"country": "DE"})),
            item_in(
                "hate_speech",
                "https://mix.example.de/h",
                json!({"country": "DE"}),
            ),
        ],
    );
    let items = app.submit_items("hotline-fr", &body).await;
    assert_routing(
        &items[0],
        Some("NL"),
        "geoip",
        "routed",
        &["hotline-nl", "police-nl"],
    );
    assert_routing(&items[1], Some("FR"), "sender", "domestic", &[]);
    assert_routing(&items[2], Some("JP"), "sender", "unroutable", &[]);
    assert_routing(&items[3], None, "none", "unroutable", &[]);
    assert_duplicate(&items[4], &items[0], Some("NL"), "sender");
    assert_routing(&items[5], Some("BE"), "geoip", "routed", &["police-be"]);
    assert_duplicate(&items[6], &earlier[0], Some("DE"), "sender");
    assert_routing(&items[7], Some("DE"), "sender", "unroutable", &[]);

    let seen = app.view("hotline-fr", "FR-MIX").await;
    assert_eq!(seen["report_id"], "FR-MIX");
    assert_eq!(seen["member"], "hotline-fr");
    assert_view_matches_receipt(&seen, &items);
}

#[tokio::test]
async fn every_item_gets_its_own_id_across_reports_and_members() {
    let app = spawn_app().await;
    let mut ids = HashSet::new();
    let mut count = 0;
    for (n, member) in ["hotline-fr", "hotline-nl", "police-be"].iter().enumerate() {
        // The same URLs in every report: originals, then duplicates, all with their own ids.
        let items: Vec<Value> = (0..20)
            .map(|i| {
                item(
                    &format!("https://ids.example/{}", i % 15),
                    json!({"country": "JP"}),
                )
            })
            .collect();
        let receipt = app
            .submit_items(member, &report_of(&format!("IDS-{n}"), items))
            .await;
        let seen = app.view(member, &format!("IDS-{n}")).await;
        assert_view_matches_receipt(&seen, &receipt);
        for item in &receipt {
            count += 1;
            ids.insert(item["item_id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(ids.len(), count, "item ids are distinct");
}
