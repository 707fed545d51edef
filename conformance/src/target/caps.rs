//! Capabilities: what a scenario may need from its target, and whether the target offers it.
//!
//! Everything here is a pure function of the [`Settings`], decided from the command line alone (no
//! I/O), because it is used while the trials are listed: listing must stay cheap and side-effect
//! free (nextest lists the trials, then runs each one in its own process). A scenario that needs a
//! capability the target lacks is never run; it is listed as ignored with the reason
//! [`Settings::missing`] gives.

use super::settings::{Settings, TargetKind};

/// Something a scenario may need from its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cap {
    /// Injecting faults (statuses, bodies, connection and TLS failures).
    Faults,
    /// Moving the router's clock.
    Clock,
    /// Rebooting the router.
    Reboot,
    /// Admin credentials, to create restricted users and groups.
    Admin,
    /// A second router account besides the agent's (created with the admin credentials).
    SecondUser,
    /// Writing to the router at all (absent in `--read-only`).
    Write,
    /// A TLS (`https://`) target URL.
    Https,
    /// Writing firewall filter rules and asking for verdicts: simulators only, because the suite
    /// never changes a real router's firewall.
    FilterRules,
    /// The router fetches the agent's passive feed from this process and trusts its CA: the
    /// in-process simulator only (its fetch reaches the feed on loopback, and the suite fills its
    /// certificate store as `/certificate import` would). A router elsewhere would need the feed
    /// reachable from it and its CA imported by `passive install`.
    FeedFetch,
}

impl Cap {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Cap::Faults => "fault injection",
            Cap::Clock => "clock control",
            Cap::Reboot => "reboot",
            Cap::Admin => "admin credentials",
            Cap::SecondUser => "a second user",
            Cap::Write => "writes",
            Cap::Https => "https",
            Cap::FilterRules => "filter rules",
            Cap::FeedFetch => "the router fetching the agent's feed",
        }
    }
}

impl Settings {
    /// Whether the target offers `cap`, and if not, why.
    pub fn missing(&self, cap: Cap) -> Option<String> {
        let sim = !matches!(self.kind, TargetKind::Router { .. });
        let https = match &self.kind {
            TargetKind::InProcess => true,
            TargetKind::RunningSim { url, .. } | TargetKind::Router { url } => {
                url.starts_with("https://")
            }
        };
        match cap {
            Cap::Faults if !sim => Some("a real router cannot be made to fail on demand (needs fault injection: run it against the simulator)".into()),
            Cap::Clock if !sim => Some("needs control of the router's clock (simulator only; the suite never waits out real timeouts)".into()),
            Cap::Reboot if !sim => Some("would reboot the router (simulator only)".into()),
            Cap::FilterRules if !sim => Some("would write firewall filter rules, which the suite never does on a real router (simulator only; the rule check itself runs offline on every target)".into()),
            Cap::FeedFetch if !matches!(self.kind, TargetKind::InProcess) => Some("needs the router to fetch a feed served by this process and to trust its CA (in-process simulator only; on a real router the suite runs passive install, status and uninstall only)".into()),
            Cap::Admin | Cap::SecondUser if self.admin.is_none() => Some(
                "needs admin credentials to create a restricted user and group (--admin-user and CONFORMANCE_ADMIN_PASSWORD or --admin-password-file)".into(),
            ),
            Cap::Write if self.read_only => Some("read-only mode: this scenario writes".into()),
            Cap::Https if !https => Some("the target URL is plain http://, not https://".into()),
            _ => None,
        }
    }

    /// The first missing capability's reason among `needs`, with what the scenario would have done.
    pub fn missing_any(&self, needs: &[Cap]) -> Option<String> {
        needs.iter().find_map(|c| self.missing(*c))
    }
}
