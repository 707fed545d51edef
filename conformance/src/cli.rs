//! The command line of `routeros-conformance` and of the `cargo test` harness.
//!
//! libtest-mimic's own arguments (filter, `--list`, `--exact`, `--skip`, `--ignored`,
//! `--test-threads`, `--format` ...) are flattened in, so the suite filters and lists like any Rust
//! test binary and works under nextest. The suite's options choose the target and the reports.
//! Router passwords never come from a flag (anyone can read `ps`): they come from the environment or
//! a file, like the agent's. The one exception is `--control-token`, which mirrors `routeros-sim`'s
//! own flag for a simulator on a developer's machine; `ROUTEROS_SIM_TOKEN` is the better way.

use std::path::PathBuf;

use clap::Parser;

use crate::target::{Creds, Leftovers, Settings, TargetKind, Trust};

/// Environment variable with the agent user's password (the agent reads the same one).
pub const PASSWORD_ENV: &str = "ROUTEROS_PASSWORD";
/// Environment variable with the admin password.
pub const ADMIN_PASSWORD_ENV: &str = "CONFORMANCE_ADMIN_PASSWORD";
/// Environment variable with a running simulator's control token (`routeros-sim` reads the same).
pub const CONTROL_TOKEN_ENV: &str = "ROUTEROS_SIM_TOKEN";

/// The command line.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "routeros-conformance",
    version,
    about = "Runs the address-list agent's conformance suite against a simulator or a real router",
    // The name and what the program does come first; libtest's own options get a heading of
    // their own below the suite's.
    help_template = "{name} {version}: {about}\n\n{usage-heading} {usage}\n\n{all-args}{after-help}",
    next_help_heading = "Suite options",
    after_help = "Targets: `--target sim` (default) starts a fresh simulator in this process for \
                  every scenario; `--target https://127.0.0.1:8443 --control http://127.0.0.1:7090` \
                  drives a running simulator; `--target https://192.0.2.1` with ROUTEROS_USERNAME \
                  and ROUTEROS_PASSWORD checks a real router (see conformance/README.md)."
)]
pub struct Cli {
    /// `sim` for an in-process simulator, or the router's (or a running simulator's) REST URL.
    #[arg(long, value_name = "sim|URL", default_value = "sim")]
    pub target: String,
    /// The control API URL of a running simulator given with --target.
    #[arg(long, value_name = "URL")]
    pub control: Option<String>,
    /// The running simulator's control token (sent as `Authorization: Bearer`); prefer ROUTEROS_SIM_TOKEN.
    #[arg(long, env = CONTROL_TOKEN_ENV, hide_env_values = true, value_name = "TOKEN")]
    pub control_token: Option<String>,
    /// The agent's service user on the target.
    #[arg(long, env = "ROUTEROS_USERNAME", value_name = "NAME")]
    pub user: Option<String>,
    /// File whose first line is the service user's password (otherwise ROUTEROS_PASSWORD).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// An admin user, so the suite can create the restricted users and groups it needs.
    #[arg(long, env = "CONFORMANCE_ADMIN_USER", value_name = "NAME")]
    pub admin_user: Option<String>,
    /// File whose first line is the admin password (otherwise CONFORMANCE_ADMIN_PASSWORD).
    #[arg(long, value_name = "FILE")]
    pub admin_password_file: Option<PathBuf>,
    /// PEM file with the CA that signed the router's certificate.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub ca_file: Option<PathBuf>,
    /// Do not verify the router's certificate (the TLS trust scenarios still run).
    #[arg(long)]
    pub insecure: bool,
    /// Write a report: `--report json PATH` or `--report junit PATH` (repeatable).
    #[arg(long, num_args = 2, value_names = ["json|junit", "PATH"], action = clap::ArgAction::Append)]
    pub report: Vec<String>,
    /// Prefix of every list, user and group the suite creates (a run id is appended).
    #[arg(long, value_name = "TEXT", default_value = "conformance")]
    pub list_prefix: String,
    /// Only read: scenarios that write are reported as ignored, with what they would do.
    #[arg(long)]
    pub read_only: bool,
    /// Before the run, remove lists, users and groups named `<list-prefix>-<run id>-*` that an
    /// earlier (interrupted) run left on a shared target. Never while another run uses the target.
    #[arg(long, conflicts_with = "ignore_leftovers")]
    pub sweep_leftovers: bool,
    /// Run even though an earlier run left lists, users or groups behind (they are reported, not removed).
    #[arg(long)]
    pub ignore_leftovers: bool,
    /// Save every exchange under this directory, the suite's own and the agent's (files marked
    /// `agent`), with credentials and passwords removed.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// The RouterOS version of the in-process simulator; `all`, or several separated by commas,
    /// runs the suite once per version and prints which scenarios differ (the version matrix).
    #[arg(long, value_name = "VERSION|all")]
    pub routeros_version: Option<String>,
    /// Known divergences (default: the file shipped with the suite).
    #[arg(long, value_name = "FILE")]
    pub divergences: Option<PathBuf>,
    /// Print the version.
    // libtest-mimic's flattened arguments turn clap's own `--version` off, so it is declared here.
    #[arg(short = 'V', long, action = clap::ArgAction::Version)]
    pub version: Option<bool>,
    /// libtest's arguments: filter, --list, --exact, --skip, --test-threads, ...
    #[command(
        flatten,
        next_help_heading = "libtest options (as for any Rust test binary)"
    )]
    pub libtest: libtest_mimic::Arguments,
}

