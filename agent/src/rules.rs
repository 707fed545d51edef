//! Does the managed list open the firewall? A read-only check of `/ip/firewall/filter` (or
//! `/ipv6/firewall/filter`) rows for the rule that accepts the list.
//!
//! A grant only opens access when a filter rule accepts traffic from the list (`src-address-list=
//! <list> action=accept`), that rule is enabled, and no earlier drop of the same chain catches the
//! traffic first: the vendor's guide makes the rule step 2 of the setup and warns that it must sit
//! above any default drop. [`check_rules`] decides this from the rows alone, without writing
//! anything, and says which command fixes what it finds.
//!
//! What "the traffic it would accept" means here: a **new connection** (connection-state `new`)
//! from an address in the list that meets the accepting rule's other matchers. For each earlier
//! enabled rule of the chain, each of its matchers is compared with that traffic:
//! - *always* (the matcher holds for all of it), *never* (for none of it: the rule cannot shadow),
//!   *narrower* (for a known part of it: a protocol, ports, a destination, an interface, a NAT
//!   state). A drop or reject whose matchers are all *always* or *narrower* shadows the accept, for
//!   all or part of its traffic;
//! - *selective*: the drop targets particular sources (`src-address-list=blacklist`, a source
//!   prefix); whether a granted address is among them depends on data the rows do not hold, so the
//!   rule is not a shadow but is named in the result's notes;
//! - *unknown*: a matcher the check does not understand (`tcp-flags`, `limit`, `time`, ...), or a
//!   drop of every source outside some list. The check is conservative: an undecidable rule makes
//!   the result [`RuleCheck::Unknown`], never [`RuleCheck::Ok`].
//!
//! `jump` rules before the accept are followed into their chains (up to [`MAX_JUMP_DEPTH`]), and an
//! earlier `accept` or `return` that takes all of the traffic ends the search. Row facts (every value
//! a string, `!` in front of a negated matcher, comma lists in console form, `disabled`/`dynamic`/
//! `invalid` as `"true"`/`"false"`) are from the fidelity notes, section G (CHR 7.23.7 captures).
//!
//! The agent keeps its own reading of the rows: it shares no types with the simulator.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::Value;

use crate::address::Family;
use crate::error::{Code, Error};

/// How deep the check follows `jump` rules before it gives up with "unknown".
pub const MAX_JUMP_DEPTH: usize = 8;

/// The most rows the check reads (a router's filter tables hold hundreds, not millions).
pub const MAX_ROWS: usize = 100_000;

/// Keys of a row that are not matchers: identity, state, counters and the action's parameters.
const NOT_MATCHERS: &[&str] = &[
    ".id",
    ".nextid",
    "action",
    "address-list",
    "address-list-timeout",
    "bytes",
    "chain",
    "comment",
    "disabled",
    "dynamic",
    "hw-offload",
    "invalid",
    "jump-target",
    "log",
    "log-prefix",
    "packets",
    "reject-with",
];

/// `protocol` names RouterOS offers (7.22.3 completions) with their IP protocol numbers.
const PROTOCOLS: &[(&str, u8)] = &[
    ("dccp", 33),
    ("ddp", 37),
    ("egp", 8),
    ("encap", 98),
    ("etherip", 97),
    ("ggp", 3),
    ("gre", 47),
    ("hmp", 20),
    ("icmp", 1),
    ("icmpv6", 58),
    ("idpr-cmtp", 38),
    ("igmp", 2),
    ("ipencap", 4),
    ("ipip", 94),
    ("ipsec-ah", 51),
    ("ipsec-esp", 50),
    ("ipv6-encap", 41),
    ("ipv6-frag", 44),
    ("ipv6-nonxt", 59),
    ("ipv6-opts", 60),
    ("ipv6-route", 43),
    ("iso-tp4", 29),
    ("l2tp", 115),
    ("ospf", 89),
    ("pim", 103),
    ("pup", 12),
    ("rdp", 27),
    ("rspf", 73),
    ("rsvp", 46),
    ("sctp", 132),
    ("st", 5),
    ("tcp", 6),
    ("udp", 17),
    ("udp-lite", 136),
    ("vmtp", 81),
    ("vrrp", 112),
    ("xns-idp", 22),
    ("xtp", 36),
];

/// One row of a filter print, in console order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterRow {
    /// The `.id` (`*1A`).
    pub id: String,
    /// The console position (0 for the first row of the print).
    pub index: usize,
    fields: BTreeMap<String, String>,
}

impl FilterRow {
    /// A row from `(key, value)` pairs; `.id` must be among them. For tests and callers that
    /// already hold parsed rows.
    pub fn new(index: usize, pairs: &[(&str, &str)]) -> Self {
        let fields: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Self {
            id: fields.get(".id").cloned().unwrap_or_default(),
            index,
            fields,
        }
    }

    /// A field's value, if the row has it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    /// The chain.
    pub fn chain(&self) -> &str {
        self.get("chain").unwrap_or_default()
    }

    /// The action (`accept` when the row does not say, the router's default).
    pub fn action(&self) -> &str {
        self.get("action").unwrap_or("accept")
    }

    /// Whether the rule is disabled.
    pub fn disabled(&self) -> bool {
        self.get("disabled") == Some("true")
    }

    /// The comment, if any.
    pub fn comment(&self) -> Option<&str> {
        self.get("comment")
    }

