//! `routeros-sim` as a library: its command line ([`args`]), serving ([`serve`]), the control
//! subcommands that drive a running simulator through [`crate::ControlClient`] ([`commands`]), and
//! what they print ([`print`]); `verdict` evaluates a packet against the filter rules ([`verdict`]).
//!
//! The binary only parses the command line, sets up logging, calls [`run`] and turns the result into
//! an exit status, so everything it does can be called and tested from here.

pub mod args;
mod commands;
mod print;
mod serve;
mod verdict;

use std::path::PathBuf;

pub use args::Cli;
use args::Command;

use crate::StartError;
use crate::control::ControlError;

/// Why a `routeros-sim` command failed; every message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The simulator could not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// A control call failed.
    #[error(transparent)]
    Control(#[from] ControlError),
    /// A flag's value, a seed, a snapshot or a certificate cannot be used.
    #[error("{0}")]
    Input(String),
    /// A file could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    File {
        /// `read`, `write` or `create`.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Waiting for Ctrl-C failed.
    #[error("cannot wait for Ctrl-C: {0}")]
    Signal(std::io::Error),
}

impl CliError {
    fn file(
        action: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> CliError {
        let path = path.to_owned();
        move |source| CliError::File {
            action,
            path,
            source,
        }
    }
}

/// Runs a parsed command line: serves until Ctrl-C, or makes one control call and prints its answer.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        None => serve::serve(cli.serve).await,
        Some(Command::Serve(s)) => serve::serve(s).await,
        Some(cmd) => commands::control(cmd).await,
    }
}
