//! The catalogue: every scenario, with what it needs and which error codes it proves.
//!
//! Three families, each in its own module: [`codes`] puts the agent in each situation of the
//! error-code contract and asserts that exact code (and that no grant is lost); [`wire`] asserts
//! the REST facts the agent relies on, identically on every target; [`lifecycle`] follows grants
//! through refresh, revoke, expiry, reboot and restart. A scenario is a plain `async fn(&Ctx)`; its
//! entry here says what it needs, so that the runner can list it as ignored where it cannot run.

pub mod codes;
pub mod filter;
pub mod lifecycle;
pub mod passive;
pub mod wire;

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;
use std::time::Duration;

use agent::Code;

use crate::driver::Agent;
use crate::target::{Cap, Ctx};
use crate::{Failure, Outcome};

/// A scenario's body.
pub type Body = for<'a> fn(&'a Ctx) -> Pin<Box<dyn Future<Output = Outcome> + 'a>>;

/// One scenario of the catalogue.
#[derive(Debug)]
pub struct Scenario {
    /// The trial name, `family::...::what`.
    pub name: &'static str,
    /// What the target must offer.
    pub needs: &'static [Cap],
    /// The error codes it proves (empty for wire and most lifecycle scenarios).
    pub codes: &'static [Code],
    /// A local check: the agent is pointed somewhere else (a closed port, a name that does not
    /// resolve) or refuses before sending, so passing says nothing about the target. The coverage
    /// table shows such a pass as `local`, not as `passed` on the target.
    pub local: bool,
    /// How the agent the scenario drives writes entries ([`Agent::new`] takes it from the context).
    pub write_mode: agent::batch::WriteMode,
    /// The body.
    pub run: Body,
}

/// Declares a scenario: `scenario!("name", [caps], [codes], function)`, or
/// `scenario!(local "name", ...)` for a local check (see [`Scenario::local`]).
macro_rules! scenario {
    (local $name:literal, [$($cap:ident),*], [$($code:ident),*], $f:path) => {
        $crate::scenarios::Scenario {
            local: true,
            ..scenario!($name, [$($cap),*], [$($code),*], $f)
        }
    };
    ($name:literal, [$($cap:ident),*], [$($code:ident),*], $f:path) => {
        $crate::scenarios::Scenario {
            name: $name,
            needs: &[$($crate::target::Cap::$cap),*],
            codes: &[$(agent::Code::$code),*],
            local: false,
            write_mode: agent::batch::WriteMode::Auto,
            run: |ctx| Box::pin($f(ctx)),
        }
    };
}
pub(crate) use scenario;

static CATALOGUE: LazyLock<Vec<Scenario>> = LazyLock::new(|| {
    let mut all = codes::scenarios();
    all.extend(wire::scenarios());
    all.extend(lifecycle::scenarios());
    all.extend(filter::scenarios());
    all.extend(passive::scenarios());
    all
});

/// The scenarios that create static address-list entries (no `timeout`) with the suite's own
/// client, because static entries are what they test. Every other scenario gives each entry a
/// timeout, so that an interrupted run leaves nothing that lasts; the runner fails a scenario that
/// creates a static entry and is not listed here.
pub const STATIC_ENTRY_SCENARIOS: &[&str] = &[
    // The keys and `dynamic=false` of a static entry.
    "wire::put_answers_201_with_the_whole_row",
    // A foreign static entry, and a static entry carrying the agent's tag: never the agent's.
    "codes::208105::foreign_entry_holds_address",
    "codes::208105::static_entry_with_agent_tag",
    // A firewall admin's static entry among the foreign entries the agent must not touch.
    "lifecycle::foreign_entries_untouched",
    "lifecycle::bulk::foreign_entries_untouched",
];

/// Every scenario, in a stable order.
pub fn catalogue() -> &'static [Scenario] {
    &CATALOGUE
}