    /// The matchers: every field that is not identity, state, counter or action parameter.
    fn matchers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields
            .iter()
            .filter(|(k, _)| !NOT_MATCHERS.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn reference(&self) -> RuleRef {
        RuleRef {
            id: self.id.clone(),
            index: self.index,
            chain: self.chain().to_owned(),
            action: self.action().to_owned(),
            comment: self.comment().map(str::to_owned),
        }
    }
}

/// Parses the body of `GET /rest/ip/firewall/filter` (a JSON array of objects whose values are
/// all strings). `what` names the request in errors. A body that is not JSON is 208400, not an
/// array 208401, a row without `.id` or `chain` 208402, a non-string value or malformed `.id`
/// 208403.
pub fn parse_rows(body: &[u8], what: &str) -> Result<Vec<FilterRow>, Error> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Error::new(Code::NotJson, format!("{what}: {e}")))?;
    let Value::Array(items) = value else {
        return Err(Error::new(
            Code::WrongShape,
            format!("{what}: the filter print is not an array"),
        ));
    };
    if items.len() > MAX_ROWS {
        return Err(Error::new(
            Code::WrongShape,
            format!(
                "{what}: {} rows, more than the {MAX_ROWS} the check reads",
                items.len()
            ),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let Value::Object(obj) = item else {
                return Err(Error::new(
                    Code::WrongShape,
                    format!("{what}: row {index} is not an object"),
                ));
            };
            let mut fields = BTreeMap::new();
            for (k, v) in obj {
                let Value::String(s) = v else {
                    return Err(Error::new(
                        Code::InvalidValue,
                        format!("{what}: row {index}: `{k}` is {v}, not a string"),
                    ));
                };
                fields.insert(k.clone(), s.clone());
            }
            let id = fields.get(".id").cloned().ok_or_else(|| {
                Error::new(
                    Code::MissingField,
                    format!("{what}: row {index} has no `.id`"),
                )
            })?;
            if !crate::wire::is_router_id(&id) {
                return Err(Error::new(
                    Code::InvalidValue,
                    format!("{what}: row {index}: `.id` is `{id}`, not of the *HEX form"),
                ));
            }
            if !fields.contains_key("chain") {
                return Err(Error::new(
                    Code::MissingField,
                    format!("{what}: rule {id} has no `chain`"),
                ));
            }
            Ok(FilterRow { id, index, fields })
        })
        .collect()
}

/// A rule named in a result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleRef {
    /// `.id`.
    pub id: String,
    /// Console position.
    pub index: usize,
    /// Chain.
    pub chain: String,
    /// Action.
    pub action: String,
    /// Comment, if any.
    pub comment: Option<String>,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (#{} chain={} action={}",
            self.id, self.index, self.chain, self.action
        )?;
        if let Some(c) = &self.comment {
            write!(f, " comment={c:?}")?;
        }
        f.write_str(")")
    }
}

/// What the check found.
// One result is made per check and read once, so the size of its largest variant does not matter;
// boxing it would only make the public type harder to match on.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum RuleCheck {
    /// An enabled rule accepts the list and nothing earlier drops its traffic.
    Ok {
        /// The accepting rule.
        rule: RuleRef,
        /// Earlier drops aimed at particular sources or destinations, which may still catch some
        /// granted addresses.
        notes: Vec<String>,
    },
    /// No rule accepts the list.
    Missing {
        /// The command that adds one above the chain's first drop.
        command: String,
        /// Rules that mention the list without accepting it.
        notes: Vec<String>,
    },
    /// The only rules that accept the list are disabled.
    Disabled {
        /// The first of them.
        rule: RuleRef,
        /// The command that enables it.
        command: String,
    },
    /// An earlier drop or reject of the same chain catches traffic the accepting rule would accept.
    Shadowed {
        /// The accepting rule.
        rule: RuleRef,
        /// The drop or reject.
        by: RuleRef,
        /// The `jump` rule of the accepting rule's chain that leads to `by`, when `by` is in
        /// another chain.
        via: Option<RuleRef>,
        /// The matchers of `by` (and `via`) that narrow it to part of the traffic; empty when it
        /// catches all of it.
        partial: Vec<String>,
        /// The command that moves the accepting rule above it.
        command: String,
    },
    /// The check cannot decide.
    Unknown {
        /// Why, one sentence per undecidable rule.
        reasons: Vec<String>,
    },
}

impl RuleCheck {
    /// The RouterOS command that fixes the problem, if the check has one.
    pub fn command(&self) -> Option<&str> {
        match self {
            RuleCheck::Missing { command, .. }
            | RuleCheck::Disabled { command, .. }
            | RuleCheck::Shadowed { command, .. } => Some(command),
            RuleCheck::Ok { .. } | RuleCheck::Unknown { .. } => None,
        }
    }

    /// One paragraph for people: what was found and what to run.
    pub fn summary(&self, list: &str) -> String {
        match self {
            RuleCheck::Ok { rule, notes } => {
                let mut s = format!("rule {rule} accepts address list {list:?}");
                for n in notes {
                    s.push_str("; note: ");
                    s.push_str(n);
                }
                s
            }
            RuleCheck::Missing { command, .. } => format!(
                "no enabled filter rule accepts src-address-list={list}, so grants open nothing; add one above the chain's drop rules: {command}"
            ),
            RuleCheck::Disabled { rule, command } => format!(
                "the rule that accepts src-address-list={list}, {rule}, is disabled; enable it: {command}"
            ),
            RuleCheck::Shadowed {
                rule,
                by,
                via,
                partial,
                command,
            } => {
                let via = via
                    .as_ref()
                    .map(|v| format!(" (reached through the jump {v})"))
                    .unwrap_or_default();
                let scope = if partial.is_empty() {
                    "all of its traffic".to_owned()
                } else {
                    format!("its traffic with {}", partial.join(" "))
                };
                format!(
                    "rule {rule} accepts src-address-list={list}, but the earlier {by}{via} drops {scope} first; move the accept above it: {command}"
                )
            }
            RuleCheck::Unknown { reasons } => format!(
                "cannot tell whether the filter accepts address list {list:?}: {}",
                reasons.join("; ")
            ),
        }
    }
}

/// [`check_rules`] for a list that has no entries on the router.
///
/// A list without entries does not exist on RouterOS, so the router marks every rule that names it
/// `invalid` (fidelity notes, section G: "`invalid` flips to `true` for rules with unknown
/// jump-target/address-list"). Before the first grant that flag says nothing about the rule, and the
/// rule works from the first entry on; an accepting rule for the list whose only other references
/// are not lists is therefore judged as if it were valid, with a note. Any other `invalid` rule
/// stays undecidable.
pub fn check_rules_of_empty_list(rows: &[FilterRow], list: &str, family: Family) -> RuleCheck {
    let explained = |row: &FilterRow| {
        row.get("invalid") == Some("true")
            && row.get("src-address-list") == Some(list)
            && row.action() == "accept"
            && row.get("dst-address-list").is_none()
    };
    let mut rows = rows.to_vec();
    let mut marked = Vec::new();
    for row in rows.iter_mut().filter(|r| explained(r)) {
        row.fields.insert("invalid".into(), "false".into());
        marked.push(row.id.clone());
    }
    match check_rules(&rows, list, family) {
        RuleCheck::Ok { rule, mut notes } if marked.contains(&rule.id) => {
            notes.push(format!(
                "the router marks {} invalid until list {list:?} has its first entry, which the \
                 agent's first grant makes",
                rule.id
            ));
            RuleCheck::Ok { rule, notes }
        }
        other => other,
    }
}

