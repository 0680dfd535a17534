//! `audit verify`: walk the audit chain of a stopped gateway's store.

use std::process::ExitCode;

use crate::config::Settings;
use crate::store::{AuditVerdict, Store};

pub fn verify(settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = Store::open(&settings.gateway.data_dir)?;
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
