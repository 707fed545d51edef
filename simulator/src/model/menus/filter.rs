//! `/ip/firewall/filter` and `/ipv6/firewall/filter`: declaration and commands, thin over
//! [`FilterTable`](crate::firewall::FilterTable).
//!
//! The rules, their values, `move`, `place-before`, counters and the verdict are the firewall
//! module's (`src/firewall/`); this module says what the two menus look like to a client and keeps
//! one table per family in the router's menu state ([`Filters`]). Both menus share one
//! implementation, as the two address-list menus do, because they differ only in their schema
//! (IPv6 has no `tarpit`, `ttl` or `hw-offload`, and has `headers` and `hop-limit`).
//!
//! Commands and arguments come from the schema dumps of real routers
//! (`fixtures/routeros/menus.json`, derived from `../shared/routeros-schema/`): `add` and `set`
//! take every property of the family, `add` also `place-before` and `copy-from`; `tos` exists from
//! 7.21 and `hw-offload` (IPv4) until then. A print lists the rules in console order, which is the
//! order that decides, not in id order.

use std::collections::BTreeMap;

use super::imp::MenuImpl;
use crate::clock::SimTime;
use crate::firewall::{self, FilterTable, Packet, Refusal, Schema, Verdict, table::TableDump};
use crate::model::Router;
use crate::model::address::Family;
use crate::model::args::{Args, format_id, parse_id};
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Outcome, Rows};
use crate::model::query::Query;
use crate::model::row::Row;
use crate::model::spec::{
    Command, EXPORT_ARGS, GET_ARGS, Name, PRINT_ARGS_LEN, PRINT_WORDS, Shape, Spec, command, name,
    names, read_command,
};
use crate::model::version::Version;

use crate::firewall::schema::{V4_ARGS, V6_ARGS};

/// Arguments of `add` and `set` that exist in some versions only (`fixtures/routeros/menus.json`:
/// `hw-offload` 7.9.2 to 7.20.8, `tos` from 7.21.5).
const V4_VERSIONED: [Name; 2] = [name("hw-offload").until(7, 21), name("tos").since(7, 21)];
const V6_VERSIONED: [Name; 1] = [name("tos").since(7, 21)];

/// What `add` takes besides the properties.
const ADD_ONLY: [Name; 2] = [name("copy-from"), name("place-before")];

static V4_SET: [Name; V4_ARGS.len() + 2] = names(V4_ARGS, V4_VERSIONED);
static V4_ADD: [Name; V4_ARGS.len() + 4] = names(
    V4_ARGS,
    [V4_VERSIONED[0], V4_VERSIONED[1], ADD_ONLY[0], ADD_ONLY[1]],
);
static V6_SET: [Name; V6_ARGS.len() + 1] = names(V6_ARGS, V6_VERSIONED);
static V6_ADD: [Name; V6_ARGS.len() + 3] =
    names(V6_ARGS, [V6_VERSIONED[0], ADD_ONLY[0], ADD_ONLY[1]]);

/// Fields a print can show: every property, and `.id`, `bytes`, `packets`, `dynamic`, `invalid`,
/// which every row shows (fidelity notes, section G; see `firewall/table.rs`).
const ALWAYS: [Name; 5] = [
    name(".id"),
    name("bytes"),
    name("dynamic"),
    name("invalid"),
    name("packets"),
];
static V4_FIELDS: [Name; V4_ARGS.len() + 7] = names(
    V4_ARGS,
    [
        ALWAYS[0],
        ALWAYS[1],
        ALWAYS[2],
        ALWAYS[3],
        ALWAYS[4],
        V4_VERSIONED[0],
        V4_VERSIONED[1],
    ],
);
static V6_FIELDS: [Name; V6_ARGS.len() + 6] = names(
    V6_ARGS,
    [
        ALWAYS[0],
        ALWAYS[1],
        ALWAYS[2],
        ALWAYS[3],
        ALWAYS[4],
        V6_VERSIONED[0],
    ],
);

/// Commands on items that name them with `numbers` besides `print`, `get`, `add`, `set`,
/// `enable`, `disable` and `remove`.
const MOVE_ARGS: &[Name] = &[name("numbers"), name("destination")];
const COMMENT_ARGS: &[Name] = &[name("numbers"), name("comment")];
const UNSET_ARGS: &[Name] = &[name("numbers"), name("value-name")];
const NUMBERS: &[Name] = &[name("numbers")];

