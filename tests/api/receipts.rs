//! Receipts: signed over the canonical form, verifiable by anyone with the JWK Set, offline too.

use std::process::Command;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hotline_gateway::receipts::{verify, VerifyError};
use serde_json::{json, Map, Value};

use crate::support::app::{spawn_app, TestApp};
use crate::support::bodies::report;

/// Submits a fresh report and returns its receipt.
async fn a_receipt(app: &TestApp, report_id: &str) -> (Value, Value) {
    let body = report(
        report_id,
        "https://files.example.nl/a.jpg",
        json!({"country": "NL"}),
    );
    let receipt = app.submit("hotline-fr", &body).await;
    (body, receipt)
}

/// The same JSON with every object's keys in reverse order.
fn reversed(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .rev()
                .map(|(k, v)| (k.clone(), reversed(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(reversed).collect()),
        other => other.clone(),
    }
}

#[tokio::test]
async fn a_receipt_verifies_against_the_published_keys_even_re_serialised() {
    let app = spawn_app().await;
    let (body, receipt) = a_receipt(&app, "FR-1").await;
    let keys = app.keys().await;
    let kid = verify(&receipt, &keys).expect("the receipt verifies");
    assert_eq!(kid, keys[0].kid);

    let header = receipt["signature"]
        .as_str()
        .unwrap()
        .split("..")
        .next()
        .unwrap();
    let header: Value = serde_json::from_slice(&B64.decode(header).unwrap()).unwrap();
    assert_eq!(header, json!({"alg": "EdDSA", "kid": kid}));

    let re_serialised: Value =
        serde_json::from_str(&serde_json::to_string_pretty(&reversed(&receipt)).unwrap()).unwrap();
    assert_ne!(
        serde_json::to_string(&re_serialised).unwrap(),
        serde_json::to_string(&receipt).unwrap()
    );
    assert!(verify(&re_serialised, &keys).is_ok());

    // content_sha256 is the SHA-256 of the RFC 8785 form of the body as submitted.
    let canonical = serde_json_canonicalizer::to_vec(&body).unwrap();
    let digest = hex::encode(ring::digest::digest(&ring::digest::SHA256, &canonical));
    assert_eq!(receipt["receipt"]["content_sha256"], digest);
}

#[tokio::test]
async fn a_tampered_receipt_fails() {
    let app = spawn_app().await;
    let (_, receipt) = a_receipt(&app, "FR-1").await;
    let keys = app.keys().await;
    let tamperings: [(&str, Value); 4] = [
        ("/receipt/items/0/routed_to", json!(["hotline-nl"])),
        ("/receipt/items/0/status", json!("domestic")),
        ("/receipt/member", json!("hotline-nl")),
        ("/receipt/received_at", json!("2026-01-01T00:00:00.000Z")),
    ];
    for (pointer, value) in tamperings {
        let mut tampered = receipt.clone();
        *tampered.pointer_mut(pointer).unwrap() = value;
        assert_eq!(
            verify(&tampered, &keys),
            Err(VerifyError::Mismatch),
            "{pointer}"
        );
    }
    let mut forged = receipt.clone();
    let signature = forged["signature"].as_str().unwrap().to_owned();
    let (header, sig) = signature.split_once("..").unwrap();
    let mut sig = B64.decode(sig).unwrap();
    sig[0] ^= 1;
    forged["signature"] = json!(format!("{header}..{}", B64.encode(sig)));
    assert_eq!(verify(&forged, &keys), Err(VerifyError::Mismatch));
}

fn gateway_cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hotline-gateway"))
        .args(args)
        .output()
        .expect("the binary runs")
}

#[tokio::test]
async fn verify_checks_a_saved_receipt_offline() {
    let app = spawn_app().await;
    let (_, receipt) = a_receipt(&app, "FR-1").await;
    let keys: Value = app
        .get("hotline-fr", "/v1/keys")
        .await
        .json()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, value: &Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let keys = write("keys.json", &keys);
    let good = write("receipt.json", &reversed(&receipt));
    let mut tampered = receipt.clone();
    tampered["receipt"]["items"][0]["routed_to"] = json!([]);
    let bad = write("tampered.json", &tampered);

    let ok = gateway_cli(&["verify", &good, "--keys", &keys]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let refused = gateway_cli(&["verify", &bad, "--keys", &keys]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stdout).contains("INVALID"));

    // Without --keys: the public half of the configured signing key.
    let config = dir.path().join("gateway.toml");
    let signing = app.settings.signing.key.display().to_string();
    std::fs::write(&config, format!("[signing]\nkey = {signing:?}\n")).unwrap();
    let config = config.to_str().unwrap();
    assert!(gateway_cli(&["verify", &good, "--config", config])
        .status
        .success());
    assert_eq!(
        gateway_cli(&["verify", &bad, "--config", config])
            .status
            .code(),
        Some(1)
    );
}

