//! `validate` step by step, and the codes of situations that need no fault injection: an untrusted
//! or mismatched certificate, a wrong password, a closed port, plain HTTP, a pinned certificate.

use agent::commands::{Command, exit};
use agent::config::TlsMode;

use simulator::{Action, FaultRule};

use crate::support::{Harness, assert_status};

fn steps(out: &agent::commands::Output) -> Vec<(String, String)> {
    out.json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_owned(),
                s["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn results(out: &agent::commands::Output) -> Vec<String> {
    steps(out).into_iter().map(|(_, r)| r).collect()
}

#[tokio::test]
async fn passes_every_step_with_the_ca_and_cleans_up_the_probe() {
    let h = Harness::start().await;
    let out = h
        .run(Command::Validate {
            write_check: true,
            rules: false,
            strict_rules: false,
        })
        .await;
    assert_status(&out, exit::OK);
    assert_eq!(results(&out), vec!["ok"; 8], "{}", out.text);
    assert!(
        out.text.contains("bulk: the router runs scripts"),
        "{}",
        out.text
    );
    assert!(out.text.contains("RouterOS 7.23.7"), "{}", out.text);
    assert!(h.v4().is_empty(), "the probe entry must be gone");
    // The probe's id went into the DELETE path literally, never as %2A.
    let deletes: Vec<String> = h
        .requests_since(0)
        .into_iter()
        .filter(|r| r.starts_with("DELETE"))
        .collect();
    assert_eq!(deletes.len(), 1);
    assert!(deletes[0].contains("/address-list/*"), "{deletes:?}");
}

#[tokio::test]
async fn pinned_fingerprint_is_enough_and_a_wrong_pin_is_208003() {
    let mut h = Harness::start().await;
    let hex = h.sim.leaf_sha256().replace(':', "");
    h.config.router.as_mut().unwrap().tls = TlsMode::Pin(agent::config::parse_pin(&hex).unwrap());
    let out = h
        .run(Command::Validate {
            write_check: false,
            rules: false,
            strict_rules: false,
        })
        .await;
    assert_status(&out, exit::OK);
    h.config.router.as_mut().unwrap().tls = TlsMode::Pin([7; 32]);
    let out = h
        .run(Command::Validate {
            write_check: false,
            rules: false,
            strict_rules: false,
        })
        .await;
    assert_status(&out, exit::FAILED);
    assert_eq!(
        results(&out),
        vec!["ok", "failed", "skipped", "skipped", "skipped", "skipped"]
    );
    assert_eq!(out.json["error"]["code"], 208003);
    // The REST client itself classifies the same way.
    let e = h.client().resource().await.unwrap_err();
    assert_eq!(e.code.number(), 208003, "{e}");
}

#[tokio::test]
async fn untrusted_certificate_is_208003() {
    let mut h = Harness::start().await;
    // The system trust store does not know the simulator's private CA.
    h.config.router.as_mut().unwrap().tls = TlsMode::SystemRoots;
    let out = h
        .run(Command::Validate {
            write_check: false,
            rules: false,
            strict_rules: false,
        })
        .await;
    assert_status(&out, exit::FAILED);
    assert_eq!(out.json["error"]["code"], 208003, "{}", out.text);
    let e = h.client().resource().await.unwrap_err();
    assert_eq!(e.code.number(), 208003, "{e}");
    // --insecure gets through (with a warning in the log).
    h.config.router.as_mut().unwrap().tls = TlsMode::Insecure;
    assert_status(
        &h.run(Command::Validate {
            write_check: false,
            rules: false,
            strict_rules: false,
        })
        .await,
        exit::OK,
    );
}

#[tokio::test]
async fn wrong_password_is_mikro001_naming_both_causes() {
    let mut h = Harness::start().await;
    h.config.router.as_mut().unwrap().password = agent::config::Secret::new("wrong-password-123");
    let out = h
        .run(Command::Validate {
            write_check: false,
            rules: false,
            strict_rules: false,
        })
        .await;
    assert_status(&out, exit::FAILED);
    assert_eq!(
        results(&out),
        vec!["ok", "ok", "failed", "skipped", "skipped", "skipped"]
    );
    assert_eq!(out.json["error"]["code"], 208001);
    assert_eq!(out.json["error"]["alias"], "MIKRO001");
    assert!(out.text.contains("error 208001 (MIKRO001)"), "{}", out.text);
    assert!(out.text.contains("rest-api"), "{}", out.text);
    assert!(
        !out.text.contains("wrong-password-123")
            && !out.json.to_string().contains("wrong-password-123")
    );
    // A grant in that state is kept for the next attempt.
    let g = h.grant("192.0.2.80", "ann", "1h").await;
    assert_status(&g, exit::FAILED);
    assert_eq!(g.json["error"]["code"], 208001);
    let grants = agent::store::GrantStore::load(&h.config.state).unwrap();
    assert_eq!(grants.len(), 1);
}

#[tokio::test]
async fn closed_port_is_208000() {
    let mut h = Harness::start().await;
    // Bind and drop a listener to find a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    h.config.router.as_mut().unwrap().url = format!("https://127.0.0.1:{port}").parse().unwrap();
    let out = h
        .run(Command::Validate {
            write_check: false,
            rules: false,
            strict_rules: false,
        })
        .await;
    assert_status(&out, exit::FAILED);
    assert_eq!(results(&out)[0], "failed");
    assert_eq!(out.json["error"]["code"], 208000);
    let e = h
        .client()
        .with_retry(agent::net::RetryPolicy::none())
        .resource()
        .await
        .unwrap_err();
    assert_eq!(e.code.number(), 208000, "{e}");
}

#[tokio::test]
async fn plain_http_on_the_tls_port_is_208006() {
    let mut h = Harness::start().await;
    let http = h.sim.http_url().expect("the simulator serves plain HTTP");
    h.config.router.as_mut().unwrap().url =
        http.replacen("http://", "https://", 1).parse().unwrap();
    let out = h
        .run(Command::Validate {
            write_check: false,
            rules: false,
            strict_rules: false,
        })
        .await;
    assert_status(&out, exit::FAILED);
    assert_eq!(out.json["error"]["code"], 208006, "{}", out.text);
    let e = h
        .client()
        .with_retry(agent::net::RetryPolicy::none())
        .resource()
        .await
        .unwrap_err();
    assert_eq!(e.code.number(), 208006, "{e}");
}

#[tokio::test]
async fn plain_http_works_when_asked_for() {
    let mut h = Harness::start().await;
    h.config.router.as_mut().unwrap().url = h.sim.http_url().unwrap().parse().unwrap();
    let out = h
        .run(Command::Validate {
            write_check: false,
            rules: false,
            strict_rules: false,
        })
        .await;
    assert_status(&out, exit::OK);
    assert!(out.text.contains("plain HTTP"), "{}", out.text);
}

/// The write check's probe address.
const PROBE: &str = "192.0.2.254";

fn probe_on_router(h: &Harness) -> Vec<crate::support::Entry> {
    h.entries(simulator::Family::V4)
        .into_iter()
        .filter(|e| e.address == PROBE)
        .collect()
}

#[tokio::test]
async fn write_check_survives_a_lost_put_reply_and_leaves_no_probe() {
    let h = Harness::start().await;
    // The router creates the probe but the reply is cut after its headers: the retried PUT meets the
    // agent's own probe as a duplicate.
    let _lost = h
        .sim
        .fault(
            FaultRule::always(Action::CloseAfterHeaders)
                .method("PUT")
                .times(1),
        )
        .unwrap();
    let out = h
        .run(Command::Validate {
            write_check: true,
            rules: false,
            strict_rules: false,
        })
        .await;
    assert_status(&out, exit::OK);
    assert_eq!(results(&out), vec!["ok"; 8], "{}", out.text);
    assert!(
        out.text.contains("bulk: the router runs scripts"),
        "{}",
        out.text
    );
    assert!(probe_on_router(&h).is_empty(), "{:?}", h.v4());
}

#[tokio::test]
async fn write_check_names_the_probe_it_could_not_remove() {
    let h = Harness::start().await;
    let _denied = h
        .sim
        .fault(
            FaultRule::always(Action::Status {
                status: 500,
                detail: Some("not enough permissions (9)".into()),
            })
            .method("DELETE"),
        )
        .unwrap();
    let out = h
        .run(Command::Validate {
            write_check: true,
            rules: false,
            strict_rules: false,
        })
        .await;
    assert_status(&out, exit::FAILED);
    assert_eq!(out.json["error"]["code"], 208002, "{}", out.text);
    let left = probe_on_router(&h);
    assert_eq!(left.len(), 1, "{:?}", h.v4());
    let wanted = format!(
        "probe {} ({PROBE}) left in `{}`; it expires by itself within 1m",
        left[0].id,
        crate::support::LIST
    );
    assert!(out.text.contains(&wanted), "{}", out.text);
    assert!(
        out.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&wanted),
        "{}",
        out.json
    );
}

