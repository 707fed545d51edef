//! The `routeros-agent` commands: `validate`, `grant`, `revoke`, `list`, `sync` and `run`.
//!
//! Each command returns a value of its own type that renders as text for people and as a JSON
//! document for `--json`, with an exit status ([`output::Render`]); [`Output`] is that rendering.
//! Codes are printed, never used as exit statuses (they do not fit in 8 bits); the statuses are the
//! small documented set in [`exit`]. The binary only parses arguments, sets up logging, calls
//! [`execute`] and prints.
//!
//! Files: `cli.rs` (clap definitions), `output.rs` (rendering), `validate.rs` and `probe.rs`
//! (`validate`), `grants.rs` (the commands on the grant store), `signal.rs` (what stops `run`),
//! `exit.rs` (statuses). `run` itself is the daemon (`crate::daemon`).

use std::io::Write as _;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::clock::{Clock, SystemClock};

use crate::config::{self, Config, DaemonArgs, FileConfig, GlobalArgs, Secret};
use crate::daemon;
use crate::net::{Observer, RouterClient};

mod cli;
pub mod exit;
mod forward;
mod grants;
pub mod output;
pub mod passive;
mod probe;
mod signal;
pub mod validate;

pub use cli::{Cli, Command, PassiveAction};
pub use forward::Forwarded;
pub use grants::{Done, Granted, Listing, Revoked, Synced};
pub use output::{Failure, Output, Reconciled, Render};
pub use validate::{Check, Step, StepResult, Validation, validate};

/// What `run` produced once it stopped.
#[derive(Debug, Clone, Copy)]
pub struct Stopped;

impl Render for Stopped {
    fn text(&self) -> String {
        "stopped\n".into()
    }

    fn json(&self) -> Value {
        json!({ "ok": true })
    }

    fn status(&self) -> u8 {
        exit::OK
    }
}

/// Merges file and flags into a configuration.
pub fn load_config(
    global: &GlobalArgs,
    daemon: &DaemonArgs,
    env_password: Option<String>,
) -> Result<Config, config::ConfigError> {
    let file = match &global.config {
        Some(path) => config::read_file(path)?,
        None => FileConfig::default(),
    };
    Config::resolve(global, daemon, &file, env_password)
}

