//! Saved signed documents as `verify` reads them: a receipt, an inbox entry or an audit
//! checkpoint, told apart by shape and type before any signature is checked.
//!
//! Why: a signature covers the canonical form of one object and says nothing of what that
//! object is. An inbox entry is signed over itself without its `signature`, so the same
//! signature moved beside it as `{"receipt": entry, "signature": ...}` verifies as well; so does
//! a receipt flattened into one object that carries its own `signature`; and a receipt with
//! `"member"` twice verifies for serde_json (the last value wins) while another parser reads the
//! first. A document is therefore read strictly (`json::parse_strict`: a key twice in
//! any object is refused), must be exactly one of the two things the gateway signs, and valid
//! against that thing's published schema; only then is its signature checked.
//!
//! - A receipt is exactly `{"receipt": {...}, "signature": "..."}`, its `receipt.type`
//!   `report.accepted` or `status.accepted`, valid against `schemas/receipt.schema.json`.
//! - An inbox entry is one object with no `receipt`, its `kind` `referral`, `notice` or
//!   `status`, valid against `schemas/inbox-entry.schema.json` (its `signature` included).
//! - An audit checkpoint is one object with a `root` and neither `receipt` nor `kind`, valid
//!   against `schemas/checkpoint.schema.json`; signed over itself without its `signature`.

use std::fmt;

use serde_json::{Map, Value};

use crate::receipts::{verify_detached, Jwk, VerifyError};

/// The published schemas of what the gateway signs.
pub const RECEIPT_SCHEMA: &str = include_str!("../schemas/receipt.schema.json");
pub const INBOX_ENTRY_SCHEMA: &str = include_str!("../schemas/inbox-entry.schema.json");
pub const CHECKPOINT_SCHEMA: &str = include_str!("../schemas/checkpoint.schema.json");

/// At most this many schema errors are told for one document.
const MAX_ERRORS: usize = 3;

/// The receipt types and inbox entry kinds the gateway signs (a receipt type's definition in
/// `receipt.schema.json` is its name with `_` for `.`).
const RECEIPT_TYPES: [&str; 2] = ["report.accepted", "status.accepted"];
const ENTRY_KINDS: [&str; 3] = ["referral", "notice", "status"];

/// What a document is not, and why it is refused before its signature is looked at.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DocumentError {
    #[error("not JSON that reads one way: {0}")]
    NotJson(String),
    #[error("not a receipt: {0}")]
    NotAReceipt(String),
    #[error("not an inbox entry: {0}")]
    NotAnInboxEntry(String),
    #[error("not an audit checkpoint: {0}")]
    NotACheckpoint(String),
    #[error(
        "neither a receipt nor an inbox entry: a receipt is exactly \
         {{\"receipt\": {{...}}, \"signature\": \"...\"}}, an inbox entry one object with a \
         \"kind\" and its own \"signature\"; {0}"
    )]
    Neither(String),
}

/// Which signed thing a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A receipt, with its `type` (`report.accepted` or `status.accepted`).
    Receipt(&'static str),
    /// An inbox entry, with its `kind` (`referral`, `notice` or `status`).
    InboxEntry(&'static str),
    /// A checkpoint of the audit log (`GET /v1/audit/checkpoint`).
    Checkpoint,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Receipt(kind) => write!(f, "a {kind} receipt"),
            Kind::InboxEntry(kind) => write!(f, "an inbox entry ({kind})"),
            Kind::Checkpoint => write!(f, "an audit checkpoint"),
        }
    }
}

/// A document known to be a receipt or an inbox entry, its signature not yet checked.
///
/// Invariant: it was read strictly, has exactly the shape of its [`Kind`] and is valid against
/// that kind's schema; `payload` is what its signature must cover (the receipt, or the entry
/// without its `signature`).
#[derive(Debug)]
pub struct SignedDocument {
    kind: Kind,
    payload: Value,
    signature: String,
    document: Value,
}

impl SignedDocument {
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// What the signature covers: the receipt, or the object without its `signature`.
    pub fn payload(&self) -> &Value {
        &self.payload
    }

    /// The whole document as read.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Checks the signature against `keys`; returns the `kid` that signed it.
    pub fn verify(&self, keys: &[Jwk]) -> Result<String, VerifyError> {
        verify_detached(&self.signature, &self.payload, keys)
    }
}

/// The compiled schemas of what the gateway signs; reads documents.
pub struct Documents {
    /// `receipt.schema.json` once per receipt type, its `receipt` narrowed to that type's
    /// definition: the type is known before the schema is asked, and the schema's `oneOf` of
    /// both would only say that neither fits.
    receipts: [jsonschema::Validator; 2],
    entry: jsonschema::Validator,
    checkpoint: jsonschema::Validator,
}

/// `receipt.schema.json` for receipts of type `kind` alone.
fn receipt_schema(kind: &str) -> anyhow::Result<jsonschema::Validator> {
    let name = "receipt.schema.json";
    let mut schema: Value = serde_json::from_str(RECEIPT_SCHEMA)
        .map_err(|e| anyhow::anyhow!("{name} is not JSON: {e}"))?;
    let definition = format!("#/$defs/{}", kind.replace('.', "_"));
    schema["properties"]["receipt"] = serde_json::json!({ "$ref": definition });
    crate::schemas::compile_value(name, &schema)
}

