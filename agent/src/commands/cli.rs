//! The command line of `routeros-agent` (clap derive): the commands and their own flags.
//!
//! The connection flags every command shares are [`GlobalArgs`], next to the configuration they
//! feed; the password never comes from a flag.

use std::net::SocketAddr;

use crate::config::GlobalArgs;

/// Shown after the options of `--help`: what scripts need and cannot guess from the flags.
const AFTER_HELP: &str = "\
The password never comes from a flag (it would show in `ps`): set the ROUTEROS_PASSWORD environment
variable or give --password-file (or `password_file` in the --config file).

Exit statuses (error codes such as 208001 are printed, never used as statuses):
  0  done
  1  the router or the network failed; the code was printed; grants are kept for the next attempt
  2  bad usage or configuration, including an address refused before sending (208104); nothing was sent
  3  the grant store could not be read, written or locked (while `run` is running, send grants to its
     control API: POST http://<control>/v1/grants)
  4  done, but a granted address is held by an entry the agent does not own (208105)";

/// The command line.
#[derive(Debug, clap::Parser)]
#[command(
    name = "routeros-agent",
    version,
    about = "Keeps a MikroTik firewall address-list in step with expiring grants",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// Connection and behaviour settings.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Print one JSON document instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Check TCP, TLS, credentials, RouterOS version and list access, step by step.
    Validate {
        /// Also add and remove a probe entry (192.0.2.254, timeout 1m) in the IPv4 list.
        #[arg(long)]
        write_check: bool,
        /// Skip the filter rule check, which by default reads `/ip/firewall/filter` and
        /// `/ipv6/firewall/filter` (never writing) to confirm that an enabled rule accepts each
        /// list and that no earlier drop shadows it: for setups whose rules live elsewhere (also
        /// `check_rules = false` in the configuration file).
        #[arg(long = "no-rules", action = clap::ArgAction::SetFalse)]
        rules: bool,
        /// Fail, rather than warn, when the rule check cannot judge the rules (208110).
        #[arg(long, conflicts_with = "rules")]
        strict_rules: bool,
    },
    /// Grant a user access from an address for a while, and update the router.
    Grant {
        /// IPv4 or IPv6 host or prefix.
        address: String,
        /// Who the grant is for.
        #[arg(long)]
        user: String,
        /// How long, as a RouterOS duration (`30m`, `8h`, `1d`).
        #[arg(long = "for", value_name = "DURATION")]
        duration: String,
    },
    /// Revoke a user's grant for an address, and update the router.
    Revoke {
        /// The address of the grant.
        address: String,
        /// Whose grant.
        #[arg(long)]
        user: String,
    },
    /// Show grants with their remaining time and the entries the agent owns.
    List,
    /// Reconcile the router's lists with the grants once.
    Sync,
    /// Run the daemon: reconcile periodically and serve the loopback control API.
    Run {
        /// How often to reconcile (default 1m).
        #[arg(long, value_name = "DURATION")]
        interval: Option<String>,
        /// Control API address (loopback only; default 127.0.0.1:7878).
        #[arg(long, value_name = "ADDR")]
        control: Option<SocketAddr>,
        /// `active` (default: the agent writes the list) or `passive` (the router pulls the feed).
        #[arg(long, value_name = "MODE")]
        mode: Option<String>,
        /// Passive mode: serve the feed over HTTPS on this address (e.g. 0.0.0.0:8443).
        #[arg(long, value_name = "ADDR")]
        feed_listen: Option<SocketAddr>,
    },
    /// Passive mode on the router: the script and scheduler entry that pull the feed.
    Passive {
        /// What to do.
        #[command(subcommand)]
        action: PassiveAction,
    },
}

/// `passive` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PassiveAction {
    /// Create or update the script and scheduler entry, and import the feed's CA.
    Install {
        /// The feed URL of the IPv4 list, as the daemon printed it
        /// (`https://<host>:<port>/feed/v1/lists/<list>.txt`), reachable from the router.
        #[arg(long, value_name = "URL")]
        feed_url: String,
        /// How often the router pulls the feed (default 1m).
        #[arg(long, value_name = "DURATION")]
        interval: Option<String>,
        /// Entries live this many intervals, so access closes by itself when the feed stops
        /// (default 3).
        #[arg(long, value_name = "N")]
        fail_closed_multiple: Option<u32>,
        /// The feed's CA file to import (default: `<state>.feed-ca.pem`).
        #[arg(long, value_name = "FILE")]
        feed_ca: Option<std::path::PathBuf>,
        /// Do not upload and import the feed's CA (the router already trusts it).
        #[arg(long)]
        no_ca_import: bool,
    },
    /// Remove exactly what install created.
    Uninstall,
    /// Check the scheduler entry, the script's last run, the log and the list against the feed.
    Status {
        /// The feed's CA file, to fetch the feed from here (default: `<state>.feed-ca.pem`).
        #[arg(long, value_name = "FILE")]
        feed_ca: Option<std::path::PathBuf>,
    },
}