#[tokio::test]
async fn write_check_with_a_lost_put_reply_and_a_refused_delete_names_the_probe() {
    let h = Harness::start().await;
    let _lost = h
        .sim
        .fault(
            FaultRule::always(Action::CloseAfterHeaders)
                .method("PUT")
                .times(1),
        )
        .unwrap();
    let _denied = h
        .sim
        .fault(
            FaultRule::always(Action::Status {
                status: 500,
                detail: Some("not enough permissions (9)".into()),
            })
            .method("DELETE"),
        )
        .unwrap();
    let out = h
        .run(Command::Validate {
            write_check: true,
            rules: false,
            strict_rules: false,
        })
        .await;
    assert_status(&out, exit::FAILED);
    assert_eq!(out.json["error"]["code"], 208002, "{}", out.text);
    let left = probe_on_router(&h);
    assert_eq!(left.len(), 1, "{:?}", h.v4());
    assert!(
        out.text
            .contains(&format!("probe {} ({PROBE}) left in", left[0].id)),
        "{}",
        out.text
    );
}

#[tokio::test]
async fn write_check_leaves_a_foreign_entry_on_the_probe_address_alone() {
    let h = Harness::start().await;
    let foreign = h
        .put_foreign(simulator::Family::V4, PROBE, Some("admin's"), None)
        .await;
    let out = h
        .run(Command::Validate {
            write_check: true,
            rules: false,
            strict_rules: false,
        })
        .await;
    assert_status(&out, exit::FAILED);
    assert_eq!(out.json["error"]["code"], 208105, "{}", out.text);
    assert!(out.text.contains(&foreign), "{}", out.text);
    let left = probe_on_router(&h);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].comment.as_deref(), Some("admin's"));
}

