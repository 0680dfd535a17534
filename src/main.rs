//! `hotline-gateway`: parse the command line, start logging, hand off to the library.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use hotline_gateway::cli::{self, Cli};

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    hotline_gateway::telemetry::init(cli.log_json);
    match cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
