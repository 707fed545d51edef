//! The control subcommands (`state`, `clock`, `reboot`, `journal`, `fault`, `tls`, `limits`,
//! `verdict`): each
//! is one call of [`Control`] on a [`ControlClient`], whose typed reply is printed.
//!
//! Input is checked here with the simulator's own types before anything is sent (a seed, a
//! snapshot, a fault rule, limits, a duration), so a mistake is reported with the file or flag it
//! came from.

use std::path::Path;

use serde::Serialize;

use super::args::{ClockOp, Command, ControlArgs, FaultAdd, FaultOp, JournalOp, StateOp, TlsOp};
use super::{CliError, print};
use crate::control::types::Span;
use crate::control::{Control, ControlClient};
use crate::{Action, FaultRule, Firing, JournalFilter, Listener, Matcher, Seed, Snapshot};

/// Runs one control subcommand against the simulator its `--control` flag names.
pub(super) async fn control(cmd: Command) -> Result<(), CliError> {
    match cmd {
        Command::Serve(_) => unreachable!("serve is not a control subcommand"),
        Command::State { op, control } => {
            let c = client(&control)?;
            match op {
                StateOp::Dump => print::json(&c.snapshot().await?),
                StateOp::Reset => print::json(&c.reset().await?),
                StateOp::Load { file } => {
                    let seed = Seed::from_file(&file).map_err(CliError::Input)?;
                    print::json(&c.load_seed(seed).await?);
                }
                StateOp::Snapshot { file } => {
                    let state = c.snapshot().await?;
                    write_json(&file, &state)?;
                    print::out(&format!("saved to {}\n", file.display()));
                }
                StateOp::Restore { file } => {
                    let text =
                        std::fs::read_to_string(&file).map_err(CliError::file("read", &file))?;
                    let snapshot: Snapshot = serde_json::from_str(&text).map_err(|e| {
                        CliError::Input(format!("{} is not a snapshot: {e}", file.display()))
                    })?;
                    print::json(&c.restore(&snapshot).await?);
                }
            }
        }
        Command::Clock { op, control } => {
            let c = client(&control)?;
            let reading = match op.unwrap_or(ClockOp::Show) {
                ClockOp::Show => c.clock().await?,
                ClockOp::Freeze => c.freeze_clock().await?,
                ClockOp::Resume => c.resume_clock().await?,
                ClockOp::Advance { by } => c.advance_clock(duration(&by, "by")?).await?,
            };
            print::json(&reading);
        }
        Command::Verdict { packet, control } => {
            let c = client(&control)?;
            super::verdict::run(&packet, &c).await?;
        }
        Command::Reboot { downtime, control } => {
            let c = client(&control)?;
            print::json(&c.reboot(duration(&downtime, "downtime")?).await?);
        }
        Command::Journal {
            op,
            filter,
            control,
        } => {
            let c = client(&control)?;
            match op {
                Some(JournalOp::Mark) => print::json(&c.journal_mark().await?),
                Some(JournalOp::Clear) => print::json(&c.clear_journal().await?),
                None => {
                    let query = JournalFilter {
                        path: filter.path,
                        method: filter.method,
                        user: filter.user,
                        status: filter.status,
                        since: filter.since,
                    };
                    let page = c.journal(&query).await?;
                    if filter.json {
                        print::json(&page);
                    } else {
                        print::journal(&page);
                    }
                }
            }
        }
        Command::Fault { op, control } => {
            let c = client(&control)?;
            match op {
                FaultOp::Add(a) => print::json(&c.add_fault(fault_rule(*a)?).await?),
                FaultOp::List => print::json(&c.faults().await?),
                FaultOp::Remove { id } => print::json(&c.remove_fault(id).await?),
                FaultOp::Clear => print::json(&c.clear_faults().await?),
            }
        }
        Command::Tls { op, control } => {
            let c = client(&control)?;
            match op.unwrap_or(TlsOp::Show) {
                TlsOp::Show => print::json(&c.tls().await?),
                TlsOp::Rotate => print::json(&c.rotate_certificate().await?),
            }
        }
        Command::Limits { set, control } => {
            let c = client(&control)?;
            let limits = match set {
                Some(json) => {
                    let limits = serde_json::from_str(&json)
                        .map_err(|e| CliError::Input(format!("--set needs JSON: {e}")))?;
                    c.set_limits(limits).await?
                }
                None => c.limits().await?,
            };
            print::json(&limits);
        }
    }
    Ok(())
}

fn client(args: &ControlArgs) -> Result<ControlClient, CliError> {
    let token = super::args::secret(args.token.as_deref(), args.token_file.as_deref())
        .map_err(CliError::Input)?;
    Ok(ControlClient::new(&args.control, token)?)
}

