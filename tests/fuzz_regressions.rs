//! The fuzz targets' checks without cargo-fuzz: every input a fuzzer crashed on
//! (`fuzz/regressions/<target>/`) and every seed (`fuzz/corpus/<target>/`) through the same
//! functions the targets call (`fuzz/src/lib.rs`, compiled in here as a module), so a fixed
//! crash stays fixed under a plain `cargo test`.

#[path = "../fuzz/src/lib.rs"]
mod checks;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

const FUZZ_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz");

/// The files of `fuzz/<folder>/<target>/`, sorted; none if the folder does not exist.
fn inputs(folder: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(FUZZ_DIR).join(folder).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every seed and regression input of `target` through `check`; fails naming each input
/// whose check panicked.
fn run(target: &str, check: fn(&[u8])) {
    let seeds = inputs("corpus", target);
    assert!(!seeds.is_empty(), "fuzz/corpus/{target}/ has no seeds");
    let mut failed = Vec::new();
    for path in seeds.iter().chain(&inputs("regressions", target)) {
        let data = std::fs::read(path).unwrap();
        if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(failed.is_empty(), "{target}: checks fail on {failed:#?}");
}

#[test]
fn report() {
    run("report", checks::report);
}

#[test]
fn url() {
    run("url", checks::url);
}

#[test]
fn receipt() {
    run("receipt", checks::receipt);
}

#[test]
fn geoip_csv() {
    run("geoip_csv", checks::geoip_csv);
}

#[test]
fn config() {
    run("config", checks::config);
}

/// The seeds of `fuzz/corpus/receipt/` whose names start with `prefix`.
fn receipt_seeds(prefix: &str) -> Vec<PathBuf> {
    let seeds: Vec<PathBuf> = inputs("corpus", "receipt")
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .collect();
    assert!(!seeds.is_empty(), "no {prefix}* seeds");
    seeds
}

/// The seed receipts are real: signed by the fuzzing test key, as `write_receipt_seeds` made
/// them, so the `receipt` target starts from documents that verify as `verify FILE` reads
/// them. The forged seeds carry a genuine signature too, but are not what they look like:
/// `verify FILE` refuses them (where a signature check alone would not).
#[test]
fn signed_receipt_seeds_verify_with_the_test_key_and_forged_ones_are_refused() {
    let keys = [checks::test_jwk()];
    let documents = hotline_gateway::documents::Documents::compile().unwrap();
    for path in receipt_seeds("signed-") {
        let read = documents.read(&std::fs::read(&path).unwrap());
        let verdict = read.map(|document| document.verify(&keys));
        assert!(
            matches!(verdict, Ok(Ok(_))),
            "{}: {verdict:?}",
            path.display()
        );
    }
    for path in receipt_seeds("forged-") {
        let bytes = std::fs::read(&path).unwrap();
        let lax: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert!(hotline_gateway::receipts::verify(&lax, &keys).is_ok());
        let read = documents.read(&bytes);
        assert!(read.is_err(), "{}: read as {:?}", path.display(), read);
    }
}

/// Writes the signed seeds of `fuzz/corpus/receipt/`:
/// `cargo test --test fuzz_regressions -- --ignored write_receipt_seeds`.
#[test]
#[ignore = "writes the seed corpus; run by hand when the receipt format changes"]
fn write_receipt_seeds() {
    use serde_json::json;
    let signer = checks::test_signer();
    let dir = Path::new(FUZZ_DIR).join("corpus/receipt");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, bytes: Vec<u8>| std::fs::write(dir.join(name), bytes).unwrap();

    let accepted = json!({
        "type": "report.accepted",
        "gateway": "gateway.example",
        "member": "hotline-fr",
        "report_id": "FR-2026-000123",
        "content_sha256": "5d0f6b3a4c1e2f8d9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f",
        "received_at": "2026-11-22T10:00:00.123Z",
        "items": [
            {"item_id": "0193a4b2-7c1d-7e2f-8a9b-0c1d2e3f4a5b", "url": "https://files.example.nl/a/b.jpg",
             "hosting_country": "NL", "basis": "sender", "status": "routed",
             "routed_to": ["hotline-nl", "police-nl"]},
            {"item_id": "0193a4b2-7c1d-7e2f-8a9b-0c1d2e3f4a5c", "url": "https://Files.Example.NL:443/a/b.jpg#x",
             "hosting_country": "NL", "basis": "geoip", "status": "duplicate", "routed_to": [],
             "duplicate_of": "0193a4b2-7c1d-7e2f-8a9b-0c1d2e3f4a5b"},
            {"item_id": "0193a4b2-7c1d-7e2f-8a9b-0c1d2e3f4a5d", "url": "http://example.org/é?q=1",
             "hosting_country": null, "basis": "none", "status": "unroutable", "routed_to": []}
        ]
    });
    write(
        "signed-report-accepted.json",
        signer.receipt(accepted).unwrap(),
    );
    let status = json!({
        "type": "status.accepted",
        "gateway": "gateway.example",
        "member": "hoster-nl",
        "item_id": "0193a4b2-7c1d-7e2f-8a9b-0c1d2e3f4a5b",
        "status": "removed",
        "at": "2026-11-23T08:30:00.000Z",
    });
    write(
        "signed-status-accepted.json",
        signer.receipt(status.clone()).unwrap(),
    );
    // An inbox entry carries its own signature over the rest of it.
    let mut entry = json!({
        "cursor": "7",
        "kind": "referral",
        "at": "2026-11-22T10:00:00.123Z",
        "by": "gateway.example",
        "item": {
            "item_id": "0193a4b2-7c1d-7e2f-8a9b-0c1d2e3f4a5b", "url": "https://files.example.nl/a/b.jpg",
            "category": "csam", "content_kind": "image", "classification": "baseline",
            "hosting": {"ip": "192.0.2.10", "country": "NL", "asn": 64500},
            "hashes": {"md5": "0123456789abcdef0123456789abcdef"},
            "hosting_country": "NL", "from": "hotline-fr", "status": "routed"
        }
    });
    entry["signature"] = json!(signer.sign(&entry).unwrap());
    write(
        "signed-inbox-entry.json",
        serde_json::to_vec(&entry).unwrap(),
    );

    // Genuine signatures on documents that are not what they look like (`verify` refuses
    // them): a key twice, an inbox entry wrapped as a receipt, a receipt flattened.
    let receipt = String::from_utf8(signer.receipt(status.clone()).unwrap()).unwrap();
    let repeated = receipt.replacen(
        r#""member":"hoster-nl""#,
        r#""member":"hotline-de","member":"hoster-nl""#,
        1,
    );
    write("forged-repeated-key.json", repeated.into_bytes());
    let mut unsigned = entry.clone();
    let signature = unsigned.as_object_mut().unwrap().remove("signature");
    let wrapped = json!({"receipt": unsigned, "signature": signature});
    write(
        "forged-entry-as-receipt.json",
        serde_json::to_vec(&wrapped).unwrap(),
    );
    let mut flat = status;
    flat["signature"] = json!(signer.sign(&flat).unwrap());
    write(
        "forged-flattened-receipt.json",
        serde_json::to_vec(&flat).unwrap(),
    );
    let keys = json!({ "keys": [checks::test_jwk()] });
    write("keys.json", serde_json::to_vec(&keys).unwrap());
}
