//! A data directory the gateway cannot write, at start: it refuses to start, exits non-zero and
//! names the directory, instead of serving with a store that cannot keep anything.

use std::time::Duration;

use crate::support::faults::ReadOnly;
use crate::support::network::standard_members;
use crate::support::process::{config, Site};

/// An empty data directory, then one holding a store, each read-only: `serve` exits non-zero
/// and names the directory; writable again, it starts on the intact store.
#[tokio::test]
async fn a_read_only_data_directory_is_refused_at_start_naming_it() {
    let site = Site::new(&config("", &standard_members()));
    let data = site.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for case in ["empty", "holding a store"] {
        if case == "holding a store" {
            site.serve(&[]).terminate().await;
        }
        let read_only = match ReadOnly::make(&data) {
            Ok(read_only) => read_only,
            Err(why) => panic!(
                "{case}: cannot make a directory read-only here ({why}): run the storage-fault \
                 tests as root on a machine that allows mount(2)"
            ),
        };
        let (status, log) = site.serve_refused(Duration::from_secs(60));
        drop(read_only);
        assert!(!status.success(), "{case}: exit {status:?}\n{log}");
        let shown = data.canonicalize().unwrap().display().to_string();
        assert!(
            log.contains(&shown) && log.contains("not writable"),
            "{case}: the message does not name {shown}:\n{log}"
        );
        assert!(!log.contains("gateway serving"), "{log}");
    }
    site.serve(&[]).terminate().await;
}