/// Checks, reading only, that `rows` (a whole filter table in console order) accept the address
/// list `list` of `family`.
pub fn check_rules(rows: &[FilterRow], list: &str, family: Family) -> RuleCheck {
    let menu = match family {
        Family::V4 => "/ip firewall filter",
        Family::V6 => "/ipv6 firewall filter",
    };
    let mut reasons = Vec::new();
    let mut notes = Vec::new();
    let mut first_shadow: Option<RuleCheck> = None;
    let mut first_disabled: Option<&FilterRow> = None;
    for row in rows {
        let Some(value) = row.get("src-address-list") else {
            continue;
        };
        let (negated, name) = split_negation(value);
        if name != list {
            continue;
        }
        let action = row.action();
        if negated {
            notes.push(format!(
                "{} matches sources *outside* the list (src-address-list={value})",
                row.reference()
            ));
            continue;
        }
        if action != "accept" {
            if action == "jump" {
                reasons.push(format!(
                    "{} sends the list's traffic to chain {:?}; the check does not look for the accept behind a jump",
                    row.reference(),
                    row.get("jump-target").unwrap_or_default()
                ));
            } else {
                notes.push(format!(
                    "{} uses the list with action={action}, which does not accept",
                    row.reference()
                ));
            }
            continue;
        }
        if row.disabled() {
            first_disabled.get_or_insert(row);
            continue;
        }
        match candidate(rows, row, family) {
            Found::Ok(n) => {
                return RuleCheck::Ok {
                    rule: row.reference(),
                    notes: n,
                };
            }
            Found::Unknown(r) => reasons.extend(r),
            Found::Shadowed(shadow) => {
                let Shadow { by, via, partial } = *shadow;
                if first_shadow.is_none() {
                    let dest = via.as_ref().unwrap_or(&by).id.clone();
                    first_shadow = Some(RuleCheck::Shadowed {
                        rule: row.reference(),
                        command: format!("{menu} move {} destination={dest}", row.id),
                        by,
                        via,
                        partial,
                    });
                }
            }
        }
    }
    if !reasons.is_empty() {
        return RuleCheck::Unknown { reasons };
    }
    if let Some(shadow) = first_shadow {
        return shadow;
    }
    if let Some(row) = first_disabled {
        return RuleCheck::Disabled {
            rule: row.reference(),
            command: format!("{menu} enable {}", row.id),
        };
    }
    // Suggest the guide's rule, placed above the first drop in `forward` that would shadow it.
    let wanted = FilterRow::new(
        usize::MAX,
        &[
            ("chain", "forward"),
            ("src-address-list", list),
            ("action", "accept"),
        ],
    );
    let place_before = match candidate(rows, &wanted, family) {
        Found::Shadowed(shadow) => Some(shadow.via.unwrap_or(shadow.by).id),
        _ => None,
    };
    let mut command = format!(
        "{menu} add chain=forward src-address-list={} action=accept",
        quote(list)
    );
    if let Some(id) = place_before {
        command.push_str(&format!(" place-before={id}"));
    }
    command.push_str(&format!(
        " comment={}",
        quote(&format!("accept address list {list}"))
    ));
    RuleCheck::Missing { command, notes }
}

