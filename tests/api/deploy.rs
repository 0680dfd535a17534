//! `deploy/`: the systemd unit, the container build file and the Prometheus alert rules, each
//! checked for what an operator relies on. `systemd-analyze verify` and `promtool check rules`
//! run when the test runs (Debian packages `systemd` and `prometheus`; `.ci/run` installs
//! them): a missing tool fails the test, saying how to install it.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::support::app::spawn_app;

fn deploy(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `tool args`, failing the test with `package` to install if the tool is missing.
fn run_tool(tool: &str, args: &[&str], package: &str) -> (bool, String) {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} cannot run ({e}): install it with `apt-get install {package}`")
    });
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The unit's settings as `key=value` pairs, in order (a key may repeat).
fn unit_settings(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

#[test]
fn the_systemd_unit_is_hardened_and_verifies() {
    let text = deploy("systemd/hotline-gateway.service");
    let settings = unit_settings(&text);
    let get = |key: &str| -> Vec<&str> {
        settings
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    for (key, want) in [
        ("User", "hotline-gateway"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ReadWritePaths", "/var/lib/hotline-gateway"),
        ("Restart", "on-failure"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("PrivateTmp", "yes"),
        ("ProtectHome", "yes"),
        ("CapabilityBoundingSet", ""),
    ] {
        assert_eq!(get(key), vec![want], "{key}");
    }
    let files: u64 = get("LimitNOFILE")[0].parse().unwrap();
    assert!(files >= 8192, "LimitNOFILE {files}");
    let start = get("ExecStart")[0];
    assert!(
        start.contains(" serve --config /etc/hotline-gateway/gateway.toml"),
        "{start}"
    );
    assert!(get("User") != vec!["root"]);

    // systemd's own check, on a copy that starts the binary just built.
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("hotline-gateway.service");
    let text = text.replace(
        "/usr/local/bin/hotline-gateway",
        env!("CARGO_BIN_EXE_hotline-gateway"),
    );
    std::fs::write(&unit, text).unwrap();
    let (ok, said) = run_tool(
        "systemd-analyze",
        &["verify", unit.to_str().unwrap()],
        "systemd",
    );
    assert!(ok, "systemd-analyze verify: {said}");
    assert!(
        !said.contains("hotline-gateway.service"),
        "systemd-analyze verify: {said}"
    );
}

#[test]
fn the_container_build_is_multi_stage_non_root_and_needs_no_shell() {
    let text = deploy("container/Containerfile");
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let stages: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("FROM "))
        .collect();
    assert!(stages.len() >= 2, "a build stage and a run stage");
    let last = &lines[*stages.last().unwrap()..];
    let image = last[0];
    assert!(
        image.contains("distroless") || image.contains("scratch"),
        "the run stage has no shell: {image}"
    );
    assert!(
        !last.iter().any(|l| l.starts_with("RUN ")),
        "no RUN (no shell) in the run stage"
    );
    assert!(last.iter().any(|l| l.starts_with("COPY --from=build ")));
    let user = last
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER");
    assert!(
        !user.starts_with("root") && !user.starts_with('0'),
        "USER {user}"
    );
    for exec_form in ["ENTRYPOINT ", "CMD "] {
        let line = last
            .iter()
            .find(|l| l.starts_with(exec_form))
            .expect(exec_form);
        let json = line.trim_start_matches(exec_form);
        let args: Vec<String> = serde_json::from_str(json)
            .unwrap_or_else(|_| panic!("{exec_form}in exec form (a JSON array, no shell): {line}"));
        assert!(!args.is_empty());
    }
    assert!(lines
        .iter()
        .any(|l| l.contains("cargo build --release --locked")));
}

#[tokio::test]
async fn the_alert_rules_check_and_name_only_metrics_the_gateway_exports() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/prometheus/alerts.yml");
    let (ok, said) = run_tool(
        "promtool",
        &["check", "rules", path.to_str().unwrap()],
        "prometheus",
    );
    assert!(ok, "promtool check rules: {said}");

    // Every hgw_ metric a rule names is one a gateway exports: seen in a scrape, or (a family
    // shows only once it has a sample) registered under that name.
    let app = spawn_app().await;
    assert_eq!(app.get("hotline-fr", "/v1/keys").await.status(), 200);
    let scraped = app.scrape().await;
    let mut exported: BTreeSet<String> = scraped
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert!(
        exported.contains("hgw_certificate_expiry_seconds"),
        "{exported:?}"
    );
    for source in ["src/metrics.rs", "src/expiry.rs"] {
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(source)).unwrap();
        for registered in text.split("register(").skip(1) {
            if let Some(name) = registered.split('"').nth(1) {
                exported.insert(format!("hgw_{name}"));
            }
        }
    }
    let rules = deploy("prometheus/alerts.yml");
    let named: BTreeSet<String> = rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("hgw_"))
        .map(str::to_owned)
        .collect();
    assert!(named.len() >= 7, "{named:?}");
    for metric in &named {
        let family = metric.strip_suffix("_total").unwrap_or(metric);
        assert!(
            exported.contains(family),
            "{metric} is not exported; exported: {exported:?}"
        );
    }
    app.stop().await;
}
