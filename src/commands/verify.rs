//! `verify`: check a saved receipt or inbox entry against every key the gateway knows: those in
//! the configuration's store (and its signing key), a saved JWK Set (`--keys`), or the JWK Set a
//! running gateway publishes (`--url`). The document is read strictly first (`documents.rs`): a
//! key twice anywhere, or anything that is not exactly a receipt or an inbox entry, is refused
//! before any signature is looked at.

use std::path::PathBuf;

use anyhow::{bail, Context};

use crate::config::{Backend, ConfigSource, Settings};
use crate::documents::Documents;
use crate::receipts::{Jwk, JwkSet, Signer, VerifyError};
use crate::store::Store;

/// `hotline-gateway verify`'s arguments.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The receipt or inbox entry, a JSON file.
    pub file: PathBuf,
    /// Check against a saved JWK Set (as GET /v1/keys gives), not the configuration's keys.
    #[arg(long, value_name = "JWKS_FILE", conflicts_with = "url")]
    pub keys: Option<PathBuf>,
    /// Check against the keys a running gateway publishes: GET URL/v1/keys over mutual TLS,
    /// e.g. https://gateway.example:8443.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// With --url: the member whose certificate to present, found as `submit` finds it
    /// (certs/members/ID.crt and .key beside tls.client_ca).
    #[arg(long, value_name = "ID", requires = "url")]
    pub member: Option<String>,
    /// With --url: the client certificate to present (PEM), instead of --member's.
    #[arg(long, value_name = "FILE", requires_all = ["url", "key"])]
    pub cert: Option<PathBuf>,
    /// With --url: the private key of --cert (PEM).
    #[arg(long, value_name = "FILE", requires_all = ["url", "cert"])]
    pub key: Option<PathBuf>,
    /// With --url: the CA certificate(s) the gateway's server certificate chains to (PEM);
    /// default: the configuration's tls.client_ca.
    #[arg(long, value_name = "FILE", requires = "url")]
    pub ca: Option<PathBuf>,
    /// The configuration whose store and signing key hold the keys (default:
    /// config/default.toml, else the embedded default); with --url, where --member's
    /// certificate and the CA are found.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Prints the verdict; `Ok(true)` if the document is a receipt or an inbox entry and verifies.
pub async fn run(args: VerifyArgs) -> anyhow::Result<bool> {
    let file = &args.file;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let document = match Documents::compile()?.read(&bytes) {
        Ok(document) => document,
        Err(e) => {
            println!("INVALID: {}: {e}", file.display());
            return Ok(false);
        }
    };
    let (keys, caveat) = if let Some(path) = &args.keys {
        let text = std::fs::read(path)
            .with_context(|| format!("cannot read the keys {}", path.display()))?;
        (jwk_set(&text, &path.display().to_string())?, None)
    } else if let Some(url) = &args.url {
        (fetched(&args, url).await?, None)
    } else {
        configured(args.config.clone()).await?
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
            if let (VerifyError::UnknownKey(_), Some(caveat)) = (&e, caveat) {
                println!("{caveat}");
            }
            Ok(false)
        }
    }
}

/// A JWK Set from its bytes, read strictly; `what` names where they came from.
fn jwk_set(bytes: &[u8], what: &str) -> anyhow::Result<Vec<Jwk>> {
    let not_keys = || format!("{what} is not a JWK Set");
    let value = crate::json::parse_strict(bytes)
        .map_err(anyhow::Error::msg)
        .with_context(not_keys)?;
    Ok(serde_json::from_value::<JwkSet>(value)
        .with_context(not_keys)?
        .keys)
}

/// The keys of a configuration: its signing key's public half, and every key its store
/// recorded. When the store cannot be read, the signing key alone, and a caveat that says why
/// and what to do, printed if the document names another key.
async fn configured(config: Option<PathBuf>) -> anyhow::Result<(Vec<Jwk>, Option<String>)> {
    let settings = Settings::load(&ConfigSource::from_arg(config))?;
    let path = &settings.signing.key;
    if !path.exists() {
        bail!(
            "no signing key at {} (signing.key); pass the gateway's keys with --keys (a saved \
             GET /v1/keys) or --url URL --member ID",
            path.display()
        );
    }
    let current = Signer::load_or_create(path)?.jwk().clone();
    let dir = &settings.gateway.data_dir;
    if settings.store.backend == Backend::Sled && !crate::store::sled_store_exists(dir) {
        return Ok((vec![current], None));
    }
    let store = match Store::open_existing(&settings).await {
        Ok(store) => store,
        Err(e) => {
            let why = if crate::store::in_use(&e) {
                format!(
                    "the store in {} is in use by a running gateway (sled locks its directory)",
                    dir.display()
                )
            } else {
                format!("the store cannot be read ({e:#})")
            };
            let caveat = format!(
                "only the current key ({}) was tried: {why}. For a document signed by an older \
                 key, pass --keys keys.json (a saved GET /v1/keys) or --url https://HOST:PORT \
                 --member ID",
                path.display()
            );
            return Ok((vec![current], Some(caveat)));
        }
    };
    let keys = store.known_keys(&current).await;
    store.shut_down().await?;
    Ok((keys.context("cannot read the keys in the store")?, None))
}

/// `GET {url}/v1/keys` over mutual TLS, with `--cert`/`--key` or `--member`'s certificate.
async fn fetched(args: &VerifyArgs, url: &str) -> anyhow::Result<Vec<Jwk>> {
    let settings = || Settings::load(&ConfigSource::from_arg(args.config.clone()));
    let (cert, key) = match (&args.cert, &args.key, &args.member) {
        (Some(cert), Some(key), _) => (cert.clone(), key.clone()),
        (_, _, Some(member)) => crate::pki::member_cert_paths(&settings()?, member),
        _ => bail!("with --url, give --member ID or --cert FILE --key FILE"),
    };
    let ca = match &args.ca {
        Some(ca) => ca.clone(),
        None => settings()?.tls.client_ca,
    };
    let client = super::member_client::https_client(&ca, (&cert, &key), || {
        format!("cannot use the certificate {}", cert.display())
    })?;
    let keys_url = format!("{}/v1/keys", url.trim_end_matches('/'));
    let response = client
        .get(&keys_url)
        .send()
        .await
        .with_context(|| format!("cannot reach the gateway at {url}"))?;
    let status = response.status();
    let body = response.bytes().await.context("cannot read the answer")?;
    if !status.is_success() {
        bail!("GET {keys_url} answered {status}");
    }
    jwk_set(&body, &keys_url)
}
