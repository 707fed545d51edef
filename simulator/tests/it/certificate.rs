//! `/certificate` over REST: a feed's CA uploaded as a file (`/file add contents=`) and imported
//! (`/certificate import file-name=`) is what `/tool/fetch check-certificate=yes` trusts, as on a
//! router; `set trusted=no` and `remove` take the trust away; a missing file, an ambiguous name and
//! a file without a certificate are refused in the router's envelope.

use serde_json::{Value, json};
use simulator::{Action, FaultGuard, FaultRule};

use crate::support::{Sim, start};

/// A feed on `server` at `path`.
fn feed(server: &Sim, path: &str) -> FaultGuard {
    server
        .sim
        .fault(
            FaultRule::always(Action::Body {
                status: 200,
                content_type: "text/plain".into(),
                body: "10.20.0.1\n".into(),
            })
            .path(path),
        )
        .unwrap()
}

async fn post(sim: &Sim, path: &str, body: Value) -> crate::support::Reply {
    sim.call("POST", path, Some(body)).await
}

/// A checked fetch of `url`: its reply.
async fn checked_fetch(sim: &Sim, url: &str) -> crate::support::Reply {
    post(
        sim,
        "/rest/tool/fetch",
        json!({"url": url, "output": "user", "check-certificate": "yes"}),
    )
    .await
}

const NO_TRUSTED_CA: &str = "failure: SSL: ssl: no trusted CA certificate found (6)";

