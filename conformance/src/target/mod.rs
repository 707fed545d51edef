//! Targets: what the suite runs against, what it may do there, and how a scenario reaches it.
//!
//! This is the suite's `DB` trait in the sqllogictest-rs sense: every scenario is written once
//! against [`Ctx`], and [`Ctx`] hides whether the router is an in-process simulator, a simulator
//! running elsewhere (driven through its control API) or a real router. What differs between targets
//! is expressed as [`Cap`]abilities ([`caps`], pure, used when listing); the command line becomes
//! [`Settings`] ([`settings`]); a scenario's context is [`Ctx`] ([`ctx`]). Both kinds of simulator
//! are driven through the simulator's own [`Control`] trait, so the suite has no control client of
//! its own and does not care whether the simulator is in this process.
//!
//! The in-process target starts a fresh simulator for every scenario (on port 0, in the scenario's
//! own runtime), so scenarios are isolated and can run in parallel. The other targets are shared:
//! scenarios run one at a time, each in its own list named from the run's prefix, and each cleans up
//! the users, groups, entries and fault rules it created.

pub mod caps;
pub mod ctx;
pub mod settings;

use std::time::Duration;

use simulator::{Control, ControlClient, Simulator};

pub use caps::Cap;
pub use ctx::Ctx;
pub use settings::{Creds, Leftovers, SIM_AGENT, SIM_AGENT_GROUP, Settings, TargetKind, Trust};

use crate::Failure;

/// How long one control call to a running simulator may take.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the router is, once a scenario has started.
#[derive(Debug)]
pub struct Live {
    /// `https://host:port` (or `http://`).
    pub url: String,
    /// `http://host:port` of plain `www`, when known.
    pub http_url: Option<String>,
    /// The simulator's CA in PEM, when the target is a simulator.
    pub ca_pem: Option<String>,
    /// The agent's credentials.
    pub agent: Creds,
    /// Admin credentials.
    pub admin: Option<Creds>,
    /// How to drive the simulator: the in-process handle (dropped, and so stopped, with the
    /// context) or a client of a running one's control API; `None` on a real router.
    pub control: Option<Box<dyn Control>>,
    /// The in-process simulator's internals, for what its control API does not offer (filling its
    /// certificate store, [`Ctx::trust_on_router`]).
    pub internals: Option<std::sync::Arc<simulator::shared::Shared>>,
}

/// A client of a running simulator's control API.
fn control_client(control: &str, token: Option<&str>) -> Result<ControlClient, Failure> {
    Ok(ControlClient::new(control, token.map(str::to_owned))?.with_timeout(CONTROL_TIMEOUT))
}

/// Starts or reaches the router for one scenario.
pub async fn connect(settings: &Settings, shared_ca: Option<&str>) -> Result<Live, Failure> {
    match &settings.kind {
        TargetKind::InProcess => {
            let mut builder = Simulator::builder();
            if let Some(v) = &settings.sim_version {
                builder = builder.version(v.clone());
            }
            let sim = builder
                .group(SIM_AGENT_GROUP.0, SIM_AGENT_GROUP.1)
                .user(SIM_AGENT.0, SIM_AGENT.1, SIM_AGENT_GROUP.0)
                .start()
                .await
                .map_err(|e| Failure::new(format!("cannot start the simulator: {e}")))?;
            Ok(Live {
                url: sim.https_url(),
                http_url: sim.http_url(),
                ca_pem: Some(sim.ca_pem().to_owned()),
                agent: Creds::new(SIM_AGENT.0, SIM_AGENT.1),
                admin: Some(Creds::new(
                    simulator::DEFAULT_USER,
                    simulator::DEFAULT_PASSWORD,
                )),
                internals: Some(sim.shared().clone()),
                control: Some(Box::new(sim)),
            })
        }
        TargetKind::RunningSim { url, control } => {
            let control = control_client(control, settings.control_token.as_deref())?;
            let health = control.health().await?;
            Ok(Live {
                url: url.trim_end_matches('/').to_owned(),
                http_url: health.http_url,
                ca_pem: shared_ca.map(str::to_owned),
                agent: settings
                    .agent
                    .clone()
                    .unwrap_or_else(|| Creds::new("admin", "admin")),
                admin: settings.admin.clone(),
                control: Some(Box::new(control)),
                internals: None,
            })
        }
        TargetKind::Router { url } => Ok(Live {
            url: url.trim_end_matches('/').to_owned(),
            http_url: None,
            ca_pem: None,
            agent: settings
                .agent
                .clone()
                .ok_or_else(|| Failure::new("no agent credentials for the router"))?,
            admin: settings.admin.clone(),
            control: None,
            internals: None,
        }),
    }
}

/// Fetches a running simulator's CA from its control API (once per run).
pub async fn fetch_ca(control: &str, token: Option<&str>) -> Result<String, Failure> {
    Ok(control_client(control, token)?.tls().await?.ca_pem)
}
