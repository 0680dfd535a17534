//! `store backup` while the gateway serves under load: a consistent, restorable backup. Every
//! report acknowledged before the backup started is in it, byte for byte; the audit chain of
//! the backup verifies; a gateway started on a copy of it serves them. Who may ask for one.

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::support::bodies::report;
use crate::support::network::standard_members;
use crate::support::process::{binary, config, Site};

/// `hotline-gateway ARGS` in the site: exit status success, and what it printed.
fn run(site: &Site, args: &[&str]) -> (bool, String) {
    let out = binary()
        .args(args)
        .current_dir(site.path())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A report's id and the receipt its member got, byte for byte.
type Acked = (String, Vec<u8>);

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn hosted_in_nl(id: &str) -> Value {
    report(
        id,
        &format!("https://files.example.nl/{id}"),
        json!({ "country": "NL" }),
    )
}

#[tokio::test]
async fn a_backup_under_load_restores_every_report_acknowledged_before_it() {
    let site = Site::new(&config("", &standard_members()));
    let gateway = Arc::new(site.serve(&[]));
    // Receipts of acknowledged reports, by id, as the members got them.
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut load = Vec::new();
    for member in ["hotline-fr", "police-fr"] {
        let (client, gateway, acked, stopped) = (
            site.client(member),
            Arc::clone(&gateway),
            Arc::clone(&acked),
            stopped.clone(),
        );
        load.push(tokio::spawn(async move {
            let mut n = 0;
            while !*stopped.borrow() {
                n += 1;
                let id = format!("{member}-{n}");
                let response = client
                    .post(gateway.url("/v1/reports"))
                    .json(&hosted_in_nl(&id))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 202);
                let body = response.bytes().await.unwrap().to_vec();
                acked.lock().unwrap().push((id, body));
            }
        }));
    }
    while acked.lock().unwrap().len() < 40 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let before = acked.lock().unwrap().clone();
    let admin = format!("127.0.0.1:{}", gateway.admin_port);
    let backup_dir = site.path().join("backup");
    let args = [
        "store",
        "backup",
        "--config",
        "gateway.toml",
        "--admin",
        &admin,
        "--to",
        "backup",
    ];
    let (ok, said) = {
        let (path, args) = (site.path().to_owned(), args.map(str::to_owned));
        tokio::task::spawn_blocking(move || {
            let out = binary().args(&args).current_dir(path).output().unwrap();
            let said = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            (out.status.success(), said)
        })
        .await
        .unwrap()
    };
    assert!(ok, "{said}");
    assert!(
        said.contains("backup written to") && said.contains("reports:"),
        "{said}"
    );
    // The load went on during the backup and goes on after it.
    let during = acked.lock().unwrap().len();
    while acked.lock().unwrap().len() < during + 10 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let _ = stop.send(true);
    for task in load {
        task.await.unwrap();
    }

    // Another backup into the same, non-empty directory is refused; so is a request without
    // the data directory's token.
    let (ok, said) = run(&site, &args);
    assert!(!ok && said.contains("not empty"), "{said}");
    let refused = crate::support::metrics::plain_client()
        .post(format!("http://{admin}/store/backup"))
        .json(&json!({ "to": site.path().join("elsewhere") }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(!site.path().join("elsewhere").exists());
    let Ok(gateway) = Arc::try_unwrap(gateway) else {
        panic!("the load still holds the gateway");
    };
    gateway.terminate().await;

    // Restore: a fresh data directory from the backup, the gateway started on it.
    copy_dir(&backup_dir, &site.path().join("restored"));
    let restored =
        config("", &standard_members()).replace("data_dir = \"data\"", "data_dir = \"restored\"");
    std::fs::write(site.path().join("restored.toml"), &restored).unwrap();
    let (ok, said) = run(&site, &["audit", "verify", "--config", "restored.toml"]);
    assert!(ok, "audit verify on the restored store: {said}");
    site.write_config(&restored);
    let gateway = site.serve(&[]);
    let clients = [
        ("hotline-fr", site.client("hotline-fr")),
        ("police-fr", site.client("police-fr")),
    ];
    for (id, receipt) in &before {
        let client = &clients.iter().find(|(m, _)| id.starts_with(m)).unwrap().1;
        // Sent again, the report is found with its first receipt, byte for byte.
        let again = client
            .post(gateway.url("/v1/reports"))
            .json(&hosted_in_nl(id))
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 200, "{id} is not in the backup");
        assert_eq!(&again.bytes().await.unwrap().to_vec(), receipt, "{id}");
    }
    gateway.terminate().await;
}