#[tokio::test]
async fn old_keys_stay_listed_and_old_receipts_verify_after_a_rotation() {
    let app = spawn_app().await;
    let (_, old_receipt) = a_receipt(&app, "FR-1").await;
    let old_kid = app.keys().await[0].kid.clone();
    let key_file = app.settings.signing.key.clone();
    let app = {
        // The operator replaces the key file while the gateway is down.
        let settings_key = key_file.clone();
        let restarted = app.restart_with(move || std::fs::remove_file(&settings_key).unwrap());
        restarted.await
    };
    let keys = app.keys().await;
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0].kid, old_kid, "the new key comes first");
    assert_eq!(keys[1].kid, old_kid);
    assert!(verify(&old_receipt, &keys).is_ok());
    let (_, new_receipt) = a_receipt(&app, "FR-2").await;
    assert_eq!(verify(&new_receipt, &keys), Ok(keys[0].kid.clone()));
}

/// `verify` knows what it checks. Each forgery carries a genuine signature over genuine
/// content, yet reads otherwise to someone: a key twice (serde_json takes the last, which the
/// signature covers; other parsers the first), an inbox entry with its signature moved out
/// beside it as a "receipt" (the same signed bytes), a receipt flattened into one object with
/// its own signature. Each is refused with a non-zero exit and says what it is not; the
/// genuine receipts and inbox entry still print `valid`.
#[tokio::test]
async fn verify_refuses_a_document_that_is_not_exactly_a_receipt_or_an_inbox_entry() {
    let app = spawn_app().await;
    let (_, receipt) = a_receipt(&app, "FR-1").await;
    let item_id = receipt["receipt"]["items"][0]["item_id"].as_str().unwrap();
    let (status_receipt, _) = app
        .set_status("hotline-nl", item_id, json!({"status": "assessed_illegal"}))
        .await;
    let entry = app.inbox("hotline-nl").await.remove(0);
    let keys = app
        .get("hotline-fr", "/v1/keys")
        .await
        .text()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let keys = write("keys.json", &keys);
    let verify_file = |path: &str| {
        let output = gateway_cli(&["verify", path, "--keys", &keys]);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        (output.status.code(), stdout)
    };

    let text = serde_json::to_string(&receipt).unwrap();
    let repeated = text.replacen(
        r#""member":"hotline-fr""#,
        r#""member":"hotline-de","member":"hotline-fr""#,
        1,
    );
    assert_ne!(repeated, text);
    let mut unsigned = entry.clone();
    let signature = unsigned.as_object_mut().unwrap().remove("signature");
    let wrapped = json!({"receipt": unsigned, "signature": signature});
    let mut flat = receipt["receipt"].clone();
    flat["signature"] = receipt["signature"].clone();
    let forgeries = [
        ("repeated.json", repeated, "appears twice"),
        ("wrapped.json", wrapped.to_string(), "not a receipt"),
        (
            "flat.json",
            flat.to_string(),
            "neither a receipt nor an inbox entry",
        ),
    ];
    let taken: Vec<String> = forgeries
        .into_iter()
        .filter_map(|(name, text, says)| {
            let (code, stdout) = verify_file(&write(name, &text));
            let refused = code == Some(1) && stdout.starts_with("INVALID: ");
            (!refused || !stdout.contains(says)).then(|| format!("{name}: exit {code:?}, {stdout}"))
        })
        .collect();
    assert!(taken.is_empty(), "{taken:#?}");

    for (name, genuine, what) in [
        ("receipt.json", &receipt, "a report.accepted receipt"),
        ("status.json", &status_receipt, "a status.accepted receipt"),
        ("entry.json", &entry, "an inbox entry (referral)"),
    ] {
        let (code, stdout) = verify_file(&write(name, &genuine.to_string()));
        assert_eq!(code, Some(0), "{name}: {stdout}");
        assert!(
            stdout.starts_with("valid: ") && stdout.contains(what),
            "{name}: {stdout}"
        );
    }
}
