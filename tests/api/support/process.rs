//! The gateway as an operator runs it: `hotline-gateway serve --config gateway.toml` as a child
//! process in its own directory (development certificates from `dev-pki`), its log read line by
//! line in a thread so that it never blocks, spoken to over mutual TLS, stopped with signals.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::metrics::admin_get;
use hotline_gateway::config::TlsSettings;
use hotline_gateway::tls;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt};

pub fn binary() -> Command {
    gateway_env(Command::new(env!("CARGO_BIN_EXE_hotline-gateway")))
}

/// As `binary`, started by `sh` under `umask MASK` (`"022"`: as most shells start it), whatever
/// the test process's own umask.
pub fn binary_under_umask(mask: &str) -> Command {
    let mut command = Command::new("sh");
    command.args([
        "-c",
        &format!("umask {mask} && exec \"$0\" \"$@\""),
        env!("CARGO_BIN_EXE_hotline-gateway"),
    ]);
    gateway_env(command)
}

fn gateway_env(mut command: Command) -> Command {
    // The child reads only its own configuration file, whatever the test's environment holds.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("HGW__") {
            command.env_remove(key);
        }
    }
    command.env("RUST_LOG", "info");
    command
}

/// A whole configuration: every path relative to the site, both listeners on port 0;
/// `sections` is more TOML (`[limits]`, `[delivery]`), `members` the `[[members]]`.
pub fn config(sections: &str, members: &str) -> String {
    format!(
        "[gateway]\nid = \"gateway.test\"\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\n\
         data_dir = \"data\"\n\n[routing]\nfallback = \"fallback\"\n\n{sections}\n{members}"
    )
}

/// A directory holding `gateway.toml`, the development PKI and (once served) `data/`.
pub struct Site {
    pub dir: tempfile::TempDir,
}

impl Site {
    /// Writes `config` and makes the development certificates of its members.
    pub fn new(config: &str) -> Site {
        let site = Site {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        site.write_config(config);
        site.dev_pki();
        site
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Replaces `gateway.toml` whole (written beside, then renamed: never read half-written).
    pub fn write_config(&self, text: &str) {
        let next = self.path().join("gateway.toml.next");
        std::fs::write(&next, text).unwrap();
        std::fs::rename(next, self.path().join("gateway.toml")).unwrap();
    }

    /// `dev-pki`: certificates for the members of the current configuration that lack one.
    pub fn dev_pki(&self) {
        let out = binary()
            .args(["dev-pki", "--config", "gateway.toml"])
            .current_dir(self.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "dev-pki: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A keep-alive client presenting `member`'s development certificate.
    pub fn client(&self, member: &str) -> reqwest::Client {
        reqwest::Client::builder()
            .tls_backend_preconfigured(self.tls_config(member))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
    }

    /// The server side of the site's development PKI: its `localhost` certificate and its CA,
    /// for a member's push endpoint that requires the gateway's client certificate.
    pub fn tls_settings(&self) -> TlsSettings {
        let certs = self.path().join("certs");
        TlsSettings {
            cert: certs.join("gateway.crt"),
            key: certs.join("gateway.key"),
            client_ca: certs.join("ca.crt"),
            crls: Vec::new(),
        }
    }

    pub fn tls_config(&self, member: &str) -> rustls::ClientConfig {
        let certs = self.path().join("certs");
        let members = certs.join("members");
        tls::client_config(
            &certs.join("ca.crt"),
            &members.join(format!("{member}.crt")),
            &members.join(format!("{member}.key")),
        )
        .expect("member TLS config")
    }

    /// `hotline-gateway [global...] serve --config gateway.toml` started here by `command`
    /// (`binary()`, or another way to start it), its log piped.
    fn spawn_serve(&self, mut command: Command, global: &[&str]) -> Child {
        command
            .args(global)
            .args(["serve", "--config", "gateway.toml"])
            .current_dir(self.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// `hotline-gateway [global...] serve --config gateway.toml`, once it says it is serving.
    pub fn serve(&self, global: &[&str]) -> Gateway {
        Site::watch(self.spawn_serve(binary(), global))
    }

    /// `serve` under `umask MASK` (see `binary_under_umask`), once it says it is serving.
    pub fn serve_under_umask(&self, mask: &str) -> Gateway {
        Site::watch(self.spawn_serve(binary_under_umask(mask), &[]))
    }

    /// A started `serve`, its log read in a thread, once it says it is serving.
    fn watch(mut child: Child) -> Gateway {
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = mpsc::channel();
        let lines = Arc::clone(&log);
        let reader = std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if let Some(ports) = serving_ports(&line) {
                    let _ = port_tx.send(ports);
                }
                lines.lock().unwrap().push(line);
            }
        });
        let (port, admin_port) = match port_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(ports) => ports,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the gateway did not start; log:\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
        };
        Gateway {
            child,
            port,
            admin_port,
            log,
            reader: Some(reader),
        }
    }

    /// `serve` when it must not start: waits up to `limit` for it to exit (killing it and
    /// failing if it serves instead); its exit status and its log.
    pub fn serve_refused(&self, limit: Duration) -> (ExitStatus, String) {
        let mut child = self.spawn_serve(binary(), &[]);
        let mut stderr = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            text
        });
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "serve did not exit within {limit:?}; log:\n{}",
                    reader.join().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (status, reader.join().unwrap())
    }
}