/// Runs a parsed command line. `env_password` is `ROUTEROS_PASSWORD` and `env_token` is
/// `ROUTEROS_AGENT_TOKEN`, read by the caller.
pub async fn execute(cli: Cli, env_password: Option<String>, env_token: Option<String>) -> Output {
    let daemon_args = match &cli.command {
        Command::Run {
            interval,
            control,
            mode,
            feed_listen,
        } => DaemonArgs {
            interval: interval.clone(),
            control: *control,
            mode: mode.clone(),
            feed_listen: *feed_listen,
        },
        _ => DaemonArgs::default(),
    };
    let mut config = match load_config(&cli.global, &daemon_args, env_password) {
        Ok(c) => c,
        Err(e) => return Failure::config(e).into(),
    };
    config.control_token = env_token.filter(|t| !t.is_empty()).map(Secret::new);
    // Printed here, before the command runs (`run` may run for months), and whatever the log level
    // or the output format: a warning hidden by `RUST_LOG=off` or `--json` protects nobody.
    for w in config.warnings() {
        let _ = writeln!(std::io::stderr().lock(), "{w}");
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // `check_rules = false` in the file turns the rule check off like `--no-rules` does.
    let command = match cli.command {
        Command::Validate {
            write_check,
            rules,
            strict_rules,
        } => Command::Validate {
            write_check,
            rules: rules && config.check_rules,
            strict_rules,
        },
        other => other,
    };
    run_command(command, &config, clock).await
}

/// Runs a command with a configuration and a clock (tests pass a manual clock).
pub async fn run_command(command: Command, config: &Config, clock: Arc<dyn Clock>) -> Output {
    run_observed(command, config, clock, None).await
}

/// [`run_command`] with an observer shown every request the agent's client sends (a program
/// embedding the agent sets it; the conformance suite's `--record` does).
pub async fn run_observed(
    command: Command,
    config: &Config,
    clock: Arc<dyn Clock>,
    observer: Option<Observer>,
) -> Output {
    let warnings = config.warnings().into_iter().map(str::to_owned).collect();
    run_unwarned(command, config, clock, observer)
        .await
        .with_warnings(warnings)
}

async fn run_unwarned(
    command: Command,
    config: &Config,
    clock: Arc<dyn Clock>,
    observer: Option<Observer>,
) -> Output {
    // No router is configured only in passive mode without a URL: the daemon and the commands on
    // the grant store then work without one, and the commands that talk to the router fail below
    // with the configuration's own error.
    let client = match config.router {
        None => None,
        Some(_) => match RouterClient::new(config) {
            Ok(c) => Some(c.with_observer(observer)),
            Err(e) => return Failure::config(e).into(),
        },
    };
    match command {
        Command::Validate {
            write_check,
            rules,
            strict_rules,
        } => {
            // The command decides (`execute` folds `check_rules = false` into it), so a program
            // that builds the command asks for the check whatever its configuration says of `list`.
            let options = validate::Options {
                write_check,
                rules,
                strict_rules,
            };
            let client = match needed(client) {
                Ok(c) => c,
                Err(f) => return f.into(),
            };
            validate::validate_with(config, &client, options)
                .await
                .into()
        }
        Command::Grant {
            address,
            user,
            duration,
        } => rendered(grants::grant(config, client, &clock, &address, &user, &duration).await),
        Command::Revoke { address, user } => {
            rendered(grants::revoke(config, client, &clock, &address, &user).await)
        }
        Command::List => rendered(grants::list(config, client, &clock).await),
        Command::Sync => rendered(grants::sync(config, client, &clock).await),
        Command::Run { .. } => rendered(run(config, client, clock).await),
        Command::Passive { action } => {
            let client = match needed(client) {
                Ok(c) => c,
                Err(f) => return f.into(),
            };
            match action {
                PassiveAction::Install {
                    feed_url,
                    interval,
                    fail_closed_multiple,
                    feed_ca,
                    no_ca_import,
                } => {
                    let args = passive::InstallArgs {
                        feed_url,
                        interval,
                        fail_closed_multiple,
                        no_ca_import,
                        feed_ca,
                    };
                    rendered(passive::install(config, &client, &args).await)
                }
                PassiveAction::Uninstall => passive::uninstall(config, &client).await.into(),
                PassiveAction::Status { feed_ca } => {
                    passive::status(config, &client, feed_ca.as_deref())
                        .await
                        .into()
                }
            }
        }
    }
}

/// The client of a command that talks to the router whatever the mode (`validate`, `passive ...`),
/// or the configuration error saying how to name the router.
fn needed(client: Option<RouterClient>) -> Result<RouterClient, Failure> {
    client.ok_or_else(|| Failure::config(config::ConfigError(config::NO_ROUTER_URL.into())))
}

/// `run`: the daemon, until a signal stops it.
async fn run(
    config: &Config,
    client: Option<RouterClient>,
    clock: Arc<dyn Clock>,
) -> Result<Stopped, Failure> {
    let listener = tokio::net::TcpListener::bind(config.control)
        .await
        .map_err(|e| {
            Failure::config(format!(
                "cannot listen on {} for the control API: {e}",
                config.control
            ))
        })?;
    let shutdown = signal::shutdown_signal();
    match daemon::serve(config.clone(), client, clock, listener, shutdown).await {
        Ok(()) => Ok(Stopped),
        Err(daemon::DaemonError::Store(e)) => Err(Failure::store(e)),
        Err(e) => Err(Failure::config(e)),
    }
}

fn rendered<T: Render>(result: Result<T, Failure>) -> Output {
    match result {
        Ok(done) => done.into(),
        Err(failure) => failure.into(),
    }
}
