//! The conformance suite as `cargo test` runs it: every scenario against an in-process simulator.
//!
//! This is a `harness = false` test, so libtest-mimic does the filtering and listing (`cargo test -p
//! conformance -- codes::208003`, `-- --list`) and nextest can run it. It takes the same options as
//! the `routeros-conformance` binary; without any it uses the in-process simulator.

use clap::Parser;

fn main() -> std::process::ExitCode {
    conformance::run::main(conformance::cli::Cli::parse())
}
