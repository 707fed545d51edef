//! Scripting over REST: `/execute`, `/system/script`, `/log`, as the well-known address-list
//! tools use them (bulk adds in chunks with `on-error`, removal of stale entries with
//! `[find where ...]`), and a scripted change compared with the same change made by REST.

use serde_json::{Value, json};

use crate::support::{Sim, start};

const LIST: &str = "/rest/ip/firewall/address-list";

/// `POST /rest/execute` with `as-string`: the reply.
async fn execute(sim: &Sim, script: &str) -> crate::support::Reply {
    sim.call(
        "POST",
        "/rest/execute",
        Some(json!({"script": script, "as-string": ""})),
    )
    .await
}

/// The `ret` of an `/execute` that must answer 200.
async fn ret(sim: &Sim, script: &str) -> Value {
    let r = execute(sim, script).await;
    assert_eq!(r.status, 200, "{script}: {}", r.text);
    r.json()
}

#[tokio::test]
async fn execute_as_string_returns_output_errors_and_empty_array() {
    let sim = start().await;
    assert_eq!(ret(&sim, ":put 1").await, json!({"ret": "1"}));
    assert_eq!(ret(&sim, ":put a; :put b").await, json!({"ret": "a\r\nb"}));
    // Nothing printed: `[]` (quickchr `exec.ts`).
    assert_eq!(ret(&sim, ":local x 1").await, json!([]));
    // Errors come back as 200 with the text in `ret` (7.23.3 capture).
    assert_eq!(
        ret(&sim, "/nonsense/command").await,
        json!({"ret": "syntax error (line 1 column 10)"})
    );
    let add = "/ip/firewall/address-list/add list=l address=10.0.0.1\n\
               /ip/firewall/address-list/add list=l address=10.0.0.1";
    assert_eq!(
        ret(&sim, add).await,
        json!({"ret": "failure: already have such entry (/ip/firewall/address-list/add; line 2)"})
    );
    assert_eq!(sim.addresses(LIST).await, ["10.0.0.1"]);
    // A construct outside the subset is named, never a panic.
    let r = ret(&sim, ":resolve example.com").await;
    assert!(r["ret"].as_str().unwrap().contains("not supported"), "{r}");
    // Missing `script` and unknown arguments are refused as for any command.
    sim.call("POST", "/rest/execute", Some(json!({})))
        .await
        .assert_error(400, Some("missing =script="));
    sim.call(
        "POST",
        "/rest/execute",
        Some(json!({"script": "", "bogus": 1})),
    )
    .await
    .assert_error(400, Some("unknown parameter bogus"));
    sim.get("/rest/execute")
        .await
        .assert_error(400, Some("no such command"));
}

