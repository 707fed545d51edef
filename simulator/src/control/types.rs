//! The control API's request and reply bodies, shared by its server and its client.
//!
//! The server ([`super::api`]) answers with these types and the client ([`super::ControlClient`])
//! reads them, so the two cannot drift apart: a field renamed here is renamed on both sides at
//! compile time. The state, seed, clock, journal, fault and limit bodies are the simulator's own
//! types ([`Snapshot`](crate::Snapshot), [`Seed`](crate::Seed), [`ClockReading`],
//! [`JournalFilter`](crate::JournalFilter), [`FaultRule`](crate::FaultRule), ...); what is defined
//! here are the small acknowledgements and the bodies that exist only on the wire.
//!
//! Fields are declared in alphabetical order: the replies were once built as JSON maps, whose keys
//! come out sorted, and the bytes on the wire stay the same.

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::clock::ClockReading;
pub use crate::faults::RuleStatus;

/// `GET /health`: where the simulator serves and whether it is up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// The router is rebooting (its listeners are closed).
    pub down: bool,
    /// `http://host:port` of `www`, when it was started.
    pub http_url: Option<String>,
    /// `https://host:port` of `www-ssl`.
    pub https_url: String,
    /// Always `true`: the control API answered.
    pub ok: bool,
    /// The RouterOS version the simulator behaves as, as `/system/resource` prints it.
    pub version: String,
}

/// Where a simulator's services listen, as its health reply reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Urls {
    /// `https://host:port` of `www-ssl`.
    pub https_url: String,
    /// `http://host:port` of `www`, when it was started.
    pub http_url: Option<String>,
}

/// A duration as a RouterOS string (`1h30m`) or a number of milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Span {
    /// Milliseconds.
    Millis(u64),
    /// A RouterOS duration such as `1h30m` or `500ms`.
    Text(String),
}

impl Span {
    /// A duration as people type it: a bare number is milliseconds, anything else RouterOS text.
    pub fn from_arg(text: &str) -> Span {
        match text.parse::<u64>() {
            Ok(ms) => Span::Millis(ms),
            Err(_) => Span::Text(text.to_owned()),
        }
    }

    /// The duration, or a sentence naming `field` and the accepted forms.
    pub fn to_duration(&self, field: &str) -> Result<Duration, String> {
        match self {
            Span::Millis(ms) => Ok(Duration::from_millis(*ms)),
            Span::Text(t) => crate::model::duration::parse_ms(t)
                .map(Duration::from_millis)
                .ok_or_else(|| {
                    format!(
                        "`{field}` must be milliseconds or a RouterOS duration like 1h30m, not {t:?}"
                    )
                }),
        }
    }
}

impl From<Duration> for Span {
    fn from(d: Duration) -> Span {
        Span::Millis(d.as_millis() as u64)
    }
}

/// `POST /clock/advance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advance {
    /// How far to move the clock.
    pub by: Span,
}

/// `POST /reboot`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reboot {
    /// How long the listeners stay closed (default: none).
    #[serde(default)]
    pub downtime: Option<Span>,
}

/// `POST /reboot`'s reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rebooted {
    /// The downtime applied, in milliseconds.
    pub downtime_ms: u64,
    /// Always `true`.
    pub rebooting: bool,
}

/// `PUT /state`'s reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restored {
    /// Always `true`.
    pub restored: bool,
}

/// `POST /state/reset`'s reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reset {
    /// Always `true`.
    pub reset: bool,
}

/// `PUT /seed`'s reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loaded {
    /// Always `true`.
    pub loaded: bool,
}

/// `POST /journal/mark`'s reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// The number the next journal entry will get; pass it as `since`.
    pub mark: u64,
}

/// `DELETE /journal`'s reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalCleared {
    /// Always `true`.
    pub cleared: bool,
    /// The mark after the clearing.
    pub next_mark: u64,
}

/// `POST /faults`'s reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultAdded {
    /// The rule's id, to remove it by.
    pub id: u64,
}

/// `DELETE /faults/{id}`'s reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRemoved {
    /// The id of the rule removed.
    pub removed: u64,
}

/// `DELETE /faults`'s reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultsCleared {
    /// Always `true`.
    pub cleared: bool,
}

