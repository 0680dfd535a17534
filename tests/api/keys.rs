//! Rotating the receipt signing key as an operator does, black-box: `keys rotate` while the
//! gateway runs, SIGHUP, and receipts signed by the old key still verified by `verify` in all
//! three ways: against the configuration's store, a saved JWK Set (`--keys`), and a running
//! gateway's `GET /v1/keys` (`--url --member`).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::support::bodies::report;
use crate::support::network::standard_members;
use crate::support::process::{binary, config, Gateway, Site};

fn run(site: &Site, args: &[&str]) -> Output {
    binary()
        .args(args)
        .current_dir(site.path())
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Sends a report as hotline-fr; saves its receipt as `name`; the receipt's `kid`.
async fn receipt(site: &Site, gateway: &Gateway, id: &str, name: &str) -> String {
    let client = site.client("hotline-fr");
    let body = report(
        id,
        &format!("https://{id}.example.nl/a.jpg"),
        serde_json::json!({"country": "NL"}),
    );
    let response = client
        .post(gateway.url("/v1/reports"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let bytes = response.bytes().await.unwrap();
    std::fs::write(site.path().join(name), &bytes).unwrap();
    let value: Value = serde_json::from_slice(&bytes).unwrap();
    kid_of(value["signature"].as_str().unwrap())
}

fn kid_of(jws: &str) -> String {
    use base64::Engine as _;
    let header = jws.split('.').next().unwrap();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    let header: Value = serde_json::from_slice(&header).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn published_kids(site: &Site, gateway: &Gateway) -> (Vec<String>, Vec<u8>) {
    let client = site.client("hotline-nl");
    let bytes = client
        .get(gateway.url("/v1/keys"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let keys: Value = serde_json::from_slice(&bytes).unwrap();
    let kids = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    (kids, bytes.to_vec())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn receipts_of_a_rotated_key_still_verify_every_way() {
    let site = Site::new(&config("", &standard_members()));
    let gateway = site.serve(&[]);
    let old_kid = receipt(&site, &gateway, "FR-ROT-1", "old.json").await;

    let rotated = run(&site, &["keys", "rotate", "--config", "gateway.toml"]);
    assert!(rotated.status.success(), "{rotated:?}");
    let said = stdout(&rotated);
    assert!(said.contains("in use by a running gateway"), "{said}");
    let key = site.path().join("certs/signing.pk8");
    let kept = site.path().join(format!("certs/signing.{old_kid}.pk8"));
    assert!(kept.is_file(), "{said}");
    assert_eq!((mode(&key), mode(&kept)), (0o600, 0o600));

    // Until SIGHUP the gateway signs with the old key; after it, with the new one.
    assert_eq!(
        receipt(&site, &gateway, "FR-ROT-2", "before-hup.json").await,
        old_kid
    );
    let seen = gateway.count("new signing key in force");
    gateway.signal("HUP");
    gateway.wait_for_log("new signing key in force", seen).await;
    let new_kid = receipt(&site, &gateway, "FR-ROT-3", "new.json").await;
    assert_ne!(new_kid, old_kid);
    let (kids, jwks) = published_kids(&site, &gateway).await;
    assert_eq!(kids.first(), Some(&new_kid), "the key in force first");
    assert!(kids.contains(&old_kid), "{kids:?}");
    std::fs::write(site.path().join("keys.json"), jwks).unwrap();

    let valid = |output: &Output, kid: &str| {
        let text = stdout(output);
        assert!(
            output.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(text.contains(&format!("signed by key {kid}")), "{text}");
    };
    for (file, kid) in [("old.json", &old_kid), ("new.json", &new_kid)] {
        valid(&run(&site, &["verify", file, "--keys", "keys.json"]), kid);
        let url = format!("https://localhost:{}", gateway.port);
        let fetched = [
            "verify",
            file,
            "--url",
            &url,
            "--member",
            "police-fr",
            "--config",
            "gateway.toml",
        ];
        valid(&run(&site, &fetched), kid);
        let explicit = [
            "verify",
            file,
            "--url",
            &url,
            "--cert",
            "certs/members/police-fr.crt",
            "--key",
            "certs/members/police-fr.key",
            "--ca",
            "certs/ca.crt",
        ];
        valid(&run(&site, &explicit), kid);
    }
    // The store is locked while the gateway runs: the current key only, and a way out.
    let locked = run(&site, &["verify", "old.json", "--config", "gateway.toml"]);
    assert_eq!(locked.status.code(), Some(1));
    let text = stdout(&locked);
    assert!(text.contains("in use by a running gateway"), "{text}");
    assert!(text.contains("--keys") && text.contains("--url"), "{text}");

    gateway.terminate().await;
    for (file, kid) in [("old.json", &old_kid), ("new.json", &new_kid)] {
        valid(
            &run(&site, &["verify", file, "--config", "gateway.toml"]),
            kid,
        );
    }

    // Rotated again with the gateway stopped: the store takes both keys at once.
    let again = run(&site, &["keys", "rotate", "--config", "gateway.toml"]);
    assert!(again.status.success(), "{again:?}");
    assert!(
        stdout(&again).contains("recorded in the store"),
        "{}",
        stdout(&again)
    );
    let gateway = site.serve(&[]);
    let (kids, _) = published_kids(&site, &gateway).await;
    assert_eq!(kids.len(), 3, "{kids:?}");
    assert!(kids.contains(&old_kid) && kids.contains(&new_kid));
    valid(
        &run(
            &site,
            &[
                "verify",
                "old.json",
                "--url",
                &format!("https://localhost:{}", gateway.port),
                "--member",
                "hotline-nl",
                "--config",
                "gateway.toml",
            ],
        ),
        &old_kid,
    );
    gateway.terminate().await;
}
