//! Ctrl-C and SIGTERM on a shared target: stop every create, sweep the run's rows, exit.
//!
//! The users a run creates have real policies and never expire by themselves, so an interrupted run
//! must remove them before the process ends. The handler runs on its own thread with its own
//! runtime, so it works while a trial blocks the main thread.

use crate::exit::Exit;
use crate::rest::Rest;
use crate::safety;

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
pub fn install(reader: Rest, prefix: String) -> Result<(), String> {
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
                crate::rest::stop_writes();
                tokio::select! {
                    swept = safety::sweep(&reader, &prefix) => {
                        for r in &swept.removed {
                            eprintln!("  removed {r}");
                        }
                        if swept.removed.is_empty() {
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
