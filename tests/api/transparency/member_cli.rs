//! `audit checkpoint`, `audit check` and `audit prove` as a member runs them (the real binary,
//! with --cert/--key/--ca): what is true is accepted, tampered checkpoints, receipts and proofs
//! are refused.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use super::{gateway, get_json, report_and_assess};
use crate::support::app::TestApp;

/// Runs the real binary with `args`, as a member (its certificate from the test PKI given
/// explicitly, as a real member would): (exit code, stdout).
pub(super) fn cli(app: &TestApp, member: &str, args: &[&str]) -> (i32, String) {
    let certs = app.settings.tls.client_ca.parent().unwrap().join("members");
    let output = Command::new(env!("CARGO_BIN_EXE_hotline-gateway"))
        .args(["audit"])
        .args(args)
        .arg("--url")
        .arg(format!("https://localhost:{}", app.port))
        .arg("--cert")
        .arg(certs.join(format!("{member}.crt")))
        .arg("--key")
        .arg(certs.join(format!("{member}.key")))
        .arg("--ca")
        .arg(&app.settings.tls.client_ca)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "{args:?}: {code}; {stdout} {stderr}"
    );
    (code, format!("{stdout}{stderr}"))
}

pub(super) fn save_checkpoint(app: &TestApp, dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let out = path.to_str().unwrap();
    let (code, said) = cli(app, "police-be", &["checkpoint", "--out", out]);
    assert_eq!(code, 0, "{said}");
    path
}

fn write(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
    path
}

pub(super) fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

// Multi-threaded: the CLI runs as a blocking child process while the gateway serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_check_and_prove_accept_the_truth_and_refuse_tampering() {
    let app = gateway().await;
    let dir = tempfile::tempdir().unwrap();
    let (_, first, _) = report_and_assess(&app, 0).await;
    let old = save_checkpoint(&app, dir.path(), "old.json");
    let (_, _, second) = report_and_assess(&app, 1).await;
    let new = save_checkpoint(&app, dir.path(), "new.json");
    let first_path = write(dir.path(), "first.json", &first);
    let second_path = write(dir.path(), "second.json", &second);

    let (code, said) = cli(
        &app,
        "police-be",
        &["check", "--checkpoint", s(&old), "--checkpoint", s(&new)],
    );
    assert_eq!(code, 0, "{said}");
    let (code, said) = cli(
        &app,
        "police-be",
        &["check", "--checkpoint", s(&new), "--checkpoint", s(&old)],
    );
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("events were removed"), "{said}");
    let (code, said) = cli(
        &app,
        "hotline-fr",
        &["prove", s(&first_path), "--checkpoint", s(&new)],
    );
    assert_eq!(code, 0, "{said}");
    let (code, said) = cli(
        &app,
        "hotline-nl",
        &["prove", s(&second_path), "--checkpoint", s(&new)],
    );
    assert_eq!(code, 0, "{said}");
    // The old checkpoint predates the second change's event.
    let (code, said) = cli(
        &app,
        "hotline-nl",
        &["prove", s(&second_path), "--checkpoint", s(&old)],
    );
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("use a newer one"), "{said}");

    // A checkpoint whose root was changed no longer carries the gateway's signature.
    let mut forged: Value = serde_json::from_slice(&std::fs::read(&new).unwrap()).unwrap();
    forged["root"] = json!(hex::encode([7u8; 32]));
    let forged = write(dir.path(), "forged.json", &forged);
    let (code, said) = cli(
        &app,
        "police-be",
        &["check", "--checkpoint", s(&old), "--checkpoint", s(&forged)],
    );
    assert_eq!((code, said.contains("signature")), (1, true), "{said}");
    // A receipt whose index was moved is not the gateway's either.
    let mut moved = first.clone();
    moved["receipt"]["audit_index"] = json!(1);
    let moved = write(dir.path(), "moved.json", &moved);
    let (code, said) = cli(
        &app,
        "hotline-fr",
        &["prove", s(&moved), "--checkpoint", s(&new)],
    );
    assert_eq!((code, said.contains("signature")), (1, true), "{said}");

    // Saved proofs, tampered: each hash flipped in turn, one dropped, one added.
    let size = 4;
    let proof = get_json(
        &app.client("hotline-fr"),
        app.url(&format!("/v1/audit/proof?index=0&size={size}")),
    )
    .await;
    let consistency = get_json(
        &app.client("hotline-fr"),
        app.url("/v1/audit/consistency?from=2&to=4"),
    )
    .await;
    // The first receipt proved, and the two checkpoints checked, with a saved proof.
    let prove_with = |proof: &Path| {
        cli(
            &app,
            "hotline-fr",
            &[
                "prove",
                s(&first_path),
                "--checkpoint",
                s(&new),
                "--proof",
                s(proof),
            ],
        )
    };
    let check_with = |proof: &Path| {
        cli(
            &app,
            "police-be",
            &[
                "check",
                "--checkpoint",
                s(&old),
                "--checkpoint",
                s(&new),
                "--proof",
                s(proof),
            ],
        )
    };
    let saved = write(dir.path(), "proof.json", &proof);
    let (code, said) = prove_with(&saved);
    assert_eq!(code, 0, "{said}");
    let saved = write(dir.path(), "consistency.json", &consistency);
    assert_eq!(check_with(&saved).0, 0);
    for (name, answer) in [("proof", &proof), ("consistency", &consistency)] {
        let n = answer["proof"].as_array().unwrap().len();
        assert!(n > 0);
        let mut tampered: Vec<Value> = (0..n)
            .map(|i| {
                let mut t = answer.clone();
                let h = t["proof"][i].as_str().unwrap();
                let flipped = format!("{}{}", if &h[..1] == "0" { "1" } else { "0" }, &h[1..]);
                t["proof"][i] = json!(flipped);
                t
            })
            .collect();
        let mut shorter = answer.clone();
        shorter["proof"].as_array_mut().unwrap().pop();
        let mut longer = answer.clone();
        longer["proof"]
            .as_array_mut()
            .unwrap()
            .push(json!(hex::encode([1u8; 32])));
        tampered.extend([shorter, longer]);
        for (i, t) in tampered.iter().enumerate() {
            let path = write(dir.path(), &format!("{name}-{i}.json"), t);
            let (code, said) = if name == "proof" {
                prove_with(&path)
            } else {
                check_with(&path)
            };
            assert_eq!(code, 1, "tampered {name} {i} passed: {said}");
        }
    }
    // The proof of another event, offered for this receipt.
    let other = get_json(
        &app.client("hotline-fr"),
        app.url("/v1/audit/proof?index=2&size=4"),
    )
    .await;
    let mut relabelled = other.clone();
    relabelled["index"] = json!(0);
    let path = write(dir.path(), "other.json", &relabelled);
    let (code, said) = prove_with(&path);
    assert_eq!(
        (code, said.contains("not the receipt's")),
        (1, true),
        "{said}"
    );
    // `verify` reads a saved checkpoint too.
    let output = Command::new(env!("CARGO_BIN_EXE_hotline-gateway"))
        .args(["verify", s(&new), "--config"])
        .arg(write_config(&app, dir.path()))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && said.contains("an audit checkpoint"),
        "{said}"
    );
}

/// A configuration naming the gateway's signing key, for `verify`.
fn write_config(app: &TestApp, dir: &Path) -> PathBuf {
    let path = dir.join("gateway.toml");
    let toml = format!(
        "[signing]\nkey = {:?}\n",
        app.settings.signing.key.display().to_string()
    );
    std::fs::write(&path, toml).unwrap();
    path
}