/// A report to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportFile {
    /// JSON.
    Json(PathBuf),
    /// JUnit XML.
    Junit(PathBuf),
}

fn first_line(path: &PathBuf) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(text.lines().next().unwrap_or("").to_owned())
}

impl Cli {
    /// The reports asked for.
    pub fn reports(&self) -> Result<Vec<ReportFile>, String> {
        self.report
            .chunks(2)
            .map(|pair| match pair {
                [kind, path] if kind == "json" => Ok(ReportFile::Json(path.into())),
                [kind, path] if kind == "junit" => Ok(ReportFile::Junit(path.into())),
                [kind, _] => Err(format!("--report {kind}: use json or junit")),
                _ => Err("--report needs a format and a path".into()),
            })
            .collect()
    }

    /// The settings. `run_id` makes names unique to this run. Reads only local files and the
    /// environment: listing must stay cheap and side-effect free.
    pub fn settings(&self, run_id: &str) -> Result<Settings, String> {
        let kind = match (self.target.as_str(), &self.control) {
            ("sim", None) => TargetKind::InProcess,
            ("sim", Some(_)) => {
                return Err("--control needs --target with the running simulator's URL".into());
            }
            (url, Some(control)) => TargetKind::RunningSim {
                url: check_url(url)?,
                control: control.trim_end_matches('/').to_owned(),
            },
            (url, None) => TargetKind::Router {
                url: check_url(url)?,
            },
        };
        let password = match &self.password_file {
            Some(p) => Some(first_line(p)?),
            None => std::env::var(PASSWORD_ENV).ok(),
        };
        let agent = match (&self.user, password) {
            (Some(u), Some(p)) => Some(Creds::new(u, &p)),
            _ => None,
        };
        let admin_password = match &self.admin_password_file {
            Some(p) => Some(first_line(p)?),
            None => std::env::var(ADMIN_PASSWORD_ENV).ok(),
        };
        let admin = match (&self.admin_user, admin_password, &kind) {
            (Some(u), Some(p), _) => Some(Creds::new(u, &p)),
            // Dropping the admin silently would turn every policy scenario into "ignored" with a
            // reason that blames missing credentials the engineer believes they gave.
            (Some(u), None, _) => {
                return Err(format!(
                    "--admin-user {u} (or CONFORMANCE_ADMIN_USER) needs its password: set {ADMIN_PASSWORD_ENV} or --admin-password-file"
                ));
            }
            // A simulator has `admin`/`admin` unless told otherwise.
            (None, _, TargetKind::InProcess | TargetKind::RunningSim { .. }) => {
                Some(Creds::new("admin", "admin"))
            }
            _ => None,
        };
        let trust = match (&self.ca_file, self.insecure, &kind) {
            (Some(f), _, _) => Trust::CaFile(f.clone()),
            (None, true, _) => Trust::Insecure,
            (None, false, TargetKind::Router { .. }) => Trust::System,
            (None, false, _) => Trust::SimulatorCa,
        };
        if self.list_prefix.is_empty()
            || !self
                .list_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "--list-prefix `{}`: use letters, digits, `-` and `_`",
                self.list_prefix
            ));
        }
        let sim_version = match (self.routeros_version.as_deref(), &kind) {
            (None, _) => None,
            (Some(v), TargetKind::InProcess) => match crate::matrix::versions(v)?.as_slice() {
                [one] => Some(one.clone()),
                // Several versions are run one at a time by the matrix, each with its own settings.
                _ => None,
            },
            (Some(_), _) => {
                return Err(
                    "--routeros-version chooses the in-process simulator's version: use it with                      --target sim (a running simulator follows its own `--routeros-version`)"
                        .into(),
                );
            }
        };
        let leftovers = if self.sweep_leftovers {
            Leftovers::Sweep
        } else if self.ignore_leftovers {
            Leftovers::Ignore
        } else {
            Leftovers::Refuse
        };
        Ok(Settings {
            sim_version,
            kind,
            agent,
            admin,
            trust,
            list_prefix: self.list_prefix.clone(),
            run_prefix: format!("{}-{run_id}", self.list_prefix),
            read_only: self.read_only,
            record: self.record.clone(),
            control_token: self.control_token.clone().filter(|t| !t.is_empty()),
            leftovers,
            stop: Default::default(),
        })
    }
}

