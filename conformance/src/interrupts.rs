//! Ctrl-C and SIGTERM on a shared target: stop the run, wait for what is in the air, sweep the
//! run's rows, exit.
//!
//! The users a run creates have real policies and never expire by themselves, so an interrupted run
//! must remove them before the process ends. The handler runs on its own thread with its own
//! runtime, so it works while a trial blocks the main thread. The sweep starts only once the
//! running scenario has stopped and its requests (the agent's included) have been answered
//! ([`crate::stop`]), and it reads the target again after removing, so what it reports is what
//! the router holds.

use std::sync::Arc;

use crate::exit::Exit;
use crate::rest::Rest;
use crate::safety::{self, Swept};
use crate::stop::Stop;

/// Stops the run, waits until nothing of it is in the air and no scenario runs, removes the run's
/// rows and reads the target once more: anything of the run still there is a problem in the result.
pub async fn stop_and_sweep(stop: &Stop, reader: &Rest, prefix: &str) -> Swept {
    stop.stop();
    stop.idle().await;
    let mut swept = safety::sweep(reader, prefix).await;
    match safety::read(reader, prefix).await {
        Ok(after) => {
            for (menu, rows) in &after.own {
                for (_, name) in rows {
                    swept.problems.push(format!(
                        "still on the target after the sweep: {menu} {name}"
                    ));
                }
            }
        }
        Err(e) => swept
            .problems
            .push(format!("cannot read the target after the sweep: {e}")),
    }
    swept
}

/// The signals that end a run early: Ctrl-C and, on Unix, SIGTERM.
struct Interrupts {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Interrupts {
    /// Registers the handlers (from then on these signals no longer end the process by themselves).
    fn new() -> std::io::Result<Interrupts> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Interrupts {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Interrupts {})
    }

    /// Waits for the next one; returns its name.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => "interrupted (SIGINT)",
                _ = self.term.recv() => "terminated (SIGTERM)",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "interrupted (Ctrl-C)"
        }
    }
}

/// On a shared target: on Ctrl-C or SIGTERM, stop every create, sweep the run's rows, say what was
/// removed, and exit with [`Exit::Interrupted`]. A second signal abandons the sweep (and says how to finish it).
/// Returns once the handlers are registered, so no signal falls between registering and running.
pub fn install(stop: Arc<Stop>, reader: Rest, prefix: String) -> Result<(), String> {
    let (ready, registered) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("interrupts".into())
        .spawn(move || {
            crate::trials::runtime().block_on(async move {
                let mut signals = match Interrupts::new() {
                    Ok(s) => {
                        let _ = ready.send(Ok(()));
                        s
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e.to_string()));
                        return;
                    }
                };
                let what = signals.next().await;
                eprintln!(
                    "\nrouteros-conformance: {what}: removing what this run created (signal again to abandon the clean-up)"
                );
                eprintln!("  waiting for the running scenario's requests to be answered");
                tokio::select! {
                    swept = stop_and_sweep(&stop, &reader, &prefix) => {
                        for r in &swept.removed {
                            eprintln!("  removed {r}");
                        }
                        if swept.removed.is_empty() && swept.problems.is_empty() {
                            eprintln!("  nothing of this run was left on the target");
                        }
                        for p in &swept.problems {
                            eprintln!("  {p}");
                        }
                        if !swept.problems.is_empty() {
                            eprintln!("  the next run will report what is left; remove it with --sweep-leftovers");
                        }
                    }
                    _ = signals.next() => eprintln!(
                        "routeros-conformance: clean-up abandoned; the next run will report what is left, remove it with --sweep-leftovers"
                    ),
                }
                std::process::exit(i32::from(Exit::Interrupted.status()));
            });
        })
        .map_err(|e| format!("cannot start the interrupt handler: {e}"))?;
    registered
        .recv()
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot handle Ctrl-C: {e}"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use simulator::{Action, FaultRule};

    use super::*;
    use crate::target::{Cap, Ctx};
    use crate::trials::tests::check;
    use crate::{Failure, Outcome};

    /// An agent `PUT` on its way when the run stops (held by the router for 400 ms, as a slow
    /// router's queue would) lands before the sweep reads: the sweep removes the entry and says
    /// so, and the router holds nothing of the run afterwards.
    async fn a_put_in_the_air_is_swept(ctx: &Ctx) -> Outcome {
        let control = ctx.live.control.as_deref().expect("a simulator");
        let rule = FaultRule::always(Action::Delay {
            ms: 400,
            max_ms: None,
        })
        .method("PUT")
        .path("/rest/ip/firewall/address-list");
        let id = ctx.fault(rule).await?;
        // This run's own switch: the one in the settings also counts the test's own scenario.
        let stop = Arc::new(Stop::default());
        let mut agent = crate::driver::Agent::new(ctx);
        agent.stop = stop.clone();
        let admin = ctx.admin()?;
        let interrupt = async {
            // Wait (bounded) until the simulator holds the PUT, then stop as Ctrl-C would.
            for _ in 0..2000 {
                let seen = control
                    .faults()
                    .await?
                    .iter()
                    .any(|r| r.id == id && r.seen > 0);
                if seen {
                    return Ok::<_, Failure>(stop_and_sweep(&stop, admin, &ctx.list).await);
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            Err(Failure::new("the agent's PUT never reached the simulator"))
        };
        let (granted, swept) = tokio::join!(agent.grant("192.0.2.7", "alice", "1h"), interrupt);
        granted.expect_ok()?;
        let swept = swept?;
        let entry = format!("/ip/firewall/address-list {}", ctx.list);
        crate::ensure!(
            swept.removed.contains(&entry) && swept.problems.is_empty(),
            "the sweep did not see the entry that landed: {swept:?}"
        );
        let left = admin
            .rows(&format!("/ip/firewall/address-list?list={}", ctx.list))
            .await?;
        crate::ensure!(left.is_empty(), "left on the router: {left:?}");
        Ok(())
    }

    #[test]
    fn the_sweep_waits_for_a_put_in_the_air() {
        check(&[Cap::Write, Cap::Faults, Cap::Admin], |ctx| {
            Box::pin(a_put_in_the_air_is_swept(ctx))
        })
        .unwrap();
    }
}
