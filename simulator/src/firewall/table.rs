//! One filter table (`/ip/firewall/filter` or `/ipv6/firewall/filter`): ordered rules and the
//! router's commands on them.
//!
//! Order is the whole point of a filter, so the table is a `Vec` in console order (the order a
//! print shows, position 0 first), each rule with its `.id`. Behaviour follows the fidelity notes,
//! section G, which rest on write probes against CHR 7.23.7 unless marked:
//! - `add` appends, or inserts before `place-before` (an id or a console position; `place-before`
//!   exists only on `add`, `set` with it is `unknown parameter place-before`). `action` defaults to
//!   `accept`; a missing `chain` is `missing =chain=`.
//! - `move numbers=A,B destination=C` puts A then B (in the order given) right before C; without a
//!   destination, or with one that does not exist, they go to the end; an unknown id in `numbers`
//!   is 404; moving a rule before itself is `failure: can not move object before itself`.
//! - `numbers` items are ids (`*1A`), console positions (`0`), or a comment (first match).
//! - A print always shows `.id`, `chain`, `action`, `bytes`, `packets`, `dynamic` and `invalid`;
//!   every other key only when set; `disabled`, `log` and `log-prefix` only once written (a
//!   disabled rule always shows `disabled=true`; once enabled again it keeps `disabled=false`).
//! - Counters (`bytes`, `packets`) advance when the verdict matches a rule and are zeroed by
//!   `reset-counters` and `reset-counters-all`.

use std::collections::BTreeMap;

use super::Refusal;
use super::schema::{self, Schema};
use super::values::{self, Known};
use super::verdict::{self, Packet, Verdict};
use super::{ListEntry, Outcome};
use crate::clock::SimTime;

/// A printed row: `(key, value)` pairs in the router's key order (`.id` first, then sorted).
pub type Fields = Vec<(&'static str, String)>;

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    id: u32,
    /// Every property written (chain, action, matchers, comment, and disabled/log once written),
    /// as the text the router prints.
    props: BTreeMap<&'static str, String>,
    bytes: u64,
    packets: u64,
}

impl Rule {
    /// The numeric id (`*1A` is 0x1A).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The `.id` text, `*` and upper-case hex.
    pub fn id_text(&self) -> String {
        format!("*{:X}", self.id)
    }

    /// A property's printed value, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.props.get(key).map(String::as_str)
    }

    /// The rule's chain.
    pub fn chain(&self) -> &str {
        self.get("chain").unwrap_or_default()
    }

    /// The rule's action (`accept` when never written).
    pub fn action(&self) -> &str {
        self.get("action").unwrap_or("accept")
    }

    /// Whether the rule is disabled (skipped by the verdict).
    pub fn disabled(&self) -> bool {
        self.get("disabled") == Some("true")
    }

    /// The rule's comment, if any.
    pub fn comment(&self) -> Option<&str> {
        self.get("comment")
    }

    /// `(bytes, packets)` counted so far.
    pub fn counters(&self) -> (u64, u64) {
        (self.bytes, self.packets)
    }

    /// Every written property in key order.
    pub fn properties(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.props.iter().map(|(k, v)| (*k, v.as_str()))
    }
}

/// One family's filter table.
#[derive(Debug, Clone)]
pub struct FilterTable {
    schema: Schema,
    known: Known,
    rules: Vec<Rule>,
    next_id: u32,
}

/// Arguments as `(key, value)` text pairs, in the order the client sent them.
type Pairs = Vec<(String, String)>;

fn pairs<I, K, V>(args: I) -> Pairs
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    args.into_iter()
        .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
        .collect()
}

/// `missing =<key>=`, the router's text for a required argument left out.
fn missing(key: &str) -> Refusal {
    Refusal::bad_request(format!("missing ={key}="))
}

impl FilterTable {
    /// An empty table (a CHR has no filter rules; SOHO defaults come from seeds).
    pub fn new(schema: Schema) -> Self {
        Self {
            schema,
            known: Known::default(),
            rules: Vec::new(),
            next_id: 1,
        }
    }

    /// What the table checks names against (interfaces).
    pub fn set_known(&mut self, known: Known) {
        self.known = known;
    }

    /// The table's family and version switches.
    pub fn schema(&self) -> Schema {
        self.schema
    }

    /// The rules in console order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule with `.id` `id`.
    pub fn get(&self, id: u32) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The console position of the rule with `.id` `id`.
    pub fn position(&self, id: u32) -> Option<usize> {
        self.rules.iter().position(|r| r.id == id)
    }

