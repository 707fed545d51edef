//! `routeros-agent validate`: checks the connection layer by layer, stopping at the first failure.
//!
//! The steps are a closed list ([`Check`]) run in order: TCP, TLS, authentication (which reads
//! `/system/resource`), the RouterOS version, reading both lists, unless `--no-rules` the filter
//! rule check of both families (`rules.rs`), and with `--write-check` adding and removing a probe entry
//! (`probe.rs`). Steps after a failure are shown as skipped.
//!
//! The rule check reads `/ip/firewall/filter` and `/ipv6/firewall/filter` and never writes. A
//! missing, disabled or shadowed rule fails the step (208107, 208108, 208109) with the RouterOS
//! command that fixes it. A rule set the check cannot judge (208110) is a warning: the step is
//! shown as `warn`, the code and reasons are in its `error`, and the exit status stays 0 unless
//! `--strict-rules` is given, because a matcher the check does not model (an interface list, a
//! connection mark) is usually deliberate and only the administrator can judge it. A failed read
//! keeps the codes of the request's transport, authentication and permission failures; any other
//! router error is 208111. The check runs by default, because a list behind a missing rule opens
//! nothing; `--no-rules` (or `check_rules = false`) skips it for setups whose rules the check does
//! not read (raw, a jump from a chain it cannot follow, rules managed elsewhere). The conformance
//! suite's own lists on a shared router have no rule by design, so it skips the check except in its
//! filter scenarios.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::address::Family;
use crate::config::{Config, TlsMode};
use crate::error::{Code, Error};
use crate::net::RouterClient;
use crate::plan::Row;
use crate::rules::{self, RuleCheck};
use crate::wire::Resource;

use super::exit;
use super::output::Render;
use super::probe::write_probe;

/// One step of `validate`, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Check {
    /// A bare TCP connect to the router's port.
    #[serde(rename = "tcp")]
    Tcp,
    /// A TLS handshake with the configured verification.
    #[serde(rename = "tls")]
    Tls,
    /// `GET /rest/system/resource` with the credentials.
    #[serde(rename = "authentication")]
    Authentication,
    /// RouterOS 7.1 or newer.
    #[serde(rename = "version")]
    Version,
    /// Reading the IPv4 list.
    #[serde(rename = "read list")]
    ReadList,
    /// Reading the IPv6 list.
    #[serde(rename = "read list6")]
    ReadList6,
    /// The IPv4 filter rules accept the list (unless `--no-rules`).
    #[serde(rename = "filter rules")]
    Rules,
    /// The IPv6 filter rules accept the list (unless `--no-rules`).
    #[serde(rename = "filter rules6")]
    Rules6,
    /// Adding and removing a probe entry (`--write-check`).
    #[serde(rename = "write check")]
    WriteCheck,
    /// Passive mode: the user's group has the policies the feed script needs.
    #[serde(rename = "passive policies")]
    PassivePolicies,
    /// Whether the router runs the agent's scripts, so writes can go out in batches
    /// (`--write-check`).
    #[serde(rename = "write mode")]
    WriteMode,
}

impl Check {
    /// The steps without the write check.
    pub const READ_ONLY: [Check; 6] = [
        Check::Tcp,
        Check::Tls,
        Check::Authentication,
        Check::Version,
        Check::ReadList,
        Check::ReadList6,
    ];

    /// The step's short name, as shown and as `step` in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Check::Tcp => "tcp",
            Check::Tls => "tls",
            Check::Authentication => "authentication",
            Check::Version => "version",
            Check::ReadList => "read list",
            Check::ReadList6 => "read list6",
            Check::Rules => "filter rules",
            Check::Rules6 => "filter rules6",
            Check::WriteCheck => "write check",
            Check::PassivePolicies => "passive policies",
            Check::WriteMode => "write mode",
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepResult {
    /// It passed.
    Ok,
    /// It failed; the steps after it are skipped.
    Failed,
    /// It did not run, because an earlier step failed.
    Skipped,
    /// It found something to look at that does not fail the validation (208110 without
    /// `--strict-rules`).
    Warning,
}

/// One step of `validate` as reported.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    /// Which step.
    pub step: Check,
    /// How it ended.
    pub result: StepResult,
    /// What was found.
    pub detail: String,
    /// The error, when it failed.
    pub error: Option<Value>,
}

impl Step {
    /// The step as one line of text: `ok   filter rules    …`.
    pub fn line(&self) -> String {
        let mark = match self.result {
            StepResult::Ok => "ok  ",
            StepResult::Failed => "FAIL",
            StepResult::Skipped => "skip",
            StepResult::Warning => "warn",
        };
        format!("{mark} {:<15} {}", self.step.name(), self.detail)
    }
}

