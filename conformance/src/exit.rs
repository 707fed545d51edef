//! The exit statuses of `routeros-conformance` and of the `cargo test` harness: a closed set, each
//! documented, with one mapping to numbers.
//!
//! The numbers follow what CI already expects: 0 and 101 are what a Rust test binary exits with, 2
//! is a usage error, 130 and 141 are the shell's statuses for a run ended by Ctrl-C and by a closed
//! pipe.

use std::process::ExitCode;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every trial passed (or was ignored with its reason), the reports were written and a shared
    /// target was left as found. Also the status of `--list`.
    Passed,
    /// The run did not start: a bad command line or file (settings, reports, divergences, missing
    /// credentials), or a shared target that could not be prepared (unreachable control API,
    /// leftovers refused, rows of this run already there). Nothing was changed on the target.
    NotStarted,
    /// A trial failed, a shared target changed, or a report could not be written.
    Failed,
    /// Ctrl-C or SIGTERM on a shared target; the run's rows were swept (or the sweep abandoned).
    Interrupted,
    /// Whoever read the output closed it (`| head`): the status a shell shows for a process ended
    /// by SIGPIPE. On a shared target nothing is swept then; the next run reports what is left
    /// (see `--sweep-leftovers`).
    OutputClosed,
}

impl Exit {
    /// The process's exit status.
    pub const fn status(self) -> u8 {
        match self {
            Exit::Passed => 0,
            Exit::NotStarted => 2,
            Exit::Failed => 101,
            Exit::Interrupted => 130,
            Exit::OutputClosed => 141,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.status())
    }
}