    /// Resolves a `numbers` value: comma-separated ids, console positions or comments. Any item
    /// that matches nothing is `404`.
    pub fn resolve(&self, numbers: &str) -> Result<Vec<usize>, Refusal> {
        let mut out = Vec::new();
        for item in numbers.split(',') {
            let item = item.trim();
            let found = if let Some(id) = parse_id(item) {
                self.position(id)
            } else if !item.is_empty() && item.bytes().all(|b| b.is_ascii_digit()) {
                item.parse::<usize>().ok().filter(|p| *p < self.rules.len())
            } else {
                self.rules.iter().position(|r| r.comment() == Some(item))
            };
            let pos = found.ok_or(Refusal::NotFound)?;
            if !out.contains(&pos) {
                out.push(pos);
            }
        }
        Ok(out)
    }

    /// Applies property arguments to `props`, checking each value.
    fn apply(
        &self,
        props: &mut BTreeMap<&'static str, String>,
        args: &Pairs,
    ) -> Result<(), Refusal> {
        for (key, value) in args {
            let key = self
                .schema
                .property(key)
                .ok_or_else(|| Refusal::bad_request(format!("unknown parameter {key}")))?;
            match values::normalise(&self.schema, &self.known, key, value)? {
                Some(v) => {
                    props.insert(key, v);
                }
                None => {
                    props.remove(key);
                }
            }
        }
        Ok(())
    }

    /// Checks that a rule's properties make sense together, as the router does on add and set.
    fn check_rule(props: &BTreeMap<&'static str, String>) -> Result<(), Refusal> {
        if !props.contains_key("chain") {
            return Err(missing("chain"));
        }
        if props.get("action").map(String::as_str) == Some("jump")
            && !props.contains_key("jump-target")
        {
            return Err(Refusal::bad_request(schema::NO_JUMP_TARGET));
        }
        if ["src-port", "dst-port", "port"]
            .iter()
            .any(|k| props.contains_key(k))
        {
            let carries_ports = props.get("protocol").is_some_and(|p| {
                let (neg, word) = values::split_negation(p);
                !neg && schema::protocol_number(word)
                    .is_some_and(|n| schema::PORT_PROTOCOLS.contains(&n))
            });
            if !carries_ports {
                return Err(Refusal::bad_request(schema::PORTS_NEED_PROTOCOL));
            }
        }
        Ok(())
    }

