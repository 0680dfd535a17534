//! Lookalike hosts: `аpple.example` with a Cyrillic `а` is a real address, and not Apple's. It
//! is taken, kept as sent, and its normal form is its own `xn--` form: never a duplicate of the
//! Latin host, whichever comes first. What only looks different (upper case, full-width
//! letters and dots, an ideographic full stop, a soft hyphen, the `xn--` spelling) is the same
//! address, and a duplicate. (URLs that hide their host are refused: `errors/urls.rs`.)

use serde_json::{json, Value};

use crate::errors::MEMBER;
use crate::support::app::spawn_app;
use crate::support::bodies::report;

/// Submits `url` alone in report `id`; returns its receipt item.
async fn submit(app: &crate::support::app::TestApp, id: &str, url: &str) -> Value {
    let items = app
        .submit_items(MEMBER, &report(id, url, json!({"country": "NL"})))
        .await;
    assert_eq!(items[0]["url"], url, "the receipt keeps the URL as sent");
    items.into_iter().next().unwrap()
}

#[track_caller]
fn assert_routed(item: &Value) {
    assert_eq!(item["status"], "routed", "{item:#}");
    assert!(item.get("duplicate_of").is_none(), "{item:#}");
}

#[tokio::test]
async fn a_lookalike_host_is_its_own_address_and_never_a_duplicate() {
    let app = spawn_app().await;
    // Cyrillic а (U+0430), е (U+0435), о (U+043E), р (U+0440) for their Latin twins.
    let pairs = [
        (
            "https://apple.example/a.jpg",
            "https://\u{430}pple.example/a.jpg",
        ),
        (
            "https://\u{440}\u{430}y\u{440}\u{430}l.example/b.jpg",
            "https://paypal.example/b.jpg",
        ),
        (
            "https://files.example.nl/c.jpg",
            "https://files.\u{435}xample.nl/c.jpg",
        ),
        (
            "https://g\u{43E}\u{43E}gle.example/d.jpg",
            "https://google.example/d.jpg",
        ),
    ];
    for (n, (first, second)) in pairs.into_iter().enumerate() {
        let a = submit(&app, &format!("LOOK-{n}-A"), first).await;
        let b = submit(&app, &format!("LOOK-{n}-B"), second).await;
        assert_routed(&a);
        assert_routed(&b);
        assert_ne!(a["item_id"], b["item_id"]);
    }
    // And the lookalike again is a duplicate of itself, not of its twin.
    let again = submit(&app, "LOOK-AGAIN", "https://\u{430}pple.example/a.jpg").await;
    assert_eq!(again["status"], "duplicate", "{again:#}");
    let view = app.view(MEMBER, "LOOK-0-B").await;
    assert_eq!(again["duplicate_of"], view["items"][0]["item_id"]);
}

#[tokio::test]
async fn what_only_looks_different_is_the_same_address_and_a_duplicate() {
    let app = spawn_app().await;
    let original = submit(&app, "SAME-0", "https://bücher.example/a.jpg").await;
    assert_routed(&original);
    let same = [
        "https://BÜCHER.example/a.jpg",
        "https://Bücher.EXAMPLE/a.jpg",
        "https://xn--bcher-kva.example/a.jpg",
        "https://XN--BCHER-KVA.example/a.jpg",
        "https://ＢÜＣＨＥＲ.example/a.jpg",
        "https://bücher\u{FF0E}example/a.jpg",
        "https://bücher\u{3002}example/a.jpg",
        "https://bücher\u{FF61}example/a.jpg",
        "https://bü\u{AD}cher.example/a.jpg",
    ];
    for (n, url) in same.into_iter().enumerate() {
        let item = submit(&app, &format!("SAME-{}", n + 1), url).await;
        assert_eq!(item["status"], "duplicate", "{url}: {item:#}");
        assert_eq!(item["duplicate_of"], original["item_id"], "{url}");
    }
    // Full-width dots in a plain ASCII host too.
    let plain = submit(&app, "SAME-ASCII-0", "https://files.example.nl/b.jpg").await;
    assert_routed(&plain);
    let dotted = submit(
        &app,
        "SAME-ASCII-1",
        "https://FILES\u{FF0E}example\u{3002}NL/b.jpg",
    )
    .await;
    assert_eq!(dotted["duplicate_of"], plain["item_id"], "{dotted:#}");
}
