//! `audit verify`: walk the audit chain of a stopped gateway's store.

use std::process::ExitCode;

use crate::config::Settings;
use crate::store::{AuditVerdict, Store};

pub async fn verify(settings: &Settings) -> anyhow::Result<ExitCode> {
    // Opening creates a store where there is none: a wrong path must not look like an intact,
    // empty chain.
    let store = Store::open_existing(settings).await?;
    match store.verify_audit().await? {
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