/// What `validate` found: every step, and the failure that stopped it.
#[derive(Debug, Clone)]
pub struct Validation {
    /// The steps in order.
    pub steps: Vec<Step>,
    /// The first failure, if any.
    pub failure: Option<Error>,
}

/// What `validate` checks besides the connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Add and remove a probe entry.
    pub write_check: bool,
    /// Check that the filter rules accept the lists.
    pub rules: bool,
    /// With `rules`: fail on a rule set the check cannot judge (208110) rather than warn.
    pub strict_rules: bool,
}

impl Render for Validation {
    fn text(&self) -> String {
        let mut text = String::new();
        for s in &self.steps {
            let _ = writeln!(text, "{}", s.line());
        }
        let _ = writeln!(
            text,
            "{}",
            if self.failure.is_none() {
                "validation passed"
            } else {
                "validation failed"
            }
        );
        text
    }

    fn json(&self) -> Value {
        json!({
            "ok": self.failure.is_none(),
            "steps": self.steps,
            "error": self.failure.as_ref().map(Error::to_json),
        })
    }

    fn status(&self) -> u8 {
        if self.failure.is_none() {
            exit::OK
        } else {
            exit::FAILED
        }
    }
}

/// Checks the connection step by step; stops at the first failure.
pub async fn validate(config: &Config, client: &RouterClient, write_check: bool) -> Validation {
    let options = Options {
        write_check,
        ..Options::default()
    };
    validate_with(config, client, options).await
}

/// [`validate`] with the rule check as `options` say.
pub async fn validate_with(config: &Config, client: &RouterClient, options: Options) -> Validation {
    let rules = [Check::Rules, Check::Rules6];
    let checks = Check::READ_ONLY
        .into_iter()
        .chain(rules.into_iter().filter(|_| options.rules))
        .chain(
            [Check::WriteCheck, Check::WriteMode]
                .into_iter()
                .filter(|_| options.write_check),
        )
        .chain((config.mode == crate::config::Mode::Passive).then_some(Check::PassivePolicies));
    let mut done = Validation {
        steps: Vec::new(),
        failure: None,
    };
    // What the authentication step read, for the version step.
    let mut resource = None;
    for check in checks {
        if done.failure.is_some() {
            done.steps.push(Step {
                step: check,
                result: StepResult::Skipped,
                detail: String::new(),
                error: None,
            });
            continue;
        }
        if matches!(check, Check::Rules | Check::Rules6) {
            let family = match check {
                Check::Rules => Family::V4,
                _ => Family::V6,
            };
            let (step, failure) = rule_step(config, client, family, options.strict_rules).await;
            done.steps.push(step);
            done.failure = failure;
            continue;
        }
        if check == Check::WriteMode {
            let (step, failure) = write_mode_step(config, client).await;
            done.steps.push(step);
            done.failure = failure;
            continue;
        }
        match run(check, config, client, &mut resource).await {
            Ok(detail) => done.steps.push(Step {
                step: check,
                result: StepResult::Ok,
                detail,
                error: None,
            }),
            Err(e) => {
                done.steps.push(Step {
                    step: check,
                    result: StepResult::Failed,
                    detail: e.to_string(),
                    error: Some(e.to_json()),
                });
                done.failure = Some(e);
            }
        }
    }
    done
}

/// Runs one step; `resource` is what the authentication step read.
async fn run(
    check: Check,
    config: &Config,
    client: &RouterClient,
    resource: &mut Option<Resource>,
) -> Result<String, Error> {
    match check {
        Check::Tcp => client
            .probe_tcp()
            .await
            .map(|peer| format!("connected to {peer}")),
        Check::Tls => client.probe_tls().await.map(|fp| match fp {
            Some(fp)
                if config
                    .router
                    .as_ref()
                    .is_some_and(|r| r.tls == TlsMode::Insecure) =>
            {
                format!("certificate NOT verified (--insecure); its SHA-256 is {fp}")
            }
            Some(fp) => format!("certificate verified; its SHA-256 is {fp}"),
            None if client.url().is_loopback() => {
                "plain HTTP to this machine: no TLS (use https:// for a real router)".into()
            }
            None => "plain HTTP, no TLS: the router password travels IN CLEAR on the network \
                     (allowed by --allow-plain-http); use https://"
                .into(),
        }),
        Check::Authentication => client.resource().await.map(|r| {
            let text = format!(
                "logged in as `{}`; RouterOS {}",
                client.username(),
                r.version
            );
            *resource = Some(r);
            text
        }),
        Check::Version => {
            let r = resource.as_ref().expect("authentication step passed");
            if r.major_minor >= (7, 1) {
                Ok(format!("{} is 7.1 or newer", r.version))
            } else {
                Err(Error::new(
                    Code::UnsupportedVersion,
                    format!("the router runs RouterOS {}", r.version),
                ))
            }
        }
        Check::ReadList => client
            .rows(Family::V4, &config.list_v4)
            .await
            .map(|rows| read_detail(&config.list_v4, &rows, &config.tag)),
        Check::ReadList6 => client
            .rows(Family::V6, &config.list_v6)
            .await
            .map(|rows| read_detail(&config.list_v6, &rows, &config.tag)),
        Check::WriteCheck => write_probe(config, client).await,
        Check::PassivePolicies => super::passive::check_policies(client).await,
        Check::Rules | Check::Rules6 => unreachable!("rule steps run in rule_step"),
        Check::WriteMode => unreachable!("the write mode step runs in write_mode_step"),
    }
}

