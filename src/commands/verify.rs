//! `verify`: check a saved receipt offline against a JWK Set or the configured signing key.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;

use crate::config::{ConfigSource, Settings};
use crate::receipts::{self, JwkSet, Signer};

/// Prints the verdict; `Ok(true)` if the document verifies.
pub fn run(file: &Path, keys: Option<&Path>, config: Option<PathBuf>) -> anyhow::Result<bool> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let document: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let keys = match keys {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the keys {}", path.display()))?;
            serde_json::from_str::<JwkSet>(&text)
                .with_context(|| format!("{} is not a JWK Set", path.display()))?
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
    match receipts::verify(&document, &keys) {
        Ok(kid) => {
            println!("valid: {} is signed by key {kid}", file.display());
            Ok(true)
        }
        Err(e) => {
            println!("INVALID: {}: {e}", file.display());
            Ok(false)
        }
    }
}
