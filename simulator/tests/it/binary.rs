//! The `routeros-sim` binary as a shell user meets it: piped output, colours.

use std::io::Read;
use std::process::{Command, Stdio};

use simulator::Simulator;

#[tokio::test]
async fn a_reader_that_closes_the_pipe_does_not_make_the_binary_panic() {
    let sim = Simulator::builder().start().await.expect("starts");
    for _ in 0..200 {
        sim.shared().journal.record(simulator::JournalEntry {
            seq: 0,
            time_ms: 0,
            sim_ms: 0,
            client: "127.0.0.1:1".parse().unwrap(),
            listener: simulator::Listener::WwwSsl,
            user: Some("admin".into()),
            method: Some("GET".into()),
            path: Some("/rest/system/identity".repeat(40)),
            status: Some(200),
            fault: None,
            duration_ms: 0,
            cost_us: 0,
        });
    }
    let control = sim.control_url().expect("a control API");
    let out = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_routeros-sim"))
            .args(["journal", "--control", &control])
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        // Read one byte, then close the pipe as `head -c1` would.
        let mut one = [0u8; 1];
        let _ = child.stdout.take().expect("stdout").read(&mut one);
        child.wait_with_output().expect("the binary ends")
    })
    .await
    .expect("joined");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "no colour codes: {stderr:?}");
    assert!(out.status.success(), "{:?} {stderr}", out.status);
}
