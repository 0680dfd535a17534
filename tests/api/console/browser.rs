//! The console in a real browser: Debian's Chromium (`/usr/bin/chromium`), headless, driven by
//! Playwright (`playwright-core` from npm, which installs no browser of its own) from
//! `tests/browser/console.mjs`, with each member's `.p12` from `dev-pki` as its client
//! certificate. This test starts the gateway, makes the items, runs the script (after
//! `npm ci` when `tests/browser/node_modules` is missing) and checks through the API what the
//! browser changed. It fails, never skips, when Chromium or Node is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::support::bodies::{item, nl_on_asn, report_of};
use crate::support::checks::statuses;

const CHROMIUM: &str = "/usr/bin/chromium";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Node, Chromium and the npm packages, or a panic that says how to get them.
fn prerequisites() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "the console's browser tests need Debian's Chromium at {CHROMIUM}: apt-get install chromium"
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "the console's browser tests need Node.js: apt-get install nodejs npm"
    );
    let dir = browser_dir();
    if !dir.join("node_modules/playwright-core").exists()
        || !dir.join("node_modules/axe-core").exists()
    {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            .status()
            .expect("npm ci in tests/browser (apt-get install nodejs npm)");
        assert!(status.success(), "npm ci in tests/browser failed");
    }
}

#[tokio::test]
async fn the_console_in_chromium_with_javascript_on_and_off() {
    prerequisites();
    let app = crate::support::app::spawn_app().await;
    let nl = |path: &str| item(&format!("https://files.example.nl/{path}"), nl_on_asn());
    let body = report_of(
        "FR-BROWSER-1",
        vec![
            nl("js-on.jpg"),
            nl("js-off.jpg"),
            nl("bulk-1.jpg"),
            nl("bulk-2.jpg"),
            nl("forged.jpg?x=<img/src=/x>&y=\"z\""),
            item(
                "https://files.example.de/de-only.jpg",
                json!({"country": "DE"}),
            ),
        ],
    );
    let ids: Vec<String> = app
        .submit_items("hotline-fr", &body)
        .await
        .iter()
        .map(|i| i["item_id"].as_str().unwrap().to_owned())
        .collect();
    let certs = app.settings.tls.client_ca.parent().unwrap().join("members");
    let shots = match std::env::var_os("HGW_CONSOLE_SCREENSHOTS") {
        Some(dir) => PathBuf::from(dir),
        None => app.dir.join("screenshots"),
    };
    let plan = json!({
        "base": format!("https://localhost:{}", app.port),
        "chromium": CHROMIUM,
        "p12": {
            "hotline-nl": certs.join("hotline-nl.p12"),
            "hotline-fr": certs.join("hotline-fr.p12"),
            "hotline-de": certs.join("hotline-de.p12"),
            "hoster-nl": certs.join("hoster-nl.p12"),
        },
        "password": hotline_gateway::pki::P12_PASSWORD,
        "items": {
            "js_on": ids[0], "js_off": ids[1], "bulk": [ids[2], ids[3]],
            "forged": ids[4], "de_only": ids[5],
        },
        "screenshots": shots,
        "profile": app.dir.join("chromium-profile"),
    });
    let plan_path = app.dir.join("plan.json");
    std::fs::write(&plan_path, plan.to_string()).unwrap();
    let script = browser_dir().join("console.mjs");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .arg(plan_path)
            .current_dir(browser_dir())
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the browser script failed:\n{stdout}\n{stderr}"
    );

    // What the browser did went through the API's rules: visible in the submitter's report.
    let view = app.view("hotline-fr", "FR-BROWSER-1").await;
    let steps = |i: usize| statuses(&view, i);
    for i in [0, 1] {
        assert_eq!(
            steps(i),
            [
                "routed",
                "delivered",
                "assessed_illegal",
                "notice_sent",
                "removed"
            ],
            "item {i}"
        );
    }
    for i in [2, 3] {
        assert_eq!(
            steps(i).last().map(String::as_str),
            Some("assessed_illegal"),
            "bulk item {i}"
        );
    }
    assert_eq!(
        steps(4),
        ["routed", "delivered"],
        "the forged post changed the item"
    );
    assert_eq!(steps(5), ["routed"], "hotline-nl touched DE's item");
}