    /// `add`: creates a rule and returns its `.id`.
    ///
    /// `place-before` takes an id or a console position. Where it names no rule the rule is added
    /// at the end, as `move` does with an unknown destination [likely: only `move` was probed].
    /// `copy-from` starts from another rule's properties (not its counters); an unknown one is 404.
    pub fn add<I, K, V>(&mut self, args: I) -> Result<String, Refusal>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut args = pairs(args);
        let place_before = take(&mut args, "place-before");
        let copy_from = take(&mut args, "copy-from");
        let mut props = match copy_from {
            Some(from) => {
                let pos = *self.resolve(&from)?.first().ok_or(Refusal::NotFound)?;
                self.rules[pos].props.clone()
            }
            None => BTreeMap::new(),
        };
        self.apply(&mut props, &args)?;
        props.entry("action").or_insert_with(|| "accept".to_owned());
        Self::check_rule(&props)?;
        let at = match place_before {
            Some(p) => self
                .resolve(&p)
                .ok()
                .and_then(|v| v.first().copied())
                .unwrap_or(self.rules.len()),
            None => self.rules.len(),
        };
        let id = self.next_id;
        self.next_id += 1;
        self.rules.insert(
            at,
            Rule {
                id,
                props,
                bytes: 0,
                packets: 0,
            },
        );
        Ok(format!("*{id:X}"))
    }

    /// Changes every rule in `numbers` with the same arguments, all or nothing.
    fn change(
        &mut self,
        numbers: Option<&str>,
        edit: impl Fn(&Self, &mut BTreeMap<&'static str, String>) -> Result<(), Refusal>,
    ) -> Result<(), Refusal> {
        let positions = self.resolve(numbers.ok_or_else(|| missing(".id"))?)?;
        let mut changed = Vec::with_capacity(positions.len());
        for pos in positions {
            let mut props = self.rules[pos].props.clone();
            edit(self, &mut props)?;
            Self::check_rule(&props)?;
            changed.push((pos, props));
        }
        for (pos, props) in changed {
            self.rules[pos].props = props;
        }
        Ok(())
    }

    /// `set`: changes properties of the rules in `numbers`.
    pub fn set<I, K, V>(&mut self, numbers: Option<&str>, args: I) -> Result<(), Refusal>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let args = pairs(args);
        self.change(numbers, |t, props| t.apply(props, &args))
    }

    /// `unset`: removes one property. `chain`, `disabled` and `log` cannot be unset (the router
    /// answers `input does not match any value of value-name` for the last two, CHR 7.23.7; a
    /// chain is required). Unsetting `action` returns it to the default, `accept`.
    pub fn unset(
        &mut self,
        numbers: Option<&str>,
        value_name: Option<&str>,
    ) -> Result<(), Refusal> {
        let name = value_name.ok_or_else(|| missing("value-name"))?;
        let key = self
            .schema
            .property(name)
            .filter(|k| !matches!(*k, "chain" | "disabled" | "log"))
            .ok_or_else(|| values::no_match("value-name"))?;
        self.change(numbers, |_, props| {
            if key == "action" {
                props.insert("action", "accept".to_owned());
            } else {
                props.remove(key);
            }
            Ok(())
        })
    }

    /// `enable` / `disable`.
    pub fn set_disabled(&mut self, numbers: Option<&str>, disabled: bool) -> Result<(), Refusal> {
        self.change(numbers, |_, props| {
            props.insert("disabled", disabled.to_string());
            Ok(())
        })
    }

    /// `comment`: sets the comment of the rules in `numbers`.
    pub fn comment(&mut self, numbers: Option<&str>, comment: &str) -> Result<(), Refusal> {
        self.change(numbers, |_, props| {
            props.insert("comment", comment.to_owned());
            Ok(())
        })
    }

    /// `remove`: deletes the rules in `numbers`, all or nothing.
    pub fn remove(&mut self, numbers: Option<&str>) -> Result<(), Refusal> {
        let mut positions = self.resolve(numbers.ok_or_else(|| missing(".id"))?)?;
        positions.sort_unstable();
        for pos in positions.into_iter().rev() {
            self.rules.remove(pos);
        }
        Ok(())
    }

    /// `move`: puts the rules in `numbers`, in the order given, right before `destination`, or at
    /// the end when there is no destination or it names no rule.
    pub fn move_rules(
        &mut self,
        numbers: Option<&str>,
        destination: Option<&str>,
    ) -> Result<(), Refusal> {
        let positions = self.resolve(numbers.ok_or_else(|| missing(".id"))?)?;
        let dest_id = destination
            .and_then(|d| self.resolve(d).ok())
            .and_then(|v| v.first().copied())
            .map(|pos| self.rules[pos].id);
        let moving: Vec<u32> = positions.iter().map(|p| self.rules[*p].id).collect();
        if dest_id.is_some_and(|d| moving.contains(&d)) {
            return Err(Refusal::bad_request(
                "failure: can not move object before itself",
            ));
        }
        let mut block = Vec::with_capacity(moving.len());
        for id in &moving {
            let pos = self.position(*id).ok_or(Refusal::NotFound)?;
            block.push(self.rules.remove(pos));
        }
        let at = dest_id
            .and_then(|d| self.position(d))
            .unwrap_or(self.rules.len());
        self.rules.splice(at..at, block);
        Ok(())
    }

    /// `reset-counters`: zeroes `bytes` and `packets` of the rules in `numbers`.
    pub fn reset_counters(&mut self, numbers: Option<&str>) -> Result<(), Refusal> {
        let positions = self.resolve(numbers.ok_or_else(|| missing(".id"))?)?;
        for pos in positions {
            self.rules[pos].bytes = 0;
            self.rules[pos].packets = 0;
        }
        Ok(())
    }

    /// `reset-counters-all`: zeroes every rule's counters.
    pub fn reset_counters_all(&mut self) {
        for rule in &mut self.rules {
            rule.bytes = 0;
            rule.packets = 0;
        }
    }

    /// Whether the router would flag the rule `invalid`: a jump to a chain no rule belongs to, or an
    /// address list that has no entries (fidelity notes, section G: `invalid` is state, and flips
    /// for unknown jump targets and address lists).
    fn invalid(&self, rule: &Rule, list_exists: &dyn Fn(&str) -> bool) -> bool {
        if rule.action() == "jump"
            && let Some(target) = rule.get("jump-target")
            && !self.rules.iter().any(|r| r.chain() == target)
        {
            return true;
        }
        ["src-address-list", "dst-address-list"].iter().any(|k| {
            rule.get(k)
                .is_some_and(|v| !list_exists(values::split_negation(v).1))
        })
    }

    /// One rule as the router prints it. `list_exists` says whether an address list of the
    /// table's family has entries (for `invalid`).
    pub fn row(&self, rule: &Rule, list_exists: &dyn Fn(&str) -> bool) -> Fields {
        let mut fields: BTreeMap<&'static str, String> =
            rule.props.iter().map(|(k, v)| (*k, v.clone())).collect();
        fields.insert(".id", rule.id_text());
        fields.insert("action", rule.action().to_owned());
        fields.insert("bytes", rule.bytes.to_string());
        fields.insert("packets", rule.packets.to_string());
        fields.insert("dynamic", "false".to_owned());
        fields.insert("invalid", self.invalid(rule, list_exists).to_string());
        // `.id` sorts before every letter, so key order is already the router's order.
        fields.into_iter().collect()
    }

    /// Every rule as the router prints it, in console order.
    pub fn rows(&self, list_exists: &dyn Fn(&str) -> bool) -> Vec<Fields> {
        self.rules
            .iter()
            .map(|r| self.row(r, list_exists))
            .collect()
    }

    /// Evaluates `packet` and advances the counters of every rule it matched, the decisive one
    /// included, as a router counts them (fidelity notes, section G: counters advance on the rules
    /// a packet matches, non-terminating ones too).
    pub fn evaluate(
        &mut self,
        packet: &Packet,
        lists: &dyn Fn(&str) -> Vec<ListEntry>,
        now: SimTime,
    ) -> Verdict {
        let verdict = verdict::evaluate(&self.rules, self.schema.family, packet, lists, now);
        for step in &verdict.steps {
            if step.outcome == Outcome::Match
                && let Some(rule) = self.rules.iter_mut().find(|r| r.id == step.id)
            {
                rule.packets += 1;
                rule.bytes += packet.size;
            }
        }
        verdict
    }
}

