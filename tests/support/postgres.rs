//! A throwaway PostgreSQL 15 for tests, from Debian's `postgresql` package (`.ci/run` installs
//! it when missing). A test binary includes this file with
//! `#[path = "support/postgres.rs"] mod postgres;` and calls [`shared`] for the binary's one
//! server, started on first use, or [`PgServer::launch`] for one of its own (to stop and
//! start it: never stop the shared one, other tests are using it).
//!
//! Each server: a temporary directory (under `TMPDIR`, which the `postgres` user must be able
//! to enter; 0700, owned by the `postgres` user when the tests run as root, since `initdb`
//! refuses root), a free port on 127.0.0.1, its unix socket in that
//! directory, `fsync` on (PostgreSQL's default), TLS with a certificate for `localhost`,
//! 127.0.0.1 and ::1 from a CA made here ([`PgServer::ca`]), and scram-sha-256 passwords over
//! TCP. Each [`PgServer::database`] is a fresh database owned by the role `hgw`.
//!
//! No server outlives its test process: a watchdog (`sh`) beside it reads a pipe that only the
//! test process holds open; when the process ends, however it ends, the pipe closes and the
//! watchdog stops the server (`pg_ctl stop -m immediate`) and removes the directory. A server
//! of its own is stopped the same way when it is dropped.
//!
//! When PostgreSQL is missing or does not start, the test fails (it never skips) saying how to
//! install it, with the end of the server's log.
// Not every test that includes this module uses every helper.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// Where Debian's `postgresql` package (version 15) puts the server's programs.
pub const BIN: &str = "/usr/lib/postgresql/15/bin";
/// The role that owns every test database and logs in with [`PgServer::password`].
pub const USER: &str = "hgw";

const INSTALL: &str = "the PostgreSQL tests start their own server from Debian's postgresql \
     package, version 15 (programs in /usr/lib/postgresql/15/bin): install it with \
     `apt-get install postgresql` (.ci/run does so when it is missing)";

/// The test binary's one server, started on first use. Panics (the test fails) when it
/// cannot start, every time it is asked for.
pub fn shared() -> &'static PgServer {
    static SHARED: OnceLock<Result<PgServer, String>> = OnceLock::new();
    match SHARED.get_or_init(PgServer::try_launch) {
        Ok(server) => server,
        Err(why) => panic!("{why}"),
    }
}

/// A running (or stopped, see [`PgServer::stop`]) PostgreSQL server in a directory of its own.
pub struct PgServer {
    dir: PathBuf,
    port: u16,
    password: String,
    /// Whether the server's programs run as the `postgres` user (the tests run as root).
    as_postgres: bool,
    databases: AtomicU64,
    /// The watchdog and the pipe it waits on; taken by `Drop`.
    watchdog: Mutex<Option<(Child, ChildStdin)>>,
}

/// One fresh database of a [`PgServer`].
pub struct TestDatabase {
    pub name: String,
    pub port: u16,
    pub password: String,
    pub ca: PathBuf,
    /// The directory of the server's unix socket.
    pub socket_dir: PathBuf,
}

impl PgServer {
    /// A server of its own for the calling test, stopped and removed when dropped. Panics
    /// (the test fails) when it cannot start.
    pub fn launch() -> PgServer {
        Self::try_launch().unwrap_or_else(|why| panic!("{why}"))
    }

    fn try_launch() -> Result<PgServer, String> {
        if !Path::new(BIN).join("initdb").exists() {
            return Err(format!("{BIN}/initdb is missing: {INSTALL}"));
        }
        let as_postgres = rustix::process::geteuid().is_root();
        let dir = tempfile::Builder::new()
            .prefix("hgw-pg-")
            .tempdir()
            .map_err(|e| format!("cannot make a directory for PostgreSQL: {e}"))?
            .keep();
        let mut server = PgServer {
            dir,
            port: 0,
            password: std::iter::repeat_with(fastrand::alphanumeric)
                .take(24)
                .collect(),
            as_postgres,
            databases: AtomicU64::new(0),
            watchdog: Mutex::new(None),
        };
        // First the watchdog, so that even a server that fails halfway is cleaned up.
        server.spawn_watchdog()?;
        server.own_dir()?;
        server.init()?;
        server.launch_on_a_free_port()?;
        server.psql(&format!(
            "CREATE ROLE {USER} LOGIN PASSWORD '{}'",
            server.password
        ))?;
        Ok(server)
    }

    /// A fresh database owned by [`USER`]: its own tables, nothing shared with other tests.
    pub fn database(&self) -> TestDatabase {
        let n = self.databases.fetch_add(1, Ordering::Relaxed);
        let name = format!("test_{n}");
        if let Err(why) = self.psql(&format!("CREATE DATABASE {name} OWNER {USER}")) {
            panic!("{why}");
        }
        TestDatabase {
            name,
            port: self.port,
            password: self.password.clone(),
            ca: self.ca(),
            socket_dir: self.dir.clone(),
        }
    }

