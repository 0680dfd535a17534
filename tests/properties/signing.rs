//! Canonical JSON (RFC 8785) and the detached Ed25519 JWS over it (README "Receipts"): the
//! canonical form does not depend on key order or on how the JSON was serialised, a signed
//! document verifies, and any change to what was signed, or to the signature, makes it fail.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hotline_gateway::receipts::{canonical, verify, verify_detached, Jwk, Signer, VerifyError};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Number, Value};

fn signer() -> &'static Signer {
    static SIGNER: OnceLock<Signer> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        Signer::from_pkcs8(pkcs8.as_ref()).unwrap()
    })
}

fn keys() -> Vec<Jwk> {
    vec![signer().jwk().clone()]
}

const MAX_SAFE: i64 = 1 << 53;

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        // Everything JSON escapes, and what RFC 8785 leaves alone.
        prop::collection::vec(
            prop::sample::select(vec![
                "\"", "\\", "/", "\n", "\r", "\t", "\u{8}", "\u{c}", "\u{0}", "\u{1f}", "\u{7f}",
                "\u{2028}", "\u{fffd}", "é", "€", "😀", "a", " ",
            ]),
            0..12,
        )
        .prop_map(|parts| parts.concat()),
        "[a-z]{0,6}",
    ]
}

/// A key, sometimes one that means something to `verify`.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => string(),
        1 => prop::sample::select(vec!["receipt", "signature", "a", "b", ""]).prop_map(str::to_owned),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-MAX_SAFE..=MAX_SAFE).prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        any::<f64>()
            .prop_filter_map("finite", Number::from_f64)
            .prop_map(Value::Number),
        (-1e6f64..1e6)
            .prop_filter_map("finite", Number::from_f64)
            .prop_map(Value::Number),
        string().prop_map(Value::String),
    ]
}

fn object_of(inner: impl Strategy<Value = Value>) -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((key(), inner), 0..6).prop_map(|entries| entries.into_iter().collect())
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            object_of(inner).prop_map(Value::Object),
        ]
    })
}

