//! Tests of the interpreter against a small in-test router: a `Vec` of address-list entries
//! behind the real menu shapes (the catalog is the `/console/inspect` subset of RouterOS 7.23.3
//! for the two address-list menus and `/log`).
//!
//! The table answers as the simulator's model does for the cases exercised here: a duplicate add
//! is `failure: already have such entry`, an unknown id `no such item`.

use std::time::Duration;

use proptest::prelude::*;

use super::*;

/// The parts of the 7.23.3 schema the tests use (`routeros-schema/7.23.3.json`, `menus`).
fn schema() -> serde_json::Value {
    let entry_args = serde_json::json!({
        "_type": "cmd", "address": {"_type": "arg"}, "comment": {"_type": "arg"},
        "disabled": {"_type": "arg"}, "dynamic": {"_type": "arg"}, "list": {"_type": "arg"},
        "timeout": {"_type": "arg"}, "copy-from": {"_type": "arg"}
    });
    let mut set = entry_args.clone();
    set["numbers"] = serde_json::json!({"_type": "arg"});
    let list_menu = serde_json::json!({
        "_type": "dir",
        "add": entry_args,
        "set": set,
        "remove": {"_type": "cmd", "numbers": {"_type": "arg"}},
        "enable": {"_type": "cmd", "numbers": {"_type": "arg"}},
        "disable": {"_type": "cmd", "numbers": {"_type": "arg"}},
        "find": {"_type": "cmd", "where": {"_type": "arg"}},
        "get": {"_type": "cmd", "number": {"_type": "arg"}, "value-name": {"_type": "arg"},
                "as-string": {"_type": "arg"}},
        "print": {"_type": "cmd", "as-value": {"_type": "arg"}, "count-only": {"_type": "arg"},
                  "where": {"_type": "arg"}, "detail": {"_type": "arg"}}
    });
    serde_json::json!({
        "/ip/firewall/address-list": list_menu.clone(),
        "/ipv6/firewall/address-list": list_menu,
        "/log": {"_type": "dir",
            "info": {"_type": "cmd", "message": {"_type": "arg"}},
            "warning": {"_type": "cmd", "message": {"_type": "arg"}},
            "error": {"_type": "cmd", "message": {"_type": "arg"}},
            "debug": {"_type": "cmd", "message": {"_type": "arg"}},
            "print": {"_type": "cmd", "where": {"_type": "arg"}}}
    })
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    id: String,
    menu: String,
    fields: Vec<(String, String)>,
}

impl Entry {
    fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

#[derive(Debug)]
struct TestHost {
    catalog: SchemaCatalog,
    entries: Vec<Entry>,
    next_id: u32,
    out: Vec<String>,
    logs: Vec<(LogLevel, String)>,
    clock: Duration,
    globals: Globals,
    calls: Vec<Call>,
}

impl TestHost {
    fn new() -> Self {
        Self {
            catalog: SchemaCatalog::from_menus(&schema()),
            entries: Vec::new(),
            next_id: 1,
            out: Vec::new(),
            logs: Vec::new(),
            clock: Duration::ZERO,
            globals: Globals::default(),
            calls: Vec::new(),
        }
    }

    fn seed(&mut self, list: &str, address: &str, comment: &str) {
        let call = Call {
            menu: words("ip/firewall/address-list"),
            command: "add".into(),
            args: vec![
                ("list".into(), Value::str(list)),
                ("address".into(), Value::str(address)),
                ("comment".into(), Value::str(comment)),
            ],
            selected: None,
        };
        self.run(call).expect("seed entry");
        self.calls.clear();
    }

    fn addresses(&self, list: &str) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.get("list") == list)
            .map(|e| e.get("address").to_owned())
            .collect()
    }

    fn ids(&self, v: &Value) -> Result<Vec<usize>, Failure> {
        let mut out = Vec::new();
        let texts: Vec<String> = match v {
            Value::Array(a) => a.values().map(Value::to_string).collect(),
            other => other
                .arg_text()
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        for t in texts {
            match self.entries.iter().position(|e| e.id == t) {
                Some(i) => out.push(i),
                None => return Err(Failure::Error("no such item".into())),
            }
        }
        Ok(out)
    }
}

