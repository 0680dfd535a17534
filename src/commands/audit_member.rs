//! A member's side of audit transparency: `audit checkpoint` (fetch a signed checkpoint and
//! keep it), `audit check` (does a newer checkpoint extend an older one?) and `audit prove`
//! (is a receipt's event in the tree of a checkpoint?). They speak to a running gateway as a
//! member, over mutual TLS, and trust it for nothing: every checkpoint's signature is checked
//! against the gateway's keys, and every proof with `merkle.rs`'s own verifier against the
//! roots of the member's own checkpoints. With `--proof FILE` (a proof saved earlier) and
//! `--keys JWKS` they need no gateway at all.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use serde_json::Value;

use crate::checkpoint::{hashes, Checkpoint};
use crate::config::{ConfigSource, Settings};
use crate::documents::{Documents, Kind};
use crate::merkle;
use crate::receipts::{Jwk, JwkSet};
use crate::store::tree::leaf_of;

/// How to reach the gateway as a member, and with which keys to check what it signed.
#[derive(Debug, Args)]
pub struct Connection {
    /// The gateway's base URL; default: https:// and the configured listen address.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Speak as this member with its development certificate (certs/members/ID.crt and .key
    /// beside the configured tls.cert); a real member passes --cert and --key instead.
    #[arg(long, value_name = "ID")]
    pub member: Option<String>,
    /// The member's client certificate (chain), PEM.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The private key of --cert, PEM (PKCS#8).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// The CA certificate(s) the gateway's server certificate chains to, PEM; default: the
    /// configured tls.client_ca (the development CA issues both).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// The gateway's keys, a JWK Set saved from GET /v1/keys; default: fetched from the gateway.
    #[arg(long, value_name = "JWKS_FILE")]
    pub keys: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// A member's HTTPS client to the gateway.
struct Client {
    http: reqwest::Client,
    base: String,
}

impl Connection {
    fn client(&self) -> anyhow::Result<Client> {
        let settings = Settings::load(&ConfigSource::from_arg(self.config.clone()))?;
        let (cert, key) = match (&self.cert, &self.key, &self.member) {
            (Some(cert), Some(key), _) => (cert.clone(), key.clone()),
            (_, _, Some(member)) => crate::pki::member_cert_paths(&settings, member),
            _ => anyhow::bail!(
                "say who you are: --member ID (a development certificate) or --cert FILE --key FILE"
            ),
        };
        let ca = self.ca.clone().unwrap_or(settings.tls.client_ca.clone());
        let http = super::member_client::https_client(&ca, (&cert, &key), || {
            format!("cannot use the certificate {}", cert.display())
        })?;
        let base = match &self.url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!(
                "https://{}",
                super::member_client::loopback_for(settings.gateway.listen)
            ),
        };
        Ok(Client { http, base })
    }

    /// The keys to check signatures with: --keys, or the gateway's.
    async fn keys(&self, client: &mut Option<Client>) -> anyhow::Result<Vec<Jwk>> {
        if let Some(path) = &self.keys {
            let text = std::fs::read(path)
                .with_context(|| format!("cannot read the keys {}", path.display()))?;
            let set: JwkSet = serde_json::from_slice(&text)
                .with_context(|| format!("{} is not a JWK Set", path.display()))?;
            return Ok(set.keys);
        }
        let set = self.get(client, "/v1/keys").await?;
        Ok(serde_json::from_value::<JwkSet>(set)
            .context("the gateway's keys are not a JWK Set")?
            .keys)
    }

    async fn get(&self, client: &mut Option<Client>, path: &str) -> anyhow::Result<Value> {
        if client.is_none() {
            *client = Some(self.client()?);
        }
        let Some(client) = client.as_ref() else {
            anyhow::bail!("no client");
        };
        let url = format!("{}{path}", client.base);
        let response = client
            .http
            .get(&url)
            .send()
            .await
            .with_context(|| format!("cannot reach the gateway at {}", client.base))?;
        let status = response.status();
        let body = response.bytes().await.context("cannot read the answer")?;
        if !status.is_success() {
            let detail = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|p| p["detail"].as_str().map(str::to_owned))
                .unwrap_or_default();
            anyhow::bail!("GET {path} answered {status}: {detail}");
        }
        serde_json::from_slice(&body).with_context(|| format!("GET {path} did not answer JSON"))
    }
}

