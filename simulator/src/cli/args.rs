//! The command line of `routeros-sim`: serve (the default) or drive a running simulator.
//!
//! Only the clap definitions live here; [`super::run`] dispatches them. Connection flags also read
//! environment variables (`ROUTEROS_SIM_*`), and the secrets among them (the admin password, the
//! control token) hide their values in `--help`.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::Version;

/// A fake MikroTik RouterOS v7 REST server with real TLS, for testing clients without a router.
#[derive(Debug, Parser)]
#[command(name = "routeros-sim", version, after_help = AFTER_HELP, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: Serve,
}

const AFTER_HELP: &str = "\
Examples:
  routeros-sim                                   # https://127.0.0.1:7443, admin/admin
  routeros-sim --seed fixtures/seeds/vendor-guide.toml
  routeros-sim --https-port 0 --no-http          # any free port, HTTPS only
  routeros-sim --routeros-version 7.9            # pre-7.10 timestamps, singleton arrays
  routeros-sim fault add status --status 500 --detail 'not enough permissions (9)' --times 1
  routeros-sim clock advance 1h
  routeros-sim journal --method PUT
  routeros-sim verdict --chain forward --src 198.51.100.7 --dst 10.0.0.5 --protocol tcp --dst-port 22

Set RUST_LOG=debug to see every connection and refusal.";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the simulator (the default when no subcommand is given).
    Serve(Serve),
    /// Dump, reset, seed, snapshot or restore the router's state.
    State {
        #[command(subcommand)]
        op: StateOp,
        #[command(flatten)]
        control: ControlArgs,
    },
    /// Read, freeze, resume or advance the simulator's clock.
    Clock {
        #[command(subcommand)]
        op: Option<ClockOp>,
        #[command(flatten)]
        control: ControlArgs,
    },
    /// Reboot the router: timed entries vanish, connections drop and are refused for the downtime.
    Reboot {
        /// How long the router stays down (RouterOS duration such as 5s, or milliseconds).
        #[arg(long, default_value = "0s")]
        downtime: String,
        #[command(flatten)]
        control: ControlArgs,
    },
    /// Show, mark or clear the journal of requests.
    Journal {
        #[command(subcommand)]
        op: Option<JournalOp>,
        #[command(flatten)]
        filter: JournalArgs,
        #[command(flatten)]
        control: ControlArgs,
    },
    /// Add, list, remove or clear fault rules.
    Fault {
        #[command(subcommand)]
        op: FaultOp,
        #[command(flatten)]
        control: ControlArgs,
    },
    /// Show the CA and certificate fingerprint, or rotate the served certificate.
    Tls {
        #[command(subcommand)]
        op: Option<TlsOp>,
        #[command(flatten)]
        control: ControlArgs,
    },
    /// Evaluate a packet against the filter rules: which rule decides and why (its counters advance).
    Verdict {
        #[command(flatten)]
        packet: super::verdict::VerdictArgs,
        #[command(flatten)]
        control: ControlArgs,
    },
    /// Show or set the router performance profile.
    Limits {
        /// Change the profile: JSON with any of these fields (the others keep their defaults).
        /// Durations are milliseconds or RouterOS text such as "1m" or "500ms".
        ///   session_limit       a command running longer is `400 Session closed` (default 60s)
        ///   serialize_per_user  run one user's requests one at a time (default true)
        ///   request_cost        time added to every request (default 0)
        ///   row_cost            time added per row read or written (default 0; 0.1 is 100 µs)
        ///   scan_cost           time added per row a print examines (default 0)
        ///   field_cost          time added per field of each row a print returns (default 0)
        ///   script_command_cost time added per command a script runs (default 0)
        ///   fetch_cost          time added per /tool/fetch besides its transfer (default 0)
        ///   login_cache         how long a user's policies are remembered (default 0)
        ///   read_timeout        time for a handshake, a request's head and its body (default 10s)
        ///   journal_bytes       bytes the journal holds before dropping the oldest (default 64 MiB)
        ///   modelled_time       costs move the frozen simulator clock instead of being waited
        ///                       for (default false; see `routeros-sim --help`)
        /// Example: --set '{"request_cost":"120ms","row_cost":"1ms","session_limit":"60s"}'
        #[arg(long, verbatim_doc_comment)]
        set: Option<String>,
        #[command(flatten)]
        control: ControlArgs,
    },
}

