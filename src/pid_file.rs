//! `gateway.pid_file`: the running gateway's process id, so that an operator signals this
//! gateway and no other (`kill -HUP "$(cat data/gateway.pid)"`).
//!
//! Invariants: a start that finds the file naming a live `hotline-gateway` process refuses,
//! before it creates anything, saying so; the file is written (0600 under `serve`'s umask) once
//! the gateway is built, and removed at a clean exit if it still names this process. A file
//! left by a gateway that died (its process gone, or the number now another program's) is
//! replaced, and the log says so.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// The PID file of a running gateway; removed when dropped (a clean exit).
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    pid: u32,
}

/// Refuses to go on when `path` names a live gateway process. Called before anything is made.
pub fn check(path: &Path) -> anyhow::Result<()> {
    let Some(pid) = read(path)? else {
        return Ok(());
    };
    if pid != std::process::id() && is_gateway(pid) {
        bail!(
            "gateway.pid_file {} names process {pid}, a hotline-gateway that is running: another \
             gateway runs with this configuration. Stop it first (kill -TERM {pid}), or give this \
             one its own gateway.pid_file",
            path.display()
        );
    }
    Ok(())
}

impl PidFile {
    /// Writes this process's id to `path` (replacing a stale file: [`check`] ran first).
    pub fn write(path: &Path) -> anyhow::Result<PidFile> {
        check(path)?;
        if let Some(stale) = read(path)? {
            tracing::info!(
                pid_file = %path.display(),
                stale,
                "replacing a PID file left by a gateway that is no longer running"
            );
        }
        let pid = std::process::id();
        let next = path.with_extension("pid.next");
        std::fs::write(&next, format!("{pid}\n"))
            .and_then(|()| std::fs::rename(&next, path))
            .with_context(|| format!("gateway.pid_file: cannot write {}", path.display()))?;
        Ok(PidFile {
            path: path.to_owned(),
            pid,
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Only our own: a file another gateway wrote since is its business.
        if matches!(read(&self.path), Ok(Some(pid)) if pid == self.pid) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The process id in the file; `None` when there is no file. A file that holds no number is an
/// error: it is not ours to replace.
fn read(path: &Path) -> anyhow::Result<Option<u32>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("gateway.pid_file: cannot read {}", path.display()))
        }
    };
    match text.trim().parse::<u32>() {
        Ok(pid) => Ok(Some(pid)),
        Err(_) => bail!(
            "gateway.pid_file {} holds no process id ({:?}): is it the right file? Remove it if so",
            path.display(),
            text.chars().take(40).collect::<String>()
        ),
    }
}

/// Whether `pid` is a live process running `hotline-gateway` (its command line names it). A
/// process whose command line cannot be read (another user's) counts as one: better to refuse
/// than to run two gateways on one store.
fn is_gateway(pid: u32) -> bool {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    if !proc.exists() {
        return false;
    }
    match std::fs::read(proc.join("cmdline")) {
        Ok(cmdline) => cmdline
            .windows(b"hotline-gateway".len())
            .any(|w| w == b"hotline-gateway"),
        Err(_) => true,
    }
}
