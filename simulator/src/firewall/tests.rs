//! Tests of the filter table's commands and printed rows, and of the verdict, as data-driven
//! cases: one `check` helper per area, many small cases.

use std::net::IpAddr;

use super::*;
use crate::Family;

type Spec<'a> = &'a [(&'a str, &'a str)];

fn table(family: Family, rules: &[Spec]) -> FilterTable {
    let mut t = FilterTable::new(Schema::latest(family));
    for r in rules {
        t.add(r.iter().copied()).expect("rule accepted");
    }
    t
}

fn no_lists(_: &str) -> bool {
    true
}

/// The printed rows, each as `key=value` words, for compact comparisons.
fn printed(t: &FilterTable) -> Vec<String> {
    t.rows(&no_lists)
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The order of the rules as their comments.
fn order(t: &FilterTable) -> Vec<&str> {
    t.rules()
        .iter()
        .map(|r| r.comment().unwrap_or("?"))
        .collect()
}

fn err(detail: &str) -> Result<(), Refusal> {
    Err(Refusal::bad_request(detail))
}

// ---------------------------------------------------------------------------------------------
// The table

#[test]
fn printed_rows_show_fixed_keys_and_only_what_was_written() {
    let t = table(
        Family::V4,
        &[
            &[("chain", "forward"), ("src-address-list", "trusted")],
            &[
                ("chain", "input"),
                ("action", "drop"),
                ("disabled", "no"),
                ("comment", "c"),
            ],
            &[
                ("chain", "input"),
                ("action", "drop"),
                ("log", "no"),
                ("log-prefix", ""),
            ],
            &[
                ("chain", "input"),
                ("protocol", "tcp"),
                ("dst-port", "22"),
                ("disabled", "yes"),
            ],
        ],
    );
    assert_eq!(
        printed(&t),
        [
            ".id=*1 action=accept bytes=0 chain=forward dynamic=false invalid=false packets=0 src-address-list=trusted",
            ".id=*2 action=drop bytes=0 chain=input comment=c disabled=false dynamic=false invalid=false packets=0",
            ".id=*3 action=drop bytes=0 chain=input dynamic=false invalid=false log=false log-prefix= packets=0",
            ".id=*4 action=accept bytes=0 chain=input disabled=true dst-port=22 dynamic=false invalid=false packets=0 protocol=tcp",
        ]
    );
}

/// One command on a small table and its outcome: the refusal, or the order of rules after it.
fn check_cmd(
    cmd: impl FnOnce(&mut FilterTable) -> Result<(), Refusal>,
    expected: Result<&[&str], Refusal>,
) {
    let mut t = table(
        Family::V4,
        &[
            &[("chain", "forward"), ("comment", "a")],
            &[("chain", "forward"), ("comment", "b")],
            &[("chain", "forward"), ("comment", "c")],
            &[("chain", "input"), ("comment", "d")],
        ],
    );
    let before = order(&t).iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let got = cmd(&mut t);
    match expected {
        Ok(want) => {
            assert_eq!(got, Ok(()));
            assert_eq!(order(&t), want);
        }
        Err(want) => {
            assert_eq!(got, Err(want));
            assert_eq!(order(&t), before, "a refused command changes nothing");
        }
    }
}

#[test]
fn add_and_place_before() {
    let add = |args: Vec<(&'static str, &'static str)>| {
        move |t: &mut FilterTable| t.add(args).map(|_| ())
    };
    check_cmd(
        add(vec![("chain", "forward"), ("comment", "n")]),
        Ok(&["a", "b", "c", "d", "n"]),
    );
    check_cmd(
        add(vec![
            ("chain", "forward"),
            ("comment", "n"),
            ("place-before", "*2"),
        ]),
        Ok(&["a", "n", "b", "c", "d"]),
    );
    check_cmd(
        add(vec![
            ("chain", "forward"),
            ("comment", "n"),
            ("place-before", "0"),
        ]),
        Ok(&["n", "a", "b", "c", "d"]),
    );
    check_cmd(
        add(vec![
            ("chain", "forward"),
            ("comment", "n"),
            ("place-before", "*99"),
        ]),
        Ok(&["a", "b", "c", "d", "n"]),
    );
    check_cmd(
        add(vec![("comment", "n")]),
        Err(Refusal::bad_request("missing =chain=")),
    );
    check_cmd(
        add(vec![("chain", "forward"), ("bogus", "1")]),
        Err(Refusal::bad_request("unknown parameter bogus")),
    );
    check_cmd(
        add(vec![("chain", "forward"), ("hop-limit", "equal:1")]),
        Err(Refusal::bad_request("unknown parameter hop-limit")),
    );
    check_cmd(
        add(vec![("chain", "forward"), ("action", "jump")]),
        Err(Refusal::bad_request("failure: no target chain specified")),
    );
    check_cmd(
        add(vec![("chain", "forward"), ("dst-port", "22")]),
        Err(Refusal::bad_request(schema::PORTS_NEED_PROTOCOL)),
    );
    check_cmd(
        add(vec![
            ("chain", "forward"),
            ("protocol", "icmp"),
            ("dst-port", "22"),
        ]),
        Err(Refusal::bad_request(schema::PORTS_NEED_PROTOCOL)),
    );
    check_cmd(
        add(vec![
            ("chain", "forward"),
            ("protocol", "!tcp"),
            ("port", "22"),
        ]),
        Err(Refusal::bad_request(schema::PORTS_NEED_PROTOCOL)),
    );
    check_cmd(
        add(vec![
            ("chain", "forward"),
            ("protocol", "udp"),
            ("dst-port", "53"),
            ("comment", "n"),
        ]),
        Ok(&["a", "b", "c", "d", "n"]),
    );
    check_cmd(
        add(vec![("chain", "forward"), ("copy-from", "*9")]),
        Err(Refusal::NotFound),
    );
}

#[test]
fn tarpit_is_ipv4_only() {
    let mut v6 = FilterTable::new(Schema::latest(Family::V6));
    assert_eq!(
        v6.add([("chain", "input"), ("action", "tarpit")]),
        Err(Refusal::bad_request(
            "input does not match any value of action"
        ))
    );
    let mut v4 = FilterTable::new(Schema::latest(Family::V4));
    assert_eq!(
        v4.add([("chain", "input"), ("action", "tarpit")]),
        Ok("*1".to_owned())
    );
}

#[test]
fn move_rules() {
    let mv = |numbers: Option<&'static str>, dest: Option<&'static str>| {
        move |t: &mut FilterTable| t.move_rules(numbers, dest)
    };
    check_cmd(mv(Some("*3"), Some("*1")), Ok(&["c", "a", "b", "d"]));
    check_cmd(mv(Some("*1"), Some("*3")), Ok(&["b", "a", "c", "d"]));
    // A comma list moves as a block, in the order given.
    check_cmd(mv(Some("*4,*3"), Some("*1")), Ok(&["d", "c", "a", "b"]));
    // No destination, or one that does not exist: to the end.
    check_cmd(mv(Some("*1"), None), Ok(&["b", "c", "d", "a"]));
    check_cmd(mv(Some("*1"), Some("*77")), Ok(&["b", "c", "d", "a"]));
    // Console positions and comments name rules too; a destination in another chain is allowed.
    check_cmd(mv(Some("0"), Some("3")), Ok(&["b", "c", "a", "d"]));
    check_cmd(mv(Some("d"), Some("a")), Ok(&["d", "a", "b", "c"]));
    check_cmd(mv(Some("*9"), Some("*1")), Err(Refusal::NotFound));
    check_cmd(mv(Some("*1,*9"), Some("*3")), Err(Refusal::NotFound));
    check_cmd(
        mv(Some("*2"), Some("*2")),
        Err(Refusal::bad_request(
            "failure: can not move object before itself",
        )),
    );
    check_cmd(
        mv(None, Some("*2")),
        Err(Refusal::bad_request("missing =.id=")),
    );
}

#[test]
fn remove_set_and_comment() {
    check_cmd(|t| t.remove(Some("*2,*3")), Ok(&["a", "d"]));
    check_cmd(|t| t.remove(Some("*2,*9")), Err(Refusal::NotFound));
    check_cmd(|t| t.comment(Some("*1"), "z"), Ok(&["z", "b", "c", "d"]));
    check_cmd(
        |t| t.set(Some("*1"), [("comment", "z")]),
        Ok(&["z", "b", "c", "d"]),
    );
    check_cmd(
        |t| t.set(Some("*1"), [("place-before", "*3")]),
        Err(Refusal::bad_request("unknown parameter place-before")),
    );
    // All or nothing: the second rule's change is refused, so the first keeps its comment too.
    check_cmd(
        |t| t.set(Some("*1,*2"), [("comment", "z"), ("action", "jump")]),
        Err(Refusal::bad_request("failure: no target chain specified")),
    );
}

#[test]
fn enable_disable_unset() {
    let mut t = table(
        Family::V4,
        &[&[
            ("chain", "input"),
            ("src-address", "10.0.0.0/8"),
            ("action", "drop"),
        ]],
    );
    let disabled = |t: &FilterTable| {
        t.row(&t.rules()[0], &no_lists)
            .iter()
            .find(|(k, _)| *k == "disabled")
            .map(|(_, v)| v.clone())
    };
    assert_eq!(disabled(&t), None);
    t.set_disabled(Some("*1"), true).unwrap();
    assert_eq!(disabled(&t).as_deref(), Some("true"));
    t.set_disabled(Some("*1"), false).unwrap();
    assert_eq!(
        disabled(&t).as_deref(),
        Some("false"),
        "stays present once written"
    );
    assert_eq!(
        t.unset(Some("*1"), Some("disabled")),
        err("input does not match any value of value-name")
    );
    assert_eq!(
        t.unset(Some("*1"), Some("log")),
        err("input does not match any value of value-name")
    );
    assert_eq!(
        t.unset(Some("*1"), Some("bogus")),
        err("input does not match any value of value-name")
    );
    t.unset(Some("*1"), Some("src-address")).unwrap();
    assert_eq!(t.rules()[0].get("src-address"), None);
    t.unset(Some("*1"), Some("action")).unwrap();
    assert_eq!(t.rules()[0].action(), "accept");
    // An empty value clears a matcher as well.
    t.set(Some("*1"), [("dst-address", "192.0.2.1")]).unwrap();
    t.set(Some("*1"), [("dst-address", "")]).unwrap();
    assert_eq!(t.rules()[0].get("dst-address"), None);
}

#[test]
fn invalid_flag_follows_jump_targets_and_lists() {
    let mut t = table(
        Family::V4,
        &[
            &[
                ("chain", "forward"),
                ("action", "jump"),
                ("jump-target", "grants"),
            ],
            &[("chain", "forward"), ("src-address-list", "!known")],
        ],
    );
    let invalid = |t: &FilterTable, lists: &dyn Fn(&str) -> bool| -> Vec<String> {
        t.rows(lists)
            .iter()
            .map(|r| r.iter().find(|(k, _)| *k == "invalid").unwrap().1.clone())
            .collect()
    };
    assert_eq!(invalid(&t, &|_| false), ["true", "true"]);
    t.add([("chain", "grants")]).unwrap();
    assert_eq!(invalid(&t, &|l| l == "known"), ["false", "false", "false"]);
}

#[test]
fn copy_from_keeps_properties_not_counters() {
    let mut t = table(
        Family::V4,
        &[&[
            ("chain", "forward"),
            ("src-address-list", "l"),
            ("comment", "x"),
        ]],
    );
    t.evaluate(
        &packet("forward", "192.0.2.1", "10.0.0.1"),
        &|_| vec![entry("192.0.2.1", None)],
        0,
    );
    assert_eq!(t.rules()[0].counters(), (60, 1));
    let id = t.add([("copy-from", "*1"), ("comment", "y")]).unwrap();
    let copy = t.rules().iter().find(|r| r.id_text() == id).unwrap();
    assert_eq!(copy.get("src-address-list"), Some("l"));
    assert_eq!(copy.comment(), Some("y"));
    assert_eq!(copy.counters(), (0, 0));
}

#[test]
fn counters_reset() {
    let mut t = table(
        Family::V4,
        &[&[("chain", "forward")], &[("chain", "input")]],
    );
    t.evaluate(&packet("forward", "192.0.2.1", "10.0.0.1"), &|_| vec![], 0);
    t.evaluate(&packet("input", "192.0.2.1", "10.0.0.1"), &|_| vec![], 0);
    assert_eq!(t.rules()[0].counters(), (60, 1));
    t.reset_counters(Some("*1")).unwrap();
    assert_eq!(t.rules()[0].counters(), (0, 0));
    assert_eq!(t.rules()[1].counters(), (60, 1));
    assert_eq!(t.reset_counters(Some("*5")), Err(Refusal::NotFound));
    t.reset_counters_all();
    assert_eq!(t.rules()[1].counters(), (0, 0));
}

// ---------------------------------------------------------------------------------------------
// The verdict

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn packet(chain: &str, src: &str, dst: &str) -> Packet {
    Packet::new(chain, ip(src), ip(dst))
}

fn tcp(chain: &str, src: &str, dst: &str, port: u16) -> Packet {
    let mut p = packet(chain, src, dst);
    p.protocol = Some(6);
    p.src_port = Some(40_000);
    p.dst_port = Some(port);
    p
}

fn entry(address: &str, expires_at: Option<SimTime>) -> ListEntry {
    ListEntry {
        address: address.to_owned(),
        disabled: false,
        expires_at,
    }
}

/// Who decided: the console index of a rule, the chain default, or nothing.
#[derive(Debug, PartialEq)]
enum By {
    Rule(usize),
    Default,
    Nothing,
}

use crate::clock::SimTime;

/// Evaluates `p` at time 1000 against `rules`, with `lists` giving `(list, entry)` pairs, and checks
/// the decision and what decided it. Returns the verdict for further checks.
fn check(
    family: Family,
    rules: &[Spec],
    lists: &[(&str, ListEntry)],
    p: Packet,
    decision: Decision,
    by: By,
) -> Verdict {
    let mut t = table(family, rules);
    let lookup = |name: &str| -> Vec<ListEntry> {
        lists
            .iter()
            .filter(|(l, _)| *l == name)
            .map(|(_, e)| e.clone())
            .collect()
    };
    let v = t.evaluate(&p, &lookup, 1_000);
    let got = match &v.decided_by {
        DecidedBy::Rule(_) => By::Rule(v.decisive().unwrap().index),
        DecidedBy::ChainDefault(_) => By::Default,
        DecidedBy::Nothing => By::Nothing,
    };
    assert_eq!((v.decision, got), (decision, by), "{v:#?}");
    v
}

const LIST: &str = "knocknoc-users";
const ACCEPT_LIST: Spec = &[
    ("chain", "forward"),
    ("src-address-list", LIST),
    ("action", "accept"),
    ("comment", "grants"),
];
const DROP_ALL: Spec = &[
    ("chain", "forward"),
    ("action", "drop"),
    ("comment", "default drop"),
];
const GRANTED: &str = "198.51.100.7";
const OTHER: &str = "203.0.113.9";
const SERVER: &str = "10.0.0.5";

fn granted() -> Vec<(&'static str, ListEntry)> {
    vec![(LIST, entry(GRANTED, Some(300_000)))]
}

#[test]
fn vendor_guide_accept_above_drop() {
    let v = check(
        Family::V4,
        &[ACCEPT_LIST, DROP_ALL],
        &granted(),
        tcp("forward", GRANTED, SERVER, 22),
        Decision::Accept,
        By::Rule(0),
    );
    let rule = v.decisive().unwrap();
    assert_eq!(
        (rule.id_text().as_str(), rule.comment.as_deref()),
        ("*1", Some("grants"))
    );
    assert_eq!(rule.matchers.len(), 1);
    assert_eq!(rule.matchers[0].outcome, Outcome::Match);
    assert!(
        rule.matchers[0].why.contains("4m59s left"),
        "{}",
        rule.matchers[0].why
    );
    check(
        Family::V4,
        &[ACCEPT_LIST, DROP_ALL],
        &granted(),
        tcp("forward", OTHER, SERVER, 22),
        Decision::Drop,
        By::Rule(1),
    );
}

#[test]
fn rule_moved_below_the_drop() {
    let mut t = table(Family::V4, &[ACCEPT_LIST, DROP_ALL]);
    t.move_rules(Some("*1"), None).unwrap();
    let lookup = |_: &str| vec![entry(GRANTED, None)];
    let v = t.evaluate(&tcp("forward", GRANTED, SERVER, 22), &lookup, 0);
    assert_eq!(v.decision, Decision::Drop);
    assert_eq!(
        v.decisive().unwrap().comment.as_deref(),
        Some("default drop")
    );
    // Only the decisive rule counted the packet: the accept below it was never reached.
    assert_eq!(t.rules()[0].counters(), (60, 1));
    assert_eq!(t.rules()[1].counters(), (0, 0));
}

#[test]
fn disabled_rule_is_skipped() {
    let disabled: Spec = &[
        ("chain", "forward"),
        ("src-address-list", LIST),
        ("disabled", "yes"),
    ];
    let v = check(
        Family::V4,
        &[disabled, DROP_ALL],
        &granted(),
        packet("forward", GRANTED, SERVER),
        Decision::Drop,
        By::Rule(1),
    );
    assert_eq!(v.steps[0].outcome, Outcome::Disabled);
}

#[test]
fn negated_list() {
    let negated: Spec = &[
        ("chain", "forward"),
        ("src-address-list", "!knocknoc-users"),
        ("action", "accept"),
    ];
    check(
        Family::V4,
        &[negated, DROP_ALL],
        &granted(),
        packet("forward", GRANTED, SERVER),
        Decision::Drop,
        By::Rule(1),
    );
    check(
        Family::V4,
        &[negated, DROP_ALL],
        &granted(),
        packet("forward", OTHER, SERVER),
        Decision::Accept,
        By::Rule(0),
    );
}

#[test]
fn expired_disabled_and_covering_entries() {
    let rules = [ACCEPT_LIST, DROP_ALL];
    let expired = vec![(LIST, entry(GRANTED, Some(1_000)))];
    let v = check(
        Family::V4,
        &rules,
        &expired,
        packet("forward", GRANTED, SERVER),
        Decision::Drop,
        By::Rule(1),
    );
    assert!(
        v.steps[0].matchers[0].why.contains("expired"),
        "{:?}",
        v.steps[0].matchers[0]
    );
    let off = vec![(
        LIST,
        ListEntry {
            disabled: true,
            ..entry(GRANTED, None)
        },
    )];
    check(
        Family::V4,
        &rules,
        &off,
        packet("forward", GRANTED, SERVER),
        Decision::Drop,
        By::Rule(1),
    );
    let prefix = vec![(LIST, entry("198.51.100.0/24", None))];
    check(
        Family::V4,
        &rules,
        &prefix,
        packet("forward", GRANTED, SERVER),
        Decision::Accept,
        By::Rule(0),
    );
    let range = vec![(LIST, entry("198.51.100.1-198.51.100.9", None))];
    check(
        Family::V4,
        &rules,
        &range,
        packet("forward", GRANTED, SERVER),
        Decision::Accept,
        By::Rule(0),
    );
    // A DNS-name entry might resolve to the address: the simulator cannot say.
    let named = vec![(LIST, entry("host.example.com", None))];
    check(
        Family::V4,
        &rules,
        &named,
        packet("forward", GRANTED, SERVER),
        Decision::Unknown,
        By::Rule(0),
    );
}

#[test]
fn no_rule_decides_default_accept() {
    check(
        Family::V4,
        &[],
        &[],
        packet("forward", OTHER, SERVER),
        Decision::Accept,
        By::Default,
    );
    check(
        Family::V4,
        &[DROP_ALL],
        &[],
        packet("input", OTHER, SERVER),
        Decision::Accept,
        By::Default,
    );
    check(
        Family::V4,
        &[DROP_ALL],
        &[],
        packet("grants", OTHER, SERVER),
        Decision::Unknown,
        By::Nothing,
    );
    check(
        Family::V4,
        &[DROP_ALL],
        &[],
        packet("forward", "2001:db8::1", "2001:db8::2"),
        Decision::Unknown,
        By::Nothing,
    );
}

#[test]
fn jump_and_return() {
    let rules: &[Spec] = &[
        &[
            ("chain", "forward"),
            ("action", "jump"),
            ("jump-target", "grants"),
        ],
        DROP_ALL,
        &[
            ("chain", "grants"),
            ("src-address", "192.0.2.0/24"),
            ("action", "return"),
        ],
        &[
            ("chain", "grants"),
            ("src-address-list", LIST),
            ("action", "accept"),
        ],
    ];
    let lists = vec![
        (LIST, entry(GRANTED, None)),
        (LIST, entry("192.0.2.8", None)),
    ];
    let v = check(
        Family::V4,
        rules,
        &lists,
        packet("forward", GRANTED, SERVER),
        Decision::Accept,
        By::Rule(3),
    );
    assert_eq!(v.decisive().unwrap().depth, 1);
    // Returned early, or fell off the end of the user chain: back to forward, then the drop.
    check(
        Family::V4,
        rules,
        &lists,
        packet("forward", "192.0.2.8", SERVER),
        Decision::Drop,
        By::Rule(1),
    );
    check(
        Family::V4,
        rules,
        &lists,
        packet("forward", OTHER, SERVER),
        Decision::Drop,
        By::Rule(1),
    );
    // `return` in a built-in chain ends it with the default.
    let ret: Spec = &[("chain", "forward"), ("action", "return")];
    check(
        Family::V4,
        &[ret, DROP_ALL],
        &[],
        packet("forward", OTHER, SERVER),
        Decision::Accept,
        By::Rule(0),
    );
}

#[test]
fn jump_loop_is_bounded() {
    let rules: &[Spec] = &[
        &[
            ("chain", "forward"),
            ("action", "jump"),
            ("jump-target", "a"),
        ],
        &[("chain", "a"), ("action", "jump"), ("jump-target", "b")],
        &[("chain", "b"), ("action", "jump"), ("jump-target", "a")],
    ];
    let v = check(
        Family::V4,
        rules,
        &[],
        packet("forward", OTHER, SERVER),
        Decision::Unknown,
        By::Rule(2),
    );
    assert!(
        v.reasons.last().unwrap().contains("deeper than"),
        "{:?}",
        v.reasons
    );
}

#[test]
fn unknown_matchers_are_never_ignored() {
    let syn_drop: Spec = &[
        ("chain", "forward"),
        ("protocol", "tcp"),
        ("tcp-flags", "syn"),
        ("action", "drop"),
    ];
    let v = check(
        Family::V4,
        &[syn_drop, ACCEPT_LIST],
        &granted(),
        tcp("forward", GRANTED, SERVER, 22),
        Decision::Unknown,
        By::Rule(0),
    );
    let m = &v.decisive().unwrap().matchers;
    assert_eq!(
        m.iter().map(|m| (m.key, m.outcome)).collect::<Vec<_>>(),
        [
            ("protocol", Outcome::Match),
            ("tcp-flags", Outcome::Unknown)
        ]
    );
    // A definite mismatch wins over an unknown matcher: the rule cannot apply.
    check(
        Family::V4,
        &[syn_drop, ACCEPT_LIST],
        &granted(),
        packet("forward", GRANTED, SERVER),
        Decision::Unknown,
        By::Rule(0),
    );
    let mut udp = packet("forward", GRANTED, SERVER);
    udp.protocol = Some(17);
    check(
        Family::V4,
        &[syn_drop, ACCEPT_LIST],
        &granted(),
        udp,
        Decision::Accept,
        By::Rule(1),
    );
    // An unknown rule whose action cannot decide is noted and passed.
    let log: Spec = &[
        ("chain", "forward"),
        ("in-interface-list", "WAN"),
        ("action", "log"),
    ];
    let v = check(
        Family::V4,
        &[log, ACCEPT_LIST],
        &granted(),
        packet("forward", GRANTED, SERVER),
        Decision::Accept,
        By::Rule(1),
    );
    assert!(
        v.reasons[0].contains("could not be evaluated"),
        "{:?}",
        v.reasons
    );
    // A packet field the caller did not give is unknown, not a mismatch.
    let iface: Spec = &[
        ("chain", "forward"),
        ("in-interface", "ether1"),
        ("action", "drop"),
    ];
    check(
        Family::V4,
        &[iface],
        &[],
        packet("forward", OTHER, SERVER),
        Decision::Unknown,
        By::Rule(0),
    );
    let mut on_lan = packet("forward", OTHER, SERVER);
    on_lan.in_interface = Some("ether2".into());
    check(
        Family::V4,
        &[iface],
        &[],
        on_lan,
        Decision::Accept,
        By::Default,
    );
}

#[test]
fn matchers() {
    let ssh: Spec = &[
        ("chain", "input"),
        ("protocol", "tcp"),
        ("dst-port", "22,2200-2299"),
        ("action", "drop"),
    ];
    check(
        Family::V4,
        &[ssh],
        &[],
        tcp("input", OTHER, SERVER, 22),
        Decision::Drop,
        By::Rule(0),
    );
    check(
        Family::V4,
        &[ssh],
        &[],
        tcp("input", OTHER, SERVER, 2222),
        Decision::Drop,
        By::Rule(0),
    );
    check(
        Family::V4,
        &[ssh],
        &[],
        tcp("input", OTHER, SERVER, 443),
        Decision::Accept,
        By::Default,
    );
    let not_ssh: Spec = &[
        ("chain", "input"),
        ("protocol", "tcp"),
        ("dst-port", "!22"),
        ("action", "reject"),
    ];
    check(
        Family::V4,
        &[not_ssh],
        &[],
        tcp("input", OTHER, SERVER, 80),
        Decision::Reject,
        By::Rule(0),
    );
    check(
        Family::V4,
        &[not_ssh],
        &[],
        tcp("input", OTHER, SERVER, 22),
        Decision::Accept,
        By::Default,
    );
    let either: Spec = &[
        ("chain", "input"),
        ("protocol", "tcp"),
        ("port", "40000"),
        ("action", "tarpit"),
    ];
    check(
        Family::V4,
        &[either],
        &[],
        tcp("input", OTHER, SERVER, 80),
        Decision::Tarpit,
        By::Rule(0),
    );
    let nets: Spec = &[
        ("chain", "forward"),
        ("src-address", "!203.0.113.0/24"),
        ("dst-address", "10.0.0.0/8"),
        ("action", "drop"),
    ];
    check(
        Family::V4,
        &[nets],
        &[],
        packet("forward", OTHER, SERVER),
        Decision::Accept,
        By::Default,
    );
    check(
        Family::V4,
        &[nets],
        &[],
        packet("forward", GRANTED, SERVER),
        Decision::Drop,
        By::Rule(0),
    );
    check(
        Family::V4,
        &[nets],
        &[],
        packet("forward", GRANTED, "192.0.2.1"),
        Decision::Accept,
        By::Default,
    );
    let est: Spec = &[
        ("chain", "forward"),
        ("connection-state", "established,related"),
        ("action", "fasttrack-connection"),
    ];
    let mut p = packet("forward", OTHER, SERVER);
    check(
        Family::V4,
        &[est, DROP_ALL],
        &[],
        p.clone(),
        Decision::Drop,
        By::Rule(1),
    );
    p.connection_state = "established".into();
    check(
        Family::V4,
        &[est, DROP_ALL],
        &[],
        p,
        Decision::Accept,
        By::Rule(0),
    );
    let out: Spec = &[
        ("chain", "forward"),
        ("out-interface", "!ether1"),
        ("action", "drop"),
    ];
    let mut p = packet("forward", OTHER, SERVER);
    p.out_interface = Some("ether1".into());
    check(Family::V4, &[out], &[], p, Decision::Accept, By::Default);
}

#[test]
fn ipv6() {
    let rules: &[Spec] = &[
        &[
            ("chain", "forward"),
            ("src-address-list", LIST),
            ("comment", "grants"),
        ],
        &[
            ("chain", "forward"),
            ("protocol", "icmpv6"),
            ("action", "accept"),
        ],
        &[("chain", "forward"), ("action", "drop")],
    ];
    let lists = vec![(LIST, entry("2001:db8:1::/48", None))];
    check(
        Family::V6,
        rules,
        &lists,
        tcp("forward", "2001:db8:1::7", "2001:db8:2::5", 22),
        Decision::Accept,
        By::Rule(0),
    );
    check(
        Family::V6,
        rules,
        &lists,
        tcp("forward", "2001:db8:9::7", "2001:db8:2::5", 22),
        Decision::Drop,
        By::Rule(2),
    );
    // Without a protocol the icmpv6 rule might apply: the verdict says it cannot tell.
    check(
        Family::V6,
        rules,
        &lists,
        packet("forward", "2001:db8:9::7", "2001:db8:2::5"),
        Decision::Unknown,
        By::Rule(1),
    );
    let mut ping = packet("forward", "2001:db8:9::7", "2001:db8:2::5");
    ping.protocol = Some(58);
    check(
        Family::V6,
        rules,
        &lists,
        ping,
        Decision::Accept,
        By::Rule(1),
    );
}

#[test]
fn additions_and_counters_along_the_walk() {
    let rules: &[Spec] = &[
        &[
            ("chain", "input"),
            ("protocol", "tcp"),
            ("dst-port", "22"),
            ("action", "add-src-to-address-list"),
            ("address-list", "ssh-seen"),
            ("address-list-timeout", "1m"),
        ],
        &[("chain", "input"), ("action", "passthrough")],
        &[
            ("chain", "input"),
            ("src-address-list", "ssh-seen"),
            ("action", "drop"),
        ],
    ];
    let mut t = table(Family::V4, rules);
    let mut p = tcp("input", OTHER, SERVER, 22);
    p.size = 100;
    let v = t.evaluate(&p, &|_| vec![], 0);
    assert_eq!(v.decision, Decision::Drop);
    assert_eq!(v.decisive().unwrap().index, 2);
    assert_eq!(
        v.list_additions,
        [ListAddition {
            list: "ssh-seen".into(),
            address: ip(OTHER),
            timeout: "1m".into(),
            by: 1
        }]
    );
    // Every rule the packet matched counted it, the non-terminating ones included.
    let counters: Vec<_> = t.rules().iter().map(|r| r.counters()).collect();
    assert_eq!(counters, [(100, 1), (100, 1), (100, 1)]);
    // A packet to another port is not added, so the drop does not apply.
    let v = t.evaluate(&tcp("input", OTHER, SERVER, 80), &|_| vec![], 0);
    assert_eq!(
        (v.decision, v.decided_by.clone()),
        (Decision::Accept, DecidedBy::ChainDefault("input".into()))
    );
    assert!(v.list_additions.is_empty());
}
