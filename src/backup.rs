//! `store backup` while the gateway serves: the running gateway, which holds the embedded
//! store (sled locks its directory, so no other process can open it), copies it at one point
//! in time into a new sled store in a directory the operator names (`store::copy::backup`),
//! when asked on its admin listener.
//!
//! Who may ask: only a caller on this machine (the admin listener may face a network, for
//! Prometheus) that can read the data directory, where the gateway writes a fresh random
//! token at each start (`backup.token`, 0600): the gateway's user or root, who could read the
//! store anyway. The token never leaves the machine and is compared in constant time.
//!
//! Invariants: the backup is a whole store at one instant (the writer is held while it is
//! read): every report with its items, receipts, inbox entries and audit events, the audit
//! chain verifying; it is written only into a directory that is new or empty, and one backup
//! runs at a time. A backup that stops halfway is marked unfinished (as a failed `store copy`)
//! and refused by a gateway.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{anyhow, bail, Context};
use ring::rand::SecureRandom;

use crate::config::{Backend, Settings};
use crate::store::copy::{self, Copied};
use crate::store::Store;
use crate::{file_modes, receipts::Signer};

/// The token's file in the data directory.
pub const TOKEN_FILE: &str = "backup.token";

/// Writes a new random token into the data directory (readable by the gateway's user only);
/// returns it.
pub fn write_token(data_dir: &Path) -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow!("no randomness for the backup token"))?;
    let token = hex::encode(bytes);
    let path = data_dir.join(TOKEN_FILE);
    let _ = std::fs::remove_file(&path);
    crate::pki::write_private(&path, token.as_bytes())?;
    Ok(token)
}

/// Reads the token a running gateway wrote into `data_dir`.
pub fn read_token(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join(TOKEN_FILE);
    let token = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {} (is the gateway running? run this as the gateway's user, e.g. \
             sudo -u hotline-gateway, or as root)",
            path.display()
        )
    })?;
    Ok(token.trim().to_owned())
}

/// Whether `given` is the token. Their SHA-256 digests are compared, so the time taken says
/// nothing of where `given` differs from the token.
pub fn token_matches(token: &str, given: &str) -> bool {
    let digest = |text: &str| ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    digest(token).as_ref() == digest(given).as_ref()
}

/// One backup at a time.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// Copies `store` at one point in time into a new sled store in `to` (new or empty). `settings`
/// are the running gateway's (the target's store settings follow them).
pub async fn run(
    settings: &Settings,
    store: &Store,
    signer: &std::sync::Arc<Signer>,
    to: &Path,
) -> anyhow::Result<Copied> {
    if settings.store.backend != Backend::Sled {
        bail!(
            "this gateway's store is PostgreSQL: back it up with pg_dump (see \
             docs/OPERATING.md), not with store backup"
        );
    }
    if !to.is_absolute() {
        bail!("the backup directory must be an absolute path");
    }
    if RUNNING.swap(true, Ordering::SeqCst) {
        bail!("a backup is already running");
    }
    let result = copy_into(settings, store, signer, to).await;
    RUNNING.store(false, Ordering::SeqCst);
    result
}

async fn copy_into(
    settings: &Settings,
    store: &Store,
    signer: &std::sync::Arc<Signer>,
    to: &Path,
) -> anyhow::Result<Copied> {
    let ours = std::path::absolute(&settings.gateway.data_dir)?;
    if to.starts_with(&ours) || ours.starts_with(to) {
        bail!("the backup directory must be outside the data directory");
    }
    if std::fs::read_dir(to).is_ok_and(|mut entries| entries.next().is_some()) {
        bail!(
            "{} is not empty: back up into a new directory",
            to.display()
        );
    }
    file_modes::create_data_dir(to)
        .with_context(|| format!("cannot create the backup directory {}", to.display()))?;
    let mut target = settings.clone();
    target.gateway.data_dir = PathBuf::from(to);
    let backup = Store::open(&target)
        .await
        .with_context(|| format!("cannot make a store in {}", to.display()))?;
    let copied = copy::backup(store, &backup, Some(std::sync::Arc::clone(signer))).await;
    let closed = backup.shut_down().await;
    let copied = copied.context("the backup stopped; remove its directory and back up again")?;
    closed.context("cannot close the backup store")?;
    Ok(copied)
}
