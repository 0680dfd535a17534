//! `hotline-gateway`: parse the command line, start logging, hand off to the library.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use hotline_gateway::cli::{self, Cli};

/// mimalloc rather than the system allocator: intake allocates and frees many short-lived
/// buffers across threads, where glibc's malloc spent a fifth of the CPU (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.log_json;
    hotline_gateway::telemetry::init(json);
    match cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            // Once: as a JSON log line when logs are JSON, else as a plain line for a person.
            if json {
                tracing::error!("{e:#}");
            } else {
                eprintln!("error: {e:#}");
            }
            ExitCode::FAILURE
        }
    }
}
