//! The `routeros-agent` binary: parses the command line, sets up logging, runs the command from the
//! library and turns its result into an exit status (see `agent::commands::exit`).
//!
//! Output is written without panicking: a reader that goes away (`routeros-agent list | head -1`)
//! makes the write fail with a broken pipe, which ends the program quietly with its status, and logs
//! carry ANSI colours only when stderr is a terminal and `NO_COLOR` is not set.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = agent::commands::Cli::parse();
    // https://no-color.org: any non-empty value turns colours off.
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    // Logs go to stderr so that `--json` output on stdout stays one clean document.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .init();
    let json = cli.json;
    let password = std::env::var(agent::config::PASSWORD_ENV).ok();
    let token = std::env::var(agent::config::TOKEN_ENV).ok();
    let output = agent::commands::execute(cli, password, token).await;
    let text = if json {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&output.json).unwrap_or_default()
        )
    } else {
        output.text
    };
    // `print!` would panic on a closed pipe; a failed write is ignored, as nobody is left to read.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    ExitCode::from(output.status)
}
