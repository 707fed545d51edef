//! The `routeros-agent` binary itself: flags and environment variables by their conventional names,
//! `--json` output, exit statuses, and secrets kept out of the output.

use std::process::Output;

use simulator::Family;

use crate::support::{Harness, LIST, TAG};

/// The binary with the simulator's URL, CA and user from flags and the environment.
fn command(h: &Harness, password: &str, args: &[&str]) -> tokio::process::Command {
    let ca = h.config.router().unwrap().tls.clone();
    let agent::config::TlsMode::CaFile(ca) = ca else {
        unreachable!("the harness trusts a CA file")
    };
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_routeros-agent"));
    cmd.env_clear()
        .env("ROUTEROS_URL", h.config.router().unwrap().url.as_str())
        .env("ROUTEROS_USERNAME", simulator::DEFAULT_USER)
        .env("ROUTEROS_PASSWORD", password)
        .arg("--ca-file")
        .arg(ca)
        .arg("--state")
        .arg(&h.config.state)
        .args(["--list", LIST, "--tag", TAG])
        .args(args);
    cmd
}

/// Runs the binary to completion.
async fn agent(h: &Harness, password: &str, args: &[&str]) -> Output {
    command(h, password, args)
        .output()
        .await
        .expect("the binary runs")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test]
async fn grant_list_revoke_through_the_binary() {
    let h = Harness::start().await;
    // The binary uses the real clock; the simulator's must run too.
    h.sim.clock().resume();
    let out = agent(
        &h,
        simulator::DEFAULT_PASSWORD,
        &[
            "--json",
            "grant",
            "192.0.2.100",
            "--user",
            "ann",
            "--for",
            "1h",
        ],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json(&out)["grant"]["address"], "192.0.2.100");
    assert_eq!(h.entries(Family::V4).len(), 1);
    let out = agent(&h, simulator::DEFAULT_PASSWORD, &["list"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("192.0.2.100") && text.contains("ann"),
        "{text}"
    );
    let out = agent(
        &h,
        simulator::DEFAULT_PASSWORD,
        &["revoke", "192.0.2.100", "--user", "ann"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0));
    assert!(h.entries(Family::V4).is_empty());
}

#[tokio::test]
async fn failures_print_the_code_and_exit_1_without_the_password() {
    let h = Harness::start().await;
    let out = agent(&h, "not-the-password-42", &["validate"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAIL authentication") && text.contains("error 208001 (MIKRO001)"),
        "{text}"
    );
    let all = format!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains("not-the-password-42"), "{all}");
    let out = agent(&h, "not-the-password-42", &["--json", "sync"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["code"], 208001);
}

#[tokio::test]
async fn configuration_errors_exit_2_and_store_errors_exit_3() {
    let h = Harness::start().await;
    let out = agent(
        &h,
        "x",
        &["grant", "192.0.2.1", "--user", "ann", "--for", "soon"],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = agent(&h, "x", &["--pin-sha256", "abcd", "list"]).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::write(&h.config.state, "garbage").unwrap();
    let out = agent(&h, simulator::DEFAULT_PASSWORD, &["sync"]).await;
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // There is no flag for the password itself.
    let out = agent(&h, "x", &["--password", "x", "list"]).await;
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn parallel_grants_from_separate_processes_are_all_kept() {
    let h = Harness::start().await;
    h.sim.clock().resume();
    // All eight processes run at once; each must see the others' grants when it writes the store.
    let children: Vec<_> = (0..8)
        .map(|i| {
            let address = format!("192.0.2.{}", 20 + i);
            let user = format!("user{i}");
            command(
                &h,
                simulator::DEFAULT_PASSWORD,
                &["grant", &address, "--user", &user, "--for", "1h"],
            )
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the binary starts")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().await.unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let out = agent(&h, simulator::DEFAULT_PASSWORD, &["--json", "list"]).await;
    let doc = json(&out);
    let mut stored: Vec<&str> = doc["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["address"].as_str().unwrap())
        .collect();
    stored.sort_unstable();
    let want: Vec<String> = (0..8).map(|i| format!("192.0.2.{}", 20 + i)).collect();
    assert_eq!(stored, want);
    let mut on_router: Vec<String> = h
        .entries(Family::V4)
        .into_iter()
        .map(|e| e.address)
        .collect();
    on_router.sort();
    assert_eq!(on_router, want);
}

#[tokio::test]
async fn a_refused_address_is_bad_usage_exit_2_and_nothing_is_sent() {
    let h = Harness::start().await;
    let mark = h.sim.journal_mark();
    for args in [
        &[
            "--json",
            "grant",
            "300.1.1.1",
            "--user",
            "ann",
            "--for",
            "1h",
        ][..],
        &["--json", "revoke", "300.1.1.1", "--user", "ann"][..],
    ] {
        let out = agent(&h, simulator::DEFAULT_PASSWORD, args).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(json(&out)["error"]["code"], 208104);
    }
    let text = agent(
        &h,
        simulator::DEFAULT_PASSWORD,
        &["grant", "300.1.1.1", "--user", "ann", "--for", "1h"],
    )
    .await;
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("error 208104"),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
    assert!(h.requests_since(mark).is_empty());
}

#[tokio::test]
async fn help_names_the_password_variable_and_the_exit_statuses() {
    let h = Harness::start().await;
    let out = agent(&h, "x", &["--help"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("ROUTEROS_PASSWORD"), "{text}");
    assert!(text.contains("Exit statuses"), "{text}");
    for line in ["0 ", "1 ", "2 ", "3 ", "4 "] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(line)),
            "status {line}missing:\n{text}"
        );
    }
}

#[tokio::test]
async fn a_secret_in_the_config_file_never_shows_in_the_error() {
    let h = Harness::start().await;
    let secret = "hunter2-SECRET";
    let dir = tempfile::tempdir().unwrap();
    // A `password` key, a password file given as --config by mistake, and a secret as a value of the
    // wrong type: none of them may echo the file's text.
    let files = [
        (
            "password.toml",
            format!("url = \"https://r\"\npassword = \"{secret}\"\n"),
        ),
        ("password-file", format!("{secret}\n")),
        ("typed.toml", format!("insecure = \"{secret}\"\n")),
        ("unknown.toml", format!("{secret} = 1\n")),
    ];
    for (name, body) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        let path = path.to_str().unwrap().to_owned();
        for json_flag in [false, true] {
            let mut args = vec!["--config", path.as_str()];
            if json_flag {
                args.push("--json");
            }
            args.push("list");
            let out = agent(&h, "x", &args).await;
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.status.code(), Some(2), "{name}: {all}");
            assert!(!all.contains("hunter2"), "{name}: {all}");
            assert!(all.contains("line "), "{name}: {all}");
            if name == "password.toml" {
                assert!(
                    all.contains("the password never goes in the config file"),
                    "{all}"
                );
            }
        }
    }
}

#[tokio::test]
async fn insecure_always_warns_on_stderr_and_in_the_json() {
    let h = Harness::start().await;
    h.sim.clock().resume();
    // `--insecure` cannot be combined with --ca-file: build the command without the helper's CA.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_routeros-agent"))
        .env_clear()
        .env("ROUTEROS_URL", h.config.router().unwrap().url.as_str())
        .env("ROUTEROS_USERNAME", simulator::DEFAULT_USER)
        .env("ROUTEROS_PASSWORD", simulator::DEFAULT_PASSWORD)
        .env("RUST_LOG", "off")
        .args([
            "--insecure",
            "--json",
            "--list",
            LIST,
            "validate",
            "--no-rules",
        ])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TLS certificate verification is OFF"),
        "{stderr}"
    );
    let doc = json(&out);
    assert!(
        doc["warnings"][0]
            .as_str()
            .unwrap()
            .contains("verification is OFF"),
        "{doc}"
    );
    assert_eq!(doc["ok"], true, "{doc}");
}

#[tokio::test]
async fn logs_have_no_colour_codes_when_stderr_is_not_a_terminal() {
    let h = Harness::start().await;
    h.sim.clock().resume();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_routeros-agent"))
        .env_clear()
        .env("ROUTEROS_URL", h.config.router().unwrap().url.as_str())
        .env("ROUTEROS_USERNAME", simulator::DEFAULT_USER)
        .env("ROUTEROS_PASSWORD", simulator::DEFAULT_PASSWORD)
        .env("RUST_LOG", "info")
        .args(["--insecure", "--list", LIST, "validate", "--no-rules"])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The log's own warning (tracing) is there, without escape sequences.
    assert!(stderr.contains("WARN"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("has 0 entries"), "{stdout}");
}

#[tokio::test]
async fn a_closed_stdout_ends_the_program_quietly() {
    let h = Harness::start().await;
    h.sim.clock().resume();
    let mut child = command(&h, simulator::DEFAULT_PASSWORD, &["validate", "--no-rules"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the program writes, as `| head -0` would.
    drop(child.stdout.take());
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn one_grant_reads_in_the_singular() {
    let h = Harness::start().await;
    h.sim.clock().resume();
    let out = agent(
        &h,
        simulator::DEFAULT_PASSWORD,
        &["grant", "192.0.2.70", "--user", "ann", "--for", "1h"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0));
    let out = agent(&h, simulator::DEFAULT_PASSWORD, &["sync"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("1 live grant\n"), "{text}");
    let out = agent(&h, simulator::DEFAULT_PASSWORD, &["validate", "--no-rules"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("list `{LIST}` has 1 entry, 1 owned by this agent")),
        "{text}"
    );
}

/// `check_rules = false` in the configuration file skips `validate`'s rule check as `--no-rules`
/// does (the harness's simulator has no filter rule, so the check would fail with 208107).
#[tokio::test]
async fn check_rules_false_in_the_file_skips_the_rule_check() {
    let h = Harness::start().await;
    h.sim.clock().resume();
    let out = agent(&h, simulator::DEFAULT_PASSWORD, &["validate"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("208107"), "{text}");
    let file = h.config.state.with_extension("toml");
    std::fs::write(&file, "check_rules = false\n").unwrap();
    let out = agent(
        &h,
        simulator::DEFAULT_PASSWORD,
        &["--config", file.to_str().unwrap(), "validate"],
    )
    .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(!text.contains("filter rules"), "{text}");
}

/// A feed host in passive mode holds no router URL, user name or password: `run` serves the feed
/// and the commands on the grant store work without them, while the commands that talk to the
/// router say how to name it.
#[tokio::test]
async fn passive_mode_runs_without_the_routers_credentials() {
    use tokio::io::AsyncBufReadExt as _;

    let h = Harness::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agent.toml");
    std::fs::write(&file, "mode = \"passive\"\n").unwrap();
    // No ROUTEROS_URL, ROUTEROS_USERNAME, ROUTEROS_PASSWORD or password file anywhere.
    let bare = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_routeros-agent"));
        cmd.env_clear()
            .arg("--config")
            .arg(&file)
            .arg("--state")
            .arg(&h.config.state)
            .args(["--list", LIST, "--tag", TAG])
            .args(args)
            .kill_on_drop(true);
        cmd
    };
    let stdout = |out: &Output| String::from_utf8_lossy(&out.stdout).into_owned();
    let out = bare(&["grant", "192.0.2.7", "--user", "ann", "--for", "1h"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = bare(&["list"]).output().await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("192.0.2.7"), "{}", stdout(&out));
    for args in [&["passive", "status"][..], &["validate"]] {
        let out = bare(args).output().await.unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
        assert_eq!(
            stdout(&out),
            "configuration: no router URL: give --url or set ROUTEROS_URL\n",
            "{args:?}"
        );
    }

    let mut daemon = bare(&[
        "run",
        "--control",
        "127.0.0.1:0",
        "--feed-listen",
        "127.0.0.1:0",
    ])
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = tokio::io::BufReader::new(daemon.stderr.take().unwrap()).lines();
    // The daemon prints the feed's URL once it listens; the lines end if it exits instead.
    let mut url = None;
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(u) = line.strip_prefix("feed: ") {
            url = Some(u.to_owned());
            break;
        }
    }
    let url = url.expect("the daemon started and announced its feed");
    let key = std::fs::read_to_string(h.config.beside_state(".feed-key")).unwrap();
    let tls = agent::net::tls_config(&agent::config::TlsMode::CaFile(
        h.config.beside_state(".feed-ca.pem"),
    ))
    .unwrap();
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap();
    let r = http
        .get(&url)
        .basic_auth("apikey", Some(key.trim()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), "192.0.2.7\n");
    daemon.kill().await.unwrap();
}