/// The rule check of both families as `list` shows it: one step each, never strict.
pub async fn rule_steps(config: &Config, client: &RouterClient) -> Vec<Step> {
    let mut steps = Vec::with_capacity(2);
    for family in [Family::V4, Family::V6] {
        steps.push(rule_step(config, client, family, false).await.0);
    }
    steps
}

/// What the write mode probe prints: a script that changes nothing and answers with one line.
const SCRIPT_PROBE: &str = "routeros-agent scripting";

/// The write mode step: `POST /execute` of a script that only prints, as a batch would be sent.
/// A router that runs it allows bulk writes; one that refuses it (a policy, an interpreter that
/// answers something else) is written one entry per request in `auto` mode (a warning), fails
/// `bulk` mode, and is what `single` mode expects anyway.
async fn write_mode_step(config: &Config, client: &RouterClient) -> (Step, Option<Error>) {
    use crate::batch::WriteMode;
    let script = format!(":put {}", crate::batch::quote(SCRIPT_PROBE));
    let refusal = match client.execute_script(&script).await {
        Ok(ret) if ret == SCRIPT_PROBE => None,
        Ok(ret) => Some(Error::new(
            Code::WrongShape,
            format!(
                "POST /rest/execute: the router answered `{}` to a script that prints `{SCRIPT_PROBE}`",
                ret.chars().take(200).collect::<String>()
            ),
        )),
        Err(e) => Some(e),
    };
    let mode = config.write_mode;
    let (result, detail, failure) = match (&refusal, mode) {
        (None, WriteMode::Single) => (
            StepResult::Ok,
            "the router runs scripts through /execute, so bulk writes are possible; write_mode =              single writes one entry per request"
                .to_owned(),
            None,
        ),
        (None, _) => (
            StepResult::Ok,
            format!(
                "bulk: the router runs scripts through /execute; write_mode = {} writes in batches",
                mode.name()
            ),
            None,
        ),
        (Some(e), WriteMode::Single) => (
            StepResult::Ok,
            format!("single (as configured); the router refuses scripting: {e}"),
            None,
        ),
        (Some(e), WriteMode::Auto) => (
            StepResult::Warning,
            format!(
                "single: the router refuses scripting, so write_mode = auto writes one entry per                  request: {e}"
            ),
            None,
        ),
        (Some(e), WriteMode::Bulk) => (
            StepResult::Failed,
            format!("write_mode = bulk, but the router refuses scripting: {e}"),
            Some(e.clone()),
        ),
    };
    let step = Step {
        step: Check::WriteMode,
        result,
        detail,
        error: refusal.as_ref().map(Error::to_json),
    };
    (step, failure)
}

/// The rule check of `family`: reads the filter table and judges it for the family's list. Returns
/// the step and, when it fails the validation, its error.
async fn rule_step(
    config: &Config,
    client: &RouterClient,
    family: Family,
    strict: bool,
) -> (Step, Option<Error>) {
    let (step, list) = match family {
        Family::V4 => (Check::Rules, &config.list_v4),
        Family::V6 => (Check::Rules6, &config.list_v6),
    };
    let (error, fails) = match client.filter_rows(family).await {
        Err(e) => (e, true),
        Ok(rows) => {
            let mut check = rules::check_rules(&rows, list, family);
            // A list without entries does not exist on the router, which marks its rule
            // `invalid` until the first grant: read the list (only in this case) to tell.
            if matches!(check, RuleCheck::Unknown { .. })
                && client
                    .rows(family, list)
                    .await
                    .is_ok_and(|entries| entries.is_empty())
            {
                check = rules::check_rules_of_empty_list(&rows, list, family);
            }
            match judge(&check, strict) {
                None => {
                    let ok = Step {
                        step,
                        result: StepResult::Ok,
                        detail: check.summary(list),
                        error: None,
                    };
                    return (ok, None);
                }
                Some((code, fails)) => (Error::new(code, check.summary(list)), fails),
            }
        }
    };
    let shown = Step {
        step,
        result: if fails {
            StepResult::Failed
        } else {
            StepResult::Warning
        },
        detail: error.to_string(),
        error: Some(error.to_json()),
    };
    (shown, fails.then_some(error))
}

