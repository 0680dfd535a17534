//! `verify`: check a saved receipt or inbox entry offline against a JWK Set or the configured
//! signing key. The document is read strictly first (`documents.rs`): a key twice anywhere,
//! or anything that is not exactly a receipt or an inbox entry, is refused before any
//! signature is looked at.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::config::{ConfigSource, Settings};
use crate::documents::Documents;
use crate::receipts::{JwkSet, Signer};

/// Prints the verdict; `Ok(true)` if the document is a receipt or an inbox entry and verifies.
pub fn run(file: &Path, keys: Option<&Path>, config: Option<PathBuf>) -> anyhow::Result<bool> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let document = match Documents::compile()?.read(&bytes) {
        Ok(document) => document,
        Err(e) => {
            println!("INVALID: {}: {e}", file.display());
            return Ok(false);
        }
    };
    let keys = match keys {
        Some(path) => {
            let text = std::fs::read(path)
                .with_context(|| format!("cannot read the keys {}", path.display()))?;
            let not_keys = || format!("{} is not a JWK Set", path.display());
            let value = crate::json::parse_strict(&text)
                .map_err(anyhow::Error::msg)
                .with_context(not_keys)?;
            serde_json::from_value::<JwkSet>(value)
                .with_context(not_keys)?
                .keys
        }
        None => {
            let settings = Settings::load(&ConfigSource::from_arg(config))?;
            let path = &settings.signing.key;
            if !path.exists() {
                anyhow::bail!(
                    "no --keys given and no signing key at {}; pass the gateway's keys \
                     (GET /v1/keys) with --keys",
                    path.display()
                );
            }
            vec![Signer::load_or_create(path)?.jwk().clone()]
        }
    };
    match document.verify(&keys) {
        Ok(kid) => {
            println!(
                "valid: {} is {}, signed by key {kid}",
                file.display(),
                document.kind()
            );
            Ok(true)
        }
        Err(e) => {
            println!("INVALID: {}: {}, but {e}", file.display(), document.kind());
            Ok(false)
        }
    }
}
