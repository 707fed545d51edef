//! Known differences between the simulator and a real router, read from `divergences.toml`.
//!
//! Modelled on rustls' bogo `config.json` and s2n-quic's interop lists: a scenario named here is
//! expected to fail on the listed class of target (`simulator` or `router`), for the stated reason.
//! When it fails there, it is reported as a known divergence (not a failure); when it passes, the
//! trial fails with "unexpected pass", so the file cannot silently go stale.

use std::path::Path;

/// The file shipped with the suite.
pub const BUILTIN: &str = include_str!("../divergences.toml");

/// One known divergence.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Divergence {
    /// The scenario's full name.
    pub scenario: String,
    /// `simulator` and/or `router`.
    pub targets: Vec<String>,
    /// Why, with a source.
    pub reason: String,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Divergences {
    /// The entries.
    #[serde(default, rename = "divergence")]
    pub entries: Vec<Divergence>,
}

impl Divergences {
    /// Parses a file's text.
    pub fn parse(text: &str) -> Result<Divergences, String> {
        let d: Divergences = toml::from_str(text).map_err(|e| format!("divergences: {e}"))?;
        for e in &d.entries {
            for t in &e.targets {
                if t != "simulator" && t != "router" {
                    return Err(format!(
                        "divergences: `{}`: target `{t}` is neither simulator nor router",
                        e.scenario
                    ));
                }
            }
        }
        Ok(d)
    }

    /// Reads a file, or the built-in one.
    pub fn load(path: Option<&Path>) -> Result<Divergences, String> {
        match path {
            Some(p) => Divergences::parse(
                &std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read {}: {e}", p.display()))?,
            ),
            None => Divergences::parse(BUILTIN),
        }
    }

    /// The reason a scenario is expected to fail on this class of target.
    pub fn expected(&self, scenario: &str, class: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.scenario == scenario && e.targets.iter().any(|t| t == class))
            .map(|e| e.reason.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_file_parses() {
        Divergences::parse(BUILTIN).unwrap();
        assert!(
            Divergences::parse("[[divergence]]\nscenario='x'\ntargets=['lab']\nreason='r'")
                .is_err()
        );
    }
}