    /// Stops the server (`-m fast`: sessions are ended, as in a restart of the database).
    pub fn stop(&self) {
        let stop = self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", "60"]);
        if let Err(why) = self.run(stop, "pg_ctl stop") {
            panic!("{why}");
        }
    }

    /// Starts the server again after [`stop`](Self::stop), on the same port.
    pub fn start(&self) {
        if let Err(why) = self.try_start() {
            panic!("{why}");
        }
    }

    /// One of the server's programs (`psql`, `createdb`, ...) as the superuser over the unix
    /// socket, as an operator runs it on the database's host with `sudo -u postgres`: the
    /// `postgres` OS user when the tests run as root, and `PGHOST`, `PGPORT` and `PGUSER`
    /// naming this server, so that its arguments are those the operator types.
    pub fn superuser(&self, name: &str) -> Command {
        let mut command = self.program(name);
        command
            .env("PGHOST", &self.dir)
            .env("PGPORT", self.port.to_string())
            .env("PGUSER", "postgres");
        command
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    /// The CA certificate (PEM) that signed the server's certificate.
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// `sh` ignores the terminal's signals (a Ctrl-C of `cargo test` reaches the whole process
    /// group), waits until its standard input closes, then stops the server and removes its
    /// directory. It tries again while the directory is still there: a `pg_ctl start` of the
    /// dead test process may still be writing its log. A server that such a `pg_ctl` started
    /// after the stop finds its data directory gone and shuts itself down (PostgreSQL checks
    /// its lock file every minute).
    fn spawn_watchdog(&mut self) -> Result<(), String> {
        let pg_ctl = if self.as_postgres {
            "runuser -u postgres -- \"$1/pg_ctl\""
        } else {
            "\"$1/pg_ctl\""
        };
        let script = format!(
            "trap '' INT TERM HUP; cat >/dev/null; \
             for try in 1 2 3 4 5 6 7 8 9 10; do \
               {pg_ctl} stop -D \"$2/data\" -m immediate -w -t 30 >/dev/null 2>&1; \
               rm -rf \"$2\"; [ -e \"$2\" ] || break; sleep 1; \
             done"
        );
        let mut child = Command::new("sh")
            .args(["-c", &script, "hgw-pg-watchdog", BIN])
            .arg(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start the PostgreSQL watchdog (sh): {e}"))?;
        let pipe = child
            .stdin
            .take()
            .ok_or("the watchdog has no standard input")?;
        *self.watchdog.lock().unwrap() = Some((child, pipe));
        Ok(())
    }

    fn own_dir(&self) -> Result<(), String> {
        fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot chmod {}: {e}", self.dir.display()))?;
        self.chown(&self.dir)
    }

    fn chown(&self, path: &Path) -> Result<(), String> {
        if !self.as_postgres {
            return Ok(());
        }
        let mut chown = Command::new("chown");
        chown.arg("postgres:postgres").arg(path);
        self.run(chown, "chown to the postgres user (does the user exist?)")
            .map(drop)
    }

    fn init(&self) -> Result<(), String> {
        let mut initdb = self.program("initdb");
        initdb
            .arg("-D")
            .arg(self.data())
            .args([
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-instructions",
            ])
            .args(["--auth-local=trust", "--auth-host=scram-sha-256"]);
        self.run(initdb, "initdb")?;
        self.write_tls_files()?;
        let conf = format!(
            "\n# hotline-gateway tests\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{dir}'\n\
             ssl = on\n\
             ssl_cert_file = 'server.crt'\n\
             ssl_key_file = 'server.key'\n\
             password_encryption = 'scram-sha-256'\n\
             max_connections = 200\n\
             shared_buffers = '32MB'\n",
            dir = self.dir.display()
        );
        // The socket is in a 0700 directory: only the server's owner (and root) reach it.
        let hba = "local all postgres trust\n\
                   local all all scram-sha-256\n\
                   host all all 127.0.0.1/32 scram-sha-256\n\
                   host all all ::1/128 scram-sha-256\n";
        let data = self.data();
        append(&data.join("postgresql.conf"), &conf)?;
        fs::write(data.join("pg_hba.conf"), hba).map_err(|e| format!("pg_hba.conf: {e}"))
    }

    /// A CA, and a server certificate from it for `localhost`, 127.0.0.1 and ::1.
    fn write_tls_files(&self) -> Result<(), String> {
        let fail = |e: rcgen::Error| format!("cannot make the server's certificate: {e}");
        let ca_key = rcgen::KeyPair::generate().map_err(fail)?;
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name.push(
            rcgen::DnType::CommonName,
            "hotline-gateway test PostgreSQL CA",
        );
        let ca_cert = ca.self_signed(&ca_key).map_err(fail)?;
        let issuer = rcgen::Issuer::new(ca, &ca_key);
        let key = rcgen::KeyPair::generate().map_err(fail)?;
        let names = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
        let mut leaf = rcgen::CertificateParams::new(names).map_err(fail)?;
        leaf.distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        let cert = leaf.signed_by(&key, &issuer).map_err(fail)?;

        fs::write(self.ca(), ca_cert.pem()).map_err(|e| format!("ca.crt: {e}"))?;
        let data = self.data();
        fs::write(data.join("server.crt"), cert.pem()).map_err(|e| format!("server.crt: {e}"))?;
        let key_path = data.join("server.key");
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&key_path)
            .and_then(|mut file| file.write_all(key.serialize_pem().as_bytes()))
            .map_err(|e| format!("server.key: {e}"))?;
        self.chown(&data.join("server.crt"))?;
        self.chown(&key_path)
    }

    /// Another process may take a port between the look and the start: then another port.
    fn launch_on_a_free_port(&mut self) -> Result<(), String> {
        let mut last = String::new();
        for _ in 0..5 {
            self.port = TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .map_err(|e| format!("cannot find a free port: {e}"))?
                .port();
            match self.try_start() {
                Ok(()) => return Ok(()),
                Err(why) if why.contains("could not bind") => last = why,
                Err(why) => return Err(why),
            }
        }
        Err(last)
    }

    fn try_start(&self) -> Result<(), String> {
        let mut start = self.pg_ctl(&["start", "-w", "-t", "60", "-o"]);
        start
            .arg(format!("-p {}", self.port))
            .arg("-l")
            .arg(self.log());
        self.run(start, "pg_ctl start").map(drop)
    }

    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut pg_ctl = self.program("pg_ctl");
        pg_ctl.arg("-D").arg(self.data()).args(args);
        pg_ctl
    }