fn check_url(url: &str) -> Result<String, String> {
    agent::config::normalise_url(url).map_err(|e| format!("--target: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("routeros-conformance").chain(args.iter().copied()))
            .expect("the arguments parse")
    }

    #[test]
    fn an_admin_user_without_a_password_is_an_error() {
        // Only the file form is tested: the environment is shared by every test of the process.
        let cli = parse(&["--target", "https://192.0.2.1", "--admin-user", "root"]);
        if std::env::var_os(ADMIN_PASSWORD_ENV).is_none() {
            let err = cli.settings("abcdef").unwrap_err();
            assert!(err.contains("needs its password"), "{err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\n").unwrap();
        let cli = parse(&[
            "--target",
            "https://192.0.2.1",
            "--admin-user",
            "root",
            "--admin-password-file",
            file.to_str().unwrap(),
        ]);
        let admin = cli.settings("abcdef").unwrap().admin.unwrap();
        assert_eq!(
            (admin.user.as_str(), admin.password.as_str()),
            ("root", "s3cret")
        );
    }

    #[test]
    fn help_names_the_program_first_and_version_works() {
        use clap::CommandFactory;
        let help = Cli::command().render_help().to_string();
        assert!(help.starts_with("routeros-conformance "), "{help}");
        let suite = help
            .find("Suite options:")
            .expect("a heading for the suite's options");
        let libtest = help
            .find("libtest options")
            .expect("a heading for libtest's");
        assert!(
            suite < libtest && help[suite..libtest].contains("--target"),
            "{help}"
        );
        assert!(help[libtest..].contains("--test-threads"), "{help}");
        assert!(
            help.contains("the suite's own and the agent's"),
            "--record says it records the agent"
        );
        let v = Cli::try_parse_from(["routeros-conformance", "--version"]).unwrap_err();
        assert_eq!(v.kind(), clap::error::ErrorKind::DisplayVersion);
    }

    #[test]
    fn leftover_flags_choose_the_policy() {
        let s = parse(&["--target", "https://192.0.2.1"])
            .settings("abcdef")
            .unwrap();
        assert_eq!(s.leftovers, Leftovers::Refuse);
        let s = parse(&["--sweep-leftovers"]).settings("abcdef").unwrap();
        assert_eq!(s.leftovers, Leftovers::Sweep);
        let s = parse(&["--ignore-leftovers"]).settings("abcdef").unwrap();
        assert_eq!(s.leftovers, Leftovers::Ignore);
        assert!(Cli::try_parse_from(["x", "--sweep-leftovers", "--ignore-leftovers"]).is_err());
    }
}