/// The code a rule check's outcome is reported with, and whether it fails the validation: `None`
/// when the rules accept the list; 208110 fails only when `strict`.
pub fn judge(check: &RuleCheck, strict: bool) -> Option<(Code, bool)> {
    match check {
        RuleCheck::Ok { .. } => None,
        RuleCheck::Missing { .. } => Some((Code::FilterRuleMissing, true)),
        RuleCheck::Disabled { .. } => Some((Code::FilterRuleDisabled, true)),
        RuleCheck::Shadowed { .. } => Some((Code::FilterRuleShadowed, true)),
        RuleCheck::Unknown { .. } => Some((Code::FilterRuleUndecidable, strict)),
    }
}

fn read_detail(list: &str, rows: &[Row], tag: &str) -> String {
    let owned = rows.iter().filter(|r| r.is_owned(tag)).count();
    format!(
        "list `{list}` has {}, {owned} owned by this agent",
        super::grants::plural(rows.len(), "entry", "entries")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each outcome of the rule check has its code; only an undecidable one depends on
    /// `--strict-rules`.
    #[test]
    fn rule_outcomes_are_classified() {
        use crate::rules::{FilterRow, check_rules};
        let check = |rows: &[&[(&str, &str)]], strict: bool, expected: Option<(Code, bool)>| {
            let rows: Vec<FilterRow> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| FilterRow::new(i, r))
                .collect();
            let outcome = check_rules(&rows, "k", Family::V4);
            assert_eq!(judge(&outcome, strict), expected, "{outcome:?}");
        };
        let accept: &[(&str, &str)] = &[
            (".id", "*1"),
            ("chain", "forward"),
            ("action", "accept"),
            ("src-address-list", "k"),
        ];
        let drop: &[(&str, &str)] = &[(".id", "*2"), ("chain", "forward"), ("action", "drop")];
        let disabled: &[(&str, &str)] = &[
            (".id", "*1"),
            ("chain", "forward"),
            ("action", "accept"),
            ("src-address-list", "k"),
            ("disabled", "true"),
        ];
        let odd_drop: &[(&str, &str)] = &[
            (".id", "*2"),
            ("chain", "forward"),
            ("action", "drop"),
            ("tcp-flags", "syn"),
        ];
        check(&[accept, drop], false, None);
        check(&[drop], false, Some((Code::FilterRuleMissing, true)));
        check(
            &[disabled, drop],
            false,
            Some((Code::FilterRuleDisabled, true)),
        );
        check(
            &[drop, accept],
            false,
            Some((Code::FilterRuleShadowed, true)),
        );
        check(
            &[odd_drop, accept],
            false,
            Some((Code::FilterRuleUndecidable, false)),
        );
        check(
            &[odd_drop, accept],
            true,
            Some((Code::FilterRuleUndecidable, true)),
        );
    }

    #[test]
    fn steps_render_as_before() {
        let failure = Error::new(
            Code::AuthenticationFailed,
            "GET /rest/system/resource: HTTP 401",
        );
        let v = Validation {
            steps: vec![
                Step {
                    step: Check::Tcp,
                    result: StepResult::Ok,
                    detail: "connected to 127.0.0.1:1".into(),
                    error: None,
                },
                Step {
                    step: Check::ReadList6,
                    result: StepResult::Skipped,
                    detail: String::new(),
                    error: None,
                },
            ],
            failure: Some(failure),
        };
        assert_eq!(
            v.text(),
            "ok   tcp             connected to 127.0.0.1:1\nskip read list6      \nvalidation failed\n"
        );
        let j = v.json();
        assert_eq!(j["steps"][1]["step"], "read list6");
        assert_eq!(j["steps"][1]["result"], "skipped");
        assert_eq!(j["ok"], false);
        assert_eq!(j["error"]["code"], 208001);
        assert_eq!(v.status(), exit::FAILED);
        let names: Vec<&str> = Check::READ_ONLY.iter().map(|c| c.name()).collect();
        assert_eq!(
            names,
            [
                "tcp",
                "tls",
                "authentication",
                "version",
                "read list",
                "read list6"
            ]
        );
        assert_eq!(
            serde_json::to_value(Check::Rules6).unwrap(),
            "filter rules6"
        );
        assert_eq!(
            serde_json::to_value(StepResult::Warning).unwrap(),
            "warning"
        );
        assert_eq!(
            serde_json::to_value(Check::WriteCheck).unwrap(),
            "write check"
        );
    }
}