#[tokio::test]
async fn execute_without_as_string_runs_a_background_job() {
    let sim = start().await;
    let r = sim
        .call(
            "POST",
            "/rest/execute",
            Some(json!({"script": "/ip/firewall/address-list/add list=j address=10.1.1.1"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let job = r.json()["ret"].as_str().unwrap().to_owned();
    assert!(job.starts_with('*') && job.len() > 2, "{job}");
    sim.sim.scripts_idle().await;
    assert_eq!(sim.addresses(&format!("{LIST}?list=j")).await, ["10.1.1.1"]);
    // A failing job's error goes to the log.
    let r = sim
        .call(
            "POST",
            "/rest/execute",
            Some(json!({"script": ":error boom"})),
        )
        .await;
    assert_eq!(r.status, 200);
    sim.sim.scripts_idle().await;
    let log = sim.rows("/rest/log").await;
    assert!(
        log.iter()
            .any(|l| l["topics"] == "script,error"
                && l["message"].as_str().unwrap().ends_with("boom")),
        "{log:?}"
    );
}

/// A bulk add in chunks of 100 as cs-routeros-bouncer sends it: each entry in `:do {} on-error={}`
/// so a duplicate does not stop the chunk, and the count printed at the end.
#[tokio::test]
async fn bulk_add_in_chunks_with_on_error() {
    let sim = start().await;
    sim.put(LIST, json!({"list": "bulk", "address": "10.9.0.5"}))
        .await;
    for chunk in 0..3 {
        let mut source = String::from(":local count 0\n");
        for i in 0..100 {
            source.push_str(&format!(
                ":do {{ /ip/firewall/address-list/add list=\"bulk\" address=\"10.9.{chunk}.{i}\" comment=\"c\" timeout=\"1h\" ; :set count ($count+1) }} on-error={{}}\n"
            ));
        }
        source.push_str(":put $count");
        let expected = if chunk == 0 { "99" } else { "100" };
        assert_eq!(ret(&sim, &source).await, json!({"ret": expected}));
    }
    assert_eq!(sim.rows(&format!("{LIST}?list=bulk")).await.len(), 300);
}

/// Stale entries removed with `[find where ...]`, as importers do.
#[tokio::test]
async fn stale_entries_are_removed_with_find_where() {
    let sim = start().await;
    for (a, c) in [
        ("10.0.0.1", "managed"),
        ("10.0.0.2", "managed"),
        ("10.0.0.3", "mine"),
    ] {
        sim.put(LIST, json!({"list": "x", "address": a, "comment": c}))
            .await;
    }
    let script = "/ip firewall address-list remove [find where list=\"x\" and comment~\"^managed\" and address!=10.0.0.2]\n\
                  :put [:len [/ip/firewall/address-list/find list=x]]";
    assert_eq!(ret(&sim, script).await, json!({"ret": "2"}));
    assert_eq!(sim.addresses(LIST).await, ["10.0.0.2", "10.0.0.3"]);
    // Nothing matched: a no-op, as on a router.
    assert_eq!(
        ret(
            &sim,
            "/ip/firewall/address-list/remove [find where list=\"none\"]"
        )
        .await,
        json!([])
    );
}

fn without_times(rows: Vec<Value>) -> Vec<Value> {
    rows.into_iter()
        .map(|mut r| {
            r.as_object_mut().unwrap().remove("creation-time");
            r
        })
        .collect()
}

/// One script of 100 commands leaves the router exactly as the same 100 REST requests.
#[tokio::test]
async fn a_script_changes_the_router_as_the_same_rest_requests() {
    let scripted = start().await;
    let rest = start().await;
    scripted.sim.clock().freeze();
    rest.sim.clock().freeze();
    let mut source = String::new();
    for i in 0..100 {
        let (list, comment) = (format!("l{}", i % 3), format!("n{i}"));
        match i % 10 {
            // Every tenth command removes the entry added just before it.
            9 => {
                source.push_str(&format!(
                    "/ip/firewall/address-list/remove [find where address=10.2.0.{}]\n",
                    i - 1
                ));
                let id = rest.rows(&format!("{LIST}?address=10.2.0.{}", i - 1)).await[0][".id"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                assert_eq!(
                    rest.call("DELETE", &format!("{LIST}/{id}"), None)
                        .await
                        .status,
                    204
                );
            }
            _ => {
                let timeout = if i % 2 == 0 { "1d" } else { "" };
                let extra = if timeout.is_empty() {
                    String::new()
                } else {
                    format!(" timeout={timeout}")
                };
                source.push_str(&format!(
                    "/ip firewall address-list add list={list} address=10.2.0.{i} comment={comment}{extra}\n"
                ));
                let mut body =
                    json!({"list": list, "address": format!("10.2.0.{i}"), "comment": comment});
                if !timeout.is_empty() {
                    body["timeout"] = json!(timeout);
                }
                rest.put(LIST, body).await;
            }
        }
    }
    assert_eq!(ret(&scripted, &source).await, json!([]));
    assert_eq!(
        without_times(scripted.rows(LIST).await),
        without_times(rest.rows(LIST).await)
    );
}

#[tokio::test]
async fn system_script_add_run_print_and_policies() {
    let sim = start().await;
    let r = sim
        .call(
            "POST",
            "/rest/system/script/add",
            Some(json!({"name": "adder", "source": "/ip/firewall/address-list/add list=s address=10.3.0.1\n:log info added"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json()["ret"].as_str().unwrap().to_owned();
    let row = &sim.rows("/rest/system/script").await[0];
    assert_eq!(row["name"], "adder");
    assert_eq!(row["owner"], "admin");
    assert_eq!(row["run-count"], "0");
    assert_eq!(row["dont-require-permissions"], "false");
    assert_eq!(row["invalid"], "false");
    assert_eq!(
        row["policy"],
        "ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon"
    );
    assert!(row.get("last-started").is_none());
    // Run by id and by name (the API's `number`).
    let r = sim
        .call("POST", "/rest/system/script/run", Some(json!({".id": id})))
        .await;
    assert_eq!((r.status, r.text.as_str()), (200, "[]"));
    let row = &sim.rows("/rest/system/script").await[0];
    assert_eq!(row["run-count"], "1");
    assert!(row["last-started"].is_string());
    assert_eq!(sim.addresses(&format!("{LIST}?list=s")).await, ["10.3.0.1"]);
    let log = sim.rows("/rest/log").await;
    assert!(
        log.iter()
            .any(|l| l["topics"] == "script,info" && l["message"] == "added")
    );
    // A second run fails on the duplicate: a 400 carrying the script's error.
    let r = sim
        .call(
            "POST",
            "/rest/system/script/run",
            Some(json!({"number": "adder"})),
        )
        .await;
    r.assert_error(
        400,
        Some("failure: already have such entry (/ip/firewall/address-list/add; line 1)"),
    );
    sim.call(
        "POST",
        "/rest/system/script/run",
        Some(json!({"number": "nope"})),
    )
    .await
    .assert_error(400, Some("no such item"));
    // Duplicate names are refused.
    sim.call(
        "POST",
        "/rest/system/script/add",
        Some(json!({"name": "adder"})),
    )
    .await
    .assert_error(400, Some("failure: item with such name already exists"));
    sim.call(
        "POST",
        "/rest/system/script/add",
        Some(json!({"name": "p", "policy": "read,api"})),
    )
    .await
    .assert_error(400, Some("input does not match any value of policy"));
}

#[tokio::test]
async fn script_policies_bound_what_a_run_may_do() {
    let sim = start().await;
    // The vendor's service group: api, rest-api, read, write, policy.
    sim.call(
        "PUT",
        "/rest/user/group",
        Some(json!({"name": "svc", "policy": "api,rest-api,read,write,policy"})),
    )
    .await;
    sim.call(
        "PUT",
        "/rest/user",
        Some(json!({"name": "agent", "group": "svc", "password": "pw"})),
    )
    .await;
    sim.call(
        "PUT",
        "/rest/user/group",
        Some(json!({"name": "ro", "policy": "api,rest-api,read"})),
    )
    .await;
    sim.call(
        "PUT",
        "/rest/user",
        Some(json!({"name": "reader", "group": "ro", "password": "pw"})),
    )
    .await;
    let agent = Some(("agent", "pw"));
    let add = |name: &str, policy: &str, dont: bool| {
        json!({"name": name, "policy": policy, "dont-require-permissions": dont,
               "source": "/ip/firewall/address-list/add list=p address=10.4.0.1"})
    };
    // The default policy has more than the agent's group: not runnable...
    let r = sim
        .call_as(
            agent,
            "POST",
            "/rest/system/script/add",
            Some(add("big", "ftp,read,write,test", false)),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    sim.call_as(
        agent,
        "POST",
        "/rest/system/script/run",
        Some(json!({"number": "big"})),
    )
    .await
    .assert_error(500, Some("not enough permissions (9)"));
    // ...unless it does not require permissions.
    sim.call_as(
        agent,
        "POST",
        "/rest/system/script/add",
        Some(add("free", "ftp,read,write,test", true)),
    )
    .await;
    let r = sim
        .call_as(
            agent,
            "POST",
            "/rest/system/script/run",
            Some(json!({"number": "free"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A script with `policy=read` run with its own permissions cannot add (manual example).
    sim.call_as(
        agent,
        "POST",
        "/rest/system/script/add",
        Some(add("ro", "read", false)),
    )
    .await;
    sim.call_as(
        agent,
        "POST",
        "/rest/system/script/run",
        Some(json!({"number": "ro", "use-script-permissions": ""})),
    )
    .await
    .assert_error(
        400,
        Some("not enough permissions (9) (/ip/firewall/address-list/add; line 1)"),
    );
    // A reader may execute, but the add inside is refused.
    let r = sim
        .call_as(
            Some(("reader", "pw")),
            "POST",
            "/rest/execute",
            Some(json!({"script": "/ip/firewall/address-list/add list=p address=10.4.0.9", "as-string": ""})),
        )
        .await;
    assert_eq!(
        r.json(),
        json!({"ret": "not enough permissions (9) (/ip/firewall/address-list/add; line 1)"})
    );
    // And may not add a script at all.
    sim.call_as(
        Some(("reader", "pw")),
        "POST",
        "/rest/system/script/add",
        Some(json!({"name": "r"})),
    )
    .await
    .assert_error(500, Some("not enough permissions (9)"));
}

#[tokio::test]
async fn log_lines_have_topics_and_script_errors_land_there() {
    let sim = start().await;
    ret(
        &sim,
        ":log info \"hello\"; :log warning w; :log error e; /log info m",
    )
    .await;
    let log = sim.rows("/rest/log").await;
    let seen: Vec<(&str, &str)> = log
        .iter()
        .map(|l| {
            (
                l["topics"].as_str().unwrap(),
                l["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("script,info", "hello"),
            ("script,warning", "w"),
            ("script,error", "e"),
            ("script,info", "m")
        ]
    );
    assert!(log[0]["time"].as_str().unwrap().len() == 19);
    // The log is the router's memory buffer: a reboot empties it.
    sim.sim.reboot();
    let mut sim = sim;
    sim.reconnect();
    assert!(sim.rows("/rest/log").await.is_empty());
}

/// Scripted commands answer to fault rules on their REST path.
#[tokio::test]
async fn fault_rules_fail_scripted_commands() {
    let sim = start().await;
    let _fault = sim
        .sim
        .fault(
            simulator::FaultRule::always(simulator::Action::Status {
                status: 500,
                detail: Some("failure: out of memory".into()),
            })
            .path("/rest/ip/firewall/address-list/add")
            .method("SCRIPT"),
        )
        .unwrap();
    let r = ret(
        &sim,
        ":do { /ip/firewall/address-list/add list=f address=10.5.0.1 } on-error={ :put caught }\n\
         /ip/firewall/address-list/add list=f address=10.5.0.2",
    )
    .await;
    assert_eq!(
        r,
        json!({"ret": "caught\r\nfailure: out of memory (/ip/firewall/address-list/add; line 2)"})
    );
    // REST itself is not matched by a `SCRIPT` rule.
    sim.put(LIST, json!({"list": "f", "address": "10.5.0.3"}))
        .await;
}

/// `/execute as-string` is cut by the session limit, measured in modelled time.
#[tokio::test]
async fn long_scripts_are_cut_by_the_session_limit() {
    let sim = start().await;
    let r = execute(&sim, ":delay 59s; :put ok").await;
    assert_eq!(r.json(), json!({"ret": "ok"}));
    execute(&sim, ":delay 61s; :put late")
        .await
        .assert_error(400, Some("Session closed"));
    // A runaway loop stops at the step budget with an error, never a hang.
    let r = ret(&sim, ":while (true) do={}").await;
    assert!(r["ret"].is_string(), "{r}");
}

/// A snapshot carries scripts, scheduler entries, files and certificates: restored into another
/// simulator, they print the same, the entry runs on that simulator's clock, and the imported CA
/// is still what a checked fetch trusts.
#[tokio::test]
async fn snapshots_carry_scripts_schedules_files_and_certificates() {
    let sim = start().await;
    sim.sim.clock().freeze();
    sim.put(
        "/rest/system/script",
        json!({"name": "tick", "source": ":log info tick", "comment": "c"}),
    )
    .await;
    sim.put(
        "/rest/system/scheduler",
        json!({"name": "every", "interval": "1m", "on-event": "tick"}),
    )
    .await;
    sim.put(
        "/rest/file",
        json!({"name": "ca.pem", "contents": sim.sim.ca_pem()}),
    )
    .await;
    let r = sim
        .call(
            "POST",
            "/rest/certificate/import",
            Some(json!({"file-name": "ca.pem", "passphrase": ""})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let menus = ["/rest/system/script", "/rest/file", "/rest/certificate"];
    let mut before = Vec::new();
    for m in menus {
        before.push(sim.rows(m).await);
    }
    let snapshot = sim.sim.snapshot();
    let json = serde_json::to_string(&snapshot).expect("serialises");
    let back: simulator::Snapshot = serde_json::from_str(&json).expect("parses");

    let other = start().await;
    other.sim.clock().freeze();
    other.sim.restore(&back).expect("restores");
    for (m, rows) in menus.iter().zip(&before) {
        assert_eq!(&other.rows(m).await, rows, "{m}");
    }
    let entry = &other.rows("/rest/system/scheduler").await[0];
    assert_eq!(entry["name"], "every");
    assert_eq!(entry["run-count"], "0");
    // The entry still runs every minute, on the new simulator's clock.
    other
        .sim
        .advance_clock(std::time::Duration::from_secs(120))
        .await;
    assert_eq!(
        other.rows("/rest/system/scheduler").await[0]["run-count"],
        "2"
    );
    assert_eq!(other.rows("/rest/log").await.len(), 2);
    // Nothing else is left over from before: an older snapshot without these tables restores
    // with none.
    let mut old: serde_json::Value = serde_json::to_value(&snapshot).unwrap();
    for key in ["scripts", "schedules", "files", "certificates"] {
        old.as_object_mut().unwrap().remove(key);
    }
    let old: simulator::Snapshot = serde_json::from_value(old).expect("an older snapshot");
    other.sim.restore(&old).expect("restores");
    for m in menus {
        assert!(other.rows(m).await.is_empty(), "{m}");
    }
}

/// `/execute file=` writes the run's output into a file when it ends, for a background job and
/// for a run the caller waits for alike.
#[tokio::test]
async fn execute_writes_its_output_to_a_file() {
    let sim = start().await;
    let r = sim
        .call(
            "POST",
            "/rest/execute",
            Some(json!({"script": ":put one; :put two", "file": "out.txt"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json()["ret"].as_str().is_some_and(|j| j.starts_with('*')));
    sim.sim.scripts_idle().await;
    let files = sim.rows("/rest/file?name=out.txt").await;
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0]["contents"], "one\ntwo\n");
    let r = sim
        .call(
            "POST",
            "/rest/execute",
            Some(json!({"script": ":put three", "file": "out.txt", "as-string": ""})),
        )
        .await;
    assert_eq!(r.json(), json!({"ret": "three"}));
    assert_eq!(
        sim.rows("/rest/file?name=out.txt").await[0]["contents"],
        "three\n"
    );
    sim.call(
        "POST",
        "/rest/execute",
        Some(json!({"script": ":put x", "file": ""})),
    )
    .await
    .assert_error(400, Some("invalid value for argument file"));
}
