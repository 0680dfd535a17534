//! A PostgreSQL store backed up with `pg_dump` while the gateway takes submissions, and
//! restored with `pg_restore` into a new, empty database: the commands of docs/OPERATING.md
//! ("9. Backups and restore", "PostgreSQL"), with the options written there (checked against
//! the file), PostgreSQL 15's own programs, the password from a `.pgpass` file and TLS as
//! `verify-full`. A gateway on the restored database has every report acknowledged before the
//! dump began, with its first receipt byte for byte; the inboxes, cursors and acknowledgements
//! as they were; an audit chain that `audit verify` finds intact, and a Merkle tree consistent
//! with a checkpoint taken before the dump.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotline_gateway::clock::Clock;
use hotline_gateway::receipts::{verify, Jwk};
use serde_json::{json, Value};

use crate::merkle_reference as rfc;
use crate::postgres::{shared, TestDatabase, BIN};
use crate::support::app::{spawn_app_with_clock, TestApp};
use crate::support::audit::store_verdict;
use crate::support::bodies::{item, nl_on_asn, report, report_of, START};

/// The commands as docs/OPERATING.md writes them, up to the database's URI and the file name.
const DOCUMENTED: [&str; 4] = [
    "pg_dump --format=custom --file=",
    "sudo -u postgres psql -c 'ALTER DATABASE hgw RENAME TO hgw_broken'",
    "sudo -u postgres createdb --owner=hgw hgw",
    "pg_restore --no-owner --role=hgw --single-transaction --dbname=",
];

/// Members whose inboxes, pages and delivery state the restore must keep.
const READERS: [&str; 4] = ["hotline-nl", "police-nl", "hoster-nl", "hotline-fr"];

/// A report as its member sent it, and the receipt's bytes.
#[derive(Clone)]
struct Acked {
    member: &'static str,
    body: Value,
    receipt: Vec<u8>,
}

async fn send(app: &TestApp, member: &'static str, body: Value) -> Acked {
    let response = app.post_report(member, &body).await;
    assert_eq!(response.status(), 202, "{}", body["report_id"]);
    let receipt = response.bytes().await.unwrap().to_vec();
    Acked {
        member,
        body,
        receipt,
    }
}

