//! The example report of the published documents, for the test binaries that `#[path]`-include
//! this file: `schema_docs` holds the examples of `schemas/` to it, `mail` notices one of its
//! items.

/// The body whose receipt is the first example of `receipt.schema.json`
/// (`report.schema.json` carries no examples of its own).
pub const EXAMPLE_REPORT: &str = r#"{
  "report_id": "FR-2026-000123",
  "reported_at": "2026-11-22T09:58:41Z",
  "items": [
    {
      "url": "https://files.example.nl/a/b.jpg",
      "category": "csam",
      "content_kind": "image",
      "classification": "baseline",
      "hosting": { "ip": "192.0.2.10", "country": "NL", "asn": 64500 },
      "hashes": {
        "sha256": "bc628b1b449d889f9a84e161ef2c4b775287f3151d7428bd0c40c5de64886f9f",
        "md5": "9f1fb74450a5809902ebf8bd140116b1"
      }
    },
    {
      "url": "https://www.example.fr/galerie/2231",
      "category": "csam",
      "content_kind": "webpage",
      "classification": "baseline",
      "hosting": { "country": "FR" }
    },
    {
      "url": "http://203.0.113.7:8080/dl/set-17.zip",
      "category": "csam",
      "content_kind": "archive",
      "classification": "baseline",
      "note": "Hosting could not be established: the address does not answer WHOIS."
    },
    {
      "url": "https://video.example.de/v/88412.mp4",
      "category": "csam",
      "content_kind": "video",
      "classification": "baseline",
      "hosting": { "country": "DE", "asn": 64511 }
    }
  ]
}"#;
