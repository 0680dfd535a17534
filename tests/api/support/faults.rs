//! Storage faults the tests inject into a running gateway or into its data directory, each with
//! the privileges it needs, and guards that undo them when dropped (a failing test included).
//!
//! - `limit_file_size`: RLIMIT_FSIZE of a running process, with prlimit(2). No privileges: a
//!   process may lower and raise the soft limit of another of the same user, up to the hard one.
//! - `Tmpfs` and `fill`: a small tmpfs, filled with a ballast file until ENOSPC. Needs mount
//!   rights (root, CAP_SYS_ADMIN); `Tmpfs::mount` says so when it cannot.
//! - `ReadOnly`: a directory no file can be written in: by permission bits for an unprivileged
//!   user; for root (who ignores them) by a read-only bind mount, which needs mount rights.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use rustix::process::{getrlimit, prlimit, Pid, Resource, Rlimit};

/// Sets the soft RLIMIT_FSIZE of process `pid` to `limit` bytes, or back to this test process's
/// own (which the child inherited) with `None`. The hard limit stays as inherited, so raising
/// the soft one again needs no privilege. The process must catch or ignore SIGXFSZ.
pub fn limit_file_size(pid: u32, limit: Option<u64>) {
    let inherited = getrlimit(Resource::Fsize);
    let new = Rlimit {
        current: limit.or(inherited.current),
        maximum: inherited.maximum,
    };
    let pid = Pid::from_raw(i32::try_from(pid).unwrap()).expect("a child's pid");
    prlimit(Some(pid), Resource::Fsize, new).expect("prlimit RLIMIT_FSIZE");
}

/// Runs `mount`/`umount` with `args`; the error says what failed and why.
fn mount(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {}: {} {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A mount point that is unmounted when dropped.
pub struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        // Lazy: a gateway killed a moment ago may still hold a file open.
        let _ = mount("umount", &["-l", &self.0.display().to_string()]);
    }
}

/// A tmpfs of `mib` MiB mounted on `dir` (created if missing).
pub fn mount_tmpfs(dir: &Path, mib: u32) -> Result<Mounted, String> {
    std::fs::create_dir_all(dir).unwrap();
    let size = format!("size={mib}m,mode=0755");
    mount(
        "mount",
        &[
            "-t",
            "tmpfs",
            "-o",
            &size,
            "tmpfs",
            &dir.display().to_string(),
        ],
    )?;
    Ok(Mounted(dir.to_owned()))
}

/// Writes `path` until its file system is full (ENOSPC); returns the bytes written.
pub fn fill(path: &Path) -> u64 {
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
    // In small pieces down to the last free byte, so that no write of any size fits.
    let piece = [0u8; 512];
    while let Ok(n @ 1..) = file.write(&piece) {
        written += n as u64;
    }
    written
}

/// A directory made read-only; writable again when dropped.
pub enum ReadOnly {
    /// Permission bits (the process is not privileged): directory and file modes to restore.
    Modes(Vec<(PathBuf, u32)>),
    /// A read-only bind mount of the directory on itself (root).
    Mount { _mounted: Mounted },
}

impl ReadOnly {
    /// Makes `dir` and everything under it read-only. `Err` says why it cannot be done here
    /// (root without mount rights).
    pub fn make(dir: &Path) -> Result<ReadOnly, String> {
        use std::os::unix::fs::PermissionsExt;
        let mut modes = Vec::new();
        let mut todo = vec![dir.to_owned()];
        while let Some(path) = todo.pop() {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            if path.is_dir() {
                todo.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            }
            modes.push((path, mode));
        }
        for (path, mode) in &modes {
            let read_only = std::fs::Permissions::from_mode(mode & 0o555);
            std::fs::set_permissions(path, read_only).unwrap();
        }
        let read_only = ReadOnly::Modes(modes);
        let probe = dir.join(".probe");
        if std::fs::File::create(&probe).is_err() {
            return Ok(read_only);
        }
        // Privileged: permission bits do not stop this process.
        let _ = std::fs::remove_file(&probe);
        drop(read_only);
        let shown = dir.display().to_string();
        mount("mount", &["--bind", &shown, &shown])
            .map_err(|e| format!("running as root, and cannot bind-mount: {e}"))?;
        let mounted = Mounted(dir.to_owned());
        mount("mount", &["-o", "remount,bind,ro", &shown])
            .map_err(|e| format!("running as root, and cannot remount read-only: {e}"))?;
        Ok(ReadOnly::Mount { _mounted: mounted })
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if let ReadOnly::Modes(modes) = self {
            for (path, mode) in modes.iter() {
                let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(*mode));
            }
        }
    }
}