/// `GET /tls`: what clients should trust and what is served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsInfo {
    /// The CA certificate (PEM) that issued the served certificate.
    pub ca_pem: String,
    /// SHA-256 (lower-case hex) of the served leaf certificate.
    pub leaf_sha256: String,
}

/// `POST /tls/rotate`'s reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotated {
    /// SHA-256 (lower-case hex) of the new leaf certificate.
    pub leaf_sha256: String,
}

/// `POST /verdict`: a packet to evaluate against the router's filter rules.
///
/// Only `chain`, `src` and `dst` are required. A field left out is unknown to the verdict, and a
/// rule that matches on it is reported as undecidable rather than guessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictRequest {
    /// The built-in chain the packet enters: `input`, `forward` or `output`.
    pub chain: String,
    /// Connection-tracking state (`new` when left out: a first packet).
    #[serde(default)]
    pub connection_state: Option<String>,
    /// Destination address.
    pub dst: std::net::IpAddr,
    /// Destination port.
    #[serde(default)]
    pub dst_port: Option<u16>,
    /// `v4` or `v6`; follows from the addresses when left out, and must agree with them.
    #[serde(default)]
    pub family: Option<crate::Family>,
    /// Interface the packet arrives on.
    #[serde(default)]
    pub in_interface: Option<String>,
    /// Interface the packet leaves by.
    #[serde(default)]
    pub out_interface: Option<String>,
    /// IP protocol, by name (`tcp`) or number (`6`).
    #[serde(default)]
    pub protocol: Option<String>,
    /// Size in bytes added to the counters of the rules it matches (60 when left out).
    #[serde(default)]
    pub size: Option<u64>,
    /// Source address.
    pub src: std::net::IpAddr,
    /// Source port.
    #[serde(default)]
    pub src_port: Option<u16>,
}

/// One matcher of a visited rule, against the packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictMatcher {
    /// The property, such as `src-address-list`.
    pub key: String,
    /// `match`, `no match` or `unknown`.
    pub outcome: String,
    /// Its value as printed, such as `!trusted`.
    pub value: String,
    /// Why, in words.
    pub why: String,
}

/// One rule the walk visited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictStep {
    /// The rule's action.
    pub action: String,
    /// The rule's chain.
    pub chain: String,
    /// The rule's comment.
    pub comment: Option<String>,
    /// How many jumps deep the walk was.
    pub depth: usize,
    /// The rule's `.id`, such as `*2`.
    pub id: String,
    /// Its console position (0 first), as `move` and `place-before` count.
    pub index: usize,
    /// Each matcher's result.
    pub matchers: Vec<VerdictMatcher>,
    /// `match`, `no match`, `unknown` or `disabled`.
    pub outcome: String,
}

/// An address an `add-src-to-address-list` or `add-dst-to-address-list` rule would put in a list.
/// The verdict reports it; the router's lists are not changed by a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictAddition {
    /// The address.
    pub address: String,
    /// The rule's `.id`.
    pub by: String,
    /// The list.
    pub list: String,
    /// The rule's `address-list-timeout`.
    pub timeout: String,
}

/// `POST /verdict`'s reply: what the rules do to the packet and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictReply {
    /// When no rule decided: the built-in chain whose default (accept) applied.
    pub chain_default: Option<String>,
    /// `accept`, `drop`, `reject`, `tarpit` or `unknown`.
    pub decision: String,
    /// The rule that decided (or that could not be evaluated, with `unknown`).
    pub decided_by: Option<VerdictStep>,
    /// `v4` or `v6`: the table evaluated.
    pub family: crate::Family,
    /// Addresses `add-*-to-address-list` rules met on the way would add.
    pub list_additions: Vec<VerdictAddition>,
    /// Why, in words, with every uncertainty met on the way.
    pub reasons: Vec<String>,
    /// Every rule visited, in walk order.
    pub steps: Vec<VerdictStep>,
}