impl Documents {
    pub fn compile() -> anyhow::Result<Documents> {
        let entry: Value = serde_json::from_str(INBOX_ENTRY_SCHEMA)
            .map_err(|e| anyhow::anyhow!("inbox-entry.schema.json is not JSON: {e}"))?;
        Ok(Documents {
            receipts: [
                receipt_schema(RECEIPT_TYPES[0])?,
                receipt_schema(RECEIPT_TYPES[1])?,
            ],
            entry: crate::schemas::compile_value("inbox-entry.schema.json", &entry)?,
            checkpoint: crate::schemas::compile_value(
                "checkpoint.schema.json",
                &serde_json::from_str(CHECKPOINT_SCHEMA)
                    .map_err(|e| anyhow::anyhow!("checkpoint.schema.json is not JSON: {e}"))?,
            )?,
        })
    }

    /// Reads `bytes` as a receipt or an inbox entry, or says what it is not.
    pub fn read(&self, bytes: &[u8]) -> Result<SignedDocument, DocumentError> {
        let document = crate::json::parse_strict(bytes).map_err(DocumentError::NotJson)?;
        let Value::Object(object) = &document else {
            return Err(DocumentError::Neither(format!(
                "this is {}, not an object",
                json_type(&document)
            )));
        };
        if object.contains_key("receipt") {
            self.receipt(object, &document)
        } else if object.contains_key("root") && !object.contains_key("kind") {
            self.checkpoint(object, &document)
        } else {
            self.entry(object, &document)
        }
    }

    fn checkpoint(
        &self,
        object: &Map<String, Value>,
        document: &Value,
    ) -> Result<SignedDocument, DocumentError> {
        let not = DocumentError::NotACheckpoint;
        schema_errors(&self.checkpoint, document).map_err(not)?;
        let mut payload = object.clone();
        let signature = match payload.remove("signature") {
            Some(Value::String(signature)) => signature,
            // The schema requires a signature string; never reached.
            _ => return Err(not("it has no \"signature\" string".to_owned())),
        };
        Ok(SignedDocument {
            kind: Kind::Checkpoint,
            payload: Value::Object(payload),
            signature,
            document: document.clone(),
        })
    }

    fn receipt(
        &self,
        object: &Map<String, Value>,
        document: &Value,
    ) -> Result<SignedDocument, DocumentError> {
        let not = DocumentError::NotAReceipt;
        let others: Vec<String> = object
            .keys()
            .filter(|key| !matches!(key.as_str(), "receipt" | "signature"))
            .map(|key| format!("{key:?}"))
            .take(3)
            .collect();
        if !others.is_empty() {
            return Err(not(format!(
                "a receipt is exactly {{\"receipt\": {{...}}, \"signature\": \"...\"}}, and this \
                 one also has {}",
                others.join(", ")
            )));
        }
        let Some(receipt) = object.get("receipt").and_then(Value::as_object) else {
            return Err(not("its \"receipt\" is not an object".to_owned()));
        };
        let Some(signature) = object.get("signature").and_then(Value::as_str) else {
            return Err(not("it has no \"signature\" string".to_owned()));
        };
        let Some(which) = position(receipt.get("type"), &RECEIPT_TYPES) else {
            let held = if receipt.contains_key("kind") {
                " (what it holds has a \"kind\", as an inbox entry has: an entry is signed as \
                 one object carrying its own \"signature\", never as a receipt)"
            } else {
                ""
            };
            return Err(not(format!(
                "its receipt's \"type\" is not \"report.accepted\" or \"status.accepted\"{held}"
            )));
        };
        schema_errors(&self.receipts[which], document).map_err(not)?;
        Ok(SignedDocument {
            kind: Kind::Receipt(RECEIPT_TYPES[which]),
            payload: Value::Object(receipt.clone()),
            signature: signature.to_owned(),
            document: document.clone(),
        })
    }

    fn entry(
        &self,
        object: &Map<String, Value>,
        document: &Value,
    ) -> Result<SignedDocument, DocumentError> {
        let not = DocumentError::NotAnInboxEntry;
        if !object.contains_key("kind") {
            return Err(DocumentError::Neither(if object.contains_key("type") {
                "this one is a single object with a \"type\", as if a receipt had been \
                 flattened: a receipt keeps its fields under \"receipt\""
                    .to_owned()
            } else {
                "this one has neither a \"receipt\" nor a \"kind\"".to_owned()
            }));
        }
        let Some(which) = position(object.get("kind"), &ENTRY_KINDS) else {
            return Err(not(
                "its \"kind\" is not \"referral\", \"notice\" or \"status\"".to_owned(),
            ));
        };
        schema_errors(&self.entry, document).map_err(not)?;
        let mut payload = object.clone();
        let signature = match payload.remove("signature") {
            Some(Value::String(signature)) => signature,
            // The schema requires a signature string; never reached.
            _ => return Err(not("it has no \"signature\" string".to_owned())),
        };
        Ok(SignedDocument {
            kind: Kind::InboxEntry(ENTRY_KINDS[which]),
            payload: Value::Object(payload),
            signature,
            document: document.clone(),
        })
    }
}

/// Where `value` is in `allowed`, if it is a string there.
fn position(value: Option<&Value>, allowed: &[&str]) -> Option<usize> {
    let value = value?.as_str()?;
    allowed.iter().position(|&a| a == value)
}

/// The first few reasons `document` fails `schema`, each at its JSON Pointer.
fn schema_errors(schema: &jsonschema::Validator, document: &Value) -> Result<(), String> {
    let errors: Vec<String> = schema
        .iter_errors(document)
        .take(MAX_ERRORS)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { "/".to_owned() } else { at };
            format!("at {at}: {}", e.masked())
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