#[derive(Debug, Args)]
pub struct Serve {
    /// Address the router's services (`www`, `www-ssl`) listen on.
    #[arg(long, default_value = "127.0.0.1", env = "ROUTEROS_SIM_BIND")]
    pub bind: IpAddr,
    /// Address the control API listens on. It stays on loopback whatever --bind says; an address
    /// beyond loopback requires a control token.
    #[arg(long, default_value = "127.0.0.1", env = "ROUTEROS_SIM_CONTROL_BIND")]
    pub control_bind: IpAddr,
    /// Port of the HTTPS service (`www-ssl`); 0 picks a free port.
    #[arg(long, default_value_t = 7443, env = "ROUTEROS_SIM_HTTPS_PORT")]
    pub https_port: u16,
    /// Port of the plain HTTP service (`www`); 0 picks a free port.
    #[arg(long, default_value_t = 7080, env = "ROUTEROS_SIM_HTTP_PORT")]
    pub http_port: u16,
    /// Do not serve plain HTTP at all.
    #[arg(long)]
    pub no_http: bool,
    /// Port of the control API; 0 picks a free port.
    #[arg(long, default_value_t = 7090, env = "ROUTEROS_SIM_CONTROL_PORT")]
    pub control_port: u16,
    /// Require `Authorization: Bearer <token>` on the control API. Prefer the environment variable
    /// or --control-token-file: a flag's value shows in `ps`.
    #[arg(long, env = "ROUTEROS_SIM_TOKEN", hide_env_values = true)]
    pub control_token: Option<String>,
    /// Read the control token from this file (its first line).
    #[arg(
        long,
        env = "ROUTEROS_SIM_TOKEN_FILE",
        conflicts_with = "control_token",
        value_name = "FILE"
    )]
    pub control_token_file: Option<PathBuf>,
    /// Seed file (TOML or JSON) describing users, groups, services and list entries.
    #[arg(long, env = "ROUTEROS_SIM_SEED")]
    pub seed: Option<PathBuf>,
    /// RouterOS version to behave as (shapes differ before 7.10, 7.16, 7.19 and from 7.24).
    #[arg(
        long = "routeros-version",
        default_value = "7.23.7",
        env = "ROUTEROS_SIM_VERSION"
    )]
    pub routeros_version: Version,
    /// Password of the `admin` user (when no seed is given). Prefer the environment variable or
    /// --admin-password-file: a flag's value shows in `ps`.
    #[arg(long, default_value = crate::DEFAULT_PASSWORD, env = "ROUTEROS_SIM_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: String,
    /// Read the `admin` user's password from this file (its first line).
    #[arg(long, env = "ROUTEROS_SIM_ADMIN_PASSWORD_FILE", value_name = "FILE")]
    pub admin_password_file: Option<PathBuf>,
    /// Where to write the CA certificate (PEM) that clients should trust [default: a new private directory <temp dir>/routeros-sim-XXXXXX/ca.pem, removed at exit; the path is printed at start].
    #[arg(long, env = "ROUTEROS_SIM_CA_OUT")]
    pub ca_out: Option<PathBuf>,
    /// Extra DNS name or IP address for the generated certificate (repeatable).
    #[arg(long = "tls-name", value_name = "NAME")]
    pub tls_names: Vec<String>,
    /// Serve this PEM certificate chain instead of generating one (needs --key).
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// Private key (PEM) for --cert.
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// Also offer TLS 1.3 (RouterOS documents TLS 1.2).
    #[arg(long)]
    pub tls13: bool,
    /// Behave like a small real router: about 8 requests a second, about 0.9 ms per printed
    /// address-list row (less with `.proplist`, plus a scan of the table for a filtered print),
    /// and a 10-minute REST login cache (policy changes reach logged-in users late).
    #[arg(long)]
    pub realistic: bool,
    /// Run the router-speed costs on the simulator's clock instead of waiting for them (meaningful
    /// with --realistic, or with costs set later by `limits --set`). The clock starts frozen and
    /// only costs and `clock advance` move it: every request, row, scripted command and fetch
    /// moves it by its cost while the user's turn is held, so minutes of router time pass in a
    /// moment of real time, the journal's cost_us adds up to the clock, and a request whose costs
    /// pass the session limit moves the clock by the limit and is answered `400 Session closed`.
    /// With several users at once the modelled time is the sum of their costs, an upper bound.
    #[arg(long)]
    pub modelled_time: bool,
    /// Remember a user's policies this many seconds after a login (router: 600; default 0, or 600
    /// with --realistic).
    #[arg(long, value_name = "SECONDS")]
    pub login_cache: Option<u64>,
    /// Bytes the request journal holds before its oldest entries are dropped (default 64 MiB).
    #[arg(long, value_name = "BYTES", env = "ROUTEROS_SIM_JOURNAL_BYTES")]
    pub journal_bytes: Option<usize>,
    /// Seconds after which a command is cut off with `400 Session closed` (router: 60).
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub session_limit: u64,
}