impl VerdictRequest {
    /// The table to evaluate and the packet, or why the request cannot be used.
    pub fn packet(&self) -> Result<(crate::Family, crate::firewall::Packet), String> {
        use crate::firewall::values::addr_bits;
        let family = addr_bits(self.src).0;
        if addr_bits(self.dst).0 != family {
            return Err(format!(
                "src {} and dst {} are of different families; give two IPv4 or two IPv6 addresses",
                self.src, self.dst
            ));
        }
        if let Some(f) = self.family
            && f != family
        {
            return Err(format!(
                "family {f:?} does not match the addresses {} and {}; leave family out or give addresses of that family",
                self.src, self.dst
            ));
        }
        let mut packet = crate::firewall::Packet::new(&self.chain, self.src, self.dst);
        if let Some(p) = &self.protocol {
            let n = crate::firewall::schema::protocol_number(p).ok_or_else(|| {
                format!("protocol `{p}` is neither a protocol name such as tcp nor a number 0-255")
            })?;
            packet.protocol = Some(n);
        }
        packet.src_port = self.src_port;
        packet.dst_port = self.dst_port;
        packet.in_interface.clone_from(&self.in_interface);
        packet.out_interface.clone_from(&self.out_interface);
        if let Some(state) = &self.connection_state {
            packet.connection_state.clone_from(state);
        }
        if let Some(size) = self.size {
            packet.size = size;
        }
        Ok((family, packet))
    }
}

impl VerdictStep {
    fn from_step(step: &crate::firewall::RuleStep) -> Self {
        VerdictStep {
            action: step.action.clone(),
            chain: step.chain.clone(),
            comment: step.comment.clone(),
            depth: step.depth,
            id: step.id_text(),
            index: step.index,
            matchers: step
                .matchers
                .iter()
                .map(|m| VerdictMatcher {
                    key: m.key.to_owned(),
                    outcome: m.outcome.to_string(),
                    value: m.value.clone(),
                    why: m.why.clone(),
                })
                .collect(),
            outcome: step.outcome.to_string(),
        }
    }
}

impl VerdictReply {
    /// The wire form of `verdict` on `family`'s table.
    pub fn new(family: crate::Family, verdict: &crate::firewall::Verdict) -> Self {
        use crate::firewall::DecidedBy;
        VerdictReply {
            chain_default: match &verdict.decided_by {
                DecidedBy::ChainDefault(chain) => Some(chain.clone()),
                _ => None,
            },
            decision: verdict.decision.to_string(),
            decided_by: verdict.decisive().map(VerdictStep::from_step),
            family,
            list_additions: verdict
                .list_additions
                .iter()
                .map(|a| VerdictAddition {
                    address: a.address.to_string(),
                    by: format!("*{:X}", a.by),
                    list: a.list.clone(),
                    timeout: a.timeout.clone(),
                })
                .collect(),
            reasons: verdict.reasons.clone(),
            steps: verdict.steps.iter().map(VerdictStep::from_step).collect(),
        }
    }
}

/// The body of every refusal: a sentence saying what to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong and what to do.
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_numbers_as_milliseconds_and_text_as_routeros_durations() {
        let check = |arg: &str, expected: Result<u64, ()>| {
            let got = Span::from_arg(arg).to_duration("by");
            assert_eq!(
                got.map(|d| d.as_millis() as u64).map_err(|_| ()),
                expected,
                "{arg}"
            );
        };
        check("1500", Ok(1500));
        check("1h30m", Ok(5_400_000));
        check("500ms", Ok(500));
        check("soon", Err(()));
        let e = Span::from_arg("soon").to_duration("downtime").unwrap_err();
        assert!(e.contains("`downtime`") && e.contains("1h30m"), "{e}");
    }

    #[test]
    fn replies_keep_their_keys_sorted() {
        let health = Health {
            down: false,
            http_url: None,
            https_url: "https://127.0.0.1:1".into(),
            ok: true,
            version: "7.23.7".into(),
        };
        assert_eq!(
            serde_json::to_string(&health).unwrap(),
            r#"{"down":false,"http_url":null,"https_url":"https://127.0.0.1:1","ok":true,"version":"7.23.7"}"#
        );
        let cleared = JournalCleared {
            cleared: true,
            next_mark: 7,
        };
        assert_eq!(
            serde_json::to_string(&cleared).unwrap(),
            r#"{"cleared":true,"next_mark":7}"#
        );
    }
}
