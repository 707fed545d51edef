//! What a filter table does to one packet: the verdict, the rule that decided it, and why.
//!
//! The walk follows the manual's description of the filter ("Common Firewall Matchers and Actions",
//! and the Filter page: rules are taken from the chain top to bottom; a packet that matches no rule
//! of a built-in chain is accepted) and the fidelity notes, section G:
//! - `accept`, `drop`, `reject` and `tarpit` end the walk; `fasttrack-connection` counts as accept
//!   (defconf always follows it with an explicit accept, so the outcome is the same);
//! - `passthrough`, `log`, `add-src-to-address-list` and `add-dst-to-address-list` continue; the
//!   additions are reported in the verdict (the caller owns the address lists) and seen by later
//!   rules of the same walk, as on a router where the address is in the list at once;
//! - `jump` walks the target chain and comes back after the jump rule when that chain ends or a
//!   `return` matches; `return` in a built-in chain ends it with the chain's default, accept;
//! - disabled rules are skipped.
//!
//! Nothing is silently ignored: a matcher the simulator does not evaluate (`tcp-flags`, `limit`,
//! `in-interface-list`, ...) or a packet field the caller did not give makes that rule's outcome
//! unknown. An unknown rule whose action would decide or change the path (terminating, `jump`,
//! `return`) makes the verdict unknown, decided by that rule; an unknown non-terminating rule is
//! noted in the reasons and the walk goes on.

use std::fmt;
use std::net::IpAddr;

use super::Rule;
use super::schema::{self, BUILT_IN_CHAINS};
use super::values::{self, addr_bits, split_negation};
use crate::Family;
use crate::clock::SimTime;

/// How deep `jump`s may nest before the verdict gives up (a loop of jumps would never end). The
/// real router's bound is not documented; 32 is far beyond any sane rule set.
pub const MAX_JUMP_DEPTH: usize = 32;

/// How many rule visits one verdict may make in all (jumps can revisit chains).
pub const MAX_STEPS: usize = 100_000;

/// Properties that are parameters of an action or of the rule itself, not matchers.
const PARAMETERS: &[&str] = &[
    "action",
    "address-list",
    "address-list-timeout",
    "chain",
    "comment",
    "disabled",
    "hw-offload",
    "jump-target",
    "log",
    "log-prefix",
    "reject-with",
];

/// A packet to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The built-in chain the packet enters: `input`, `forward` or `output`.
    pub chain: String,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol number, if known (`tcp` is 6).
    pub protocol: Option<u8>,
    /// Source port, if the protocol has ports.
    pub src_port: Option<u16>,
    /// Destination port, if the protocol has ports.
    pub dst_port: Option<u16>,
    /// Interface the packet arrived on, if known.
    pub in_interface: Option<String>,
    /// Interface the packet leaves by, if known.
    pub out_interface: Option<String>,
    /// Connection-tracking state: `new` (a first packet) unless told otherwise.
    pub connection_state: String,
    /// Size in bytes, added to the counters of the rules the packet matches.
    pub size: u64,
}

impl Packet {
    /// A first packet of a new connection from `src` to `dst` in `chain`, 60 bytes (a TCP SYN
    /// with options), other fields unknown.
    pub fn new(chain: &str, src: IpAddr, dst: IpAddr) -> Self {
        Self {
            chain: chain.to_owned(),
            src,
            dst,
            protocol: None,
            src_port: None,
            dst_port: None,
            in_interface: None,
            out_interface: None,
            connection_state: "new".to_owned(),
            size: 60,
        }
    }
}

/// One entry of an address list, as the address-list model holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// The canonical address: host, prefix, IPv4 range, or a DNS name.
    pub address: String,
    /// Disabled entries do not match.
    pub disabled: bool,
    /// When a timed entry expires; `None` for entries without a timeout.
    pub expires_at: Option<SimTime>,
}

/// An address an `add-*-to-address-list` rule puts in a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListAddition {
    /// The list (`address-list`).
    pub list: String,
    /// The packet's source or destination address.
    pub address: IpAddr,
    /// `address-list-timeout` as written (`none-dynamic` when the rule does not say).
    pub timeout: String,
    /// The rule's `.id`.
    pub by: u32,
}