/// The same value with every object's keys in the reverse order (serde_json keeps insertion
/// order here: the crate enables `preserve_order`).
fn reversed(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(reversed).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .rev()
                .map(|(k, v)| (k.clone(), reversed(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The paths to every leaf (empty arrays and objects count as leaves).
fn leaves(value: &Value, path: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
    match value {
        Value::Array(items) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                path.push(PathStep::Index(i));
                leaves(item, path, out);
                path.pop();
            }
        }
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                path.push(PathStep::Key(k.clone()));
                leaves(v, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

#[derive(Clone, Debug)]
enum PathStep {
    Index(usize),
    Key(String),
}

/// Changes the leaf at `path` into something whose canonical form differs.
fn mutate(value: &mut Value, path: &[PathStep]) {
    let mut at = value;
    for step in path {
        at = match step {
            PathStep::Index(i) => &mut at[*i],
            PathStep::Key(k) => at.get_mut(k).unwrap(),
        };
    }
    *at = match at.take() {
        Value::Null => Value::Bool(false),
        Value::Bool(b) => Value::Bool(!b),
        Value::Number(n) => Value::String(n.to_string()),
        Value::String(s) => Value::String(s + "x"),
        Value::Array(_) => Value::Array(vec![Value::Null]),
        Value::Object(_) => Value::Object(Map::from_iter([("k".to_owned(), Value::Null)])),
    };
}

/// `jws` with one bit of its decoded signature flipped.
fn flip_signature_bit(jws: &str, byte: Index, bit: u8) -> String {
    let (header, signature) = jws.split_once("..").unwrap();
    let mut signature = B64.decode(signature).unwrap();
    let i = byte.index(signature.len());
    signature[i] ^= 1 << (bit % 8);
    format!("{header}..{}", B64.encode(signature))
}

proptest! {
    #![proptest_config(crate::config())]

    #[test]
    fn canonical_is_deterministic_and_a_fixed_point(value in json()) {
        let bytes = canonical(&value).unwrap();
        prop_assert_eq!(&canonical(&value).unwrap(), &bytes);
        let text = std::str::from_utf8(&bytes).expect("canonical JSON is UTF-8");
        let reparsed: Value = serde_json::from_str(text).expect("canonical JSON parses");
        prop_assert_eq!(&canonical(&reparsed).unwrap(), &bytes, "{}", text);
    }

    #[test]
    fn canonical_ignores_key_order_and_serialisation(value in json()) {
        let bytes = canonical(&value).unwrap();
        prop_assert_eq!(&canonical(&reversed(&value)).unwrap(), &bytes);
        let pretty: Value = serde_json::from_str(&serde_json::to_string_pretty(&value).unwrap()).unwrap();
        prop_assert_eq!(&canonical(&pretty).unwrap(), &bytes);
    }

    #[test]
    fn a_receipt_verifies_after_re_serialisation(value in json()) {
        let bytes = signer().receipt(value.clone()).unwrap();
        let document: Value = serde_json::from_slice(&bytes).unwrap();
        prop_assert_eq!(verify(&document, &keys()), Ok(signer().jwk().kid.clone()));
        prop_assert_eq!(verify(&reversed(&document), &keys()), Ok(signer().jwk().kid.clone()));
    }

    #[test]
    fn an_object_carrying_its_own_signature_verifies(mut object in object_of(json())) {
        // An inbox entry: never just a `receipt` (that is the envelope's shape).
        object.remove("signature");
        prop_assume!(!(object.len() == 1 && object.contains_key("receipt")));
        let signature = signer().sign(&Value::Object(object.clone())).unwrap();
        object.insert("signature".to_owned(), Value::String(signature));
        let document = Value::Object(object);
        prop_assert_eq!(verify(&document, &keys()), Ok(signer().jwk().kid.clone()));
        let reparsed: Value = serde_json::from_str(&document.to_string()).unwrap();
        prop_assert_eq!(verify(&reversed(&reparsed), &keys()), Ok(signer().jwk().kid.clone()));
    }

    #[test]
    fn a_changed_leaf_fails_to_verify(value in json(), which in any::<Index>()) {
        let bytes = signer().receipt(value.clone()).unwrap();
        let mut document: Value = serde_json::from_slice(&bytes).unwrap();
        let mut paths = Vec::new();
        leaves(&document["receipt"], &mut Vec::new(), &mut paths);
        let path = &paths[which.index(paths.len())];
        mutate(&mut document["receipt"], path);
        prop_assert_ne!(
            canonical(&document["receipt"]).unwrap(),
            canonical(&value).unwrap()
        );
        prop_assert_eq!(verify(&document, &keys()), Err(VerifyError::Mismatch), "{:?}", path);
    }

    #[test]
    fn a_flipped_signature_bit_fails_to_verify(value in json(), byte in any::<Index>(), bit in 0u8..8) {
        let jws = signer().sign(&value).unwrap();
        prop_assert!(verify_detached(&jws, &value, &keys()).is_ok());
        let flipped = flip_signature_bit(&jws, byte, bit);
        prop_assert_eq!(verify_detached(&flipped, &value, &keys()), Err(VerifyError::Mismatch));
    }

    #[test]
    fn a_flipped_jws_byte_fails_to_verify(value in json(), byte in any::<Index>(), bit in 0u8..7) {
        let jws = signer().sign(&value).unwrap();
        let mut bytes = jws.clone().into_bytes();
        let i = byte.index(bytes.len());
        bytes[i] ^= 1 << bit;
        let Ok(flipped) = String::from_utf8(bytes) else {
            return Ok(());
        };
        prop_assert!(verify_detached(&flipped, &value, &keys()).is_err(), "{:?}", flipped);
    }
}

#[test]
fn an_inbox_entry_of_only_a_receipt_is_read_as_an_envelope() {
    // Documents the ambiguity the property above steps around: an object whose only other member
    // is `receipt` is taken for a receipt envelope, so its own signature is checked against the
    // `receipt` member alone. Inbox entries always carry `cursor`, `kind`, … so this cannot arise
    // from the gateway, but `verify` cannot tell the two shapes apart.
    let mut entry = Map::from_iter([("receipt".to_owned(), Value::from(1))]);
    let signature = signer().sign(&Value::Object(entry.clone())).unwrap();
    entry.insert("signature".to_owned(), Value::String(signature));
    assert_eq!(
        verify(&Value::Object(entry), &keys()),
        Err(VerifyError::Mismatch)
    );
}