/// `print`'s own flags on the filter menus (schema): `chain=<name>` keeps one chain's rules
/// (IPv6 from 7.14: first in the 7.14.3 dump, absent from 7.13.5), `static` and `dynamic` (IPv4)
/// keep the rules of that kind, `all` and `stats`
/// change only the console's columns (`model/run.rs`, `print_selection`).
const V4_PRINT_EXTRA: [Name; 5] = [
    name("all"),
    name("chain"),
    name("dynamic"),
    name("static"),
    name("stats"),
];
const V6_PRINT_EXTRA: [Name; 2] = [name("chain").since(7, 14), name("stats")];
static V4_PRINT: [Name; PRINT_ARGS_LEN + 5] = names(PRINT_WORDS, V4_PRINT_EXTRA);
static V6_PRINT: [Name; PRINT_ARGS_LEN + 2] = names(PRINT_WORDS, V6_PRINT_EXTRA);

static V4_COMMANDS: [Command; 13] = commands(&V4_PRINT, &V4_ADD, &V4_SET);
static V6_COMMANDS: [Command; 13] = commands(&V6_PRINT, &V6_ADD, &V6_SET);

const fn commands(
    print: &'static [Name],
    add: &'static [Name],
    set: &'static [Name],
) -> [Command; 13] {
    [
        read_command("print", print),
        read_command("get", GET_ARGS),
        command("add", add),
        command("set", set),
        command("enable", &[]),
        command("disable", &[]),
        command("remove", &[]),
        command("move", MOVE_ARGS),
        command("comment", COMMENT_ARGS),
        command("unset", UNSET_ARGS),
        command("reset-counters", NUMBERS),
        command("reset-counters-all", &[]),
        read_command("export", EXPORT_ARGS),
    ]
}

static V4_SPEC: Spec = Spec {
    path: "/ip/firewall/filter",
    shape: Shape::Table { named: false },
    fields: &V4_FIELDS,
    commands: &V4_COMMANDS,
    write_policies: &[],
};

static V6_SPEC: Spec = Spec {
    path: "/ipv6/firewall/filter",
    shape: Shape::Table { named: false },
    fields: &V6_FIELDS,
    commands: &V6_COMMANDS,
    write_policies: &[],
};

/// One of the two filter menus.
#[derive(Debug)]
pub struct FilterMenu(Family);

/// `/ip/firewall/filter`.
pub static V4: FilterMenu = FilterMenu(Family::V4);
/// `/ipv6/firewall/filter`.
pub static V6: FilterMenu = FilterMenu(Family::V6);

/// Both families' filter tables, kept in the router's menu state and created on first write (a
/// CHR starts with no filter rules).
#[derive(Debug, Default)]
pub struct Filters {
    v4: Option<FilterTable>,
    v6: Option<FilterTable>,
}

impl Filters {
    fn slot(&mut self, family: Family) -> &mut Option<FilterTable> {
        match family {
            Family::V4 => &mut self.v4,
            Family::V6 => &mut self.v6,
        }
    }

    /// `family`'s table, if a rule was ever written.
    pub fn table(&self, family: Family) -> Option<&FilterTable> {
        match family {
            Family::V4 => self.v4.as_ref(),
            Family::V6 => self.v6.as_ref(),
        }
    }

    /// `family`'s table, created empty for `version` if needed.
    pub fn table_mut(&mut self, family: Family, version: &Version) -> &mut FilterTable {
        self.slot(family)
            .get_or_insert_with(|| FilterTable::new(Schema::new(family, version)))
    }

    /// Zeroes every rule's counters (a reboot).
    pub fn reset_counters(&mut self) {
        for table in [&mut self.v4, &mut self.v6].into_iter().flatten() {
            table.reset_counters_all();
        }
    }
}

/// `family`'s filter table of `router`, if it has one.
pub fn table(router: &Router, family: Family) -> Option<&FilterTable> {
    router.state_ref::<Filters>()?.table(family)
}

/// `family`'s filter table of `router`, created empty if needed.
pub fn table_mut(router: &mut Router, family: Family) -> &mut FilterTable {
    let version = router.version.clone();
    router.state::<Filters>().table_mut(family, &version)
}

/// `family`'s table as a snapshot keeps it (empty when there is none).
pub fn dump(router: &Router, family: Family) -> TableDump {
    table(router, family)
        .map(FilterTable::dump)
        .unwrap_or_default()
}

/// Replaces `family`'s table with a snapshot's.
pub fn restore(router: &mut Router, family: Family, dump: &TableDump) -> Result<(), Refusal> {
    let schema = Schema::new(family, &router.version);
    let restored = FilterTable::from_dump(schema, dump)?;
    *router.state::<Filters>().slot(family) = Some(restored);
    Ok(())
}

