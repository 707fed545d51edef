//! The README's "In Rust tests" snippet, built with the suite's tests (`cargo test -p conformance`
//! builds examples) so that the snippet compiles as shown; a unit test of the suite
//! (`readme::the_rust_snippet_is_this_example`) holds the README to the lines between the markers.
//! Run it with `cargo run -q -p conformance --example simulator_in_tests`.

use std::time::Duration;

use simulator::{Action, FaultRule, JournalFilter};

async fn snippet() -> Result<(), Box<dyn std::error::Error>> {
    // README begin
    let sim = simulator::Simulator::builder().start().await?; // loopback, free ports
    let ca = sim.ca_pem(); // trust only this
    let url = sim.https_url(); // https://127.0.0.1:<port>
    let _fault = sim.fault(
        FaultRule::always(Action::Reset)
            .path("/rest/ip/firewall/address-list*")
            .times(1),
    )?;
    sim.clock().advance(Duration::from_secs(3600)); // expiry without sleeping
    let puts = sim.journal(&JournalFilter {
        method: Some("PUT".into()),
        ..Default::default()
    });
    // README end
    println!(
        "{url}: CA of {} bytes, {} PUTs so far",
        ca.len(),
        puts.entries.len()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(snippet())
}