/// `validate` checks the filter rules unless told not to; `--strict-rules` makes no sense without
/// the check.
#[test]
fn the_rule_check_is_on_unless_no_rules_is_given() {
    use clap::Parser;
    let parse = |args: &[&str]| {
        agent::commands::Cli::try_parse_from(
            ["routeros-agent", "--url", "https://r.example"]
                .iter()
                .chain(args),
        )
        .map(|c| c.command)
    };
    for (args, rules, strict) in [
        (&["validate"][..], true, false),
        (&["validate", "--strict-rules"][..], true, true),
        (&["validate", "--no-rules"][..], false, false),
    ] {
        match parse(args) {
            Ok(Command::Validate {
                rules: r,
                strict_rules: s,
                ..
            }) => assert_eq!((r, s), (rules, strict), "{args:?}"),
            other => panic!("{args:?}: {other:?}"),
        }
    }
    assert!(parse(&["validate", "--no-rules", "--strict-rules"]).is_err());
}

/// By default `validate` reads the filter tables and fails on a list no rule accepts (the bare
/// simulator has no rule), and `list` shows the same check without failing; `check_rules = false`
/// skips both, for setups whose rules live elsewhere.
#[tokio::test]
async fn validate_and_list_check_the_rules_unless_the_configuration_says_not_to() {
    let mut h = Harness::start().await;
    h.config.check_rules = true;
    let validate = Command::Validate {
        write_check: false,
        rules: true,
        strict_rules: false,
    };
    let out = h.run(validate).await;
    assert_status(&out, exit::FAILED);
    let found = steps(&out);
    assert!(
        found.contains(&("filter rules".into(), "failed".into())),
        "{}",
        out.text
    );
    assert!(out.text.contains("208107"), "{}", out.text);
    let mark = h.sim.journal_mark();
    let out = h.run(Command::List).await;
    assert_status(&out, exit::OK);
    assert!(out.text.contains("filter rules:"), "{}", out.text);
    assert!(out.text.contains("208107"), "{}", out.text);
    assert_eq!(
        out.json["rules"].as_array().map(Vec::len),
        Some(2),
        "{}",
        out.json
    );
    let requests = h.requests_since(mark);
    assert!(
        requests.iter().all(|r| r.starts_with("GET ")),
        "list reads only: {requests:?}"
    );
    assert!(
        requests.iter().any(|r| r.contains("/ip/firewall/filter")),
        "{requests:?}"
    );

    // `--no-rules`; `check_rules = false` in the file comes to the same command (`execute`).
    let out = h
        .run(Command::Validate {
            write_check: false,
            rules: false,
            strict_rules: false,
        })
        .await;
    assert_status(&out, exit::OK);
    assert!(!out.text.contains("filter rules"), "{}", out.text);
    h.config.check_rules = false;
    let out = h.run(Command::List).await;
    assert_status(&out, exit::OK);
    assert!(!out.text.contains("filter rules"), "{}", out.text);
    assert!(out.json.get("rules").is_none(), "{}", out.json);
}