/// A value as the RouterOS console reads it: bare when it is one plain word, otherwise in double
/// quotes with `\`, `"` and `$` escaped.
pub fn quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/*".contains(&b));
    if plain {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The drop that shadows an accepting rule.
struct Shadow {
    by: RuleRef,
    via: Option<RuleRef>,
    partial: Vec<String>,
}

/// The result for one enabled accepting rule.
enum Found {
    Ok(Vec<String>),
    Unknown(Vec<String>),
    Shadowed(Box<Shadow>),
}

/// How one matcher of an earlier rule relates to the accepting rule's traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rel {
    Always,
    Never,
    Narrower(String),
    Selective(String),
    Unknown(String),
}

/// The matchers of a rule taken together (all must hold).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Combined {
    /// Never holds for the traffic.
    Never,
    /// Holds for all of it (`narrow` empty) or the part `narrow` describes.
    Holds { narrow: Vec<String> },
    /// Holds only for particular sources or destinations.
    Selective(Vec<String>),
    /// Cannot be told.
    Unknown(Vec<String>),
}

fn combine(rels: impl IntoIterator<Item = Rel>) -> Combined {
    let (mut narrow, mut selective, mut unknown) = (Vec::new(), Vec::new(), Vec::new());
    for rel in rels {
        match rel {
            Rel::Never => return Combined::Never,
            Rel::Always => {}
            Rel::Narrower(s) => narrow.push(s),
            Rel::Selective(s) => selective.push(s),
            Rel::Unknown(s) => unknown.push(s),
        }
    }
    if !unknown.is_empty() {
        Combined::Unknown(unknown)
    } else if !selective.is_empty() {
        Combined::Selective(selective)
    } else {
        Combined::Holds { narrow }
    }
}

/// Checks one enabled accepting rule: its own matchers, then every earlier rule of its chain.
fn candidate(rows: &[FilterRow], accept: &FilterRow, family: Family) -> Found {
    let who = accept.reference();
    let own_unknown: Vec<String> = accept
        .matchers()
        .filter(|(k, _)| !understood(k))
        .map(|(k, v)| format!("{who} also matches on {k}={v}, which the check does not understand"))
        .collect();
    if !own_unknown.is_empty() {
        return Found::Unknown(own_unknown);
    }
    if let Some(states) = accept.get("connection-state")
        && !state_holds(states)
    {
        return Found::Unknown(vec![format!(
            "{who} accepts only connection-state={states}, not new connections"
        )]);
    }
    if accept.get("invalid") == Some("true") {
        return Found::Unknown(vec![format!(
            "{who} is marked invalid by the router (an unknown list or jump target)"
        )]);
    }
    let mut scan = Scan {
        rows,
        accept,
        family,
        unknown: Vec::new(),
        notes: Vec::new(),
    };
    match scan.chain(accept.chain(), accept.index, &[], None, 0) {
        Stop::Shadowed(shadow) => Found::Shadowed(shadow),
        Stop::Accepted | Stop::End if scan.unknown.is_empty() => Found::Ok(scan.notes),
        _ => Found::Unknown(scan.unknown),
    }
}

/// Why a scan of a chain stopped.
enum Stop {
    /// The chain ended (or returned) without catching all of the traffic.
    End,
    /// An earlier rule accepts all of the traffic: nothing after it matters.
    Accepted,
    /// A drop catches the traffic.
    Shadowed(Box<Shadow>),
}

struct Scan<'a> {
    rows: &'a [FilterRow],
    accept: &'a FilterRow,
    family: Family,
    unknown: Vec<String>,
    notes: Vec<String>,
}

impl Scan<'_> {
    /// Scans the rules of `chain` before console position `before`, with `outer` the relations of
    /// the jumps that led here and `via` the first of them.
    fn chain(
        &mut self,
        chain: &str,
        before: usize,
        outer: &[Rel],
        via: Option<&FilterRow>,
        depth: usize,
    ) -> Stop {
        let built_in = depth == 0;
        // A rule whose matchers hold for all of the traffic.
        let everything = Combined::Holds { narrow: Vec::new() };
        for row in self.rows.iter().take(before) {
            if row.chain() != chain || row.disabled() || row.id == self.accept.id {
                continue;
            }
            let mut rels: Vec<Rel> = outer.to_vec();
            rels.extend(
                row.matchers()
                    .map(|(k, v)| relation(k, v, self.accept, self.family)),
            );
            let who = row.reference();
            let combined = combine(rels.clone());
            match row.action() {
                "drop" | "reject" | "tarpit" => match combined {
                    Combined::Never => {}
                    Combined::Holds { narrow } => {
                        return Stop::Shadowed(Box::new(Shadow {
                            by: who,
                            via: via.map(FilterRow::reference),
                            partial: narrow,
                        }));
                    }
                    Combined::Selective(s) => self.notes.push(format!(
                        "{who} drops traffic with {}; granted addresses caught by it stay blocked",
                        s.join(" ")
                    )),
                    Combined::Unknown(u) => self.unknown.push(format!(
                        "{who} comes first and might drop the list's traffic: {}",
                        u.join("; ")
                    )),
                },
                "accept" if combined == everything => return Stop::Accepted,
                // In a built-in chain, `return` ends it with the default: accept.
                "return" if combined == everything => {
                    return if built_in { Stop::Accepted } else { Stop::End };
                }
                "jump" => match combined {
                    Combined::Never => {}
                    Combined::Unknown(u) => self.unknown.push(format!(
                        "{who} comes first and might send the list's traffic elsewhere: {}",
                        u.join("; ")
                    )),
                    _ => {
                        let target = row.get("jump-target").unwrap_or_default();
                        if depth + 1 > MAX_JUMP_DEPTH {
                            self.unknown.push(format!(
                                "{who} jumps deeper than {MAX_JUMP_DEPTH} chains (a loop?)"
                            ));
                            continue;
                        }
                        let via = via.or(Some(row));
                        match self.chain(target, usize::MAX, &rels, via, depth + 1) {
                            Stop::End => {}
                            Stop::Accepted if combined == everything => return Stop::Accepted,
                            Stop::Accepted => {}
                            shadow @ Stop::Shadowed { .. } => return shadow,
                        }
                    }
                },
                // passthrough, log, add-*-to-address-list, fasttrack-connection: they do not
                // decide a new connection's fate here.
                _ => {}
            }
        }
        Stop::End
    }
}

/// Whether the check knows how to compare `key`.
fn understood(key: &str) -> bool {
    matches!(
        key,
        "src-address"
            | "dst-address"
            | "src-address-list"
            | "dst-address-list"
            | "protocol"
            | "src-port"
            | "dst-port"
            | "port"
            | "in-interface"
            | "out-interface"
            | "in-interface-list"
            | "out-interface-list"
            | "connection-state"
            | "connection-nat-state"
    )
}

fn split_negation(value: &str) -> (bool, &str) {
    match value.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, value),
    }
}

/// Whether a `connection-state` value holds for a new connection.
fn state_holds(value: &str) -> bool {
    let (neg, list) = split_negation(value);
    list.split(',').any(|s| s == "new") != neg
}

/// How the earlier rule's matcher `key=value` relates to the accepting rule's traffic.
fn relation(key: &str, value: &str, accept: &FilterRow, family: Family) -> Rel {
    let mine = accept.get(key);
    let shown = format!("{key}={value}");
    let unknown = |why: &str| Rel::Unknown(format!("{shown}: {why}"));
    match key {
        "connection-state" => {
            if state_holds(value) {
                Rel::Always
            } else {
                Rel::Never
            }
        }
        "src-address-list" | "dst-address-list" => {
            let (neg, name) = split_negation(value);
            match mine.map(split_negation) {
                Some((mneg, mname)) if mname == name && mneg == neg => Rel::Always,
                Some((mneg, mname)) if mname == name && mneg != neg => Rel::Never,
                _ if neg => unknown(&format!(
                    "it drops everything outside list {name}, and the rules do not say whether granted addresses are in it"
                )),
                _ => Rel::Selective(shown),
            }
        }
        "src-address" | "dst-address" | "protocol" | "src-port" | "dst-port" => {
            let Some(theirs) = set_of(key, value, family) else {
                return unknown("the check cannot read this value");
            };
            let ours = match mine {
                Some(v) => match set_of(key, v, family) {
                    Some(s) => s,
                    None => return unknown("the check cannot read the accepting rule's value"),
                },
                None => Set::full(domain(key, family)),
            };
            match compare(&ours, &theirs) {
                Cmp::Disjoint => Rel::Never,
                Cmp::Covered => Rel::Always,
                // A source prefix picks particular senders, as a list does; a destination,
                // protocol or port is a known part of the traffic.
                Cmp::Overlap if key == "src-address" && mine.is_none() => {
                    if value.starts_with('!') {
                        unknown(
                            "it drops every source outside this range, and the rules do not say whether granted addresses are in it",
                        )
                    } else {
                        Rel::Selective(shown)
                    }
                }
                Cmp::Overlap => Rel::Narrower(shown),
            }
        }
        "port" => {
            let Some(theirs) = set_of(key, value, family) else {
                return unknown("the check cannot read this value");
            };
            let side = |k: &str| match accept.get(k) {
                Some(v) => set_of(k, v, family),
                None => Some(Set::full(65_535)),
            };
            let (Some(src), Some(dst)) = (side("src-port"), side("dst-port")) else {
                return unknown("the check cannot read the accepting rule's ports");
            };
            if accept.get("port").is_some() {
                return if accept.get("port") == Some(value) {
                    Rel::Always
                } else {
                    Rel::Narrower(shown)
                };
            }
            match (compare(&src, &theirs), compare(&dst, &theirs)) {
                (Cmp::Covered, _) | (_, Cmp::Covered) => Rel::Always,
                (Cmp::Disjoint, Cmp::Disjoint) => Rel::Never,
                _ => Rel::Narrower(shown),
            }
        }
        "in-interface" | "out-interface" => {
            let (neg, name) = split_negation(value);
            match (mine.map(split_negation), neg) {
                (Some((false, m)), false) => bool_rel(m == name),
                (Some((false, m)), true) => bool_rel(m != name),
                (Some((true, m)), true) if m == name => Rel::Always,
                _ => Rel::Narrower(shown),
            }
        }
        "in-interface-list" | "out-interface-list" => {
            let (neg, name) = split_negation(value);
            match (name, neg) {
                ("all", false) | ("none", true) => return Rel::Always,
                ("all", true) | ("none", false) => return Rel::Never,
                _ => {}
            }
            match mine.map(split_negation) {
                Some((mneg, m)) if m == name => bool_rel(mneg == neg),
                _ => Rel::Narrower(shown),
            }
        }
        "connection-nat-state" => {
            let (neg, name) = split_negation(value);
            match mine.map(split_negation) {
                Some((mneg, m)) if m == name => bool_rel(mneg == neg),
                _ => Rel::Narrower(shown),
            }
        }
        _ => unknown("the check does not understand this matcher"),
    }
}

fn bool_rel(always: bool) -> Rel {
    if always { Rel::Always } else { Rel::Never }
}

/// The largest value of a key's domain: addresses of the family, protocol numbers, ports.
fn domain(key: &str, family: Family) -> u128 {
    match key {
        "src-address" | "dst-address" => match family {
            Family::V4 => u128::from(u32::MAX),
            Family::V6 => u128::MAX,
        },
        "protocol" => 255,
        _ => 65_535,
    }
}

/// A set of values as sorted, disjoint, inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Set(Vec<(u128, u128)>);

impl Set {
    fn full(max: u128) -> Set {
        Set(vec![(0, max)])
    }

    fn from_ranges(mut ranges: Vec<(u128, u128)>) -> Set {
        ranges.sort_unstable();
        let mut out: Vec<(u128, u128)> = Vec::with_capacity(ranges.len());
        for (lo, hi) in ranges {
            match out.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => out.push((lo, hi)),
            }
        }
        Set(out)
    }

    fn complement(&self, max: u128) -> Set {
        let mut out = Vec::new();
        let mut next = 0u128;
        let mut done = false;
        for &(lo, hi) in &self.0 {
            if lo > next {
                out.push((next, lo - 1));
            }
            if hi == max {
                done = true;
                break;
            }
            next = hi + 1;
        }
        if !done {
            out.push((next, max));
        }
        Set(out)
    }

    fn intersects(&self, other: &Set) -> bool {
        self.0
            .iter()
            .any(|a| other.0.iter().any(|b| a.0 <= b.1 && b.0 <= a.1))
    }

    fn within(&self, other: &Set) -> bool {
        self.0
            .iter()
            .all(|a| other.0.iter().any(|b| b.0 <= a.0 && a.1 <= b.1))
    }
}

enum Cmp {
    Disjoint,
    Covered,
    Overlap,
}

/// How the accepting rule's set relates to the earlier rule's set.
fn compare(ours: &Set, theirs: &Set) -> Cmp {
    if !ours.intersects(theirs) {
        Cmp::Disjoint
    } else if ours.within(theirs) {
        Cmp::Covered
    } else {
        Cmp::Overlap
    }
}

/// The set a matcher value stands for, its negation applied.
fn set_of(key: &str, value: &str, family: Family) -> Option<Set> {
    let (neg, text) = split_negation(value);
    let max = domain(key, family);
    let ranges = match key {
        "src-address" | "dst-address" => vec![address_range(text, family)?],
        "protocol" => {
            let n = PROTOCOLS
                .iter()
                .find(|(name, _)| *name == text)
                .map(|(_, n)| *n)
                .or_else(|| {
                    (text.len() <= 3 && text.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| text.parse::<u8>().ok())
                        .flatten()
                })?;
            vec![(u128::from(n), u128::from(n))]
        }
        _ => {
            let mut out = Vec::new();
            for item in text.split(',') {
                let (lo, hi) = match item.split_once('-') {
                    Some((a, b)) => (a.parse::<u16>().ok()?, b.parse::<u16>().ok()?),
                    None => {
                        let p = item.parse::<u16>().ok()?;
                        (p, p)
                    }
                };
                if lo > hi {
                    return None;
                }
                out.push((u128::from(lo), u128::from(hi)));
            }
            out
        }
    };
    let set = Set::from_ranges(ranges);
    Some(if neg { set.complement(max) } else { set })
}

/// A host, prefix or (IPv4) range as an inclusive range of integers.
fn address_range(text: &str, family: Family) -> Option<(u128, u128)> {
    match family {
        Family::V4 => {
            if let Some((a, b)) = text.split_once('-') {
                let (a, b): (Ipv4Addr, Ipv4Addr) = (a.parse().ok()?, b.parse().ok()?);
                let (lo, hi) = (u32::from(a), u32::from(b));
                return (lo <= hi).then_some((lo.into(), hi.into()));
            }
            let (addr, len) = prefix(text, 32)?;
            let addr: Ipv4Addr = addr.parse().ok()?;
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            let lo = u32::from(addr) & mask;
            Some((lo.into(), (lo | !mask).into()))
        }
        Family::V6 => {
            let (addr, len) = prefix(text, 128)?;
            let addr: Ipv6Addr = addr.parse().ok()?;
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            let lo = u128::from(addr) & mask;
            Some((lo, lo | !mask))
        }
    }
}

fn prefix(text: &str, max: u32) -> Option<(&str, u32)> {
    match text.split_once('/') {
        Some((a, l)) => {
            if l.is_empty() || l.len() > 3 || !l.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let len: u32 = l.parse().ok()?;
            (len <= max).then_some((a, len))
        }
        None => Some((text, max)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Spec<'a> = &'a [(&'a str, &'a str)];

    const LIST: &str = "knocknoc-users";

    /// Rows with `.id` `*1`, `*2`, ... in console order; a spec without `chain` is in `forward`.
    fn rows(specs: &[Spec]) -> Vec<FilterRow> {
        specs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let id = format!("*{:X}", i + 1);
                let mut pairs: Vec<(&str, &str)> = vec![(".id", &id)];
                if !spec.iter().any(|(k, _)| *k == "chain") {
                    pairs.push(("chain", "forward"));
                }
                pairs.extend_from_slice(spec);
                FilterRow::new(i, &pairs)
            })
            .collect()
    }

    /// A compact form of the result, for exact comparisons.
    fn render(check: &RuleCheck) -> String {
        match check {
            RuleCheck::Ok { rule, notes } => format!("ok {} notes={}", rule.id, notes.len()),
            RuleCheck::Missing { command, .. } => format!("missing: {command}"),
            RuleCheck::Disabled { rule, command } => format!("disabled {}: {command}", rule.id),
            RuleCheck::Shadowed {
                rule,
                by,
                via,
                partial,
                command,
            } => {
                let via = via
                    .as_ref()
                    .map(|v| format!(" via {}", v.id))
                    .unwrap_or_default();
                let partial = if partial.is_empty() {
                    String::new()
                } else {
                    format!(" partial={}", partial.join(" "))
                };
                format!("shadowed {} by {}{via}{partial}: {command}", rule.id, by.id)
            }
            RuleCheck::Unknown { reasons } => format!("unknown: {}", reasons.join(" | ")),
        }
    }

    fn check_family(family: Family, specs: &[Spec], expected: &str) {
        let got = render(&check_rules(&rows(specs), LIST, family));
        if let Some(fragment) = expected.strip_prefix("unknown~") {
            assert!(
                got.starts_with("unknown: ") && got.contains(fragment),
                "{specs:?}\n got: {got}\nwant: unknown containing {fragment:?}"
            );
        } else {
            assert_eq!(got, expected, "{specs:?}");
        }
    }

    fn check(specs: &[Spec], expected: &str) {
        check_family(Family::V4, specs, expected);
    }

    const ACCEPT: Spec = &[("src-address-list", LIST), ("action", "accept")];
    const DROP: Spec = &[("action", "drop")];

    #[test]
    fn the_guides_rule_and_its_three_failures() {
        check(&[ACCEPT, DROP], "ok *1 notes=0");
        check(
            &[DROP, ACCEPT],
            "shadowed *2 by *1: /ip firewall filter move *2 destination=*1",
        );
        check(
            &[&[("src-address-list", LIST), ("disabled", "true")], DROP],
            "disabled *1: /ip firewall filter enable *1",
        );
        check(
            &[DROP],
            "missing: /ip firewall filter add chain=forward src-address-list=knocknoc-users action=accept place-before=*1 comment=\"accept address list knocknoc-users\"",
        );
        check(
            &[],
            "missing: /ip firewall filter add chain=forward src-address-list=knocknoc-users action=accept comment=\"accept address list knocknoc-users\"",
        );
        // A rule that accepts everyone *outside* the list is no grant rule.
        check(
            &[&[("src-address-list", "!knocknoc-users")], DROP],
            "missing: /ip firewall filter add chain=forward src-address-list=knocknoc-users action=accept place-before=*2 comment=\"accept address list knocknoc-users\"",
        );
        // Another list's accept does not count.
        check(
            &[&[("src-address-list", "other")]],
            "missing: /ip firewall filter add chain=forward src-address-list=knocknoc-users action=accept comment=\"accept address list knocknoc-users\"",
        );
    }

    #[test]
    fn defconf_forward_chain() {
        let defconf: [Spec; 6] = [
            &[
                ("ipsec-policy", "in,ipsec"),
                ("comment", "defconf: accept in ipsec policy"),
            ],
            &[("ipsec-policy", "out,ipsec")],
            &[
                ("action", "fasttrack-connection"),
                ("connection-state", "established,related"),
                ("hw-offload", "true"),
            ],
            &[("connection-state", "established,related,untracked")],
            &[("action", "drop"), ("connection-state", "invalid")],
            &[
                ("action", "drop"),
                ("connection-state", "new"),
                ("connection-nat-state", "!dstnat"),
                ("in-interface-list", "WAN"),
                ("comment", "defconf: drop all from WAN not DSTNATed"),
            ],
        ];
        let mut below: Vec<Spec> = defconf.to_vec();
        below.push(ACCEPT);
        check(
            &below,
            "shadowed *7 by *6 partial=connection-nat-state=!dstnat in-interface-list=WAN: /ip firewall filter move *7 destination=*6",
        );
        let mut above: Vec<Spec> = defconf.to_vec();
        above.insert(5, ACCEPT);
        check(&above, "ok *6 notes=0");
        // Missing: the suggestion goes above the WAN drop, not above `drop invalid`.
        check(
            &defconf,
            "missing: /ip firewall filter add chain=forward src-address-list=knocknoc-users action=accept place-before=*6 comment=\"accept address list knocknoc-users\"",
        );
    }

    #[test]
    fn partial_and_disjoint_drops() {
        let telnet: Spec = &[("action", "drop"), ("protocol", "tcp"), ("dst-port", "23")];
        check(
            &[telnet, ACCEPT],
            "shadowed *2 by *1 partial=dst-port=23 protocol=tcp: /ip firewall filter move *2 destination=*1",
        );
        let ssh_accept: Spec = &[
            ("src-address-list", LIST),
            ("protocol", "tcp"),
            ("dst-port", "22"),
        ];
        check(&[telnet, ssh_accept], "ok *2 notes=0");
        let all_tcp: Spec = &[("action", "reject"), ("protocol", "tcp")];
        check(
            &[all_tcp, ssh_accept],
            "shadowed *2 by *1: /ip firewall filter move *2 destination=*1",
        );
        let not_ssh: Spec = &[("action", "drop"), ("protocol", "tcp"), ("dst-port", "!22")];
        check(&[not_ssh, ssh_accept], "ok *2 notes=0");
        let udp: Spec = &[("action", "drop"), ("protocol", "udp")];
        check(&[udp, ssh_accept], "ok *2 notes=0");
        let either_port: Spec = &[("action", "drop"), ("protocol", "tcp"), ("port", "22")];
        check(
            &[either_port, ssh_accept],
            "shadowed *2 by *1: /ip firewall filter move *2 destination=*1",
        );
        let to_lan: Spec = &[("action", "drop"), ("dst-address", "10.0.0.0/8")];
        let accept_to_dmz: Spec = &[("src-address-list", LIST), ("dst-address", "192.0.2.0/24")];
        check(&[to_lan, accept_to_dmz], "ok *2 notes=0");
        check(
            &[to_lan, ACCEPT],
            "shadowed *2 by *1 partial=dst-address=10.0.0.0/8: /ip firewall filter move *2 destination=*1",
        );
        // Other chains and states never shadow.
        check(
            &[&[("chain", "input"), ("action", "drop")], ACCEPT],
            "ok *2 notes=0",
        );
        check(
            &[
                &[("action", "drop"), ("connection-state", "invalid")],
                ACCEPT,
            ],
            "ok *2 notes=0",
        );
        check(
            &[&[("action", "drop"), ("connection-state", "!new")], ACCEPT],
            "ok *2 notes=0",
        );
        check(
            &[&[("action", "drop"), ("disabled", "true")], ACCEPT],
            "ok *2 notes=0",
        );
    }

    #[test]
    fn interfaces() {
        let on_lan: Spec = &[("src-address-list", LIST), ("in-interface", "ether2")];
        check(
            &[&[("action", "drop"), ("in-interface", "ether1")], on_lan],
            "ok *2 notes=0",
        );
        check(
            &[&[("action", "drop"), ("in-interface", "!ether2")], on_lan],
            "ok *2 notes=0",
        );
        check(
            &[&[("action", "drop"), ("in-interface", "ether2")], on_lan],
            "shadowed *2 by *1: /ip firewall filter move *2 destination=*1",
        );
        check(
            &[&[("action", "drop"), ("in-interface-list", "none")], ACCEPT],
            "ok *2 notes=0",
        );
        check(
            &[&[("action", "drop"), ("in-interface-list", "all")], ACCEPT],
            "shadowed *2 by *1: /ip firewall filter move *2 destination=*1",
        );
        let from_wan: Spec = &[("src-address-list", LIST), ("in-interface-list", "WAN")];
        check(
            &[
                &[("action", "drop"), ("in-interface-list", "!WAN")],
                from_wan,
            ],
            "ok *2 notes=0",
        );
    }

    #[test]
    fn sources_picked_by_list_or_prefix() {
        let notes = |specs: &[Spec]| match check_rules(&rows(specs), LIST, Family::V4) {
            RuleCheck::Ok { notes, .. } => notes,
            other => panic!("{other:?}"),
        };
        let blacklist: Spec = &[("action", "drop"), ("src-address-list", "blacklist")];
        check(&[blacklist, ACCEPT], "ok *2 notes=1");
        assert!(notes(&[blacklist, ACCEPT])[0].contains("src-address-list=blacklist"));
        check(
            &[&[("action", "drop"), ("src-address", "10.0.0.0/8")], ACCEPT],
            "ok *2 notes=1",
        );
        check(
            &[&[("action", "drop"), ("src-address", "0.0.0.0/0")], ACCEPT],
            "shadowed *2 by *1: /ip firewall filter move *2 destination=*1",
        );
        check(
            &[
                &[("action", "drop"), ("src-address-list", "!allowed")],
                ACCEPT,
            ],
            "unknown~drops everything outside list allowed",
        );
        check(
            &[
                &[("action", "drop"), ("src-address", "!10.0.0.0/8")],
                ACCEPT,
            ],
            "unknown~every source outside",
        );
        // The same list dropped first: all of the traffic.
        check(
            &[&[("action", "drop"), ("src-address-list", LIST)], ACCEPT],
            "shadowed *2 by *1: /ip firewall filter move *2 destination=*1",
        );
        // The accepting rule's own source prefix is compared with the drop's.
        let from_doc: Spec = &[
            ("src-address-list", LIST),
            ("src-address", "198.51.100.0/24"),
        ];
        check(
            &[
                &[("action", "drop"), ("src-address", "10.0.0.0/8")],
                from_doc,
            ],
            "ok *2 notes=0",
        );
    }

    #[test]
    fn undecidable_is_never_ok() {
        let syn: Spec = &[
            ("action", "drop"),
            ("protocol", "tcp"),
            ("tcp-flags", "syn"),
        ];
        check(
            &[syn, ACCEPT],
            "unknown~tcp-flags=syn: the check does not understand this matcher",
        );
        // ... unless another matcher already rules the drop out.
        let udp_syn: Spec = &[
            ("action", "drop"),
            ("protocol", "udp"),
            ("tcp-flags", "syn"),
        ];
        check(
            &[udp_syn, &[("src-address-list", LIST), ("protocol", "tcp")]],
            "ok *2 notes=0",
        );
        check(
            &[&[("src-address-list", LIST), ("time", "8h-17h,mon,tue")]],
            "unknown~also matches on time=8h-17h,mon,tue",
        );
        check(
            &[&[
                ("src-address-list", LIST),
                ("connection-state", "established"),
            ]],
            "unknown~not new connections",
        );
        check(
            &[&[("src-address-list", LIST), ("invalid", "true")]],
            "unknown~marked invalid",
        );
        // An empty list does not exist on the router: its accepting rule is marked invalid until
        // the first entry, and that alone does not make the check undecidable.
        let empty =
            |specs: &[Spec]| render(&check_rules_of_empty_list(&rows(specs), LIST, Family::V4));
        let invalid_accept: Spec = &[
            ("src-address-list", LIST),
            ("action", "accept"),
            ("invalid", "true"),
        ];
        assert_eq!(empty(&[invalid_accept, DROP]), "ok *1 notes=1");
        assert_eq!(
            empty(&[DROP, invalid_accept]),
            "shadowed *2 by *1: /ip firewall filter move *2 destination=*1"
        );
        // Another list on the rule may be what is unknown: still undecidable.
        let other_list: Spec = &[
            ("src-address-list", LIST),
            ("dst-address-list", "servers"),
            ("action", "accept"),
            ("invalid", "true"),
        ];
        assert!(empty(&[other_list, DROP]).starts_with("unknown: "));
        check(
            &[&[
                ("src-address-list", LIST),
                ("action", "jump"),
                ("jump-target", "grants"),
            ]],
            "unknown~behind a jump",
        );
        // A rule the check cannot judge, and a second accept that is fine: the second decides.
        check(
            &[
                &[("src-address-list", LIST), ("limit", "10,5:packet")],
                ACCEPT,
            ],
            "ok *2 notes=0",
        );
    }

    #[test]
    fn jumps_and_early_accepts() {
        let jump: Spec = &[("action", "jump"), ("jump-target", "guard")];
        let guard_drop: Spec = &[("chain", "guard"), ("action", "drop"), ("protocol", "tcp")];
        check(
            &[jump, ACCEPT, guard_drop],
            "shadowed *2 by *3 via *1 partial=protocol=tcp: /ip firewall filter move *2 destination=*1",
        );
        let guard_return: Spec = &[("chain", "guard"), ("action", "return")];
        check(&[jump, ACCEPT, guard_return, guard_drop], "ok *2 notes=0");
        let guard_invalid: Spec = &[
            ("chain", "guard"),
            ("action", "drop"),
            ("connection-state", "invalid"),
        ];
        check(&[jump, ACCEPT, guard_invalid], "ok *2 notes=0");
        let lan_jump: Spec = &[
            ("action", "jump"),
            ("jump-target", "guard"),
            ("in-interface", "ether9"),
        ];
        let on_lan: Spec = &[("src-address-list", LIST), ("in-interface", "ether2")];
        check(&[lan_jump, on_lan, guard_drop], "ok *2 notes=0");
        let loop_a: Spec = &[("action", "jump"), ("jump-target", "a")];
        let loop_b: Spec = &[("chain", "a"), ("action", "jump"), ("jump-target", "b")];
        let loop_c: Spec = &[("chain", "b"), ("action", "jump"), ("jump-target", "a")];
        check(
            &[loop_a, ACCEPT, loop_b, loop_c],
            "unknown~jumps deeper than 8 chains",
        );
        // An earlier rule that accepts (or returns) everything: the drop after it never runs.
        check(&[&[("action", "accept")], DROP, ACCEPT], "ok *3 notes=0");
        check(&[&[("action", "return")], DROP, ACCEPT], "ok *3 notes=0");
        // The router's dynamic fasttrack counter row is a passthrough: no effect.
        check(
            &[
                &[
                    ("action", "passthrough"),
                    ("dynamic", "true"),
                    ("comment", "special dummy rule to show fasttrack counters"),
                ],
                ACCEPT,
                DROP,
            ],
            "ok *2 notes=0",
        );
    }

    #[test]
    fn several_accepting_rules() {
        let disabled: Spec = &[("src-address-list", LIST), ("disabled", "true")];
        check(&[ACCEPT, DROP, ACCEPT], "ok *1 notes=0");
        check(
            &[DROP, ACCEPT, ACCEPT],
            "shadowed *2 by *1: /ip firewall filter move *2 destination=*1",
        );
        check(
            &[disabled, DROP, ACCEPT],
            "shadowed *3 by *2: /ip firewall filter move *3 destination=*2",
        );
        check(
            &[disabled, disabled, DROP],
            "disabled *1: /ip firewall filter enable *1",
        );
    }

    #[test]
    fn ipv6_defconf() {
        let v6: [Spec; 4] = [
            &[("connection-state", "established,related,untracked")],
            &[("action", "drop"), ("connection-state", "invalid")],
            &[("action", "drop"), ("src-address-list", "bad_ipv6")],
            &[
                ("action", "drop"),
                ("in-interface-list", "!LAN"),
                (
                    "comment",
                    "defconf: drop everything else not coming from LAN",
                ),
            ],
        ];
        let mut below: Vec<Spec> = v6.to_vec();
        below.push(ACCEPT);
        check_family(
            Family::V6,
            &below,
            "shadowed *5 by *4 partial=in-interface-list=!LAN: /ipv6 firewall filter move *5 destination=*4",
        );
        let mut above: Vec<Spec> = v6.to_vec();
        above.insert(3, ACCEPT);
        check_family(Family::V6, &above, "ok *4 notes=1");
        check_family(
            Family::V6,
            &[
                &[("action", "drop"), ("src-address", "2001:db8::/32")],
                &[
                    ("src-address-list", LIST),
                    ("src-address", "2001:db8:1::/48"),
                ],
            ],
            "shadowed *2 by *1: /ipv6 firewall filter move *2 destination=*1",
        );
        check_family(
            Family::V6,
            &[],
            "missing: /ipv6 firewall filter add chain=forward src-address-list=knocknoc-users action=accept comment=\"accept address list knocknoc-users\"",
        );
    }

    #[test]
    fn quoting_for_the_console() {
        assert_eq!(quote("knocknoc-users"), "knocknoc-users");
        assert_eq!(quote("my list"), "\"my list\"");
        assert_eq!(quote("a\"b$c\\d"), "\"a\\\"b\\$c\\\\d\"");
        assert_eq!(quote(""), "\"\"");
        let rows = rows(&[DROP]);
        let got = check_rules(&rows, "vpn users", Family::V4);
        assert_eq!(
            got.command(),
            Some(
                "/ip firewall filter add chain=forward src-address-list=\"vpn users\" action=accept place-before=*1 comment=\"accept address list vpn users\""
            )
        );
        assert!(
            got.summary("vpn users")
                .contains("no enabled filter rule accepts")
        );
    }

    #[test]
    fn parsing_rows() {
        let ok = br#"[{".id":"*1","chain":"forward","action":"accept","src-address-list":"l","bytes":"0"},
                      {".id":"*A","chain":"forward","action":"drop"}]"#;
        let rows = parse_rows(ok, "GET /rest/ip/firewall/filter").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[1].id.as_str(), rows[1].index, rows[1].action()),
            ("*A", 1, "drop")
        );
        let code = |body: &[u8]| parse_rows(body, "GET").unwrap_err().code;
        assert_eq!(code(b"<html>"), Code::NotJson);
        assert_eq!(code(b"{}"), Code::WrongShape);
        assert_eq!(code(b"[1]"), Code::WrongShape);
        assert_eq!(code(br#"[{"chain":"forward"}]"#), Code::MissingField);
        assert_eq!(code(br#"[{".id":"*1"}]"#), Code::MissingField);
        assert_eq!(
            code(br#"[{".id":"1","chain":"forward"}]"#),
            Code::InvalidValue
        );
        assert_eq!(
            code(br#"[{".id":"*1","chain":"forward","bytes":0}]"#),
            Code::InvalidValue
        );
    }
}
