//! Reading signed documents: what the gateway signs is read as what it is and verifies; what
//! only looks like it (shapes that verify under a lax reading) is refused, saying what it is not.

use ring::signature::Ed25519KeyPair;
use serde_json::{json, Value};

use super::{DocumentError, Documents, Kind, INBOX_ENTRY_SCHEMA, RECEIPT_SCHEMA};
use crate::receipts::{Signer, VerifyError};

fn signer() -> Signer {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    Signer::from_pkcs8(pkcs8.as_ref()).unwrap()
}

fn examples(schema: &str) -> Vec<Value> {
    let schema: Value = serde_json::from_str(schema).unwrap();
    schema["examples"].as_array().unwrap().clone()
}

/// The schemas' example receipts, signed by `signer`.
fn receipts(signer: &Signer) -> Vec<Value> {
    examples(RECEIPT_SCHEMA)
        .into_iter()
        .map(|example| {
            let bytes = signer.receipt(example["receipt"].clone()).unwrap();
            serde_json::from_slice(&bytes).unwrap()
        })
        .collect()
}

/// The schema's example inbox entries, signed by `signer`.
fn entries(signer: &Signer) -> Vec<Value> {
    examples(INBOX_ENTRY_SCHEMA)
        .into_iter()
        .map(|mut entry| {
            entry.as_object_mut().unwrap().remove("signature");
            entry["signature"] = json!(signer.sign(&entry).unwrap());
            entry
        })
        .collect()
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

#[test]
fn what_the_gateway_signs_is_read_as_what_it_is_and_verifies() {
    let (documents, signer) = (Documents::compile().unwrap(), signer());
    let keys = [signer.jwk().clone()];
    let mut kinds = Vec::new();
    for document in receipts(&signer).iter().chain(&entries(&signer)) {
        let read = documents.read(&bytes(document)).unwrap();
        assert_eq!(read.verify(&keys), Ok(signer.jwk().kid.clone()));
        kinds.push(read.kind());
    }
    assert_eq!(
        kinds,
        [
            Kind::Receipt("report.accepted"),
            Kind::Receipt("status.accepted"),
            Kind::InboxEntry("referral"),
            Kind::InboxEntry("notice"),
            Kind::InboxEntry("status"),
            Kind::InboxEntry("status"),
        ]
    );
    assert_eq!(kinds[0].to_string(), "a report.accepted receipt");
    assert_eq!(kinds[2].to_string(), "an inbox entry (referral)");

    // Read as what it is, a changed document fails its signature.
    let mut changed = receipts(&signer).remove(1);
    changed["receipt"]["status"] = json!("removed");
    let read = documents.read(&bytes(&changed)).unwrap();
    assert_eq!(read.verify(&keys), Err(VerifyError::Mismatch));
}

#[test]
fn what_only_looks_like_it_is_refused_saying_what_it_is_not() {
    let (documents, signer) = (Documents::compile().unwrap(), signer());
    let receipt = receipts(&signer).remove(0);
    let status = receipts(&signer).remove(1);
    let entry = entries(&signer).remove(0);
    let text = String::from_utf8(bytes(&receipt)).unwrap();

    let mut wrapped_entry = entry.clone();
    let signature = wrapped_entry.as_object_mut().unwrap().remove("signature");
    let wrapped_entry = json!({"receipt": wrapped_entry, "signature": signature});
    let mut flat = receipt["receipt"].clone();
    flat["signature"] = receipt["signature"].clone();
    let mut extra = receipt.clone();
    extra["note"] = json!("x");
    let mut other_type = status.clone();
    other_type["receipt"]["type"] = json!("report.accepted");
    let mut no_type = status.clone();
    no_type["receipt"].as_object_mut().unwrap().remove("type");
    let mut other_kind = entry.clone();
    other_kind["kind"] = json!("escalation");
    let mut entry_with_type = entry.clone();
    entry_with_type["type"] = json!("report.accepted");
    let mut entry_in_receipt_form = entry.clone();
    entry_in_receipt_form["receipt"] = json!({});

    // (the document, what the refusal says)
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            text.replacen(
                r#""member":"hotline-fr""#,
                r#""member":"hotline-de","member":"hotline-fr""#,
                1,
            )
            .into_bytes(),
            "not JSON that reads one way: the key \"member\" appears twice",
        ),
        (
            text.replacen(
                r#""status":"routed""#,
                r#""status":"routed","status":"x""#,
                1,
            )
            .into_bytes(),
            "appears twice",
        ),
        (
            format!("{text} {text}").into_bytes(),
            "not JSON that reads one way",
        ),
        (b"{".to_vec(), "not JSON that reads one way"),
        (
            bytes(&wrapped_entry),
            "not a receipt: its receipt's \"type\"",
        ),
        (bytes(&wrapped_entry), "as an inbox entry has"),
        (bytes(&flat), "neither a receipt nor an inbox entry"),
        (bytes(&flat), "flattened"),
        (bytes(&extra), "not a receipt: a receipt is exactly"),
        (bytes(&other_type), "not a receipt: at /receipt"),
        (bytes(&no_type), "not a receipt: its receipt's \"type\""),
        (
            bytes(&json!({"receipt": [], "signature": "a..b"})),
            "not a receipt",
        ),
        (
            bytes(&json!({"receipt": receipt["receipt"]})),
            "no \"signature\"",
        ),
        (bytes(&other_kind), "not an inbox entry: its \"kind\""),
        (bytes(&entry_with_type), "not an inbox entry: at /"),
        (bytes(&entry_in_receipt_form), "not a receipt"),
        (
            bytes(&json!([receipt])),
            "neither a receipt nor an inbox entry",
        ),
        (bytes(&json!("receipt")), "this is a string, not an object"),
        (
            bytes(&json!({"signature": "a..b"})),
            "neither a \"receipt\" nor a \"kind\"",
        ),
    ];
    for (document, says) in cases {
        let shown = String::from_utf8_lossy(&document).into_owned();
        match documents.read(&document) {
            Ok(read) => panic!("{shown} was read as {}", read.kind()),
            Err(e) => assert!(e.to_string().contains(says), "{shown}: {e}"),
        }
    }
    assert!(matches!(
        documents.read(b"[1, 2"),
        Err(DocumentError::NotJson(_))
    ));
}