fn item_id(acked: &Acked, i: usize) -> String {
    let receipt: Value = serde_json::from_slice(&acked.receipt).unwrap();
    receipt["receipt"]["items"][i]["item_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// What members see that the restore must keep: inboxes with every entry, the page after each
/// member's last acknowledgement, delivery states, report views.
async fn seen(app: &TestApp, reports: &[Acked]) -> Vec<String> {
    let mut seen = Vec::new();
    for member in READERS {
        seen.push(app.inbox_text(member).await);
        let page = app.get(member, "/v1/inbox").await;
        assert_eq!(page.status(), 200, "{member}'s page");
        seen.push(page.text().await.unwrap());
        seen.push(app.delivery(member).await.to_string());
    }
    for sent in reports {
        let report_id = sent.body["report_id"].as_str().unwrap();
        seen.push(app.view_text(sent.member, report_id).await);
    }
    seen
}

fn unhex(text: &str) -> rfc::Hash {
    hex::decode(text).unwrap().try_into().unwrap()
}

/// The gateway's checkpoint, its signature checked: (size, root).
async fn checkpoint(app: &TestApp, keys: &[Jwk]) -> (usize, rfc::Hash) {
    let response = app.get("police-fr", "/v1/audit/checkpoint").await;
    assert_eq!(response.status(), 200);
    let cp: Value = response.json().await.unwrap();
    verify(&cp, keys).expect("the checkpoint is signed by the gateway");
    let size = cp["size"].as_u64().unwrap() as usize;
    (size, unhex(cp["root"].as_str().unwrap()))
}

/// Runs `command` to its end: it must succeed.
fn run(mut command: Command, what: &str) -> Output {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what}: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A PostgreSQL client program (pg_dump, pg_restore) as any user runs it: the password from
/// the `.pgpass` file `pgpass`, nothing else from the environment.
fn client(name: &str, pgpass: &Path) -> Command {
    let mut command = Command::new(Path::new(BIN).join(name));
    command.env("PGPASSFILE", pgpass).env_remove("PGPASSWORD");
    command
}

/// The database's URI as docs/OPERATING.md writes it: no password, `verify-full`.
fn uri(db: &TestDatabase, name: &str) -> String {
    format!(
        "postgres://hgw@localhost:{}/{name}?{}",
        db.port,
        db.tls("verify-full")
    )
}

#[tokio::test]
async fn a_pg_dump_under_load_restores_every_report_acknowledged_before_it() {
    let operating = include_str!("../../docs/OPERATING.md");
    for command in DOCUMENTED {
        assert!(
            operating.contains(command),
            "OPERATING.md lacks `{command}`"
        );
    }
    let db = shared().database();
    let url = db.url();
    let app = spawn_app_with_clock(
        |s| {
            s.store.url = url;
            s.limits.requests_per_second = 100_000;
            s.limits.burst = 100_000;
        },
        Clock::manual(START),
    )
    .await;

    // Referrals to hotline-nl, police-nl and hoster-nl; status changes; two members ack.
    let fr1 = report_of(
        "FR-1",
        vec![
            item("https://files.example.nl/a.jpg", nl_on_asn()),
            item("https://files.example.nl/b.jpg", json!({"country": "NL"})),
        ],
    );
    let fr1 = send(&app, "hotline-fr", fr1).await;
    let de1 = report("DE-1", "https://files.example.nl/d.jpg", nl_on_asn());
    let de1 = send(&app, "hotline-de", de1).await;
    app.ack("hotline-nl", "2").await;
    app.ack("police-nl", "1").await;
    let (a, b) = (item_id(&fr1, 0), item_id(&fr1, 1));
    app.change("hotline-nl", &a, "assessed_illegal").await;
    app.change("hotline-nl", &a, "notice_sent").await;
    let closing = json!({"status": "assessed_not_illegal"});
    let (_, closed) = app.set_status("hotline-nl", &b, closing.clone()).await;
    let first = vec![fr1, de1];
    let before = seen(&app, &first).await;
    let keys = app.keys().await;

    // Domestic reports from two members, sent on all through the dump: routed to nobody, they
    // leave the inboxes above as they are.
    let app = Arc::new(app);
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut load = Vec::new();
    for (member, country) in [("hotline-fr", "fr"), ("hotline-nl", "nl")] {
        let (app, acked, stopped) = (Arc::clone(&app), Arc::clone(&acked), stopped.clone());
        load.push(tokio::spawn(async move {
            let mut n = 0;
            while !*stopped.borrow() {
                n += 1;
                let url = format!("https://files.example.{country}/{n}.jpg");
                let hosting = json!({ "country": country.to_uppercase() });
                let sent = send(
                    &app,
                    member,
                    report(&format!("{member}-{n}"), &url, hosting),
                );
                let sent = sent.await;
                acked.lock().unwrap().push(sent);
            }
        }));
    }
    let acks = || acked.lock().unwrap().len();
    while acks() < 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (size, root) = checkpoint(&app, &keys).await;
    let kept: Vec<Acked> = first
        .iter()
        .cloned()
        .chain(acked.lock().unwrap().clone())
        .collect();

    // The dump, as the documented command, while the members go on sending.
    let dir = tempfile::tempdir().unwrap();
    let pgpass = dir.path().join("pgpass");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&pgpass)
        .and_then(|mut f| writeln!(f, "localhost:{}:*:hgw:{}", db.port, db.password))
        .unwrap();
    let dump = dir.path().join("hgw-20261201T020000Z.dump");
    let mut pg_dump = client("pg_dump", &pgpass);
    pg_dump
        .arg("--format=custom")
        .arg(format!("--file={}", dump.display()))
        .arg(uri(&db, &db.name));
    let dumped = tokio::task::spawn_blocking(move || run(pg_dump, "pg_dump"));
    dumped.await.unwrap();
    let during = acks();
    while acks() < during + 10 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(true);
    for task in load {
        task.await.unwrap();
    }
    let Ok(app) = Arc::try_unwrap(app) else {
        panic!("the load still holds the gateway");
    };
    let stopped = app.stop_keeping_files().await;

    // The restore, the gateway stopped: the old database kept aside, a new one under its name.
    let server = shared();
    let rename = format!("ALTER DATABASE {0} RENAME TO {0}_broken", db.name);
    for tries in 0.. {
        let mut psql = server.superuser("psql");
        let output = psql.args(["-X", "-c", &rename]).output().unwrap();
        if output.status.success() {
            break;
        }
        // The stopped gateway's connections end a moment after it stops.
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(tries < 100 && said.contains("other users"), "{said}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut createdb = server.superuser("createdb");
    createdb.args(["--owner=hgw", &db.name]);
    run(createdb, "createdb");
    let mut pg_restore = client("pg_restore", &pgpass);
    pg_restore
        .args(["--no-owner", "--role=hgw", "--single-transaction"])
        .arg(format!("--dbname={}", uri(&db, &db.name)))
        .arg(&dump);
    run(pg_restore, "pg_restore");

    let verdict = store_verdict(&stopped.settings);
    assert_eq!(verdict.code, Some(0), "{}", verdict.stdout);
    let events: usize = verdict
        .stdout
        .trim()
        .strip_prefix("audit chain intact: ")
        .and_then(|n| n.strip_suffix(" events"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", verdict.stdout));

    let app = stopped.start().await;
    let (restored, new_root) = checkpoint(&app, &keys).await;
    assert_eq!(seen(&app, &first).await, before, "what members see");
    for sent in &kept {
        let again = app.post_report(sent.member, &sent.body).await;
        assert_eq!(
            again.status(),
            200,
            "{} is not restored",
            sent.body["report_id"]
        );
        assert_eq!(
            again.bytes().await.unwrap(),
            sent.receipt,
            "its first receipt"
        );
    }
    let (_, again) = app.set_status("hotline-nl", &b, closing).await;
    assert_eq!(again, closed, "the status receipt first sent");

    // The restored log extends the one members saw before the dump.
    assert_eq!(restored, events, "the checkpoint counts every event");
    assert!(
        restored >= size,
        "{restored} events, {size} before the dump"
    );
    let path = format!("/v1/audit/consistency?from={size}&to={restored}");
    let response = app.get("police-fr", &path).await;
    assert_eq!(response.status(), 200, "{path}");
    let proof: Value = response.json().await.unwrap();
    let proof: Vec<rfc::Hash> = proof["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| unhex(h.as_str().unwrap()))
        .collect();
    assert!(
        rfc::verify_consistency(size, restored, &root, &new_root, &proof),
        "the restored tree is not consistent with the checkpoint before the dump"
    );
    app.stop().await;
}