/// Evaluates `packet` against `family`'s rules at `now`, with the address lists' entries as they
/// are at that moment, and advances the counters of the rules it matched.
///
/// Only the lists the rules name are read, so a verdict costs the size of those lists, not of every
/// list on the router.
pub fn verdict(router: &mut Router, family: Family, packet: &Packet, now: SimTime) -> Verdict {
    let mut lists: BTreeMap<String, Vec<firewall::ListEntry>> = BTreeMap::new();
    if let Some(t) = table(router, family) {
        for rule in t.rules() {
            for key in ["src-address-list", "dst-address-list"] {
                if let Some(v) = rule.get(key) {
                    let name = firewall::values::split_negation(v).1;
                    if !lists.contains_key(name) {
                        let entries = router.list(family).filter_entries(name);
                        lists.insert(name.to_owned(), entries);
                    }
                }
            }
        }
    }
    let lookup = |name: &str| lists.get(name).cloned().unwrap_or_default();
    table_mut(router, family).evaluate(packet, &lookup, now)
}

/// A firewall refusal in the router's words.
fn failure(r: Refusal) -> Failure {
    match r {
        Refusal::NotFound => Failure::not_found(),
        Refusal::BadRequest(detail) => Failure::bad_request(detail),
    }
}

impl FilterMenu {
    /// Every rule as the router prints it, in console order, with its id.
    fn rows(&self, router: &Router) -> Vec<(u32, Row<'static>)> {
        let Some(t) = table(router, self.0) else {
            return Vec::new();
        };
        let list = router.list(self.0);
        let exists = |name: &str| list.has_list(name);
        t.rules()
            .iter()
            .map(|rule| {
                let fields = t.row(rule, &exists);
                let mut row = Row::with_capacity(fields.len());
                for (k, v) in fields {
                    row.push(k, v);
                }
                (rule.id(), row)
            })
            .collect()
    }
}

impl MenuImpl for FilterMenu {
    fn spec(&self) -> &'static Spec {
        match self.0 {
            Family::V4 => &V4_SPEC,
            Family::V6 => &V6_SPEC,
        }
    }

    fn print(&self, router: &Router, query: &Query, _now: SimTime) -> Rows {
        Rows::Owned(
            self.rows(router)
                .into_iter()
                .map(|(_, r)| r)
                .filter(|r| query.matches(r))
                .collect(),
        )
    }

    fn item(&self, router: &Router, id: u32, _now: SimTime) -> Option<Rows> {
        let row = self.rows(router).into_iter().find(|(i, _)| *i == id)?.1;
        Some(Rows::Owned(vec![row]))
    }

    fn exists(&self, router: &Router, id: u32) -> bool {
        table(router, self.0).is_some_and(|t| t.get(id).is_some())
    }

    fn add(&self, router: &mut Router, args: &Args, _: &Context) -> Result<u32, Failure> {
        let id = table_mut(router, self.0)
            .add(args.pairs())
            .map_err(failure)?;
        parse_id(&id).ok_or_else(|| Failure::internal(format!("bad id {id}")))
    }

    fn set(&self, router: &mut Router, id: u32, args: &Args, _: &Context) -> Result<(), Failure> {
        table_mut(router, self.0)
            .set(Some(&format_id(id)), args.pairs())
            .map_err(failure)
    }

    fn remove(&self, router: &mut Router, id: u32) -> Result<(), Failure> {
        table_mut(router, self.0)
            .remove(Some(&format_id(id)))
            .map_err(failure)
    }

    fn other(
        &self,
        router: &mut Router,
        command: &'static Command,
        args: Args,
        _: &Context,
    ) -> Result<Outcome, Failure> {
        let t = table_mut(router, self.0);
        let numbers = args.get("numbers");
        let done = match command.name {
            "move" => t.move_rules(numbers, args.get("destination")),
            "comment" => t.comment(numbers, args.get("comment").unwrap_or_default()),
            "unset" => t.unset(numbers, args.get("value-name")),
            "reset-counters" => t.reset_counters(numbers),
            "reset-counters-all" => {
                t.reset_counters_all();
                Ok(())
            }
            _ => return Err(Failure::no_such_command()),
        };
        done.map_err(failure)?;
        let rows = match numbers {
            Some(n) => n.split(',').count(),
            None => t.rules().len(),
        };
        Ok(Outcome::Done { rows })
    }
}