/// A duration flag: milliseconds when it is a bare number, else a RouterOS duration (`1h30m`).
fn duration(text: &str, field: &str) -> Result<std::time::Duration, CliError> {
    Span::from_arg(text)
        .to_duration(field)
        .map_err(CliError::Input)
}

/// Writes `value` as pretty JSON with sorted keys.
fn write_json<T: Serialize>(file: &Path, value: &T) -> Result<(), CliError> {
    let text = serde_json::to_value(value)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .map_err(|e| CliError::Input(format!("cannot write the state as JSON: {e}")))?;
    std::fs::write(file, text).map_err(CliError::file("write", file))
}

/// The options of an action kind, named as [`Action`]'s fields are, for serde to check.
#[derive(Serialize)]
struct ActionFlags<'a> {
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interval_ms: Option<u64>,
}

/// Builds a fault rule from `fault add` arguments, or reads the one given with `--rule`.
///
/// The action is read by [`Action`]'s own deserializer from the kind and the options given, so
/// which options a kind takes (and which it refuses) is decided by the type the server uses, in one
/// place.
fn fault_rule(a: FaultAdd) -> Result<FaultRule, CliError> {
    if let Some(rule) = &a.rule {
        return serde_json::from_str(rule)
            .map_err(|e| CliError::Input(format!("--rule needs a JSON rule: {e}")));
    }
    let kind = a.kind.as_deref().unwrap_or_default();
    let flags = ActionFlags {
        kind,
        status: a.status,
        detail: a.detail.as_deref(),
        body: a.body.as_deref(),
        content_type: a.content_type.as_deref(),
        ms: a.ms,
        max_ms: a.max_ms,
        bytes: a.bytes,
        interval_ms: a.interval_ms,
    };
    let action: Action = serde_json::to_value(&flags)
        .and_then(serde_json::from_value)
        .map_err(|e| CliError::Input(format!("fault `{kind}`: {e}")))?;
    let listener = a
        .listener
        .as_deref()
        .map(|l| {
            serde_json::from_value::<Listener>(serde_json::Value::from(l))
                .map_err(|_| CliError::Input(format!("--listener {l}: use www or www-ssl")))
        })
        .transpose()?;
    Ok(FaultRule {
        matcher: Matcher {
            method: a.method,
            path: a.path,
            user: a.user,
            listener,
        },
        firing: Firing {
            after: a.after.unwrap_or_default(),
            times: a.times,
            probability: a.probability,
            seed: a.seed.unwrap_or_default(),
        },
        action,
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    fn add(args: &[&str]) -> Result<FaultRule, CliError> {
        let cli = Cli::try_parse_from(["routeros-sim", "fault", "add"].iter().chain(args))
            .expect("the arguments parse");
        match cli.command {
            Some(Command::Fault {
                op: FaultOp::Add(a),
                ..
            }) => fault_rule(*a),
            other => panic!("not fault add: {other:?}"),
        }
    }

    #[test]
    fn fault_flags_become_the_rule_the_control_api_reads() {
        let rule = add(&[
            "status", "--status", "500", "--detail", "boom", "--times", "1", "--path", "/rest/*",
        ])
        .unwrap();
        assert_eq!(
            serde_json::to_value(&rule).unwrap(),
            serde_json::json!({
                "match": { "method": null, "path": "/rest/*", "user": null, "listener": null },
                "firing": { "after": 0, "times": 1, "probability": null, "seed": 0 },
                "action": { "kind": "status", "status": 500, "detail": "boom" },
            })
        );
        let rule = add(&["body", "--body", "<html>", "--listener", "www-ssl"]).unwrap();
        assert_eq!(
            rule.action,
            Action::Body {
                status: 200,
                content_type: "application/json".into(),
                body: "<html>".into()
            }
        );
        assert_eq!(rule.matcher.listener, Some(Listener::WwwSsl));
        assert_eq!(add(&["reset"]).unwrap().action, Action::Reset);
        let rule = add(&["--rule", r#"{"action": {"kind": "stall"}}"#]).unwrap();
        assert_eq!(rule, FaultRule::always(Action::Stall));
    }

    #[test]
    fn fault_flags_the_kind_does_not_take_are_refused() {
        for (args, expected) in [
            (&["explode"][..], "unknown variant `explode`"),
            (&["status"][..], "missing field `status`"),
            (
                &["status", "--status", "500", "--ms", "5"][..],
                "unknown field `ms`",
            ),
            (&["reset", "--listener", "ftp"][..], "use www or www-ssl"),
            (&["--rule", "{"][..], "--rule needs a JSON rule"),
        ] {
            let e = add(args).unwrap_err().to_string();
            assert!(e.contains(expected), "{args:?}: {e}");
        }
    }
}