/// Prints why it failed and gives exit status 1.
fn fail(why: impl std::fmt::Display) -> ExitCode {
    println!("FAILED: {why}");
    ExitCode::FAILURE
}

/// A checkpoint file, read strictly, its signature checked.
fn read_checkpoint(path: &Path, keys: &[Jwk]) -> anyhow::Result<Result<Checkpoint, String>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let document = match Documents::compile()?.read(&bytes) {
        Ok(d) if d.kind() == Kind::Checkpoint => d,
        Ok(d) => {
            return Ok(Err(format!(
                "{} is {}, not a checkpoint",
                path.display(),
                d.kind()
            )))
        }
        Err(e) => return Ok(Err(format!("{}: {e}", path.display()))),
    };
    let checkpoint = match Checkpoint::from_value(document.document()) {
        Ok(c) => c,
        Err(e) => return Ok(Err(format!("{}: {e}", path.display()))),
    };
    Ok(match checkpoint.verify(keys) {
        Ok(_) => Ok(checkpoint),
        Err(e) => Err(format!("{}: {e}", path.display())),
    })
}

/// A saved proof: JSON from a file.
fn read_proof(path: &Path) -> anyhow::Result<Value> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    crate::json::parse_strict(&bytes)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{} is not JSON", path.display()))
}

