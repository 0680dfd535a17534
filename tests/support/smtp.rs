//! A real SMTP server for tests: aiosmtpd (Debian's `python3-aiosmtpd`, which `.ci/run`
//! installs when missing) running `smtp_server.py` beside this file. A test binary includes this
//! file with `#[path = "support/smtp.rs"] mod smtp;` and calls [`SmtpServer::start`].
//!
//! Each server listens on 127.0.0.1 on a free port and writes every message it accepts, raw, to
//! a temporary directory of its own; [`SmtpServer::refuse`] makes it answer `451` (a temporary
//! refusal) until told otherwise, [`SmtpServer::reject`] `550` (a permanent one).
//! [`SmtpServer::start_with_starttls`] offers STARTTLS too. It is stopped when dropped, and never outlives the test
//! process: the script exits when its standard input, a pipe only this process holds, closes.
//!
//! When the server cannot start (aiosmtpd missing, most likely), the test fails (it never
//! skips) saying how to install it.
// Not every test that includes this module uses every helper.
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Debian's interpreter, which `python3-aiosmtpd` installs for (a `python3` earlier on `PATH`,
/// from pyenv or a virtualenv, would not see it).
const PYTHON: &str = "/usr/bin/python3";

const INSTALL: &str = "the e-mail tests run a real SMTP server, aiosmtpd, from Debian's \
     python3-aiosmtpd package (for /usr/bin/python3): install it with \
     `apt-get install python3-aiosmtpd` (.ci/run does so when it is missing)";

/// How long the server may take to say its port.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running SMTP server, stopped when dropped.
pub struct SmtpServer {
    child: Child,
    /// The pipe whose closing stops the server; taken by `Drop`.
    stdin: Option<ChildStdin>,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts a server on 127.0.0.1 on a free port. Panics (the test fails) saying how to
    /// install aiosmtpd when it cannot start.
    pub fn start() -> SmtpServer {
        Self::launch(None)
    }

    /// Starts a server that offers STARTTLS with this certificate chain and key (PEM).
    pub fn start_with_starttls(cert_pem: &str, key_pem: &str) -> SmtpServer {
        Self::launch(Some((cert_pem, key_pem)))
    }

    fn launch(tls: Option<(&str, &str)>) -> SmtpServer {
        let dir = tempfile::tempdir().expect("a temporary directory for the SMTP server");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let log = dir.path().join("server.log");
        let mut command = Command::new(PYTHON);
        command.arg(&script).arg(dir.path());
        if let Some((cert, key)) = tls {
            let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
            fs::write(&cert_path, cert).expect("the SMTP server's certificate");
            fs::write(&key_path, key).expect("the SMTP server's key");
            command.arg(cert_path).arg(key_path);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(fs::File::create(&log).expect("the SMTP server's log file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {PYTHON} {}: {e}; {INSTALL}", script.display()));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("the SMTP server's stdout");
        // The first line is the port; read on a thread so a wedged start cannot hang the test.
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let line = receiver.recv_timeout(START_TIMEOUT).unwrap_or_default();
        match line.trim().parse::<u16>() {
            Ok(port) => SmtpServer {
                child,
                stdin,
                port,
                dir,
            },
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let mut said = String::new();
                let _ = fs::File::open(&log).and_then(|mut f| f.read_to_string(&mut said));
                panic!(
                    "the SMTP server did not start; {INSTALL}. It said:\n{}",
                    said.trim_end()
                );
            }
        }
    }

    /// `smtp://127.0.0.1:PORT` (STARTTLS offered only by [`SmtpServer::start_with_starttls`]).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message accepted so far, raw RFC 5322 as received, in the order received.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        self.files("msg-")
            .iter()
            .map(|path| fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
            .collect()
    }

    /// Waits until at least `n` messages were accepted and returns them all. Panics (the test
    /// fails) when they have not arrived within `timeout`.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "the SMTP server received {} message(s) within {timeout:?}, not {n}",
                messages.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// While `yes`, every message gets a `451` (temporary) refusal.
    pub fn refuse(&self, yes: bool) {
        let flag = self.dir.path().join("refuse");
        if yes {
            fs::write(&flag, b"").expect("the SMTP server's refuse flag");
        } else if flag.exists() {
            fs::remove_file(&flag).expect("the SMTP server's refuse flag");
        }
    }

    /// While `yes`, every message gets a `550` (permanent) refusal.
    pub fn reject(&self, yes: bool) {
        let flag = self.dir.path().join("reject");
        if yes {
            fs::write(&flag, b"").expect("the SMTP server's reject flag");
        } else if flag.exists() {
            fs::remove_file(&flag).expect("the SMTP server's reject flag");
        }
    }

    /// How many messages were refused (451 or 550) so far.
    pub fn refused(&self) -> usize {
        self.files("refused-").len()
    }

    /// The files of the server's directory whose names start with `prefix`, sorted.
    fn files(&self, prefix: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = fs::read_dir(self.dir.path())
            .expect("the SMTP server's directory")
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                let name = path.file_name()?.to_str()?;
                name.starts_with(prefix).then_some(path)
            })
            .collect();
        files.sort();
        files
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        // Closing stdin stops the script; the kill is for one that does not listen.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
