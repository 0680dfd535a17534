//! What a client certificate's path and name must be, beyond a signature chain to a configured
//! CA: no more intermediates under any CA on the path than its pathLenConstraint allows (the
//! configured root's included), and one printable Common Name. Each refusal is at the handshake.

use crate::support::app::{client_from, spawn_app_with, TestApp};
use crate::support::chains::{Ca, Leaf};

/// A gateway trusting the development CA and `roots` for client certificates.
async fn app_trusting(roots: &[&Ca]) -> TestApp {
    let pems: String = roots.iter().map(|root| root.pem()).collect();
    spawn_app_with(move |s| {
        let bundle = s.tls.client_ca.with_file_name("clients.crt");
        let mut text = std::fs::read_to_string(&s.tls.client_ca).unwrap();
        text.push_str(&pems);
        std::fs::write(&bundle, text).unwrap();
        s.tls.client_ca = bundle;
    })
    .await
}

/// `GET /v1/keys` presenting `leaf` and `intermediates`: the status, or `None` when the
/// handshake (or the connection) failed.
async fn status(app: &TestApp, leaf: &Leaf, intermediates: &[&Ca]) -> Option<u16> {
    let config = leaf.tls_config(intermediates, &app.settings.tls.client_ca);
    let answer = client_from(config).get(app.url("/v1/keys")).send().await;
    answer.ok().map(|response| response.status().as_u16())
}

/// The development CA of `app` (its certificate says pathLenConstraint 0).
fn development_ca(app: &TestApp) -> Ca {
    let cert = app.settings.tls.client_ca.with_file_name("ca.crt");
    Ca::from_files(&cert, &cert.with_extension("key"))
}

#[tokio::test]
async fn a_path_longer_than_a_cas_path_len_constraint_fails_the_handshake() {
    let zero = Ca::root("root pathLen 0", Some(0));
    let one = Ca::root("root pathLen 1", Some(1));
    let open = Ca::root("root without pathLen", None);
    let app = app_trusting(&[&zero, &one, &open]).await;
    let dev = development_ca(&app);
    let (under_zero, under_one, under_open) = (
        zero.intermediate("under pathLen 0"),
        one.intermediate("under pathLen 1"),
        open.intermediate("under no pathLen"),
    );
    let under_under_one = under_one.intermediate("second under pathLen 1");
    let under_dev = dev.intermediate("under the development CA");
    let member = ["hotline-fr"];
    let cases: [(&str, Leaf, Vec<&Ca>, Option<u16>); 7] = [
        (
            "pathLen 0, no intermediate",
            zero.leaf(&member),
            vec![],
            Some(200),
        ),
        (
            "pathLen 0, one intermediate",
            under_zero.leaf(&member),
            vec![&under_zero],
            None,
        ),
        (
            "development CA, one intermediate",
            under_dev.leaf(&member),
            vec![&under_dev],
            None,
        ),
        (
            "no pathLen, one intermediate",
            under_open.leaf(&member),
            vec![&under_open],
            Some(200),
        ),
        (
            "pathLen 1, one intermediate",
            under_one.leaf(&member),
            vec![&under_one],
            Some(200),
        ),
        (
            "pathLen 1, two intermediates",
            under_under_one.leaf(&member),
            vec![&under_under_one, &under_one],
            None,
        ),
        (
            "pathLen 1, two intermediates, the root presented too",
            under_under_one.leaf(&member),
            vec![&under_under_one, &under_one, &one],
            None,
        ),
    ];
    let mut wrong = Vec::new();
    for (case, leaf, intermediates, expected) in cases {
        let got = status(&app, &leaf, &intermediates).await;
        if got != expected {
            wrong.push(format!("{case}: {got:?}, not {expected:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Still serving its members.
    assert_eq!(app.get("hotline-fr", "/v1/keys").await.status(), 200);
}

#[tokio::test]
async fn one_path_within_every_constraint_is_enough() {
    // The same intermediate (name and key) certified by a root with pathLen 0, which forbids
    // it, and by one without: the second path is valid, whichever comes first.
    let zero = Ca::root("root pathLen 0", Some(0));
    let open = Ca::root("root without pathLen", None);
    let app = app_trusting(&[&zero, &open]).await;
    let key = rcgen::KeyPair::generate().unwrap();
    let via_zero = zero.intermediate_with_key("cross-certified", &key);
    let via_open = open.intermediate_with_key("cross-certified", &key);
    let leaf = via_open.leaf(&["hotline-fr"]);
    assert_eq!(
        status(&app, &leaf, &[&via_zero, &via_open]).await,
        Some(200)
    );
    assert_eq!(
        status(&app, &leaf, &[&via_open, &via_zero]).await,
        Some(200)
    );
    assert_eq!(status(&app, &leaf, &[&via_zero]).await, None);
}

#[tokio::test]
async fn a_member_name_is_one_printable_common_name_or_the_handshake_fails() {
    let app = app_trusting(&[]).await;
    let dev = development_ca(&app);
    let cases: [(&str, &[&str], Option<u16>); 7] = [
        ("one Common Name", &["hotline-fr"], Some(200)),
        ("no Common Name", &[], Some(403)),
        ("two Common Names", &["hotline-fr", "hotline-nl"], None),
        (
            "a newline",
            &["hotline-fr\n2026-11-22T10:00:00Z INFO forged"],
            None,
        ),
        ("an ESC", &["hotline-fr\u{1b}[2K"], None),
        ("a NUL", &["hotline-fr\0"], None),
        ("a DEL", &["hotline-fr\u{7f}"], None),
    ];
    let mut wrong = Vec::new();
    for (case, names, expected) in cases {
        let got = status(&app, &dev.leaf(names), &[]).await;
        if got != expected {
            wrong.push(format!("{case}: {got:?}, not {expected:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
