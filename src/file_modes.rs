//! Who may read what the gateway keeps on disk: its user alone. The data directory holds reported
//! URLs and notes; the private keys sign receipts and authenticate the gateway.
//!
//! Invariants: `serve` sets the process umask to 077 before it writes anything, so every file
//! and directory made by the gateway or by sled is 0600 / 0700 whatever umask it was started
//! with; `Application::build` makes the data directory 0700, tightens one left with looser
//! modes (and everything under it), and refuses to start, before it creates anything, when a
//! configured private key is open to group or others.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::config::Settings;

/// The permission bits of group and others.
const GROUP_AND_OTHERS: u32 = 0o077;

/// From now on, files and directories this process creates are its user's alone (0600 and
/// 0700 where they ask for 0666 and 0777, as sled does). For the life of the process.
pub fn restrict_new_files() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(GROUP_AND_OTHERS));
}

/// Refuses a configured private key that group or others may read or write: the signing key
/// (`signing.key`), the API's TLS key (`tls.key`) and the delivery client key
/// (`delivery.client_key`). A key that does not exist is left to its loader (the signing key is
/// then created 0600; a missing TLS key is an error where it is needed).
pub fn check_private_keys(settings: &Settings) -> anyhow::Result<()> {
    let keys: [(&str, &Path); 3] = [
        ("signing.key", &settings.signing.key),
        ("tls.key", &settings.tls.key),
        ("delivery.client_key", &settings.delivery.client_key),
    ];
    for (setting, path) in keys {
        let shown = shown(path);
        let mode = match std::fs::metadata(path) {
            Ok(meta) => meta.permissions().mode(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("cannot read the modes of {} ({setting})", shown.display())
                })
            }
        };
        if mode & GROUP_AND_OTHERS != 0 {
            bail!(
                "the private key {} ({setting}) is open to group or others (mode {:04o}); the \
                 gateway does not start with a key others can read: make it its owner's alone \
                 with `chmod 600 {}`",
                shown.display(),
                mode & 0o7777,
                shown.display()
            );
        }
    }
    Ok(())
}

/// Creates the data directory 0700 if it is missing (its missing parents too).
pub fn create_data_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Takes group's and others' bits off the data directory and everything under it (symbolic
/// links are neither followed nor changed); returns how many it changed, for the log.
pub fn tighten_data_dir(dir: &Path) -> anyhow::Result<usize> {
    let mut tightened = 0;
    let mut todo = vec![dir.to_owned()];
    while let Some(path) = todo.pop() {
        let meta = std::fs::symlink_metadata(&path)
            .with_context(|| format!("cannot read the modes of {}", shown(&path).display()))?;
        if meta.file_type().is_symlink() {
            continue;
        }
        if meta.is_dir() {
            let entries = std::fs::read_dir(&path)
                .with_context(|| format!("cannot read the directory {}", shown(&path).display()))?;
            for entry in entries {
                let entry = entry.with_context(|| {
                    format!("cannot read the directory {}", shown(&path).display())
                })?;
                todo.push(entry.path());
            }
        }
        let mode = meta.permissions().mode();
        if mode & GROUP_AND_OTHERS != 0 {
            let private = std::fs::Permissions::from_mode(mode & !GROUP_AND_OTHERS & 0o7777);
            std::fs::set_permissions(&path, private).with_context(|| {
                format!(
                    "cannot take group's and others' access off {} (in the data directory, which \
                     holds reported URLs): do it by hand with `chmod -R go= {}`",
                    shown(&path).display(),
                    shown(dir).display()
                )
            })?;
            tightened += 1;
        }
    }
    Ok(tightened)
}

/// A path as an operator finds it: absolute when it can be made so.
fn shown(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}
