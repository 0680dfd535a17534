//! `keys rotate`: a new receipt signing key, the old one kept and still published; and the
//! running gateway's side of it, which puts the new key in force on SIGHUP.
//!
//! Invariants: at every instant `signing.key` is a whole key, the old or the new (the new one is
//! written beside it, synced, then renamed over it); the old key's file is kept beside it,
//! named with its kid, before the new one replaces it; a key is recorded in the store (so
//! `GET /v1/keys` lists it, for good) before any receipt is signed with it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, Context};
use ring::signature::Ed25519KeyPair;

use crate::config::{Backend, Settings};
use crate::receipts::{Jwk, Signer};
use crate::state::AppState;
use crate::store::Store;

/// Makes a new signing key at `signing.key`, keeps the old file beside it as
/// `<name>.<kid>.<extension>`, and records both public keys in the store when it can be opened.
pub async fn rotate(settings: &Settings) -> anyhow::Result<ExitCode> {
    crate::file_modes::restrict_new_files();
    crate::file_modes::check_private_keys(settings)?;
    let path = &settings.signing.key;
    let old = if path.exists() {
        Some(Signer::load_or_create(path)?)
    } else {
        None
    };
    let next = sibling(path, "next");
    let _ = std::fs::remove_file(&next);
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
        .map_err(|_| anyhow!("cannot generate an Ed25519 key"))?;
    let new = Signer::from_pkcs8(pkcs8.as_ref())?;
    let recorded = record(settings, old.as_ref().map(Signer::jwk), new.jwk()).await?;
    crate::pki::write_private(&next, pkcs8.as_ref())?;
    let kept = match &old {
        Some(old) => {
            let kept = sibling(path, &old.jwk().kid);
            if !kept.exists() {
                std::fs::hard_link(path, &kept)
                    .or_else(|_| std::fs::copy(path, &kept).map(drop))
                    .with_context(|| format!("cannot keep the old key as {}", kept.display()))?;
            }
            Some(kept)
        }
        None => None,
    };
    std::fs::rename(&next, path)
        .with_context(|| format!("cannot put the new key at {}", path.display()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("cannot sync the directory {}", dir.display()))?;
    }
    println!("new signing key {} at {}", new.jwk().kid, path.display());
    if let (Some(old), Some(kept)) = (&old, &kept) {
        println!("old key {} kept at {}", old.jwk().kid, kept.display());
    }
    println!("{recorded}");
    println!(
        "a running gateway signs with the new key after SIGHUP (systemctl reload \
         hotline-gateway, or kill -HUP with the process id in gateway.pid_file) or a restart"
    );
    Ok(ExitCode::SUCCESS)
}

/// Records the old and the new public key in the store, if it can be opened now; says what
/// became of them.
async fn record(settings: &Settings, old: Option<&Jwk>, new: &Jwk) -> anyhow::Result<String> {
    let dir = &settings.gateway.data_dir;
    if settings.store.backend == Backend::Sled && !crate::store::sled_store_exists(dir) {
        return Ok(format!(
            "no store in {} yet: nothing was signed; the gateway records its key when it starts",
            dir.display()
        ));
    }
    let store = match Store::open_existing(settings).await {
        Ok(store) => store,
        Err(e) if settings.store.backend == Backend::Sled && crate::store::in_use(&e) => {
            return Ok(format!(
                "the store in {} is in use by a running gateway: it recorded the key it signs \
                 with when it started, and records the new one before it signs with it",
                dir.display()
            ))
        }
        Err(e) => return Err(e),
    };
    for jwk in old.into_iter().chain([new]) {
        store
            .remember_key(jwk)
            .await
            .with_context(|| format!("cannot record the key {} in the store", jwk.kid))?;
    }
    store.shut_down().await?;
    Ok("both public keys are recorded in the store: GET /v1/keys lists them".to_owned())
}

/// `certs/signing.pk8` with `tag`: `certs/signing.<tag>.pk8`.
fn sibling(path: &Path, tag: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(|| "signing".into(), |s| s.to_string_lossy());
    let name = match path.extension() {
        Some(ext) => format!("{stem}.{tag}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{tag}"),
    };
    path.with_file_name(name)
}

/// SIGHUP in a running gateway: if `signing.key` holds another key than the one in force,
/// record it in the store, then put it in force. A key that does not load is logged and the
/// old one kept.
pub async fn reload(state: &AppState, settings: &Settings) {
    let path = &settings.signing.key;
    let loaded = crate::file_modes::check_private_keys(settings).and_then(|()| {
        if path.exists() {
            Signer::load_or_create(path)
        } else {
            Err(anyhow!("there is no signing key at {}", path.display()))
        }
    });
    let new = match loaded {
        Ok(new) => Arc::new(new),
        Err(e) => {
            tracing::error!(
                error = %format!("{e:#}"),
                "SIGHUP: the signing key does not load; the key in force stays"
            );
            return;
        }
    };
    let old = state.signer.current();
    if new.jwk().kid == old.jwk().kid {
        return;
    }
    if let Err(e) = state.store.remember_key(new.jwk()).await {
        tracing::error!(
            error = %format!("{e:#}"),
            "SIGHUP: cannot record the new signing key in the store; the key in force stays"
        );
        return;
    }
    state.signer.replace(new.clone());
    tracing::info!(
        kid = %new.jwk().kid,
        previous = %old.jwk().kid,
        "SIGHUP: new signing key in force; the previous one stays listed in GET /v1/keys"
    );
}
