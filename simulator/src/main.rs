//! `routeros-sim`: run the RouterOS REST simulator, or drive a running one through its control API.
//!
//! With no arguments it serves `www-ssl` on https://127.0.0.1:7443, `www` on http://127.0.0.1:7080
//! and the control API on http://127.0.0.1:7090, with the user `admin`/`admin`; it writes its CA
//! certificate to a file and prints a `curl` command that works as printed. The other subcommands
//! (`state`, `clock`, `reboot`, `journal`, `fault`, `tls`, `limits`) call the control API of a
//! running simulator and print its JSON answers. Everything is in the library
//! ([`simulator::cli`]); this file parses, sets up logging and turns the result into an exit status.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use simulator::cli::{Cli, run};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, and never with NO_COLOR set (no-color.org).
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("routeros-sim: {e}");
            ExitCode::FAILURE
        }
    }
}