/// A value `add` accepts for `key`, for tests that need a rule showing every field.
#[cfg(test)]
pub(crate) fn example_value(key: &str, v6: bool) -> &'static str {
    match key {
        "chain" | "jump-target" => "forward",
        "action" => "jump",
        "reject-with" => "icmp-admin-prohibited",
        "disabled" | "log" => "true",
        "src-address" | "dst-address" if v6 => "2001:db8::1",
        "src-address" | "dst-address" => "10.0.0.1",
        "in-interface" | "out-interface" => "ether1",
        "protocol" => "tcp",
        "src-port" | "dst-port" | "port" => "22",
        "connection-state" => "new",
        "address-list-timeout" => "1h",
        _ => "x",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::menus::Menu;
    use crate::model::users::Policies;

    fn ctx(now: SimTime) -> Context {
        Context {
            policies: Policies::ALL,
            now,
            wall_s: 1_700_000_000,
            user: None,
        }
    }

    fn run(
        r: &mut Router,
        menu: &str,
        cmd: &str,
        pairs: &[(&str, &str)],
    ) -> Result<Outcome, String> {
        let args = Args::from_pairs(pairs.iter().copied());
        r.run(Menu::at(menu).unwrap(), cmd, args, &ctx(0))
            .map_err(|e| {
                let status = match e.kind {
                    crate::model::failure::FailureKind::NotFound => 404,
                    _ => 400,
                };
                format!(
                    "{status} {}",
                    e.detail.map(|d| d.into_owned()).unwrap_or_default()
                )
            })
    }

    /// `(id, chain, action, extra)` of every rule in console order, `extra` being `key` of each.
    fn printed(r: &mut Router, menu: &str, key: &str) -> Vec<String> {
        let Ok(Outcome::Rows { rows, .. }) = run(r, menu, "print", &[]) else {
            panic!("print");
        };
        rows.iter()
            .map(|row| {
                format!(
                    "{} {} {}",
                    row.get(".id").unwrap(),
                    row.get("action").unwrap(),
                    row.get(key).unwrap_or("-")
                )
            })
            .collect()
    }

    const V4P: &str = "/ip/firewall/filter";
    const V6P: &str = "/ipv6/firewall/filter";

    fn guide(r: &mut Router) {
        run(r, V4P, "add", &[("chain", "forward"), ("action", "drop")]).unwrap();
        run(
            r,
            V4P,
            "add",
            &[
                ("chain", "forward"),
                ("src-address-list", "knocknoc-users"),
                ("place-before", "*1"),
                ("comment", "knocknoc"),
            ],
        )
        .unwrap();
    }

    #[test]
    fn commands_on_the_menu() {
        let mut r = Router::new(Version::default());
        guide(&mut r);
        assert_eq!(
            printed(&mut r, V4P, "comment"),
            ["*2 accept knocknoc", "*1 drop -"]
        );
        // `.id` names the items of `move`, as over the API; no destination: to the end.
        run(&mut r, V4P, "move", &[(".id", "*2")]).unwrap();
        assert_eq!(printed(&mut r, V4P, "comment")[1], "*2 accept knocknoc");
        run(
            &mut r,
            V4P,
            "move",
            &[("numbers", "*2"), ("destination", "*1")],
        )
        .unwrap();
        assert_eq!(printed(&mut r, V4P, "comment")[0], "*2 accept knocknoc");
        run(&mut r, V4P, "disable", &[(".id", "*2")]).unwrap();
        assert_eq!(printed(&mut r, V4P, "disabled")[0], "*2 accept true");
        run(&mut r, V4P, "enable", &[(".id", "*2")]).unwrap();
        assert_eq!(printed(&mut r, V4P, "disabled")[0], "*2 accept false");
        run(
            &mut r,
            V4P,
            "comment",
            &[(".id", "*1"), ("comment", "drop")],
        )
        .unwrap();
        run(
            &mut r,
            V4P,
            "unset",
            &[(".id", "*2"), ("value-name", "comment")],
        )
        .unwrap();
        assert_eq!(
            printed(&mut r, V4P, "comment"),
            ["*2 accept -", "*1 drop drop"]
        );
        run(&mut r, V4P, "set", &[(".id", "*1"), ("action", "reject")]).unwrap();
        let Ok(Outcome::Value { text, .. }) = run(
            &mut r,
            V4P,
            "get",
            &[(".id", "*1"), ("value-name", "action")],
        ) else {
            panic!("get");
        };
        assert_eq!(text, "reject");
        // Refusals in the router's words.
        assert_eq!(
            run(&mut r, V4P, "set", &[(".id", "*1"), ("place-before", "*2")]).unwrap_err(),
            "400 unknown parameter place-before"
        );
        assert_eq!(
            run(&mut r, V4P, "set", &[(".id", "*9"), ("action", "drop")]).unwrap_err(),
            "404 "
        );
        assert_eq!(
            run(&mut r, V4P, "move", &[(".id", "*9")]).unwrap_err(),
            "404 "
        );
        assert_eq!(
            run(&mut r, V4P, "add", &[("action", "drop")]).unwrap_err(),
            "400 missing =chain="
        );
        assert_eq!(
            run(
                &mut r,
                V4P,
                "add",
                &[("chain", "input"), ("hw-offload", "yes")]
            )
            .unwrap_err(),
            "400 unknown parameter hw-offload"
        );
        assert_eq!(
            run(
                &mut r,
                V6P,
                "add",
                &[("chain", "input"), ("action", "tarpit")]
            )
            .unwrap_err(),
            "400 input does not match any value of action"
        );
        run(&mut r, V4P, "remove", &[(".id", "*1")]).unwrap();
        assert_eq!(printed(&mut r, V4P, "comment"), ["*2 accept -"]);
        // The other family's table is separate.
        assert!(printed(&mut r, V6P, "comment").is_empty());
        // `hw-offload` is an argument before 7.21.
        let mut old = Router::new("7.20.8".parse().unwrap());
        run(
            &mut old,
            V4P,
            "add",
            &[("chain", "input"), ("hw-offload", "yes")],
        )
        .unwrap();
        assert_eq!(
            run(&mut old, V4P, "add", &[("chain", "input"), ("tos", "x")]).unwrap_err(),
            "400 unknown parameter tos"
        );
    }

    #[test]
    fn verdict_counts_on_the_rows_and_reads_lists_at_their_time() {
        let mut r = Router::new(Version::default());
        guide(&mut r);
        let list = Args::from_pairs([
            ("list", "knocknoc-users"),
            ("address", "198.51.100.7"),
            ("timeout", "1m"),
        ]);
        r.list_mut(Family::V4).add(&list, 0, 0).unwrap();
        let packet = Packet::new(
            "forward",
            "198.51.100.7".parse().unwrap(),
            "10.0.0.5".parse().unwrap(),
        );
        let v = verdict(&mut r, Family::V4, &packet, 1_000);
        assert_eq!(v.decision, firewall::Decision::Accept);
        assert_eq!(v.decisive().unwrap().id, 2);
        assert_eq!(printed(&mut r, V4P, "packets")[0], "*2 accept 1");
        assert_eq!(printed(&mut r, V4P, "bytes")[0], "*2 accept 60");
        // The entry has expired a minute later: the default drop decides.
        let v = verdict(&mut r, Family::V4, &packet, 61_000);
        assert_eq!(v.decision, firewall::Decision::Drop);
        assert_eq!(v.decisive().unwrap().id, 1);
        assert_eq!(printed(&mut r, V4P, "packets")[1], "*1 drop 1");
        run(&mut r, V4P, "reset-counters", &[(".id", "*1")]).unwrap();
        assert_eq!(
            printed(&mut r, V4P, "packets"),
            ["*2 accept 1", "*1 drop 0"]
        );
        run(&mut r, V4P, "reset-counters-all", &[]).unwrap();
        assert_eq!(printed(&mut r, V4P, "packets")[0], "*2 accept 0");
        // A reboot keeps the rules and zeroes the counters.
        verdict(&mut r, Family::V4, &packet, 62_000);
        r.reboot(63_000);
        assert_eq!(
            printed(&mut r, V4P, "packets"),
            ["*2 accept 0", "*1 drop 0"]
        );
    }

    #[test]
    fn invalid_follows_the_lists_entries() {
        let mut r = Router::new(Version::default());
        guide(&mut r);
        assert_eq!(printed(&mut r, V4P, "invalid")[0], "*2 accept true");
        let entry = Args::from_pairs([("list", "knocknoc-users"), ("address", "10.1.1.1")]);
        r.list_mut(Family::V4).add(&entry, 0, 0).unwrap();
        assert_eq!(printed(&mut r, V4P, "invalid")[0], "*2 accept false");
    }

    #[test]
    fn dumps_round_trip() {
        let mut r = Router::new(Version::default());
        guide(&mut r);
        run(&mut r, V4P, "remove", &[(".id", "*1")]).unwrap();
        let d = dump(&r, Family::V4);
        let mut back = Router::new(Version::default());
        restore(&mut back, Family::V4, &d).unwrap();
        assert_eq!(dump(&back, Family::V4), d);
        // The id counter survives: the next rule is *3, not *1.
        run(&mut back, V4P, "add", &[("chain", "input")]).unwrap();
        assert_eq!(printed(&mut back, V4P, "chain")[1], "*3 accept input");
        let mut bad = d.clone();
        bad.rules[0]
            .props
            .insert("action".into(), "frobnicate".into());
        assert!(restore(&mut back, Family::V4, &bad).is_err());
    }
}