#[tokio::test]
async fn an_uploaded_and_imported_ca_is_what_a_checked_fetch_trusts() {
    let router = start().await;
    let server = start().await;
    let _feed = feed(&server, "/feed.txt");
    let url = format!("{}/feed.txt", server.sim.https_url());
    // Without the CA in the store the router refuses the server's certificate.
    checked_fetch(&router, &url)
        .await
        .assert_error(400, Some(NO_TRUSTED_CA));
    // Upload the PEM as a file, then import it, as the manual's flow does over REST.
    let r = router
        .call(
            "PUT",
            "/rest/file",
            Some(json!({"name": "feed-ca.pem", "contents": server.sim.ca_pem()})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = post(
        &router,
        "/rest/certificate/import",
        json!({"file-name": "feed-ca.pem", "passphrase": ""}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()[0]["certificates-imported"], "1");
    let certs = router.rows("/rest/certificate").await;
    assert_eq!(certs.len(), 1, "{certs:?}");
    let cert = &certs[0];
    assert_eq!(cert["name"], "feed-ca.pem_0");
    assert_eq!(cert["common-name"], "RouterOS simulator CA");
    assert_eq!(cert["trusted"], "true");
    assert_eq!(cert["authority"], "true");
    assert_eq!(cert["private-key"], "false");
    assert_eq!(cert["fingerprint"].as_str().map(str::len), Some(64));
    crate::support::assert_router_json(&router.get("/rest/certificate").await.text);
    let r = checked_fetch(&router, &url).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()[0]["data"], "10.20.0.1\n");
    // Distrusted, the certificate no longer vouches for the server.
    let id = cert[".id"].as_str().unwrap().to_owned();
    let r = router
        .call(
            "PATCH",
            &format!("/rest/certificate/{id}"),
            Some(json!({"trusted": "no", "name": "feed-ca"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["trusted"], "false");
    assert_eq!(r.json()["name"], "feed-ca");
    checked_fetch(&router, &url)
        .await
        .assert_error(400, Some(NO_TRUSTED_CA));
    let r = post(
        &router,
        "/rest/certificate/set",
        json!({".id": id, "trusted": "yes"}),
    )
    .await;
    assert_eq!((r.status, r.text.as_str()), (200, "[]"));
    assert_eq!(checked_fetch(&router, &url).await.status, 200);
    // Removed, it is gone from the store and from what fetch trusts.
    let r = router
        .call("DELETE", &format!("/rest/certificate/{id}"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(router.rows("/rest/certificate").await.is_empty());
    checked_fetch(&router, &url)
        .await
        .assert_error(400, Some(NO_TRUSTED_CA));
}

#[tokio::test]
async fn imports_of_missing_ambiguous_and_bad_files_are_refused() {
    let router = start().await;
    let import = |name: &'static str| {
        let router = &router;
        async move {
            post(
                router,
                "/rest/certificate/import",
                json!({"file-name": name, "passphrase": ""}),
            )
            .await
        }
    };
    import("nothing.pem")
        .await
        .assert_error(400, Some("input does not match any value of file-name"));
    for (name, contents) in [
        ("ca-a.pem", "hello"),
        (
            "ca-b.pem",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ),
    ] {
        router
            .put("/rest/file", json!({"name": name, "contents": contents}))
            .await;
    }
    import("ca-").await.assert_error(
        400,
        Some("ambiguous value of file-name, more than one possible value matches input"),
    );
    for name in ["ca-a.pem", "ca-b"] {
        import(name)
            .await
            .assert_error(400, Some("failure: no certificates found in the file"));
    }
    post(
        &router,
        "/rest/certificate/import",
        json!({"passphrase": ""}),
    )
    .await
    .assert_error(400, Some("missing =file-name="));
    assert!(router.rows("/rest/certificate").await.is_empty());
}

/// The same import from a script: the passive-mode installer's way, in one `/execute`.
#[tokio::test]
async fn a_script_uploads_and_imports_a_ca() {
    let router = start().await;
    let pem = router.sim.ca_pem().replace('\n', "\\n");
    let script = format!(
        "/file add name=ca.pem contents=\"{pem}\"\n/certificate import file-name=ca.pem passphrase=\"\" name=feed\n:put [/certificate get feed trusted]"
    );
    let r = post(
        &router,
        "/rest/execute",
        json!({"script": script, "as-string": ""}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), json!({"ret": "true"}));
}

/// A seed's `[[certificate]]` puts a CA in the store as an import of the same PEM would, so a
/// simulator started from a file (or loaded through the control API) can fetch from a server it
/// trusts without an upload; `trusted = false` keeps it in the store but not trusted; a text
/// without a certificate is refused with the certificate's place in the seed.
#[tokio::test]
async fn a_seed_certificate_is_trusted_as_an_import_would_be() {
    let router = start().await;
    let server = start().await;
    let _feed = feed(&server, "/feed.txt");
    let url = format!("{}/feed.txt", server.sim.https_url());
    let seed = |trusted: bool| {
        format!(
            "[[user]]\nname = \"admin\"\npassword = \"admin\"\ngroup = \"full\"\n\
             [[certificate]]\nname = \"feed-ca\"\ntrusted = {trusted}\npem = '''\n{}'''\n",
            server.sim.ca_pem()
        )
    };
    router
        .sim
        .load_seed(simulator::Seed::parse(&seed(true), false).unwrap())
        .unwrap();
    let certs = router.rows("/rest/certificate").await;
    assert_eq!(certs.len(), 1, "{certs:?}");
    assert_eq!(certs[0]["name"], "feed-ca");
    assert_eq!(certs[0]["trusted"], "true");
    let r = checked_fetch(&router, &url).await;
    assert_eq!(r.status, 200, "{}", r.text);
    router
        .sim
        .load_seed(simulator::Seed::parse(&seed(false), false).unwrap())
        .unwrap();
    assert_eq!(
        router.rows("/rest/certificate").await[0]["trusted"],
        "false"
    );
    checked_fetch(&router, &url)
        .await
        .assert_error(400, Some(NO_TRUSTED_CA));
    let bad = "[[user]]\nname = \"admin\"\npassword = \"admin\"\ngroup = \"full\"\n\
               [[certificate]]\npem = \"not a certificate\"\n";
    let e = router
        .sim
        .load_seed(simulator::Seed::parse(bad, false).unwrap())
        .expect_err("refused");
    assert!(e.starts_with("certificate 1: "), "{e}");
}
