//! What a command produced, for people and for `--json`, from one typed value.
//!
//! Every command returns a value of its own type that implements [`Render`]: the text, the JSON
//! document and the exit status all come from that value, so the two forms cannot say different
//! things. [`Output`] is the rendered result that the binary prints. Failures that stop a command
//! before the router is involved are a [`Failure`]; what a reconcile did is [`Reconciled`], which the
//! commands that change grants end with.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::error::Error;
use crate::plan::PlanConfig;
use crate::reconcile::Report;

use super::exit;

/// A command's result as people and programs see it.
pub trait Render {
    /// The text for people, ending with a newline.
    fn text(&self) -> String;
    /// The JSON document for `--json`.
    fn json(&self) -> Value;
    /// The exit status (see [`exit`]).
    fn status(&self) -> u8;
}

/// What a command produced, rendered.
#[derive(Debug, Clone)]
pub struct Output {
    /// For people.
    pub text: String,
    /// For `--json`.
    pub json: Value,
    /// The exit status.
    pub status: u8,
    /// Warnings about the configuration (`--insecure`, plain HTTP), also in `json["warnings"]`; the
    /// binary prints them on stderr whatever the log level.
    pub warnings: Vec<String>,
}

impl Output {
    /// Renders a command's result.
    pub fn of(result: &impl Render) -> Output {
        Output {
            text: result.text(),
            json: result.json(),
            status: result.status(),
            warnings: Vec::new(),
        }
    }

    /// The same output with these warnings, in `warnings` and as a `warnings` array in the JSON.
    pub fn with_warnings(mut self, warnings: Vec<String>) -> Output {
        if !warnings.is_empty() {
            if let Some(doc) = self.json.as_object_mut() {
                doc.insert("warnings".into(), json!(warnings));
            }
            self.warnings = warnings;
        }
        self
    }
}

impl<T: Render> From<T> for Output {
    fn from(result: T) -> Output {
        Output::of(&result)
    }
}

/// A command that stopped before doing its work.
#[derive(Debug, Clone)]
pub enum Failure {
    /// Bad usage or configuration; nothing was sent.
    Config(String),
    /// The grant store could not be read, written or locked.
    Store(String),
    /// Input refused before anything was sent (an address that is not one, 208104): bad usage, with
    /// the code printed as for any failure.
    Refused(Error),
}

impl Failure {
    /// A configuration problem.
    pub fn config(e: impl std::fmt::Display) -> Failure {
        Failure::Config(e.to_string())
    }

    /// A grant store problem.
    pub fn store(e: impl std::fmt::Display) -> Failure {
        Failure::Store(e.to_string())
    }
}

impl Render for Failure {
    fn text(&self) -> String {
        match self {
            Failure::Config(e) | Failure::Store(e) => format!("{e}\n"),
            Failure::Refused(e) => format!("{e}\n"),
        }
    }

    fn json(&self) -> Value {
        match self {
            Failure::Config(e) => json!({ "ok": false, "config_error": e }),
            Failure::Store(e) => json!({ "ok": false, "store_error": e }),
            Failure::Refused(e) => json!({ "ok": false, "error": e.to_json() }),
        }
    }

    fn status(&self) -> u8 {
        match self {
            Failure::Config(_) | Failure::Refused(_) => exit::CONFIG,
            Failure::Store(_) => exit::STORE,
        }
    }
}

/// What a reconcile did to the router, or the error that stopped it before it could.
#[derive(Debug, Clone)]
pub enum Reconciled {
    /// The reconcile ran; `conflict_errors` are its conflicts as errors (208105), for people.
    Done {
        /// Its report.
        report: Report,
        /// The report's conflicts as errors.
        conflict_errors: Vec<Error>,
    },
    /// The router was not updated.
    Failed(Error),
}

impl Reconciled {
    /// The outcome of a reconcile under `plan`.
    pub fn new(result: Result<Report, Error>, plan: &PlanConfig) -> Reconciled {
        match result {
            Ok(report) => Reconciled::Done {
                conflict_errors: report.conflict_errors(plan),
                report,
            },
            Err(e) => Reconciled::Failed(e),
        }
    }

    /// Appends what happened, one line per change or error.
    pub fn write_text(&self, text: &mut String) {
        match self {
            Reconciled::Done {
                report,
                conflict_errors,
            } => {
                for a in &report.added {
                    let _ = writeln!(text, "added {a}");
                }
                for a in &report.refreshed {
                    let _ = writeln!(text, "refreshed {a}");
                }
                for a in &report.removed {
                    let _ = writeln!(text, "removed {a}");
                }
                for e in report.errors.iter().chain(conflict_errors) {
                    let _ = writeln!(text, "{e}");
                }
            }
            Reconciled::Failed(e) => {
                let _ = writeln!(text, "the router was not updated: {e}");
            }
        }
    }

    /// Adds `ok` and the `report` (with its `conflict_errors`) or the `error` to a JSON document.
    pub fn write_json(&self, doc: &mut Value) {
        doc["ok"] = json!(self.status() == exit::OK);
        match self {
            Reconciled::Done {
                report,
                conflict_errors,
            } => {
                let mut v = serde_json::to_value(report).expect("report serialises");
                v["conflict_errors"] = conflict_errors.iter().map(Error::to_json).collect();
                doc["report"] = v;
            }
            Reconciled::Failed(e) => doc["error"] = e.to_json(),
        }
    }

    /// Failed when the router was not updated or a write failed; a conflict when an address is
    /// held by an entry the agent does not own.
    pub fn status(&self) -> u8 {
        match self {
            Reconciled::Done { report, .. } if !report.errors.is_empty() => exit::FAILED,
            Reconciled::Done { report, .. } if !report.conflicts.is_empty() => exit::CONFLICT,
            Reconciled::Done { .. } => exit::OK,
            Reconciled::Failed(_) => exit::FAILED,
        }
    }
}
