//! `audit verify`: walk the audit chain of a stopped gateway's store.

use std::process::ExitCode;

use crate::config::Settings;
use crate::store::{AuditVerdict, Store};

pub fn verify(settings: &Settings) -> anyhow::Result<ExitCode> {
    let dir = &settings.gateway.data_dir;
    // Opening creates a store where there is none: a wrong path must not look like an
    // intact, empty chain.
    if !dir.join("conf").is_file() {
        anyhow::bail!("there is no gateway store in {}", dir.display());
    }
    let store = Store::open(dir, &settings.store)?;
    match store.verify_audit()? {
        AuditVerdict::Intact { events } => {
            println!("audit chain intact: {events} events");
            Ok(ExitCode::SUCCESS)
        }
        AuditVerdict::Broken { seq, reason } => {
            println!("audit chain BROKEN at event {seq}: {reason}");
            Ok(ExitCode::FAILURE)
        }
    }
}
