//! `routeros-conformance`: the conformance suite for people and CI.
//!
//! With no arguments it runs every scenario against a fresh in-process simulator and prints the
//! error-code coverage table; `--target`, `--control` and the credentials point it at a running
//! simulator or a real router (see `conformance/README.md`).

use clap::Parser;

fn main() -> std::process::ExitCode {
    conformance::run::main(conformance::cli::Cli::parse())
}
