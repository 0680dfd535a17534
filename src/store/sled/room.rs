//! Room to write: looked at before anything goes to disk, so that the usual storage faults (a
//! disk nearly full, a file-size limit, a `blobs/` directory that takes no file) are answered
//! 503 before sled tries and fails. That matters because sled keeps its first I/O error until
//! the store is reopened, and until then it may refuse reads too (it sometimes writes to serve
//! one). What the checks miss (a fault that comes in the middle of a write) still reaches
//! sled, and the store then reopens once the fault is gone (`SledStore::recover`).
//!
//! The checks: at least `store.min_free_mb` free on the data directory's file system; a
//! file-size limit (RLIMIT_FSIZE) that leaves as much room past the store's log file; and, at
//! most once a second, a file made in `blobs/`, where sled writes values over 128 KiB.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a successful look at `blobs/` is trusted.
const BLOBS_TRUSTED: Duration = Duration::from_secs(1);

pub(super) struct Room {
    dir: PathBuf,
    /// Bytes that must stay free on the file system (and under the file-size limit).
    margin: u64,
    /// When `blobs/` last took a file.
    blobs_ok_at: Mutex<Option<Instant>>,
}

impl Room {
    pub(super) fn new(dir: &Path, min_free_mb: u64) -> Room {
        Room {
            dir: dir.to_owned(),
            margin: min_free_mb.saturating_mul(1024 * 1024),
            blobs_ok_at: Mutex::new(None),
        }
    }

    /// `Ok` if the store has room for a write; else why not, in words for the log (starting
    /// with what the system would have said).
    pub(super) fn check(&self) -> Result<(), String> {
        self.free_space()?;
        self.file_size_limit()?;
        self.blobs()
    }

    /// As [`Room::check`], with a fresh look at `blobs/` (none trusted from before): whether a
    /// fault has gone, before the store reopens.
    pub(super) fn check_afresh(&self) -> Result<(), String> {
        *self.blobs_ok_at.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.check()
    }

    fn free_space(&self) -> Result<(), String> {
        if self.margin == 0 {
            return Ok(());
        }
        let stats = rustix::fs::statvfs(&self.dir)
            .map_err(|e| format!("cannot read the free space of the data directory: {e}"))?;
        let free = stats.f_bavail.saturating_mul(stats.f_frsize);
        if free < self.margin {
            return Err(format!(
                "No space left on device (or nearly): {free} bytes free on the data directory's \
                 file system, under store.min_free_mb ({} bytes)",
                self.margin
            ));
        }
        Ok(())
    }

    fn file_size_limit(&self) -> Result<(), String> {
        let Some(limit) = rustix::process::getrlimit(rustix::process::Resource::Fsize).current
        else {
            return Ok(());
        };
        let log = std::fs::metadata(self.dir.join("db")).map_or(0, |m| m.len());
        // At least a value's worth of room even with a margin of 0.
        let needed = log.saturating_add(self.margin.max(1024 * 1024));
        if limit < needed {
            return Err(format!(
                "File too large (or would be): the file-size limit (RLIMIT_FSIZE, {limit} \
                 bytes) leaves no room past the store's log ({log} bytes)"
            ));
        }
        Ok(())
    }

    fn blobs(&self) -> Result<(), String> {
        let mut ok_at = self.blobs_ok_at.lock().unwrap_or_else(|e| e.into_inner());
        if ok_at.is_some_and(|at| at.elapsed() < BLOBS_TRUSTED) {
            return Ok(());
        }
        let blobs = self.dir.join("blobs");
        if blobs.is_dir() {
            // Not a number: sled skips it if a crash leaves it behind.
            let probe = blobs.join(".room-probe");
            let made = std::fs::File::create(&probe);
            let _ = std::fs::remove_file(&probe);
            made.map_err(|e| format!("the store's blobs directory takes no file: {e}"))?;
        }
        *ok_at = Some(Instant::now());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Room;

    #[test]
    fn a_margin_larger_than_the_disk_is_no_room_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        Room::new(dir.path(), 0).check().unwrap();
        let why = Room::new(dir.path(), u64::MAX / (2 << 20))
            .check()
            .unwrap_err();
        assert!(why.starts_with("No space left on device"), "{why}");
    }

    #[test]
    fn a_blobs_directory_that_takes_no_file_is_no_room() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        Room::new(dir.path(), 0).check().unwrap();
        // A directory where the probe would go: it cannot be made, even by root.
        std::fs::create_dir(dir.path().join("blobs/.room-probe")).unwrap();
        let room = Room::new(dir.path(), 0);
        let why = room.check().unwrap_err();
        assert!(why.contains("blobs directory takes no file"), "{why}");
    }
}