/// `audit checkpoint`: fetches the gateway's checkpoint, checks its signature, writes it.
pub async fn checkpoint(conn: &Connection, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let mut client = None;
    let keys = conn.keys(&mut client).await?;
    let value = conn.get(&mut client, "/v1/audit/checkpoint").await?;
    let checkpoint = match Checkpoint::from_value(&value) {
        Ok(c) => c,
        Err(e) => return Ok(fail(format!("the gateway's checkpoint: {e}"))),
    };
    if let Err(e) = checkpoint.verify(&keys) {
        return Ok(fail(format!("the gateway's checkpoint: {e}")));
    }
    let text = serde_json::to_string_pretty(&value)? + "\n";
    match out {
        Some(path) => {
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "checkpoint of {} events saved to {}",
                checkpoint.size,
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `audit check`: whether `new` extends `old`, by the consistency proof between them.
pub async fn check(
    conn: &Connection,
    (old, new): (&Path, &Path),
    proof: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let mut client = None;
    let keys = conn.keys(&mut client).await?;
    let old = match read_checkpoint(old, &keys)? {
        Ok(c) => c,
        Err(e) => return Ok(fail(e)),
    };
    let new = match read_checkpoint(new, &keys)? {
        Ok(c) => c,
        Err(e) => return Ok(fail(e)),
    };
    if new.size < old.size {
        return Ok(fail(format!(
            "the new checkpoint has {} events, the old one {}: events were removed",
            new.size, old.size
        )));
    }
    let hashes_of = if old.size == 0 || old.size == new.size {
        Vec::new()
    } else {
        let answer = match proof {
            Some(path) => read_proof(path)?,
            None => {
                let path = format!("/v1/audit/consistency?from={}&to={}", old.size, new.size);
                conn.get(&mut client, &path).await?
            }
        };
        if answer["from"] != old.size || answer["to"] != new.size {
            return Ok(fail(format!(
                "the proof is not between sizes {} and {}",
                old.size, new.size
            )));
        }
        match hashes(&answer["proof"]) {
            Ok(h) => h,
            Err(e) => return Ok(fail(format!("the consistency proof: {e}"))),
        }
    };
    match merkle::verify_consistency((old.size, &old.root), (new.size, &new.root), &hashes_of) {
        Ok(()) => {
            println!(
                "consistent: the log of {} events (at {}) extends the log of {} events (at {})",
                new.size, new.at, old.size, old.at
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(fail(format!(
            "the new checkpoint does not extend the old one: {e} (the history before event {} \
             was rewritten, or the proof is false)",
            old.size
        ))),
    }
}

/// `audit prove`: whether the event of a saved receipt is in the tree of a checkpoint.
pub async fn prove(
    conn: &Connection,
    (receipt, checkpoint): (&Path, &Path),
    proof: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let mut client = None;
    let keys = conn.keys(&mut client).await?;
    let bytes =
        std::fs::read(receipt).with_context(|| format!("cannot read {}", receipt.display()))?;
    let document = match Documents::compile()?.read(&bytes) {
        Ok(d) if matches!(d.kind(), Kind::Receipt(_)) => d,
        Ok(d) => return Ok(fail(format!("{} is {}", receipt.display(), d.kind()))),
        Err(e) => return Ok(fail(format!("{}: {e}", receipt.display()))),
    };
    if let Err(e) = document.verify(&keys) {
        return Ok(fail(format!("{}: {e}", receipt.display())));
    }
    let signed = document.payload();
    let Some(index) = signed["audit_index"].as_u64() else {
        return Ok(fail(format!(
            "{} has no audit_index: it was issued before receipts named their audit event",
            receipt.display()
        )));
    };
    let checkpoint = match read_checkpoint(checkpoint, &keys)? {
        Ok(c) => c,
        Err(e) => return Ok(fail(e)),
    };
    if index >= checkpoint.size {
        return Ok(fail(format!(
            "the checkpoint has {} events and the receipt's is event {index}: use a newer one",
            checkpoint.size
        )));
    }
    let answer = match proof {
        Some(path) => read_proof(path)?,
        None => {
            let path = format!("/v1/audit/proof?index={index}&size={}", checkpoint.size);
            conn.get(&mut client, &path).await?
        }
    };
    if answer["index"] != index || answer["size"] != checkpoint.size {
        return Ok(fail(format!(
            "the proof is not of event {index} in the tree of {} events",
            checkpoint.size
        )));
    }
    if let Err(e) = event_matches(&answer["event"], signed) {
        return Ok(fail(format!("the event is not the receipt's: {e}")));
    }
    let path = match hashes(&answer["proof"]) {
        Ok(h) => h,
        Err(e) => return Ok(fail(format!("the inclusion proof: {e}"))),
    };
    let leaf = leaf_of(&answer["event"]).map_err(anyhow::Error::new)?;
    match merkle::verify_inclusion(index, checkpoint.size, &leaf, &path, &checkpoint.root) {
        Ok(()) => {
            println!(
                "included: the receipt's event {index} is in the log of {} events signed at {}",
                checkpoint.size, checkpoint.at
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(fail(format!(
            "the receipt's event is not in the checkpoint's tree: {e}"
        ))),
    }
}

/// Whether `event` records what `receipt` acknowledges.
fn event_matches(event: &Value, receipt: &Value) -> Result<(), String> {
    let same = |e: &str, r: &str| {
        if event[e] == receipt[r] && !event[e].is_null() {
            Ok(())
        } else {
            Err(format!("its {e} is not the receipt's {r}"))
        }
    };
    match receipt["type"].as_str() {
        Some("report.accepted") => {
            (event["kind"] == "report.accepted")
                .then_some(())
                .ok_or("it is not a report's event")?;
            same("member", "member")?;
            same("report_id", "report_id")?;
            same("content_sha256", "content_sha256")?;
            same("at", "received_at")?;
            let ids = |v: &Value, key: &str| -> Vec<Value> {
                v[key]
                    .as_array()
                    .map(|items| items.iter().map(|i| i["item_id"].clone()).collect())
                    .unwrap_or_default()
            };
            (ids(event, "items") == ids(receipt, "items"))
                .then_some(())
                .ok_or_else(|| "its items are not the receipt's".to_owned())
        }
        Some("status.accepted") => {
            (event["kind"] == "status.changed")
                .then_some(())
                .ok_or("it is not a status change's event")?;
            same("by", "member")?;
            same("item_id", "item_id")?;
            same("to", "status")?;
            same("at", "at")
        }
        _ => Err("the receipt's type is unknown".to_owned()),
    }
}
