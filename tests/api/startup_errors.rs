//! A start that cannot go on says what to fix, as an operator meets it: `serve --config FILE`
//! as a child process, each bad configuration with the exact text its message must hold, and
//! nothing created (no signing key, no data directory) before the configuration is known good.
//! Also the PID file (`gateway.pid_file`): written while serving, removed at a clean exit, and a
//! second gateway on it refused.

use std::path::Path;
use std::time::Duration;

use crate::support::network::standard_members;
use crate::support::process::{binary, config, Site};

/// `serve --config gateway.toml` in `dir` with `env`: it must exit 1; its stderr.
fn refused(dir: &Path, env: &[(&str, &str)]) -> String {
    let output = binary()
        .args(["serve", "--config", "gateway.toml"])
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    stderr
}

/// What a case starts from: a directory with the development PKI, or a bare one (a
/// configuration copied somewhere new).
#[derive(Clone, Copy)]
enum Start {
    WithPki,
    Bare,
}

struct Case {
    what: &'static str,
    start: Start,
    /// TOML put before the standard members (a `[section]` with its keys).
    sections: &'static str,
    /// Text replaced in the configuration (the first match of each).
    replace: &'static [(&'static str, &'static str)],
    env: &'static [(&'static str, &'static str)],
    /// Files removed from the site before the start.
    remove: &'static [&'static str],
    /// Texts the message must hold, each the given number of times (0: at least once).
    must: &'static [(&'static str, usize)],
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            what: "a role that does not exist, in the 4th [[members]]",
            start: Start::WithPki,
            sections: "",
            replace: &[(
                "id = \"police-fr\"\nrole = \"lea\"",
                "id = \"police-fr\"\nrole = \"police\"",
            )],
            env: &[],
            remove: &[],
            must: &[
                ("members[4].role", 1),
                ("the 4th [[members]] table, counting from 1", 1),
                ("\"police\" is not a valid role", 1),
                ("hotline, lea, hosting_provider", 1),
            ],
        },
        Case {
            what: "a missing server certificate",
            start: Start::WithPki,
            sections: "",
            replace: &[],
            env: &[],
            remove: &["certs/gateway.crt"],
            must: &[("tls.cert", 0), ("certs/gateway.crt", 0)],
        },
        Case {
            what: "a missing GeoIP file",
            start: Start::WithPki,
            sections: "",
            replace: &[("[routing]\n", "[routing]\ngeoip = \"missing.mmdb\"\n")],
            env: &[],
            remove: &[],
            must: &[
                ("routing.geoip", 1),
                ("missing.mmdb", 1),
                ("No such file or directory (os error 2)", 1),
            ],
        },
        Case {
            what: "an abuse_contacts file with a line that is no contact",
            start: Start::WithPki,
            // The configuration itself: its first line that is not a comment is no contact.
            sections: "[notices]\nabuse_contacts = \"gateway.toml\"\n",
            replace: &[],
            env: &[],
            remove: &[],
            must: &[
                ("notices.abuse_contacts", 0),
                ("gateway.toml", 0),
                ("line ", 0),
            ],
        },
        Case {
            what: "an smtp_url that is not smtp or smtps",
            start: Start::WithPki,
            sections: "[notices]\nsmtp_url = \"https://user:s3cret@relay.example\"\n",
            replace: &[],
            env: &[],
            remove: &[],
            must: &[("notices.smtp_url", 0), ("smtp or smtps", 0)],
        },
        Case {
            what: "a confirmation page without its public address",
            start: Start::WithPki,
            sections: "[notices]\npublic_listen = \"127.0.0.1:0\"\n",
            replace: &[],
            env: &[],
            remove: &[],
            must: &[(
                "notices.public_url must be set with notices.public_listen",
                1,
            )],
        },
        Case {
            what: "a configuration copied to a fresh directory",
            start: Start::Bare,
            sections: "",
            replace: &[],
            env: &[],
            remove: &[],
            must: &[
                ("tls.client_ca", 0),
                ("certs/ca.crt", 0),
                ("hotline-gateway dev-pki --config gateway.toml", 1),
            ],
        },
        Case {
            what: "an unknown HGW__ variable",
            start: Start::WithPki,
            sections: "",
            replace: &[],
            env: &[("HGW__GATEWAY__LISTN", "127.0.0.1:1")],
            remove: &[],
            must: &[
                (
                    "the environment variable HGW__GATEWAY__LISTN names no setting",
                    1,
                ),
                ("`listn`", 1),
            ],
        },
        Case {
            what: "an unknown HGW__ section",
            start: Start::WithPki,
            sections: "",
            replace: &[],
            env: &[("HGW__GATEWY__ID", "x")],
            remove: &[],
            must: &[(
                "the environment variable HGW__GATEWY__ID names no setting",
                1,
            )],
        },
        Case {
            what: "a wrong value from the environment",
            start: Start::WithPki,
            sections: "",
            replace: &[],
            env: &[("HGW__LIMITS__BURST", "many")],
            remove: &[],
            must: &[("HGW__LIMITS__BURST", 0), ("from the environment", 1)],
        },
    ]
}