#[derive(Debug, Args)]
pub struct ControlArgs {
    /// URL of the control API of a running simulator.
    #[arg(
        long,
        default_value = "http://127.0.0.1:7090",
        env = "ROUTEROS_SIM_CONTROL",
        global = true
    )]
    pub control: String,
    /// Bearer token of the control API (prefer the environment variable or --token-file: a flag's
    /// value shows in `ps`).
    #[arg(
        long,
        env = "ROUTEROS_SIM_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub token: Option<String>,
    /// Read the control API's bearer token from this file (its first line).
    #[arg(
        long,
        env = "ROUTEROS_SIM_TOKEN_FILE",
        global = true,
        value_name = "FILE"
    )]
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum StateOp {
    /// Print the whole state as JSON (a snapshot).
    Dump,
    /// Return to the seed.
    Reset,
    /// Make a seed file (TOML or JSON) the state and what `reset` returns to.
    Load { file: PathBuf },
    /// Save the exact state to a file.
    Snapshot { file: PathBuf },
    /// Load a state saved by `snapshot`.
    Restore { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum ClockOp {
    /// Print the clock.
    Show,
    /// Stop the clock.
    Freeze,
    /// Let a frozen clock run again.
    Resume,
    /// Move the clock forward by a RouterOS duration (1h30m) or milliseconds.
    Advance { by: String },
}

#[derive(Debug, Subcommand)]
pub enum JournalOp {
    /// Print a mark; pass it to --since to see what happens after it.
    Mark,
    /// Forget the recorded requests.
    Clear,
}

#[derive(Debug, Args)]
pub struct JournalArgs {
    /// Path pattern (`*` wildcard).
    #[arg(long)]
    pub path: Option<String>,
    /// HTTP method.
    #[arg(long)]
    pub method: Option<String>,
    /// User name.
    #[arg(long)]
    pub user: Option<String>,
    /// Status.
    #[arg(long)]
    pub status: Option<u16>,
    /// Only entries at or after this mark.
    #[arg(long)]
    pub since: Option<u64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum FaultOp {
    /// Add a rule: an action kind with its options, or a whole rule as JSON with --rule.
    Add(Box<FaultAdd>),
    /// List the rules with their counters.
    List,
    /// Remove a rule by id.
    Remove { id: u64 },
    /// Remove every rule.
    Clear,
}

#[derive(Debug, Args)]
pub struct FaultAdd {
    /// status, body, delay, refuse, reset, close-after-headers, close-after-bytes, stall, dribble,
    /// tls-expired, tls-wrong-name, tls-untrusted, tls-no-certificate, tls-plaintext.
    #[arg(required_unless_present = "rule")]
    pub kind: Option<String>,
    /// The whole rule as JSON (see docs/control-api.md).
    #[arg(long, conflicts_with = "kind")]
    pub rule: Option<String>,
    /// Only this method.
    #[arg(long)]
    pub method: Option<String>,
    /// Only paths matching this pattern (`*` wildcard).
    #[arg(long)]
    pub path: Option<String>,
    /// Only this user.
    #[arg(long)]
    pub user: Option<String>,
    /// Only this listener: www or www-ssl.
    #[arg(long)]
    pub listener: Option<String>,
    /// Fire only the next N times.
    #[arg(long)]
    pub times: Option<u64>,
    /// Let M matching requests through first.
    #[arg(long)]
    pub after: Option<u64>,
    /// Fire with this probability (0-1).
    #[arg(long)]
    pub probability: Option<f64>,
    /// Seed of the rule's generator.
    #[arg(long)]
    pub seed: Option<u64>,
    /// HTTP status (status, body).
    #[arg(long)]
    pub status: Option<u16>,
    /// RouterOS `detail` text (status).
    #[arg(long)]
    pub detail: Option<String>,
    /// Response body (body).
    #[arg(long)]
    pub body: Option<String>,
    /// Content type (body).
    #[arg(long)]
    pub content_type: Option<String>,
    /// Milliseconds (delay; the lower bound with --max-ms).
    #[arg(long)]
    pub ms: Option<u64>,
    /// Upper bound of a delay range.
    #[arg(long)]
    pub max_ms: Option<u64>,
    /// Bytes (close-after-bytes; per write for dribble).
    #[arg(long)]
    pub bytes: Option<usize>,
    /// Pause between writes (dribble).
    #[arg(long)]
    pub interval_ms: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum TlsOp {
    /// Print the CA and the served certificate's SHA-256.
    Show,
    /// Serve a new certificate from the same CA.
    Rotate,
}

/// A secret given directly or as a file: the file's first line, without its line ending. An empty
/// or unreadable file is an error naming the file, never a silent empty secret.
pub fn secret(
    direct: Option<&str>,
    file: Option<&std::path::Path>,
) -> Result<Option<String>, String> {
    let Some(path) = file else {
        return Ok(direct.map(str::to_owned));
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the secret file {}: {e}", path.display()))?;
    let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if line.is_empty() {
        return Err(format!(
            "the secret file {} is empty; write the secret on its first line",
            path.display()
        ));
    }
    Ok(Some(line.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_come_from_the_first_line_of_a_file() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join("token");
        std::fs::write(&file, "from-file\r\nsecond line\n").expect("write");
        assert_eq!(
            secret(Some("flag"), Some(&file)),
            Ok(Some("from-file".to_owned()))
        );
        assert_eq!(secret(Some("flag"), None), Ok(Some("flag".to_owned())));
        std::fs::write(&file, "\n").expect("write");
        let empty = secret(None, Some(&file)).expect_err("an empty file is refused");
        assert!(empty.contains("is empty"), "{empty}");
        let missing = secret(None, Some(&dir.path().join("none"))).expect_err("a missing file");
        assert!(missing.contains("cannot read"), "{missing}");
    }

    #[test]
    fn the_control_api_binds_loopback_whatever_the_services_bind() {
        let cli = Cli::try_parse_from(["routeros-sim", "--bind", "0.0.0.0"]).expect("parses");
        assert_eq!(cli.serve.control_bind, IpAddr::from([127, 0, 0, 1]));
    }
}
