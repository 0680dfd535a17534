//! What the gateway keeps on disk is its user's alone: the data directory (reported URLs, notes)
//! 0700 and every file in it 0600 whatever the umask, one left open tightened at start, and a
//! private key that others can read refused at start, by name, before anything is created.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::support::bodies::report;
use crate::support::network::standard_members;
use crate::support::process::{config, Site};

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

/// Every directory and file under `dir` (itself included), with its mode.
fn tree(dir: &Path) -> Vec<(std::path::PathBuf, bool, u32)> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(path) = todo.pop() {
        let is_dir = path.is_dir();
        if is_dir {
            todo.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        }
        found.push((path.clone(), is_dir, mode(&path)));
    }
    found
}

fn assert_private(dir: &Path) {
    let found = tree(dir);
    assert!(
        found.iter().any(|(_, is_dir, _)| !is_dir),
        "no file in {found:?}"
    );
    for (path, is_dir, mode) in found {
        let want = if is_dir { 0o700 } else { 0o600 };
        assert_eq!(mode, want, "{} is {mode:04o}", path.display());
    }
}

#[tokio::test]
async fn the_data_directory_and_its_files_are_private_under_umask_022_and_tightened_at_start() {
    let site = Site::new(&config("", &standard_members()));
    let data = site.path().join("data");
    let gateway = site.serve_under_umask("022");
    let body = report(
        "R-1",
        "https://files.example.nl/a.jpg",
        json!({"country": "NL"}),
    );
    assert_eq!(gateway.submit(&site.client("hotline-fr"), &body).await, 202);
    let log = gateway.terminate().await.join("\n");
    assert_private(&data);
    assert_eq!(mode(&site.path().join("certs/signing.pk8")), 0o600);
    assert!(!log.contains("open to group or others"), "{log}");

    // Left open (by hand, or by an older gateway): 0755 directories, 0644 files.
    for (path, is_dir, _) in tree(&data) {
        let open = if is_dir { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(open)).unwrap();
    }
    let gateway = site.serve_under_umask("022");
    assert_private(&data);
    let answer = gateway
        .get(&site.client("hotline-fr"), "/v1/reports/R-1")
        .await;
    assert_eq!(answer, 200);
    let log = gateway.terminate().await.join("\n");
    assert!(
        log.contains("the data directory was open to group or others"),
        "{log}"
    );
    assert_private(&data);
}

#[tokio::test]
async fn a_private_key_others_can_read_is_refused_at_start_by_name_and_nothing_is_created() {
    let cases = [
        ("signing.key", "certs/signing.pk8"),
        ("tls.key", "certs/gateway.key"),
        ("delivery.client_key", "certs/gateway-client.key"),
    ];
    for (setting, file) in cases {
        let site = Site::new(&config("", &standard_members()));
        let key = site.path().join(file);
        if setting == "signing.key" {
            let pkcs8 =
                ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
                    .unwrap();
            std::fs::write(&key, pkcs8.as_ref()).unwrap();
        }
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();

        let (status, log) = site.serve_refused(Duration::from_secs(60));
        assert!(!status.success(), "{setting}: exit {status:?}\n{log}");
        let shown = key.canonicalize().unwrap().display().to_string();
        for needle in [shown.as_str(), setting, &format!("chmod 600 {shown}")] {
            assert!(log.contains(needle), "{setting}: {needle:?} not in\n{log}");
        }
        assert!(!log.contains("gateway serving"), "{log}");
        assert!(!site.path().join("data").exists(), "{setting}: data/ made");
        if setting != "signing.key" {
            let signing = site.path().join("certs/signing.pk8");
            assert!(!signing.exists(), "{setting}: a signing key was made");
        }

        // As the message says.
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        site.serve(&[]).terminate().await;
    }
}
