//! One conformance suite for the address-list agent and the RouterOS REST behaviour it relies on.
//!
//! Scenarios are written once against a target ([`target::Ctx`]) and run, through libtest-mimic,
//! against an in-process simulator (the default, and what `cargo test` does), a simulator running
//! elsewhere (driven through its control API) or a real router. Each scenario declares the
//! capabilities it needs ([`target::Cap`]); on a target that lacks one it is listed as ignored with the
//! reason, decided when the list is built, never run and never counted as passed.
//!
//! Code map: [`cli`] parses the command line; [`run`] prepares a run (with the [`preflight`] checks), runs it and finishes it, with
//! its statuses in [`exit`]; [`trials`] builds and runs the libtest-mimic trials; [`target`] holds
//! settings, capabilities and the scenario context, and drives simulators through the simulator's
//! own `Control` trait; [`driver`] runs the agent the way its binary does; [`rest`] is the suite's raw
//! REST client with its write guard and recorder; [`scenarios`] holds the catalogue (`codes`, `wire`,
//! `lifecycle`); [`safety`] is the protocol that proves a shared target was left as found, and
//! [`interrupts`] runs its sweep on Ctrl-C once [`stop`] says nothing of the run is in the air; [`divergences`] reads the known simulator-versus-router
//! differences; [`report`] prints the coverage table and writes JSON and JUnit files.

pub mod cli;
pub mod divergences;
pub mod driver;
pub mod exit;
pub mod interrupts;
pub mod matrix;
pub mod preflight;
pub mod report;
pub mod rest;
pub mod run;
pub mod safety;
pub mod scenarios;
pub mod stop;
pub mod target;
pub mod trials;

use std::fmt;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set when libtest prints JSON (`--format json`): the suite's own lines then go to stderr, so
/// that stdout is JSON only.
static JSON_ONLY: AtomicBool = AtomicBool::new(false);

/// Sends the suite's own lines to stderr from now on (see [`say!`]).
pub fn json_only() {
    JSON_ONLY.store(true, Ordering::SeqCst);
}

/// Writes one line of the suite's own output: stdout, or stderr when stdout carries JSON. A closed
/// pipe (`| head`) is not an error worth a panic, so write errors are ignored.
pub fn say_line(args: fmt::Arguments<'_>) {
    if JSON_ONLY.load(Ordering::SeqCst) {
        let _ = writeln!(std::io::stderr().lock(), "{args}");
    } else {
        let _ = writeln!(std::io::stdout().lock(), "{args}");
    }
}

/// `println!` for the suite's own output (see [`say_line`]).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::say_line(format_args!($($arg)*))
    };
}

/// Why a scenario failed: a sentence for people, with what was asked and what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub String);

impl Failure {
    /// A failure with this message.
    pub fn new(msg: impl Into<String>) -> Self {
        Failure(msg.into())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure(s)
    }
}

impl From<simulator::ControlError> for Failure {
    fn from(e: simulator::ControlError) -> Self {
        Failure(e.to_string())
    }
}

/// What a scenario returns.
pub type Outcome = Result<(), Failure>;

/// Fails the scenario with a formatted message unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err($crate::Failure::new(format!($($fmt)+)));
        }
    };
}

/// Fails the scenario unless `left == right`, showing both.
#[macro_export]
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($fmt:tt)+) => {{
        let (l, r) = (&$left, &$right);
        if l != r {
            return Err($crate::Failure::new(format!(
                "{}: expected {:?}, got {:?}",
                format!($($fmt)+),
                r,
                l
            )));
        }
    }};
}

#[cfg(test)]
mod readme {
    /// The README's Rust snippet is the example's body, so that it compiles as shown.
    #[test]
    fn the_rust_snippet_is_this_example() {
        let readme = include_str!("../../README.md");
        let example = include_str!("../examples/simulator_in_tests.rs");
        let body = example
            .split("    // README begin\n")
            .nth(1)
            .and_then(|r| r.split("    // README end").next())
            .expect("the example's markers");
        let body: String = body
            .lines()
            .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
            .collect();
        assert!(
            readme.contains(&format!("```rust\n{body}```")),
            "README.md's `In Rust tests` block differs from the example:\n{body}"
        );
    }
}