fn site_for(case: &Case) -> tempfile::TempDir {
    let mut text = config(case.sections, &standard_members());
    for (from, to) in case.replace {
        assert!(text.contains(from), "{}: {from:?}", case.what);
        text = text.replacen(from, to, 1);
    }
    let dir = match case.start {
        Start::WithPki => Site::new(&config("", &standard_members())).dir,
        Start::Bare => tempfile::tempdir().unwrap(),
    };
    std::fs::write(dir.path().join("gateway.toml"), text).unwrap();
    for file in case.remove {
        std::fs::remove_file(dir.path().join(file)).unwrap();
    }
    dir
}

#[test]
fn each_bad_configuration_says_what_to_fix_and_creates_nothing() {
    for case in cases() {
        let dir = site_for(&case);
        let stderr = refused(dir.path(), case.env);
        for (text, times) in case.must {
            let found = stderr.matches(text).count();
            if *times == 0 {
                assert!(found > 0, "{}: {text:?} not in:\n{stderr}", case.what);
            } else {
                assert_eq!(found, *times, "{}: {text:?} in:\n{stderr}", case.what);
            }
        }
        assert!(!stderr.contains("members[3]"), "{}: {stderr}", case.what);
        // A password in a setting never reaches a message.
        assert!(!stderr.contains("s3cret"), "{}: {stderr}", case.what);
        assert!(
            !dir.path().join("certs/signing.pk8").exists() || matches!(case.start, Start::WithPki),
            "{}: a signing key was made",
            case.what
        );
        assert!(
            !dir.path().join("data").exists(),
            "{}: a data directory was made",
            case.what
        );
        if matches!(case.start, Start::Bare) {
            let left: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(left, ["gateway.toml"], "{}: made {left:?}", case.what);
        }
    }
}

#[tokio::test]
async fn compression_turned_on_for_an_existing_store_says_so() {
    let site = Site::new(&config("", &standard_members()));
    site.serve(&[]).terminate().await;
    let stderr = refused(site.path(), &[("HGW__STORE__COMPRESSION", "true")]);
    assert!(
        stderr.contains("was made with store.compression = false and cannot be opened with store.compression = true"),
        "{stderr}"
    );
    assert!(stderr.contains("HGW__STORE__COMPRESSION"), "{stderr}");
    assert!(!stderr.contains("another gateway"), "{stderr}");
}

#[tokio::test]
async fn the_pid_file_names_the_running_gateway_and_keeps_a_second_one_out() {
    let text = config("", &standard_members()).replacen(
        "data_dir = \"data\"",
        "data_dir = \"data\"\npid_file = \"data/gateway.pid\"",
        1,
    );
    let site = Site::new(&text);
    let pid_file = site.path().join("data/gateway.pid");
    let gateway = site.serve(&[]);
    let written = std::fs::read_to_string(&pid_file).unwrap();
    assert_eq!(written.trim(), gateway.pid().to_string());

    // A second gateway on the same configuration stops before it touches anything.
    let (status, log) = site.serve_refused(Duration::from_secs(30));
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(
        log.contains(&format!(
            "gateway.pid_file data/gateway.pid names process {}",
            gateway.pid()
        )),
        "{log}"
    );
    assert!(log.contains("running"), "{log}");

    // SIGHUP through the file reaches this gateway.
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let seen = gateway.count("SIGHUP: member list reloaded");
    let sent = std::process::Command::new("kill")
        .args(["-HUP", pid.trim()])
        .status()
        .unwrap();
    assert!(sent.success());
    gateway
        .wait_for_log("SIGHUP: member list reloaded", seen)
        .await;

    gateway.terminate().await;
    assert!(!pid_file.exists(), "the PID file outlived a clean exit");

    // A file left by a gateway that died is replaced.
    std::fs::write(&pid_file, "999999999\n").unwrap();
    let gateway = site.serve(&[]);
    let written = std::fs::read_to_string(&pid_file).unwrap();
    assert_eq!(written.trim(), gateway.pid().to_string());
    gateway.terminate().await;
}