/// The API and admin ports from the "gateway serving" line, human-readable (`port=N
/// admin_port=M`) or JSON.
fn serving_ports(line: &str) -> Option<(u16, u16)> {
    let field = |name: &str| -> Option<u16> {
        if let Ok(json) = serde_json::from_str::<Value>(line) {
            return json["fields"][name]
                .as_u64()
                .and_then(|p| p.try_into().ok());
        }
        let prefix = format!("{name}=");
        line.split_whitespace()
            .find_map(|field| field.strip_prefix(prefix.as_str()))
            .and_then(|p| p.parse().ok())
    };
    Some((field("port")?, field("admin_port")?))
}

/// A running `serve` child; killed if the test ends before it stops.
pub struct Gateway {
    child: Child,
    pub port: u16,
    /// The plain-HTTP admin listener (`/health`, `/metrics`).
    pub admin_port: u16,
    log: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Gateway {
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the child is still running (it has not exited, by itself or killed).
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Whether the child exits within `limit` (polled every 100 ms).
    pub async fn ends_within(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.running() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        !self.running()
    }

    /// `GET path` on the admin listener.
    pub async fn admin_get(&self, path: &str) -> reqwest::Response {
        admin_get(self.admin_port, path).await
    }

    /// `kill -SIG pid`, e.g. `signal("HUP")`.
    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{signal}");
    }

    /// `POST path` with a JSON body: the status and the JSON answer (`null` if none).
    pub async fn post(&self, client: &reqwest::Client, path: &str, body: &Value) -> (u16, Value) {
        let response = client.post(self.url(path)).json(body).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `POST /v1/reports`: the status.
    pub async fn submit(&self, client: &reqwest::Client, body: &Value) -> u16 {
        self.post(client, "/v1/reports", body).await.0
    }

    /// `GET path`: the status.
    pub async fn get(&self, client: &reqwest::Client, path: &str) -> u16 {
        let response = client.get(self.url(path)).send().await.unwrap();
        response.status().as_u16()
    }

    /// The log so far, one entry per line.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits until the log has more than `seen` lines containing `needle`; panics after 10 s.
    pub async fn wait_for_log(&self, needle: &str, seen: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if self.count(needle) > seen {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no new log line with {needle:?}; log:\n{}",
                self.log().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// How many lines of the log contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.contains(needle))
            .count()
    }

    /// Waits up to `limit` for the child to exit; returns its status and its whole log.
    pub async fn exit(mut self, limit: Duration) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the gateway did not exit within {limit:?}; log:\n{}",
                    self.log().join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        (status, self.log())
    }

    /// SIGTERM, then `stopped`.
    pub async fn terminate(self) -> Vec<String> {
        self.signal("TERM");
        self.stopped().await
    }

    /// After a SIGTERM: asserts exit status 0 within 30 s and a flushed store; the whole log.
    pub async fn stopped(self) -> Vec<String> {
        let (status, log) = self.exit(Duration::from_secs(30)).await;
        let text = log.join("\n");
        assert!(status.success(), "exit {status:?}; log:\n{text}");
        assert!(text.contains("store flushed"), "{text}");
        log
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One HTTP/1.1 message (request or answer) with a `content-length` (or none: no body): its
/// head and its body; `None` if the connection ends first.
pub async fn read_http(stream: &mut (impl AsyncRead + Unpin)) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut more = async |buf: &mut Vec<u8>| {
        let n = stream.read(&mut chunk).await.ok().filter(|&n| n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
        Some(())
    };
    let head_end = loop {
        match buf.windows(4).position(|w| w == b"\r\n\r\n") {
            Some(at) => break at + 4,
            None => more(&mut buf).await?,
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(Some(0), |n| n.trim().parse().ok())?;
    while buf.len() < head_end + length {
        more(&mut buf).await?;
    }
    Some((head, buf[head_end..head_end + length].to_vec()))
}