/// Whether a matcher or a rule applies to the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It applies.
    Match,
    /// It does not apply.
    NoMatch,
    /// The simulator cannot tell.
    Unknown,
    /// The rule is disabled and was skipped.
    Disabled,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Match => "match",
            Outcome::NoMatch => "no match",
            Outcome::Unknown => "unknown",
            Outcome::Disabled => "disabled",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One matcher of a rule, against the packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatcherResult {
    /// The property (`src-address-list`).
    pub key: &'static str,
    /// Its value as printed (`!trusted`).
    pub value: String,
    /// Whether it applies.
    pub outcome: Outcome,
    /// Why, in words.
    pub why: String,
}

/// One rule visited by the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleStep {
    /// The rule's `.id` number.
    pub id: u32,
    /// Its console position in the whole table.
    pub index: usize,
    /// Its chain.
    pub chain: String,
    /// Its action.
    pub action: String,
    /// Its comment.
    pub comment: Option<String>,
    /// Whether it applied.
    pub outcome: Outcome,
    /// Each matcher's result, in key order.
    pub matchers: Vec<MatcherResult>,
    /// How many jumps deep the walk was.
    pub depth: usize,
}

impl RuleStep {
    /// The `.id` text.
    pub fn id_text(&self) -> String {
        format!("*{:X}", self.id)
    }
}

/// What happens to the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Accepted (by `accept`, `fasttrack-connection`, or a built-in chain's default).
    Accept,
    /// Silently dropped.
    Drop,
    /// Dropped with an ICMP error or TCP reset.
    Reject,
    /// Held by `tarpit` (IPv4 only).
    Tarpit,
    /// The simulator cannot tell; the reasons say why.
    Unknown,
}

impl Decision {
    /// The word for people and JSON: `accept`, `drop`, `reject`, `tarpit`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Accept => "accept",
            Decision::Drop => "drop",
            Decision::Reject => "reject",
            Decision::Tarpit => "tarpit",
            Decision::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What decided the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecidedBy {
    /// A rule: the index into [`Verdict::steps`]. With [`Decision::Unknown`], the rule that
    /// could not be evaluated.
    Rule(usize),
    /// No rule decided: the built-in chain's default policy (accept).
    ChainDefault(String),
    /// The walk could not finish (a jump loop, a user chain as entry, a packet of the other family).
    Nothing,
}

/// The verdict on one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// What happens to the packet.
    pub decision: Decision,
    /// What decided.
    pub decided_by: DecidedBy,
    /// Why, in words, with every uncertainty met on the way.
    pub reasons: Vec<String>,
    /// Every rule visited, in walk order.
    pub steps: Vec<RuleStep>,
    /// Addresses `add-*-to-address-list` rules put in lists on the way.
    pub list_additions: Vec<ListAddition>,
}

impl Verdict {
    /// The decisive rule, if a rule decided.
    pub fn decisive(&self) -> Option<&RuleStep> {
        match self.decided_by {
            DecidedBy::Rule(i) => self.steps.get(i),
            _ => None,
        }
    }
}

/// Evaluates `packet` against `rules` (one family's table, in console order) at `now`.
///
/// `lists(name)` gives the entries of the family's address list `name` (empty when there is no
/// such list); expired and disabled entries do not match, whatever the lookup returns.
pub fn evaluate(
    rules: &[Rule],
    family: Family,
    packet: &Packet,
    lists: &dyn Fn(&str) -> Vec<ListEntry>,
    now: SimTime,
) -> Verdict {
    let mut walk = Walk {
        family,
        packet,
        lists,
        now,
        verdict: Verdict {
            decision: Decision::Unknown,
            decided_by: DecidedBy::Nothing,
            reasons: Vec::new(),
            steps: Vec::new(),
            list_additions: Vec::new(),
        },
    };
    walk.run(rules);
    walk.verdict
}

struct Walk<'a> {
    family: Family,
    packet: &'a Packet,
    lists: &'a dyn Fn(&str) -> Vec<ListEntry>,
    now: SimTime,
    verdict: Verdict,
}