/// Fails to compile when the agent gains a code this file does not know: the match is exhaustive
/// on purpose. The run-time check below then demands a scenario for it.
const fn known(code: Code) -> bool {
    match code {
        Code::ConnectionRefused
        | Code::AuthenticationFailed
        | Code::AuthorizationFailed
        | Code::CertificateNotTrusted
        | Code::TimedOut
        | Code::NameResolutionFailed
        | Code::TlsHandshakeFailed
        | Code::ConnectionReset
        | Code::RestApiUnavailable
        | Code::UnsupportedVersion
        | Code::SessionClosed
        | Code::RouterInternalError
        | Code::FeedUnreachable
        | Code::FeedKeyRefused
        | Code::FeedCertificateRefused
        | Code::ListReadFailed
        | Code::EntryAddFailed
        | Code::EntryRemoveFailed
        | Code::EntryUpdateFailed
        | Code::AddressRejected
        | Code::EntryNotOwned
        | Code::WriteNotConfirmed
        | Code::FilterRuleMissing
        | Code::FilterRuleDisabled
        | Code::FilterRuleShadowed
        | Code::FilterRuleUndecidable
        | Code::FilterRulesUnreadable
        | Code::FeedScriptFailed
        | Code::FeedOutOfStep
        | Code::PassiveNotInstalled
        | Code::PassiveNotOwned
        | Code::PassiveSetupFailed
        | Code::NotJson
        | Code::WrongShape
        | Code::MissingField
        | Code::InvalidValue
        | Code::UnexpectedStatus => true,
    }
}

/// Fails when a code of the agent's enum has no scenario.
pub fn uncovered_codes() -> Outcome {
    let missing: Vec<String> = Code::ALL
        .iter()
        .filter(|c| known(**c))
        .filter(|c| !catalogue().iter().any(|s| s.codes.contains(c)))
        .map(|c| format!("{} ({})", c.number(), c.name()))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "error codes without a scenario: {}",
            missing.join(", ")
        )))
    }
}

/// Fails when two scenarios share a name (libtest would run both under one name).
pub fn names_are_unique() -> Outcome {
    let mut names: Vec<&str> = catalogue().iter().map(|s| s.name).collect();
    names.sort();
    let dupes: Vec<&&str> = names
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| &w[0])
        .collect();
    if dupes.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(format!("duplicate scenario names: {dupes:?}")))
    }
}

/// Moves the router's clock and the agent's together.
pub async fn advance(ctx: &Ctx, agent: &Agent, by: Duration) -> Outcome {
    ctx.advance_router_clock(by).await?;
    agent.advance(by);
    Ok(())
}

/// A RouterOS duration as seconds, for assertions on `timeout`.
pub fn seconds(text: &str) -> Result<u64, Failure> {
    agent::duration::parse(text)
        .map(|d| d.as_secs())
        .ok_or_else(|| Failure::new(format!("`{text}` is not a RouterOS duration")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_is_consistent() {
        uncovered_codes().unwrap();
        names_are_unique().unwrap();
        for s in catalogue() {
            let family = s.name.split("::").next().unwrap();
            assert!(
                ["codes", "wire", "lifecycle"].contains(&family),
                "{}",
                s.name
            );
            if family == "codes" {
                assert!(!s.codes.is_empty(), "{} proves no code", s.name);
            }
            // Fault scenarios grant, so they write; a later edit that forgets `Write` would make
            // `--read-only` against a running simulator write. (The runner's journal check
            // catches every undeclared write; this catches the common case without running.)
            if s.needs.contains(&Cap::Faults) {
                assert!(
                    s.needs.contains(&Cap::Write),
                    "{} injects faults but does not declare Write",
                    s.name
                );
            }
        }
        for name in STATIC_ENTRY_SCENARIOS {
            assert!(
                catalogue().iter().any(|s| s.name == *name),
                "{name} is not a scenario"
            );
        }
    }
}