/// Before the first grant the list has no entry, so it does not exist on the router and the rule
/// that names it is marked `invalid`: the check reads the list, finds it empty, and judges the rule
/// as the router will once the grant makes the list (ok, with a note), instead of "undecidable".
#[tokio::test]
async fn an_accept_rule_marked_invalid_only_for_an_empty_list_is_ok_with_a_note() {
    let h = Harness::start().await;
    let seed = format!(
        "[[user]]\nname = \"admin\"\npassword = \"admin\"\ngroup = \"full\"\n\
         [[filter]]\nchain = \"forward\"\nsrc-address-list = \"{list}\"\naction = \"accept\"\n\
         [[filter]]\nchain = \"forward\"\naction = \"drop\"\n\
         [[filter]]\nfamily = \"v6\"\nchain = \"forward\"\nsrc-address-list = \"{list6}\"\naction = \"accept\"\n",
        list = crate::support::LIST,
        list6 = crate::support::LIST6,
    );
    h.sim
        .load_seed(simulator::Seed::parse(&seed, false).unwrap())
        .unwrap();
    let out = h
        .run(Command::Validate {
            write_check: false,
            rules: true,
            strict_rules: true,
        })
        .await;
    assert_status(&out, exit::OK);
    assert!(
        out.text.contains("invalid until list") && !out.text.contains("208110"),
        "{}",
        out.text
    );
}

#[tokio::test]
async fn the_write_mode_step_says_what_a_router_refusing_scripting_means_for_each_mode() {
    for (mode, status, last) in [
        (agent::batch::WriteMode::Auto, exit::OK, "warning"),
        (agent::batch::WriteMode::Single, exit::OK, "ok"),
        (agent::batch::WriteMode::Bulk, exit::FAILED, "failed"),
    ] {
        let mut h = Harness::start().await;
        h.config.write_mode = mode;
        let _fault = h
            .sim
            .fault(
                FaultRule::always(Action::Status {
                    status: 500,
                    detail: Some("not enough permissions (9)".into()),
                })
                .path("/rest/execute"),
            )
            .unwrap();
        let out = h
            .run(Command::Validate {
                write_check: true,
                rules: false,
                strict_rules: false,
            })
            .await;
        assert_status(&out, status);
        let steps = steps(&out);
        assert_eq!(
            steps.last().unwrap(),
            &("write mode".to_owned(), last.to_owned()),
            "{mode:?}: {}",
            out.text
        );
        assert_eq!(out.json["steps"][7]["error"]["code"], 208002, "{mode:?}");
    }
}