    /// SQL as the superuser, over the unix socket.
    fn psql(&self, sql: &str) -> Result<(), String> {
        let mut psql = self.program("psql");
        psql.args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-U",
            "postgres",
            "-d",
            "postgres",
        ])
        .arg("-h")
        .arg(&self.dir)
        .args(["-p", &self.port.to_string(), "-c", sql]);
        self.run(psql, "psql").map(drop)
    }

    /// One of the server's programs, as the `postgres` user when the tests run as root, in
    /// the server's directory (the `postgres` user may not enter the tests' own).
    fn program(&self, name: &str) -> Command {
        let path = Path::new(BIN).join(name);
        let mut command = if self.as_postgres {
            let mut runuser = Command::new("runuser");
            runuser.args(["-u", "postgres", "--"]).arg(path);
            runuser
        } else {
            Command::new(path)
        };
        command
            .current_dir(&self.dir)
            .env("HOME", &self.dir)
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        command
    }

    /// Runs `command` to its end; a failure says what failed, how to install PostgreSQL and
    /// the end of the server's log.
    fn run(&self, mut command: Command, what: &str) -> Result<Output, String> {
        let failed = |detail: String| {
            let mut why = format!("PostgreSQL for the tests: {what} failed: {detail}\n{INSTALL}");
            let log = fs::read_to_string(self.log()).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            if !tail.is_empty() {
                let _ = write!(why, "\nlast lines of {}:", self.log().display());
                for line in tail.iter().rev() {
                    let _ = write!(why, "\n  {line}");
                }
            }
            why
        };
        let output = command.output().map_err(|e| failed(e.to_string()))?;
        if output.status.success() {
            return Ok(output);
        }
        let mut detail = format!("{}", output.status);
        for stream in [&output.stdout, &output.stderr] {
            let text = String::from_utf8_lossy(stream);
            if !text.trim().is_empty() {
                let _ = write!(detail, "\n{}", text.trim_end());
            }
        }
        Err(failed(detail))
    }
}

impl Drop for PgServer {
    /// Closes the watchdog's pipe and waits for it: the server is stopped and its directory
    /// gone when this returns.
    fn drop(&mut self) {
        let watchdog = self.watchdog.get_mut().map(Option::take);
        if let Ok(Some((mut child, pipe))) = watchdog {
            drop(pipe);
            let _ = child.wait();
        }
    }
}

impl TestDatabase {
    /// `postgres://hgw:PASSWORD@localhost:PORT/NAME?sslmode=verify-full&sslrootcert=CA`.
    pub fn url(&self) -> String {
        self.url_to("localhost", &self.tls("verify-full"))
    }

    /// A URI to `host` with the query `query` (without `?`; may be empty).
    pub fn url_to(&self, host: &str, query: &str) -> String {
        let mut url = format!(
            "postgres://{USER}:{}@{host}:{}/{}",
            self.password, self.port, self.name
        );
        if !query.is_empty() {
            url.push('?');
            url.push_str(query);
        }
        url
    }

    /// `sslmode=MODE&sslrootcert=CA`, with the server's CA.
    pub fn tls(&self, mode: &str) -> String {
        format!("sslmode={mode}&sslrootcert={}", self.ca.display())
    }
}

fn append(path: &Path, text: &str) -> Result<(), String> {
    fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|e| format!("{}: {e}", path.display()))
}
