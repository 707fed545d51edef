//! The `routeros-agent` binary itself: flags and environment variables by their conventional names,
//! `--json` output, exit statuses, and secrets kept out of the output.

use std::process::Output;

use simulator::Family;

use crate::support::{Harness, LIST, TAG};

/// Runs the binary with the simulator's URL, CA and user from flags and the environment.
async fn agent(h: &Harness, password: &str, args: &[&str]) -> Output {
    let ca = h.config.tls.clone();
    let agent::config::TlsMode::CaFile(ca) = ca else {
        unreachable!("the harness trusts a CA file")
    };
    tokio::process::Command::new(env!("CARGO_BIN_EXE_routeros-agent"))
        .env_clear()
        .env("ROUTEROS_URL", &h.config.url)
        .env("ROUTEROS_USERNAME", simulator::DEFAULT_USER)
        .env("ROUTEROS_PASSWORD", password)
        .arg("--ca-file")
        .arg(ca)
        .arg("--state")
        .arg(&h.config.state)
        .args(["--list", LIST, "--tag", TAG])
        .args(args)
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
