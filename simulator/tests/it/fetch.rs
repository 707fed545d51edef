//! `/tool/fetch`, `/file` and `/import`: real HTTP and HTTPS requests from the simulator to
//! loopback servers, the router's certificate store, its error texts and limits, and the
//! blocklist-importer pattern run on a schedule with the clock moved instead of waiting.
//!
//! The feed server is a second simulator whose fault rule answers a path with a plain-text body:
//! a real HTTPS server with a CA of its own.

use std::time::Duration;

use serde_json::{Value, json};
use simulator::{Action, FaultGuard, FaultRule};

use crate::support::{Sim, free_port, start};

const LIST: &str = "/rest/ip/firewall/address-list";

/// A feed on `server` at `path`: `body` as `text/plain`.
fn feed(server: &Sim, path: &str, body: &str) -> FaultGuard {
    server
        .sim
        .fault(
            FaultRule::always(Action::Body {
                status: 200,
                content_type: "text/plain".into(),
                body: body.into(),
            })
            .path(path),
        )
        .unwrap()
}

async fn fetch(sim: &Sim, args: Value) -> crate::support::Reply {
    sim.call("POST", "/rest/tool/fetch", Some(args)).await
}

async fn execute(sim: &Sim, script: &str) -> Value {
    let r = sim
        .call(
            "POST",
            "/rest/execute",
            Some(json!({"script": script, "as-string": ""})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

#[tokio::test]
async fn fetch_to_user_and_to_file_with_the_right_and_the_wrong_ca() {
    let router = start().await;
    let server = start().await;
    let _feed = feed(&server, "/feed.txt", "10.20.0.1\n10.20.0.2\n");
    let url = format!("{}/feed.txt", server.sim.https_url());
    // Not checked (the default): anything is accepted.
    let r = fetch(&router, json!({"url": url, "output": "user"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let row = &r.json()[0];
    assert_eq!(row["status"], "finished");
    assert_eq!(row["data"], "10.20.0.1\n10.20.0.2\n");
    assert_eq!(row["downloaded"], "1");
    // Checked against a store without the server's CA.
    fetch(
        &router,
        json!({"url": url, "output": "user", "check-certificate": "yes-without-crl"}),
    )
    .await
    .assert_error(
        400,
        Some("failure: SSL: ssl: no trusted CA certificate found (6)"),
    );
    // With the CA imported into the store, as `/certificate import` does.
    assert_eq!(router.sim.trust_ca(server.sim.ca_pem()), Ok(1));
    let r = fetch(
        &router,
        json!({"url": url, "check-certificate": "yes", "dst-path": "lists/feed.txt"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let files = router.rows("/rest/file").await;
    assert_eq!(files[0]["name"], "lists/feed.txt");
    assert_eq!(files[0]["size"], "20");
    assert_eq!(files[0]["contents"], "10.20.0.1\n10.20.0.2\n");
    assert_eq!(files[0]["type"], ".txt file");
}

#[tokio::test]
async fn fetch_errors_are_the_router_s() {
    let router = start().await;
    let server = start().await;
    let _missing = server
        .sim
        .fault(
            FaultRule::always(Action::Status {
                status: 404,
                detail: None,
            })
            .path("/missing"),
        )
        .unwrap();
    let base = server.sim.http_url().unwrap();
    fetch(
        &router,
        json!({"url": format!("{base}/missing"), "output": "user"}),
    )
    .await
    .assert_error(400, Some("failure: Status 404, Not Found"));
    let closed = format!("http://127.0.0.1:{}/x", free_port());
    fetch(&router, json!({"url": closed, "output": "user"}))
        .await
        .assert_error(400, Some("failure: Connection refused"));
    // A server that accepts and never answers: the idle timeout (real time, one second).
    let stalled = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = stalled.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = stalled.accept().await {
            held.push(s);
        }
    });
    fetch(
        &router,
        json!({"url": format!("http://{addr}/x"), "output": "user", "idle-timeout": "1s"}),
    )
    .await
    .assert_error(400, Some("failure: Idle timeout - connecting"));
    hold.abort();
    // Inside a script the error names the command and line, and `on-error` catches it.
    let script = format!(
        ":do {{ /tool/fetch url=\"{closed}\" output=user }} on-error={{ :put caught }}\n\
         /tool fetch url=\"{base}/missing\" output=user"
    );
    assert_eq!(
        execute(&router, &script).await,
        json!({"ret": "caught\r\nfailure: Status 404, Not Found (/tool/fetch; line 2)"})
    );
    // Arguments are checked.
    fetch(&router, json!({"url": closed, "output": "screen"}))
        .await
        .assert_error(400, Some("input does not match any value of output"));
    fetch(&router, json!({"output": "user"}))
        .await
        .assert_error(400, Some("missing =url="));
    // TLS faults of the server reach the fetch: an expired certificate is not valid.
    router.sim.trust_ca(server.sim.ca_pem()).unwrap();
    let _expired = server
        .sim
        .fault(FaultRule::always(Action::TlsExpired))
        .unwrap();
    fetch(
        &router,
        json!({"url": format!("{}/x", server.sim.https_url()), "output": "user", "check-certificate": "yes"}),
    )
    .await
    .assert_error(400, Some("failure: SSL: ssl: cert not valid (6)"));
}

#[tokio::test]
async fn user_output_is_cut_at_the_router_s_limit() {
    let router = start().await;
    let server = start().await;
    let big = "x".repeat(70_000);
    let _feed = feed(&server, "/big", &big);
    let r = fetch(
        &router,
        json!({"url": format!("{}/big", server.sim.http_url().unwrap()), "output": "user"}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()[0]["data"].as_str().unwrap().len(), 64_512);
}

/// The blocklist importer end to end: a scheduler runs a script every hour that fetches a text
/// list over HTTPS (the CA in the store), adds each line with a timeout and renews the ones it
/// has; the clock is moved instead of waiting.
#[tokio::test]
async fn blocklist_importer_on_a_schedule() {
    let router = start().await;
    let server = start().await;
    router.sim.clock().freeze();
    router.sim.trust_ca(server.sim.ca_pem()).unwrap();
    let url = format!("{}/list.txt", server.sim.https_url());
    let importer = format!(
        r#":local result [/tool/fetch url="{url}" check-certificate=yes-without-crl output=user as-value]
:if (($result->"status") != "finished") do={{ :error "download failed" }}
:local data ($result->"data")
:local added 0
:while ([:len $data] > 0) do={{
  :local nl [:find $data "\n"]
  :if ([:typeof $nl] = "nil") do={{ :set nl [:len $data] }}
  :local line [:pick $data 0 $nl]
  :set data [:pick $data ($nl + 1) [:len $data]]
  :if ([:len $line] > 0) do={{
    :local existing [/ip/firewall/address-list/find where list="block" and address=$line]
    :if ([:len $existing] = 0) do={{
      /ip/firewall/address-list/add list=block address=$line timeout=2h comment=importer
      :set added ($added + 1)
    }} else={{
      /ip/firewall/address-list/set $existing timeout=2h
    }}
  }}
}}
:log info "importer added $added""#
    );
    let r = router
        .call(
            "POST",
            "/rest/system/script/add",
            Some(json!({"name": "importer", "source": importer, "policy": "read,write,test"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    router
        .call(
            "PUT",
            "/rest/system/scheduler",
            Some(
                json!({"name": "import", "interval": "1h", "on-event": "importer",
                        "policy": "read,write,test"}),
            ),
        )
        .await;
    {
        let _feed = feed(&server, "/list.txt", "10.30.0.1\n10.30.0.2\n");
        router.sim.advance_clock(Duration::from_secs(3600)).await;
    }
    let mut addresses = router.addresses(&format!("{LIST}?list=block")).await;
    addresses.sort();
    assert_eq!(addresses, ["10.30.0.1", "10.30.0.2"]);
    {
        let _feed = feed(&server, "/list.txt", "10.30.0.2\n10.30.0.3\n");
        router.sim.advance_clock(Duration::from_secs(3600)).await;
    }
    let rows = router.rows(&format!("{LIST}?list=block")).await;
    let mut seen: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["address"].as_str().unwrap().to_owned(),
                r["timeout"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    // 10.30.0.1 was not renewed and has an hour left; the others were (re)set to two hours.
    assert_eq!(
        seen,
        [
            ("10.30.0.1".into(), "1h".into()),
            ("10.30.0.2".into(), "2h".into()),
            ("10.30.0.3".into(), "2h".into())
        ]
    );
    let log = router.rows("/rest/log").await;
    let messages: Vec<&str> = log.iter().map(|l| l["message"].as_str().unwrap()).collect();
    assert_eq!(messages, ["importer added 2", "importer added 1"]);
    // The feed gone: the run fails and says so in the log; the entries expire by themselves.
    router.sim.advance_clock(Duration::from_secs(3600)).await;
    let log = router.rows("/rest/log").await;
    assert_eq!(
        log[2]["message"],
        "executing script importer from scheduler (import) failed, please check it manually"
    );
    assert!(
        log[3]["message"].as_str().unwrap().starts_with("failure: "),
        "{log:?}"
    );
    router.sim.advance_clock(Duration::from_secs(3600)).await;
    assert!(router.rows(&format!("{LIST}?list=block")).await.is_empty());
}

#[tokio::test]
async fn import_runs_a_file_and_stops_at_the_first_error() {
    let router = start().await;
    let put = |name: &str, contents: &str| json!({"name": name, "contents": contents});
    let r = router
        .call(
            "PUT",
            "/rest/file",
            Some(put(
                "good.rsc",
                "/ip firewall address-list\nadd list=i address=10.40.0.1\nadd list=i address=10.40.0.2\n",
            )),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = router
        .call(
            "POST",
            "/rest/import",
            Some(json!({"file-name": "good.rsc"})),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (200, "[]"));
    assert_eq!(
        router.addresses(&format!("{LIST}?list=i")).await,
        ["10.40.0.1", "10.40.0.2"]
    );
    router
        .call(
            "PUT",
            "/rest/file",
            Some(put(
                "bad.rsc",
                "/ip/firewall/address-list/add list=i address=10.40.0.3\n/ip/firewall/address-list/add list=i address=10.40.0.1\n/ip/firewall/address-list/add list=i address=10.40.0.4\n",
            )),
        )
        .await;
    router
        .call("POST", "/rest/import", Some(json!({"file-name": "bad.rsc"})))
        .await
        .assert_error(
            400,
            Some("Script Error: failure: already have such entry (/ip/firewall/address-list/add; line 2)"),
        );
    assert_eq!(
        router.addresses(&format!("{LIST}?list=i")).await,
        ["10.40.0.1", "10.40.0.2", "10.40.0.3"]
    );
    // A syntax error anywhere runs nothing.
    router
        .call(
            "PUT",
            "/rest/file",
            Some(put(
                "syntax.rsc",
                "/ip/firewall/address-list/add list=i address=10.40.0.9\nthis is not\n",
            )),
        )
        .await;
    router
        .call(
            "POST",
            "/rest/import",
            Some(json!({"file-name": "syntax.rsc"})),
        )
        .await
        .assert_error(
            400,
            Some("Script Error: bad command name this (line 2 column 1)"),
        );
    router
        .call(
            "POST",
            "/rest/import",
            Some(json!({"file-name": "none.rsc"})),
        )
        .await
        .assert_error(400, Some("no such item"));
    // Inside a script, `:onerror` sees the import's error (10.40.0.3 is there by now).
    assert_eq!(
        execute(
            &router,
            ":onerror e in={ /import file-name=bad.rsc } do={ :put \"Failure - $e\" }"
        )
        .await,
        json!({"ret": "Failure - Script Error: failure: already have such entry (/ip/firewall/address-list/add; line 1) (/import; line 1)"})
    );
    // Files are removed by id; a big file shows no contents.
    let id = router.rows("/rest/file?name=good.rsc").await[0][".id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        router
            .call("DELETE", &format!("/rest/file/{id}"), None)
            .await
            .status,
        204
    );
}

/// `/import dry-run` (7.16 and later) checks a file without running it: a good file changes
/// nothing and answers as an import does, a file that would not parse is refused with the
/// import's error, and versions before 7.16 do not know the argument.
#[tokio::test]
async fn import_dry_run_checks_without_running() {
    let router = start().await;
    let put = |name: &str, contents: &str| json!({"name": name, "contents": contents});
    router
        .put(
            "/rest/file",
            put(
                "good.rsc",
                "/ip firewall address-list\nadd list=d address=10.41.0.1\n",
            ),
        )
        .await;
    router
        .put(
            "/rest/file",
            put(
                "broken.rsc",
                "/ip firewall address-list\nadd list=d address=10.41.0.2 \"\n",
            ),
        )
        .await;
    let r = router
        .call(
            "POST",
            "/rest/import",
            Some(json!({"file-name": "good.rsc", "dry-run": ""})),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (200, "[]"));
    assert!(
        router.rows(&format!("{LIST}?list=d")).await.is_empty(),
        "nothing ran"
    );
    let r = router
        .call(
            "POST",
            "/rest/import",
            Some(json!({"file-name": "broken.rsc", "dry-run": "yes"})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.json()["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("Script Error: ")),
        "{}",
        r.text
    );
    assert!(router.rows(&format!("{LIST}?list=d")).await.is_empty());
    // The same import without `dry-run` runs.
    let r = router
        .call(
            "POST",
            "/rest/import",
            Some(json!({"file-name": "good.rsc"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(router.rows(&format!("{LIST}?list=d")).await.len(), 1);
    let old = crate::support::start_with(
        simulator::Simulator::builder().version("7.15.3".parse().unwrap()),
    )
    .await;
    old.put("/rest/file", put("good.rsc", "/log info x\n"))
        .await;
    old.call(
        "POST",
        "/rest/import",
        Some(json!({"file-name": "good.rsc", "dry-run": ""})),
    )
    .await
    .assert_error(400, Some("unknown parameter dry-run"));
}