impl Walk<'_> {
    fn finish(&mut self, decision: Decision, by: DecidedBy, reason: String) {
        self.verdict.decision = decision;
        self.verdict.decided_by = by;
        self.verdict.reasons.push(reason);
    }

    fn run(&mut self, rules: &[Rule]) {
        let p = self.packet;
        if addr_bits(p.src).0 != self.family || addr_bits(p.dst).0 != self.family {
            let table = match self.family {
                Family::V4 => "IPv4",
                Family::V6 => "IPv6",
            };
            return self.finish(
                Decision::Unknown,
                DecidedBy::Nothing,
                format!("the packet's addresses are not {table}; evaluate it against the {table} table's family"),
            );
        }
        if !BUILT_IN_CHAINS.contains(&p.chain.as_str()) {
            return self.finish(
                Decision::Unknown,
                DecidedBy::Nothing,
                format!(
                    "packets enter only the built-in chains input, forward and output, not `{}`",
                    p.chain
                ),
            );
        }
        // The call stack of jumps: (chain, position to resume at).
        let mut stack: Vec<(String, usize)> = Vec::new();
        let mut chain = p.chain.clone();
        let mut pos = 0usize;
        loop {
            if self.verdict.steps.len() >= MAX_STEPS {
                return self.finish(
                    Decision::Unknown,
                    DecidedBy::Nothing,
                    format!("gave up after {MAX_STEPS} rule visits (jumps that revisit chains)"),
                );
            }
            let Some(offset) = rules[pos..].iter().position(|r| r.chain() == chain) else {
                // The chain has ended without a decision.
                match stack.pop() {
                    Some((caller, resume)) => {
                        chain = caller;
                        pos = resume;
                        continue;
                    }
                    None => {
                        return self.finish(
                            Decision::Accept,
                            DecidedBy::ChainDefault(chain.clone()),
                            format!("no rule of chain {chain} decided: the built-in chain's default is accept"),
                        );
                    }
                }
            };
            let index = pos + offset;
            let rule = &rules[index];
            pos = index + 1;
            let step = self.step(rule, index, stack.len());
            let outcome = step.outcome;
            self.verdict.steps.push(step);
            let at = self.verdict.steps.len() - 1;
            let action = rule.action();
            let id = rule.id_text();
            match outcome {
                Outcome::Disabled | Outcome::NoMatch => continue,
                Outcome::Unknown => match action {
                    "passthrough"
                    | "log"
                    | "add-src-to-address-list"
                    | "add-dst-to-address-list" => {
                        self.verdict.reasons.push(format!(
                            "rule {id} (index {index}, action {action}) could not be evaluated; its action does not decide, so the walk went on{}",
                            if action.starts_with("add-") { " without adding to the list" } else { "" }
                        ));
                        continue;
                    }
                    _ => {
                        let unknown: Vec<String> = self.verdict.steps[at]
                            .matchers
                            .iter()
                            .filter(|m| m.outcome == Outcome::Unknown)
                            .map(|m| format!("{}={}: {}", m.key, m.value, m.why))
                            .collect();
                        return self.finish(
                            Decision::Unknown,
                            DecidedBy::Rule(at),
                            format!(
                                "rule {id} (index {index}, action {action}) might apply and would decide, but could not be evaluated: {}",
                                unknown.join("; ")
                            ),
                        );
                    }
                },
                Outcome::Match => {}
            }
            let decided = |d: Decision| {
                (
                    d,
                    format!(
                        "rule {id} (index {index}, chain {}) matched: {action}",
                        rule.chain()
                    ),
                )
            };
            let terminal = match action {
                "accept" => Some(decided(Decision::Accept)),
                "fasttrack-connection" => Some((
                    Decision::Accept,
                    format!(
                        "rule {id} (index {index}) matched: fasttrack-connection, which accepts"
                    ),
                )),
                "drop" => Some(decided(Decision::Drop)),
                "reject" => Some(decided(Decision::Reject)),
                "tarpit" => Some(decided(Decision::Tarpit)),
                _ => None,
            };
            if let Some((decision, reason)) = terminal {
                return self.finish(decision, DecidedBy::Rule(at), reason);
            }
            match action {
                "jump" => {
                    if stack.len() >= MAX_JUMP_DEPTH {
                        return self.finish(
                            Decision::Unknown,
                            DecidedBy::Rule(at),
                            format!("rule {id} jumps deeper than {MAX_JUMP_DEPTH} chains (a loop of jumps?)"),
                        );
                    }
                    let target = rule.get("jump-target").unwrap_or_default().to_owned();
                    stack.push((std::mem::replace(&mut chain, target), pos));
                    pos = 0;
                }
                "return" => match stack.pop() {
                    Some((caller, resume)) => {
                        chain = caller;
                        pos = resume;
                    }
                    None => {
                        return self.finish(
                            Decision::Accept,
                            DecidedBy::Rule(at),
                            format!("rule {id} (index {index}) returned from the built-in chain {chain}: its default is accept"),
                        );
                    }
                },
                "add-src-to-address-list" | "add-dst-to-address-list" => {
                    let address = if action == "add-src-to-address-list" {
                        self.packet.src
                    } else {
                        self.packet.dst
                    };
                    match rule.get("address-list") {
                        Some(list) => self.verdict.list_additions.push(ListAddition {
                            list: list.to_owned(),
                            address,
                            timeout: rule
                                .get("address-list-timeout")
                                .unwrap_or("none-dynamic")
                                .to_owned(),
                            by: rule.id(),
                        }),
                        None => self.verdict.reasons.push(format!(
                            "rule {id} matched but names no address-list: nothing added"
                        )),
                    }
                }
                // passthrough and log only count.
                _ => {}
            }
        }
    }

    fn step(&self, rule: &Rule, index: usize, depth: usize) -> RuleStep {
        let mut step = RuleStep {
            id: rule.id(),
            index,
            chain: rule.chain().to_owned(),
            action: rule.action().to_owned(),
            comment: rule.comment().map(str::to_owned),
            outcome: Outcome::Disabled,
            matchers: Vec::new(),
            depth,
        };
        if rule.disabled() {
            return step;
        }
        for (key, value) in rule.properties() {
            if PARAMETERS.contains(&key) {
                continue;
            }
            let (outcome, why) = self.matcher(key, value);
            step.matchers.push(MatcherResult {
                key,
                value: value.to_owned(),
                outcome,
                why,
            });
        }
        step.outcome = if step.matchers.iter().any(|m| m.outcome == Outcome::NoMatch) {
            Outcome::NoMatch
        } else if step.matchers.iter().any(|m| m.outcome == Outcome::Unknown) {
            Outcome::Unknown
        } else {
            Outcome::Match
        };
        step
    }

    /// One matcher against the packet; a leading `!` inverts a definite result.
    fn matcher(&self, key: &str, value: &str) -> (Outcome, String) {
        let (neg, text) = split_negation(value);
        let (outcome, why) = self.positive(key, text);
        let outcome = match (neg, outcome) {
            (true, Outcome::Match) => Outcome::NoMatch,
            (true, Outcome::NoMatch) => Outcome::Match,
            (_, o) => o,
        };
        let why = if neg && outcome != Outcome::Unknown {
            format!("negated: {why}")
        } else {
            why
        };
        (outcome, why)
    }

    fn positive(&self, key: &str, text: &str) -> (Outcome, String) {
        let p = self.packet;
        let yes = |b: bool| if b { Outcome::Match } else { Outcome::NoMatch };
        match key {
            "src-address" | "dst-address" => {
                let addr = if key == "src-address" { p.src } else { p.dst };
                match values::address(self.family, text) {
                    Some((_, range)) => {
                        let inside = range.contains(addr_bits(addr).1);
                        (
                            yes(inside),
                            format!("{addr} is {}in {text}", if inside { "" } else { "not " }),
                        )
                    }
                    None => (Outcome::Unknown, format!("`{text}` is not an address")),
                }
            }
            "src-address-list" | "dst-address-list" => {
                let addr = if key == "src-address-list" {
                    p.src
                } else {
                    p.dst
                };
                self.in_list(text, addr)
            }
            "protocol" => match (schema::protocol_number(text), p.protocol) {
                (Some(want), Some(got)) => (
                    yes(want == got),
                    format!("the packet's protocol is {}", protocol_name(got)),
                ),
                (None, _) => (Outcome::Unknown, format!("`{text}` is not a protocol")),
                (_, None) => (Outcome::Unknown, "the packet has no protocol".to_owned()),
            },
            "src-port" | "dst-port" | "port" => {
                let Some(ranges) = values::ports(text) else {
                    return (Outcome::Unknown, format!("`{text}` is not a port list"));
                };
                let hit = |port: Option<u16>| {
                    port.map(|p| ranges.iter().any(|(lo, hi)| *lo <= p && p <= *hi))
                };
                let got = match key {
                    "src-port" => hit(p.src_port),
                    "dst-port" => hit(p.dst_port),
                    // `port` matches when either port is in the list.
                    _ => match (hit(p.src_port), hit(p.dst_port)) {
                        (Some(true), _) | (_, Some(true)) => Some(true),
                        (Some(false), Some(false)) => Some(false),
                        _ => None,
                    },
                };
                match got {
                    Some(b) => (
                        yes(b),
                        format!(
                            "the packet's {key} is {}in {text}",
                            if b { "" } else { "not " }
                        ),
                    ),
                    None => (Outcome::Unknown, format!("the packet has no {key}")),
                }
            }
            "in-interface" | "out-interface" => {
                let got = if key == "in-interface" {
                    &p.in_interface
                } else {
                    &p.out_interface
                };
                match got {
                    Some(name) => (yes(name == text), format!("the packet's {key} is {name}")),
                    None => (Outcome::Unknown, format!("the packet has no {key}")),
                }
            }
            "connection-state" => {
                let states = values::connection_states(text).unwrap_or_default();
                let inside = states.contains(&p.connection_state.as_str());
                (
                    yes(inside),
                    format!("the packet's connection-state is {}", p.connection_state),
                )
            }
            _ => (
                Outcome::Unknown,
                format!("the simulator does not evaluate {key}"),
            ),
        }
    }

    /// Whether `addr` is in the address list `list` at `now`, counting additions made earlier in
    /// this walk.
    fn in_list(&self, list: &str, addr: IpAddr) -> (Outcome, String) {
        let bits = addr_bits(addr).1;
        let mut notes: Vec<String> = Vec::new();
        let mut names = false;
        for added in self
            .verdict
            .list_additions
            .iter()
            .filter(|a| a.list == list)
        {
            if added.address == addr {
                return (
                    Outcome::Match,
                    format!(
                        "{addr} was added to {list} by rule *{:X} in this walk",
                        added.by
                    ),
                );
            }
        }
        let entries = (self.lists)(list);
        if entries.is_empty() {
            return (
                Outcome::NoMatch,
                format!("address list {list} has no entries"),
            );
        }
        for entry in &entries {
            let Some((_, range)) = values::address(self.family, &entry.address) else {
                names = true;
                continue;
            };
            if !range.contains(bits) {
                continue;
            }
            if entry.disabled {
                notes.push(format!("entry {} is disabled", entry.address));
                continue;
            }
            match entry.expires_at {
                Some(at) if at <= self.now => {
                    notes.push(format!(
                        "entry {} expired {} ago",
                        entry.address,
                        secs(self.now - at)
                    ));
                }
                Some(at) => {
                    return (
                        Outcome::Match,
                        format!(
                            "{addr} is in {list} (entry {}, {} left)",
                            entry.address,
                            secs(at - self.now)
                        ),
                    );
                }
                None => {
                    return (
                        Outcome::Match,
                        format!("{addr} is in {list} (entry {}, no timeout)", entry.address),
                    );
                }
            }
        }
        if names {
            notes.push("it has DNS-name entries, which the simulator does not resolve".to_owned());
            return (
                Outcome::Unknown,
                format!(
                    "{addr} matches no address entry of {list}; {}",
                    notes.join("; ")
                ),
            );
        }
        let mut why = format!("{addr} is not in {list}");
        if !notes.is_empty() {
            why.push_str(": ");
            why.push_str(&notes.join("; "));
        }
        (Outcome::NoMatch, why)
    }
}

/// A protocol number as its name when the router has one.
fn protocol_name(n: u8) -> String {
    schema::PROTOCOLS
        .iter()
        .find(|(_, num)| *num == n)
        .map(|(name, _)| (*name).to_owned())
        .unwrap_or_else(|| n.to_string())
}

/// Milliseconds as a RouterOS-style duration (`4m59s`), rounded up to the second.
fn secs(ms: u64) -> String {
    let mut s = ms.div_ceil(1000);
    if s == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("w", 604_800),
        ("d", 86_400),
        ("h", 3_600),
        ("m", 60),
        ("s", 1),
    ] {
        if s >= size {
            out.push_str(&format!("{}{unit}", s / size));
            s %= size;
        }
    }
    out
}
