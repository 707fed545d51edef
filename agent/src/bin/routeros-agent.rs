//! The `routeros-agent` binary: parses the command line, sets up logging, runs the command from the
//! library and turns its result into an exit status (see `agent::commands::exit`).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = agent::commands::Cli::parse();
    // Logs go to stderr so that `--json` output on stdout stays one clean document.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let json = cli.json;
    let password = std::env::var(agent::config::PASSWORD_ENV).ok();
    let output = agent::commands::execute(cli, password).await;
    let mut stdout = std::io::stdout().lock();
    let _ = if json {
        writeln!(
            stdout,
            "{}",
            serde_json::to_string_pretty(&output.json).unwrap_or_default()
        )
    } else {
        write!(stdout, "{}", output.text)
    };
    ExitCode::from(output.status)
}
