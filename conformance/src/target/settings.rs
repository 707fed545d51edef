//! What the suite runs against and with which credentials, as decided from the command line before
//! anything is sent.

use std::path::PathBuf;

/// What the suite runs against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// A fresh in-process simulator per scenario.
    InProcess,
    /// A simulator running elsewhere: its REST URL and its control API URL.
    RunningSim {
        /// `https://host:port` of `www-ssl` (or `http://` of `www`).
        url: String,
        /// `http://host:port` of the control API.
        control: String,
    },
    /// A real router.
    Router {
        /// `https://host[:port]`.
        url: String,
    },
}

impl TargetKind {
    /// `simulator` or `router`, as used in `divergences.toml`.
    pub fn class(&self) -> &'static str {
        match self {
            TargetKind::Router { .. } => "router",
            _ => "simulator",
        }
    }

    /// For people.
    pub fn describe(&self) -> String {
        match self {
            TargetKind::InProcess => "in-process simulator (a fresh one per scenario)".into(),
            TargetKind::RunningSim { url, control } => {
                format!("running simulator {url} (control {control})")
            }
            TargetKind::Router { url } => format!("real router {url}"),
        }
    }

    /// Whether scenarios share one router (and must run one at a time).
    pub fn is_shared(&self) -> bool {
        !matches!(self, TargetKind::InProcess)
    }
}

/// A user name and password.
#[derive(Clone, PartialEq, Eq)]
pub struct Creds {
    /// The user.
    pub user: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for Creds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Creds({}, ***)", self.user)
    }
}

impl Creds {
    /// A pair.
    pub fn new(user: &str, password: &str) -> Self {
        Creds {
            user: user.into(),
            password: password.into(),
        }
    }

    /// The pair as the REST clients take it.
    pub(crate) fn pair(&self) -> Option<(String, String)> {
        Some((self.user.clone(), self.password.clone()))
    }
}

/// How the router's certificate is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The simulator's CA (in-process: the simulator's; running: fetched from the control API).
    SimulatorCa,
    /// A CA file.
    CaFile(PathBuf),
    /// No verification.
    Insecure,
    /// The system's trust store.
    System,
}

/// What to do with rows an earlier run left on a shared target (see [`crate::safety::leftovers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leftovers {
    /// Report them and refuse to start (the default).
    Refuse,
    /// Report them and remove them before the run (`--sweep-leftovers`).
    Sweep,
    /// Report them and run anyway (`--ignore-leftovers`).
    Ignore,
}

/// Everything decided from the command line, before anything is sent.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The target.
    pub kind: TargetKind,
    /// The agent's service user (in-process: created by the suite).
    pub agent: Option<Creds>,
    /// Admin credentials, if given (in-process and running simulators: `admin`/`admin`).
    pub admin: Option<Creds>,
    /// Certificate trust.
    pub trust: Trust,
    /// `--list-prefix` alone: what every run's names start with (for finding earlier runs' rows).
    pub list_prefix: String,
    /// The prefix of every list, user and group this run creates, including the run id.
    pub run_prefix: String,
    /// Only read.
    pub read_only: bool,
    /// `--record` directory.
    pub record: Option<PathBuf>,
    /// A running simulator's control token.
    pub control_token: Option<String>,
    /// What to do with an earlier run's rows.
    pub leftovers: Leftovers,
    /// The RouterOS version the in-process simulator follows (`--routeros-version`; its default
    /// when `None`).
    pub sim_version: Option<simulator::Version>,
    /// The run's stop switch (Ctrl-C, SIGTERM): see [`crate::stop`].
    pub stop: std::sync::Arc<crate::stop::Stop>,
}

/// The in-process simulator's service user, as the vendor's guide sets it up.
pub const SIM_AGENT: (&str, &str) = ("conformance-agent", "conformance-agent-password");
/// The group it belongs to.
pub const SIM_AGENT_GROUP: (&str, &str) = ("conformance-agent", "api,rest-api,read,write,policy");
