//! `routeros-sim verdict`: what the simulator's filter rules do to a packet, which rule decided and
//! why, printed for people or as the control API's JSON.
//!
//! The packet is described with flags (`--chain forward --src 198.51.100.7 --dst 10.0.0.5
//! --protocol tcp --dst-port 22`); the control API evaluates it with the address lists as they are
//! on the simulator's clock, and the counters of the rules it matched advance as on a router.

use std::net::IpAddr;

use clap::Args;

use super::{CliError, print};
use crate::Family;
use crate::control::Control;
use crate::control::types::{VerdictReply, VerdictRequest, VerdictStep};

/// The packet to evaluate.
#[derive(Debug, Args)]
pub struct VerdictArgs {
    /// The built-in chain the packet enters: input, forward or output.
    #[arg(long, default_value = "forward")]
    pub chain: String,
    /// Source address (IPv4 or IPv6).
    #[arg(long)]
    pub src: IpAddr,
    /// Destination address, of the same family.
    #[arg(long)]
    pub dst: IpAddr,
    /// IP protocol, by name (tcp, udp, icmp, ...) or number.
    #[arg(long)]
    pub protocol: Option<String>,
    /// Source port.
    #[arg(long)]
    pub src_port: Option<u16>,
    /// Destination port.
    #[arg(long)]
    pub dst_port: Option<u16>,
    /// The table to evaluate, v4 or v6 (follows from the addresses when left out).
    #[arg(long, value_parser = family)]
    pub family: Option<Family>,
    /// Interface the packet arrives on.
    #[arg(long)]
    pub in_interface: Option<String>,
    /// Interface the packet leaves by.
    #[arg(long)]
    pub out_interface: Option<String>,
    /// Connection-tracking state (default: new, a first packet).
    #[arg(long)]
    pub connection_state: Option<String>,
    /// Packet size in bytes, added to the counters of the rules it matches (default 60).
    #[arg(long)]
    pub size: Option<u64>,
    /// Print the control API's JSON reply instead of text.
    #[arg(long)]
    pub json: bool,
}

fn family(text: &str) -> Result<Family, String> {
    match text {
        "v4" | "ipv4" | "ip" => Ok(Family::V4),
        "v6" | "ipv6" => Ok(Family::V6),
        _ => Err(format!("`{text}` is not a family; use v4 or v6")),
    }
}

impl VerdictArgs {
    /// The control API's request for these flags.
    pub fn request(&self) -> VerdictRequest {
        VerdictRequest {
            chain: self.chain.clone(),
            connection_state: self.connection_state.clone(),
            dst: self.dst,
            dst_port: self.dst_port,
            family: self.family,
            in_interface: self.in_interface.clone(),
            out_interface: self.out_interface.clone(),
            protocol: self.protocol.clone(),
            size: self.size,
            src: self.src,
            src_port: self.src_port,
        }
    }
}

/// Asks the simulator behind `control` for the verdict and prints it.
pub(super) async fn run(args: &VerdictArgs, control: &dyn Control) -> Result<(), CliError> {
    let reply = control.verdict(&args.request()).await?;
    if args.json {
        print::json(&reply);
    } else {
        print!("{}", text(&reply));
    }
    Ok(())
}

/// A rule for people: `*2 (position 0, chain forward, "comment")`.
fn rule(step: &VerdictStep) -> String {
    let comment = step
        .comment
        .as_deref()
        .map(|c| format!(", \"{c}\""))
        .unwrap_or_default();
    format!(
        "{} (position {}, chain {}, action {}{comment})",
        step.id, step.index, step.chain, step.action
    )
}

/// The verdict as text: the decision and what decided it, each matcher of the deciding rule, the
/// rules visited, and the reasons.
pub fn text(reply: &VerdictReply) -> String {
    let mut out = String::new();
    let table = match reply.family {
        Family::V4 => "/ip/firewall/filter",
        Family::V6 => "/ipv6/firewall/filter",
    };
    let by = match (&reply.decided_by, &reply.chain_default) {
        (Some(step), _) if reply.decision == "unknown" => {
            format!("rule {} could not be evaluated", rule(step))
        }
        (Some(step), _) => format!("by rule {}", rule(step)),
        (None, Some(chain)) => format!("by the default of chain {chain}: no rule decided"),
        (None, None) => "nothing decided".to_owned(),
    };
    out.push_str(&format!(
        "{} {by} [{table}]\n",
        reply.decision.to_uppercase()
    ));
    if let Some(step) = &reply.decided_by {
        for m in &step.matchers {
            out.push_str(&format!(
                "  {}={}: {} ({})\n",
                m.key, m.value, m.outcome, m.why
            ));
        }
    }
    if !reply.steps.is_empty() {
        out.push_str("rules visited:\n");
        for s in &reply.steps {
            let indent = "  ".repeat(s.depth + 1);
            out.push_str(&format!("{indent}{}: {}\n", rule(s), s.outcome));
        }
    }
    for a in &reply.list_additions {
        out.push_str(&format!(
            "rule {} would add {} to list {} (timeout {})\n",
            a.by, a.address, a.list, a.timeout
        ));
    }
    for r in &reply.reasons {
        out.push_str(&format!("- {r}\n"));
    }
    out
}