fn words(p: &str) -> Vec<String> {
    p.split('/')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Catalog for TestHost {
    fn node(&self, path: &[String]) -> Node {
        self.catalog.node(path)
    }
}

impl Host for TestHost {
    fn run(&mut self, call: Call) -> Result<Value, Failure> {
        self.calls.push(call.clone());
        let menu = call.menu.join("/");
        let fields: Vec<(String, String)> = call
            .args
            .iter()
            .filter(|(n, _)| !matches!(n.as_str(), "numbers" | "number" | "value-name"))
            .map(|(n, v)| (n.clone(), v.arg_text()))
            .collect();
        match call.command.as_str() {
            "add" => {
                let e = Entry {
                    id: format!("*{:X}", self.next_id),
                    menu,
                    fields,
                };
                if e.get("list").is_empty() {
                    return Err(Failure::Error("failure: missing list".into()));
                }
                if self.entries.iter().any(|o| {
                    o.menu == e.menu
                        && o.get("list") == e.get("list")
                        && o.get("address") == e.get("address")
                }) {
                    return Err(Failure::Error("failure: already have such entry".into()));
                }
                self.next_id += 1;
                let id = e.id.clone();
                self.entries.push(e);
                Ok(Value::Id(id))
            }
            "remove" => {
                let mut idx = self.ids(call.arg("numbers").unwrap_or(&Value::Nothing))?;
                if let Some(sel) = &call.selected {
                    idx.extend(
                        sel.iter()
                            .filter_map(|s| self.entries.iter().position(|e| &e.id == s)),
                    );
                }
                idx.sort_unstable();
                idx.dedup();
                for i in idx.into_iter().rev() {
                    self.entries.remove(i);
                }
                Ok(Value::Nothing)
            }
            "set" => {
                for i in self.ids(call.arg("numbers").unwrap_or(&Value::Nothing))? {
                    for (n, v) in &fields {
                        let e = &mut self.entries[i];
                        match e.fields.iter_mut().find(|(k, _)| k == n) {
                            Some(slot) => slot.1 = v.clone(),
                            None => e.fields.push((n.clone(), v.clone())),
                        }
                    }
                }
                Ok(Value::Nothing)
            }
            "get" => {
                let idx = self.ids(call.arg("number").unwrap_or(&Value::Nothing))?;
                let (Some(&i), Some(name)) = (idx.first(), call.arg("value-name")) else {
                    return Err(Failure::Error("no such item".into()));
                };
                Ok(Value::str(self.entries[i].get(&name.to_string())))
            }
            "print" => {
                let rows: Vec<&Entry> = self
                    .entries
                    .iter()
                    .filter(|e| e.menu == menu)
                    .filter(|e| call.selected.as_ref().is_none_or(|s| s.contains(&e.id)))
                    .collect();
                if call.arg("count-only").is_some() {
                    return Ok(Value::Num(rows.len() as i64));
                }
                let lines: Vec<String> = rows
                    .iter()
                    .map(|e| format!("{} {} {}", e.id, e.get("list"), e.get("address")))
                    .collect();
                for l in lines {
                    self.out.push(l);
                }
                Ok(Value::Nothing)
            }
            other => Err(Failure::Error(format!("{other} is not in the test router"))),
        }
    }

    fn rows(&mut self, menu: &[String]) -> Result<Vec<Row>, Failure> {
        let menu = menu.join("/");
        Ok(self
            .entries
            .iter()
            .filter(|e| e.menu == menu)
            .map(|e| Row {
                id: e.id.clone(),
                fields: e.fields.clone(),
            })
            .collect())
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        self.logs.push((level, message.to_owned()));
    }

    fn put(&mut self, line: &str) {
        self.out.push(line.to_owned());
    }

    fn delay(&mut self, d: Duration) -> Result<(), Failure> {
        self.clock += d;
        Ok(())
    }

    fn globals(&mut self) -> &mut Globals {
        &mut self.globals
    }

    fn job_name(&self) -> Option<String> {
        Some("importer".into())
    }
}

/// Runs `source` on a fresh host; returns the host and the result.
fn exec(source: &str) -> (TestHost, Result<Outcome, ScriptError>) {
    let mut host = TestHost::new();
    let r = run(source, &mut host, &Limits::default());
    (host, r)
}

/// Checks the `:put` output of a script that must succeed.
fn check(source: &str, expected: &[&str]) {
    let (host, r) = exec(source);
    if let Err(e) = r {
        panic!("{source:?} failed: {e}");
    }
    assert_eq!(host.out, expected, "output of {source:?}");
}

/// Checks the error a script stops with.
fn check_err(source: &str, expected: &str) {
    let (_, r) = exec(source);
    match r {
        Ok(_) => panic!("{source:?} succeeded, expected {expected:?}"),
        Err(e) => assert_eq!(e.to_string(), expected, "error of {source:?}"),
    }
}

#[test]
fn values_and_types() {
    check(":put [:typeof 10]", &["num"]);
    check(":put [:typeof \"a\"]", &["str"]);
    check(
        ":put [:typeof 1.2.3.4]; :put [:typeof 10.0.0.0/8]",
        &["ip", "ip-prefix"],
    );
    check(
        ":put [:typeof ::1]; :put [:typeof 2001:db8::/32]",
        &["ip6", "ip6-prefix"],
    );
    check(
        ":put [:typeof 1h]; :put [:typeof true]; :put [:typeof {1;2}]",
        &["time", "bool", "array"],
    );
    check(
        ":put [:typeof *1A]; :put [:typeof [:find \"a\" \"b\"]]",
        &["id", "nil"],
    );
    check(
        ":local a; :put [:typeof $a]; :put [:typeof [:nothing]]",
        &["nothing", "nothing"],
    );
    check(
        ":put 1h30m; :put 90s; :put 8d",
        &["01:30:00", "00:01:30", "1w1d00:00:00"],
    );
    check(
        ":put (1h + 30m); :put (2h - 1h); :put (1h * 2); :put (1h / 2)",
        &["01:30:00", "01:00:00", "02:00:00", "00:30:00"],
    );
}

#[test]
fn strings_escapes_and_interpolation() {
    check(r#":put "a\"b\\c""#, &["a\"b\\c"]);
    check(r#":put "tab\there""#, &["tab\there"]);
    check(r#":put "\48\45\4C\4C\4F""#, &["HELLO"]);
    check(r#":put "cost \$5 \? x\_y""#, &["cost $5 ? x y"]);
    check(r#":put "line\nnext""#, &["line\nnext"]);
    check(r#":local n "world"; :put "hello $n""#, &["hello world"]);
    check(
        r#":local a 2; :put "sum $($a + 3) len $[:len "abc"]""#,
        &["sum 5 len 3"],
    );
    check(":local \"my var\" 5; :put $\"my var\"", &["5"]);
    check(":put \"joined \\\n   line\"", &["joined    line"]);
}

#[test]
fn line_structure_comments_and_continuation() {
    check("# a comment\n:put 1; :put 2\n\n:put 3", &["1", "2", "3"]);
    check(":put (1 + \\\n 2)", &["3"]);
    check(":local a 1\r\n:put $a\r\n", &["1"]);
    check(":if (true) do={\n  # inside\n  :put yes\n}", &["yes"]);
}

#[test]
fn variables_scopes_and_set() {
    check(":local a 1; { :local a 2; :put $a }; :put $a", &["2", "1"]);
    check(":local a 1; { :set a 2 }; :put $a", &["2"]);
    check(":local a 1; :set $a 7; :put $a", &["7"]);
    check(":local a {1;2;3}; :set ($a->1) 9; :put $a", &["1;9;3"]);
    check(
        ":local a {\"x\"=1}; :set ($a->\"y\") 2; :put $a; :put ($a->\"x\")",
        &["x=1;y=2", "1"],
    );
    check(
        ":local a; :set ($a->\"k\"->\"n\") 1; :put ($a->\"k\"->\"n\")",
        &["1"],
    );
    check(
        ":local a {1;2}; :set a ($a, 3); :put $a; :put [:len $a]",
        &["1;2;3", "3"],
    );
}

#[test]
fn globals_outlive_a_run_and_need_declaring() {
    let mut host = TestHost::new();
    let limits = Limits::default();
    run(":global counter 1", &mut host, &limits).unwrap();
    run(
        ":global counter; :set counter ($counter + 1)",
        &mut host,
        &limits,
    )
    .unwrap();
    // Each script declares the globals it uses; an undeclared one does not compile.
    let e = run(":put $counter", &mut host, &limits).unwrap_err();
    assert_eq!(e.to_string(), "syntax error (line 1 column 7)");
    run(":global counter; :put $counter", &mut host, &limits).unwrap();
    assert_eq!(host.out, ["2"]);
    assert_eq!(host.globals.get("counter"), Some(&Value::Num(2)));
}

#[test]
fn arrays() {
    check(
        ":local a {1;2;3}; :put ($a->0); :put [:len $a]",
        &["1", "3"],
    );
    check(":put {\"b\"=1;\"a\"=2}", &["a=2;b=1"]);
    check(":local a {a=1;b=\"x\"}; :put ($a->\"b\")", &["x"]);
    check(
        ":local a {}; :put [:len $a]; :put [:typeof $a]",
        &["0", "array"],
    );
    check(":local a {1;{2;3}}; :put (($a->1)->0)", &["2"]);
    check(
        ":put [:pick {10;20;30} 1]; :put [:pick {10;20;30} 1 3]",
        &["20", "20;30"],
    );
    check(":put [:find {\"a\";\"b\"} \"b\"]", &["1"]);
    check(
        ":put [:toarray \"a,b,c\"]; :put [:len [:toarray \"\"]]",
        &["a;b;c", "0"],
    );
}

#[test]
fn loops() {
    check(":foreach i in={1;2;3} do={ :put $i }", &["1", "2", "3"]);
    check(
        ":foreach k,v in={\"a\"=1;\"b\"=2} do={ :put \"$k=$v\" }",
        &["a=1", "b=2"],
    );
    check(":foreach k,v in={5;6} do={ :put $k }", &["0", "1"]);
    check(":for i from=1 to=3 do={ :put $i }", &["1", "2", "3"]);
    check(":for i from=3 to=1 do={ :put $i }", &["3", "2", "1"]);
    check(
        ":for i from=0 to=10 step=5 do={ :put $i }",
        &["0", "5", "10"],
    );
    check(
        ":local i 0; :while ($i < 3) do={ :put $i; :set i ($i + 1) }",
        &["0", "1", "2"],
    );
    check(
        ":local i 0; :do { :set i ($i + 1) } while=($i < 5); :put $i",
        &["5"],
    );
    check(":local i 10; :do { :put $i } while=($i < 5)", &["10"]);
    check(
        ":for i from=1 to=5 do={ :if ($i = 3) do={ :break }; :put $i }",
        &["1", "2"],
    );
    check(
        ":foreach i in={1;2;3} do={ :if ($i = 2) do={ :continue }; :put $i }",
        &["1", "3"],
    );
}

#[test]
fn conditions_and_operators() {
    check(":if (1 < 2) do={ :put a } else={ :put b }", &["a"]);
    check(":if (1 > 2) do={ :put a } else={ :put b }", &["b"]);
    check(":if (1 > 2) do={ :put a }; :put done", &["done"]);
    check(
        ":put (1 + 2 * 3); :put ((1 + 2) * 3); :put (7 / 2); :put (7 % 2); :put (-5 + 1)",
        &["7", "9", "3", "1", "-4"],
    );
    check(
        ":put (\"a\" . 1 . \"b\"); :put (true && false); :put (true || false); :put (!true)",
        &["a1b", "false", "true", "false"],
    );
    check(
        ":put (true and (1 = 1)); :put (false or (2 != 2))",
        &["true", "false"],
    );
    check(
        ":put (\"agent-1\" ~ \"^agent\"); :put (\"x\" ~ \"^agent\")",
        &["true", "false"],
    );
    check(
        ":put (10.0.0.5 in 10.0.0.0/8); :put (192.168.1.1 in 10.0.0.0/8)",
        &["true", "false"],
    );
    check(":put (2001:db8::1 in 2001:db8::/32)", &["true"]);
    check(
        ":put (10.0.0.1 + 1); :put (10.0.0.9 - 10.0.0.1); :put (10.1.2.3 & 255.255.0.0)",
        &["10.0.0.2", "8", "10.1.0.0"],
    );
    check(
        ":put (\"abc\" < \"abd\"); :put (1h > 30m); :put (3 >= 3) ; :put (1 << 4)",
        &["true", "true", "true", "16"],
    );
    check_err(":if (1) do={ :put x }", "conditional not boolean");
    check_err(":put (1 / 0)", "division by zero");
}

#[test]
fn value_builtins() {
    check(
        ":put [:pick \"abcdef\" 1 3]; :put [:find \"abcabc\" \"c\"]; :put [:len \"abc\"]",
        &["bc", "2", "3"],
    );
    check(
        ":put [:tostr 1.2.3.4]; :put [:tonum \"42\"]; :put [:typeof [:tonum \"x\"]]",
        &["1.2.3.4", "42", "nil"],
    );
    check(
        ":put [:typeof [:toip \"10.0.0.1\"]]; :put [:typeof [:toip6 \"::1\"]]",
        &["ip", "ip6"],
    );
    check(
        ":put [:totime \"1h\"]; :put [:totime 90]; :put [:tobool \"yes\"]",
        &["01:00:00", "00:01:30", "true"],
    );
    check(
        ":put [:jobname]; :put [:typeof [:toid \"*1F\"]]",
        &["importer", "id"],
    );
    check(
        ":put [:len [:toarray \"1,2\"]]; :put [:pick [:toarray \"a;b\" delimiter=\";\"] 1]",
        &["2", "b"],
    );
}

#[test]
fn return_error_log_and_delay() {
    let (host, r) = exec(":put 1; :return 5; :put 2");
    assert_eq!(r.unwrap().value, Value::Num(5));
    assert_eq!(host.out, ["1"]);
    let (_, r) = exec(":error \"custom failure\"; :put unreachable");
    assert_eq!(
        r.unwrap_err(),
        ScriptError::Runtime("custom failure".into())
    );
    let (host, r) = exec(":log info \"hello\"; :log warning (\"n=\" . 3); /log error \"bad\"");
    r.unwrap();
    assert_eq!(
        host.logs,
        [
            (LogLevel::Info, "hello".into()),
            (LogLevel::Warning, "n=3".into()),
            (LogLevel::Error, "bad".into())
        ]
    );
    let (host, r) = exec(":delay 2s; :delay 1m; :delay 3");
    r.unwrap();
    assert_eq!(host.clock, Duration::from_secs(65));
}

#[test]
fn errors_are_caught_by_do_on_error_and_onerror() {
    check(
        ":do { :error \"boom\" } on-error={ :put caught }; :put after",
        &["caught", "after"],
    );
    check(":do { :put ok } on-error={ :put caught }", &["ok"]);
    check(
        ":onerror e in={ :error \"boom\" } do={ :put \"got $e\" }",
        &["got boom"],
    );
    check(
        ":put [:onerror e in={ :error \"x\" }]; :put [:onerror e in={ :put fine }]",
        &["true", "fine", "false"],
    );
    check(
        "/ip firewall address-list add list=a address=1.1.1.1\n\
         :onerror err in={ /ip firewall address-list add list=a address=1.1.1.1 } do={ :put $err }",
        &["failure: already have such entry (/ip/firewall/address-list/add; line 2)"],
    );
    // Uncaught, the router's text stops the script.
    let (host, r) = exec(
        "/ip firewall address-list add list=a address=1.1.1.1\n\
         /ip firewall address-list add list=a address=1.1.1.1\n:put unreachable",
    );
    assert_eq!(
        r.unwrap_err(),
        ScriptError::Runtime(
            "failure: already have such entry (/ip/firewall/address-list/add; line 2)".into()
        )
    );
    assert!(host.out.is_empty());
}

#[test]
fn menu_commands_paths_and_arguments() {
    let (host, r) = exec(
        "/ip firewall address-list add list=blocked address=10.0.0.1 comment=\"two words\"\n\
         /ip/firewall/address-list/add list=blocked address=10.0.0.2\n\
         /ip firewall address-list\n\
         add list=blocked address=10.0.0.3 timeout=1d\n\
         /ipv6 firewall address-list add list=blocked address=2001:db8::1\n\
         /ip firewall { address-list add list=other address=10.9.9.9 }",
    );
    r.unwrap();
    assert_eq!(
        host.addresses("blocked"),
        ["10.0.0.1", "10.0.0.2", "10.0.0.3", "2001:db8::1"]
    );
    assert_eq!(host.addresses("other"), ["10.9.9.9"]);
    assert_eq!(host.entries[0].get("comment"), "two words");
    // Argument values reach the host as written, in order.
    assert_eq!(
        host.calls[2].args,
        [
            ("list".to_owned(), Value::str("blocked")),
            ("address".to_owned(), Value::str("10.0.0.3")),
            ("timeout".to_owned(), Value::str("1d"))
        ]
    );
    assert_eq!(host.calls[3].menu, ["ipv6", "firewall", "address-list"]);
}

#[test]
fn unnamed_arguments_ids_get_and_set() {
    check(
        ":local id [/ip firewall address-list add list=a address=1.1.1.1 comment=old]\n\
         :put [:typeof $id]\n\
         /ip firewall address-list set $id comment=new\n\
         :put [/ip firewall address-list get $id comment]\n\
         :put [/ip firewall address-list get $id value-name=address]\n\
         /ip firewall address-list remove $id\n\
         :put [:len [/ip firewall address-list find]]",
        &["id", "new", "1.1.1.1", "0"],
    );
    // An empty selection removes nothing and is no error.
    check(
        "/ip firewall address-list remove [find list=none]; :put ok",
        &["ok"],
    );
    check_err(
        "/ip firewall address-list remove *FF",
        "no such item (/ip/firewall/address-list/remove; line 1)",
    );
}

#[test]
fn find_with_filters_and_where() {
    let mut host = TestHost::new();
    host.seed("blocked", "10.0.0.1", "agent: grant 1");
    host.seed("blocked", "10.0.0.2", "manual");
    host.seed("allowed", "10.0.0.3", "agent: grant 2");
    host.seed("blocked", "192.168.1.1", "agent: grant 3");
    let cases = [
        ("[find list=blocked]", 3),
        ("[find list=blocked address=10.0.0.2]", 1),
        ("[find where list=blocked]", 3),
        ("[find where list=blocked and comment~\"^agent\"]", 2),
        ("[find where list=blocked && !(comment~\"agent\")]", 1),
        ("[find where list=allowed or comment=manual]", 2),
        ("[find where list!=blocked]", 1),
        ("[find where address in 10.0.0.0/8]", 3),
        ("[find where address in 10.0.0.0/8 and list=\"blocked\"]", 2),
        ("[find where comment~\"grant [12]\\$\"]", 2),
        ("[find]", 4),
    ];
    for (expr, n) in cases {
        host.out.clear();
        let src = format!("/ip firewall address-list\n:put [:len {expr}]");
        run(&src, &mut host, &Limits::default()).unwrap_or_else(|e| panic!("{expr}: {e}"));
        assert_eq!(host.out, [n.to_string()], "{expr}");
    }
    host.out.clear();
    run(
        "/ip firewall address-list print where list=allowed",
        &mut host,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(host.out, ["*3 allowed 10.0.0.3"]);
}

/// The bulk-add pattern of address-list tools: one script adds entries in chunks of 100, each
/// add guarded so that an entry already on the router does not stop the chunk.
#[test]
fn bulk_add_in_chunks_with_on_error() {
    let mut host = TestHost::new();
    host.seed("blocklist", "10.0.0.5", "");
    host.seed("blocklist", "10.0.1.7", "");
    let limits = Limits::default();
    let addresses: Vec<String> = (0..250)
        .map(|i| format!("10.0.{}.{}", i / 100, i % 100))
        .collect();
    for chunk in addresses.chunks(100) {
        let mut src = String::from("/ip firewall address-list\n");
        for a in chunk {
            src.push_str(&format!(
                ":do {{ add list=blocklist address={a} timeout=1d comment=\"agent\" }} on-error={{}}\n"
            ));
        }
        run(&src, &mut host, &limits).unwrap();
    }
    let mut got = host.addresses("blocklist");
    got.sort();
    let mut want = addresses.clone();
    want.push("10.0.1.7".into());
    want.sort();
    want.dedup();
    assert_eq!(got, want);
}

/// Stale entries go with one `remove [find where ...]`: only this tool's entries of this list.
#[test]
fn removal_of_stale_entries_with_find_where() {
    let mut host = TestHost::new();
    host.seed("access", "10.0.0.1", "agent: old");
    host.seed("access", "10.0.0.2", "someone else");
    host.seed("other", "10.0.0.3", "agent: other list");
    host.seed("access", "10.0.0.4", "agent: old too");
    run(
        "/ip firewall address-list remove [find where list=access and comment~\"agent\"]",
        &mut host,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(host.addresses("access"), ["10.0.0.2"]);
    assert_eq!(host.addresses("other"), ["10.0.0.3"]);
}

/// The loop of blocklist importers: walk a text line by line with `:find` and `:pick`, skip
/// comments and blanks, add each address with a timeout, count what was added.
#[test]
fn line_by_line_importer_with_find_and_pick() {
    let data = "# feed\n203.0.113.1\n\n203.0.113.2\n198.51.100.0/24\n203.0.113.1\n";
    let src = format!(
        r##":local data "{}"
:local added 0
:local start 0
:local len [:len $data]
:while ($start < $len) do={{
  :local end [:find $data "\n" ($start - 1)]
  :if ([:typeof $end] = "nil") do={{ :set end $len }}
  :local line [:pick $data $start $end]
  :if (([:len $line] > 0) && ([:pick $line 0 1] != "#")) do={{
    :do {{
      /ip firewall address-list add list=feed address=$line timeout=1d
      :set added ($added + 1)
    }} on-error={{ :log warning "duplicate $line" }}
  }}
  :set start ($end + 1)
}}
:log info "imported $added"
:put $added"##,
        data.replace('\n', "\\n")
    );
    let (host, r) = exec(&src);
    r.unwrap();
    assert_eq!(
        host.addresses("feed"),
        ["203.0.113.1", "203.0.113.2", "198.51.100.0/24"]
    );
    assert_eq!(host.out, ["3"]);
    assert_eq!(
        host.logs,
        [
            (LogLevel::Warning, "duplicate 203.0.113.1".into()),
            (LogLevel::Info, "imported 3".into())
        ]
    );
}

#[test]
fn syntax_errors_as_the_router_reports_them() {
    let cases = [
        // Captured on RouterOS 7.21.5 (see `error.rs`), on a menu this router has.
        (
            "/ip/firewall/address-list/print bogus=1",
            "expected end of command (line 1 column 33)",
        ),
        ("/nonsense/command", "syntax error (line 1 column 10)"),
        (
            "/nonsense command",
            "bad command name nonsense (line 1 column 2)",
        ),
        (
            ":local MAX_ACTIONS 200",
            "expected end of command (line 1 column 11)",
        ),
        (
            ":put 1\n:put 2\n/ip firewall adress-list add",
            "bad command name adress-list (line 3 column 14)",
        ),
        (
            "/ip firewall address-list add list=a bogus=1",
            "expected end of command (line 1 column 38)",
        ),
        (":put 1 2", "expected end of command (line 1 column 8)"),
        (":foo 1", "bad command name foo (line 1 column 2)"),
        (":log loud \"x\"", "bad command name loud (line 1 column 6)"),
        (":if (true) do={ :put 1 ", "syntax error (line 1 column 24)"),
        (":put \"open", "syntax error (line 1 column 11)"),
        (":put (1 + )", "syntax error (line 1 column 11)"),
        (":put \"\\q\"", "syntax error (line 1 column 7)"),
        (":put 1 }", "expected end of command (line 1 column 8)"),
        // Variables must be declared in an enclosing block before use (manual, "Scopes").
        (
            ":local myVar a\n{ :put $myVar }\n:put $other",
            "syntax error (line 3 column 7)",
        ),
        (
            "{ :local inner 5 }; :put [:typeof $inner]",
            "syntax error (line 1 column 36)",
        ),
        (":set undeclared 1", "syntax error (line 1 column 6)"),
        (":put \"n=$n\"", "syntax error (line 1 column 10)"),
        (
            ":for i from=1 to=2 do={ :put $i }; :put $i",
            "syntax error (line 1 column 42)",
        ),
        (
            "/ip firewall address-list add list=a address=1.1.1.1 # no",
            "expected end of command (line 1 column 54)",
        ),
    ];
    for (src, want) in cases {
        let (host, r) = exec(src);
        let e = r.expect_err(src);
        assert!(matches!(e, ScriptError::Syntax { .. }), "{src}: {e:?}");
        assert_eq!(e.to_string(), want, "{src}");
        assert!(
            host.out.is_empty() && host.calls.is_empty(),
            "{src}: nothing runs"
        );
    }
}

#[test]
fn constructs_outside_the_subset_are_named_and_not_caught() {
    let cases = [
        (":resolve \"example.com\"", ":resolve"),
        (":do { :beep } on-error={ :put hidden }", ":beep"),
        (
            ":local f do={ :put 1 }",
            "defining a function (:local ... do=)",
        ),
        (":global f; $f a=1", "calling a function ($f)"),
        (":environment print", ":environment"),
    ];
    for (src, what) in cases {
        let (host, r) = exec(src);
        assert_eq!(
            r.unwrap_err(),
            ScriptError::Unsupported(what.into()),
            "{src}"
        );
        assert!(host.out.is_empty(), "{src}");
    }
    // The script runs up to the construct.
    let (host, r) = exec(":put before; :resolve x; :put after");
    assert_eq!(host.out, ["before"]);
    assert_eq!(
        r.unwrap_err().to_string(),
        ":resolve is not supported by the simulator"
    );
}

#[test]
fn runaway_scripts_hit_the_budget() {
    let limits = Limits {
        max_steps: 10_000,
        ..Limits::default()
    };
    for src in [
        ":while (true) do={}",
        ":for i from=1 to=1000000000 do={}",
        ":local i 0; :do { :set i ($i + 1) } while=(true)",
        ":for i from=1 to=10 step=0 do={}",
        ":do { :while (true) do={} } on-error={ :put caught }",
    ] {
        let mut host = TestHost::new();
        let e = run(src, &mut host, &limits).unwrap_err();
        assert!(matches!(e, ScriptError::Limit(_)), "{src}: {e:?}");
        assert!(host.out.is_empty(), "{src}: a spent budget is never caught");
    }
    // Building a huge value stops too.
    let mut host = TestHost::new();
    let e = run(
        ":local s \"xxxxxxxxxxxxxxxx\"; :while (true) do={ :set s ($s . $s) }",
        &mut host,
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(e, ScriptError::Limit(_)), "{e:?}");
    let e = run(
        ":local a {1}; :while (true) do={ :set a ($a, $a) }",
        &mut host,
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(e, ScriptError::Limit(_)), "{e:?}");
}

#[test]
fn bounded_source_and_nesting() {
    let limits = Limits {
        max_source_bytes: 100,
        ..Limits::default()
    };
    let mut host = TestHost::new();
    let e = run(&":put 1\n".repeat(50), &mut host, &limits).unwrap_err();
    assert_eq!(
        e.to_string(),
        "script of 350 bytes is longer than the simulator accepts (100 bytes)"
    );
    for deep in [
        "{".repeat(10_000),
        "(".repeat(10_000),
        format!(":put ({})", "!".repeat(10_000)),
        "[".repeat(5_000),
    ] {
        let e = run(&deep, &mut host, &Limits::default()).unwrap_err();
        assert!(
            matches!(e, ScriptError::Limit(_) | ScriptError::Syntax { .. }),
            "{e:?}"
        );
    }
}

/// A small corpus of valid scripts that the mutation test starts from.
const CORPUS: &[&str] = &[
    ":local a {1;2;\"k\"=3}; :foreach k,v in=$a do={ :put \"$k $v\" }",
    "/ip firewall address-list add list=x address=10.0.0.1 timeout=1d\n:put [:len [/ip firewall address-list find where list=x]]",
    ":for i from=1 to=5 do={ :do { :if ($i % 2 = 0) do={ :error \"even\" } } on-error={ :put $i } }",
    ":local s \"a,b\\nc\"; :put [:pick $s [:find $s \",\"] [:len $s]]; :onerror e in={ :error $s } do={ :put $e }",
    ":put (10.0.0.1 in 10.0.0.0/8 && \"x\" ~ \"x\" || 1h > 2m); :global g 1; :set g ($g + 1)",
];

fn fuzz_limits() -> Limits {
    Limits {
        max_steps: 5_000,
        max_output_bytes: 4096,
        ..Limits::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let src = String::from_utf8_lossy(&bytes);
        let mut host = TestHost::new();
        let _ = run(&src, &mut host, &fuzz_limits());
    }

    #[test]
    fn random_script_text_never_panics(src in "[:/${}()\\[\\];=\"\\\\a-z0-9 .,<>!~\n-]{0,200}") {
        let mut host = TestHost::new();
        let _ = run(&src, &mut host, &fuzz_limits());
    }

    #[test]
    fn mutated_valid_scripts_never_panic(
        which in 0..CORPUS.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<char>()), 1..6),
    ) {
        let mut chars: Vec<char> = CORPUS[which].chars().collect();
        for (at, kind, c) in edits {
            let i = at.index(chars.len() + 1);
            match kind {
                0 => chars.insert(i, c),
                1 if i < chars.len() => { chars.remove(i); }
                _ if i < chars.len() => chars[i] = c,
                _ => {}
            }
        }
        let src: String = chars.into_iter().collect();
        let mut host = TestHost::new();
        let _ = run(&src, &mut host, &fuzz_limits());
    }
}

#[test]
fn corpus_scripts_run() {
    for src in CORPUS {
        let mut host = TestHost::new();
        run(src, &mut host, &Limits::default()).unwrap_or_else(|e| panic!("{src}: {e}"));
    }
}