/// Removes `key` from the arguments and returns its last value.
fn take(args: &mut Pairs, key: &str) -> Option<String> {
    let value = args
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone());
    args.retain(|(k, _)| k != key);
    value
}

/// An `.id` such as `*1A`.
pub fn parse_id(text: &str) -> Option<u32> {
    let hex = text.strip_prefix('*')?;
    if hex.is_empty() || hex.len() > 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}

/// One rule as a snapshot keeps it: `.id`, written properties and counters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleDump {
    /// `.id` number.
    pub id: u32,
    /// Every written property, as printed.
    pub props: BTreeMap<String, String>,
    /// `bytes` counted so far.
    pub bytes: u64,
    /// `packets` counted so far.
    pub packets: u64,
}

/// One table as a snapshot keeps it: rules in console order and the id counter.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TableDump {
    /// The id the next rule will get.
    pub next_id: u32,
    /// Rules in console order.
    pub rules: Vec<RuleDump>,
}

impl FilterTable {
    /// The table as a snapshot keeps it.
    pub fn dump(&self) -> TableDump {
        TableDump {
            next_id: self.next_id,
            rules: self
                .rules
                .iter()
                .map(|r| RuleDump {
                    id: r.id,
                    props: r
                        .props
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), v.clone()))
                        .collect(),
                    bytes: r.bytes,
                    packets: r.packets,
                })
                .collect(),
        }
    }

    /// Rebuilds a table from a snapshot. Every property is checked as `add` checks it, so a
    /// hand-edited snapshot cannot create a rule the router would refuse; ids must be distinct.
    pub fn from_dump(schema: Schema, dump: &TableDump) -> Result<Self, Refusal> {
        let mut table = Self::new(schema);
        for r in &dump.rules {
            if r.id == 0 || table.get(r.id).is_some() {
                return Err(Refusal::bad_request(format!(
                    "rule id *{:X} is zero or appears twice",
                    r.id
                )));
            }
            let mut props = BTreeMap::new();
            table.apply(&mut props, &pairs(&r.props))?;
            Self::check_rule(&props)?;
            table.rules.push(Rule {
                id: r.id,
                props,
                bytes: r.bytes,
                packets: r.packets,
            });
        }
        let highest = table.rules.iter().map(|r| r.id).max().unwrap_or(0);
        table.next_id = dump.next_id.max(highest + 1);
        Ok(table)
    }
}
