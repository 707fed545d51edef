//! Authentication and policies (ROUTEROS-REST.md section 5): who gets 401, 500 or 400, and when.
//!
//! Users and groups are made both with the builder and through REST as `admin`, the way a test suite
//! prepares a real router. Each policy case is one row of a table: user, request, expected status and
//! exact body. Changes to users and groups take effect on the next request.

use serde_json::{Value, json};

use crate::support::{ADMIN, Sim, V4, start, start_with};
use simulator::Simulator;

const NOT_ALLOWED: Option<&str> = Some("std failure: not allowed (9)");
const NO_PERMS: Option<&str> = Some("not enough permissions (9)");
const NO_ID: Option<&str> = Some("missing or invalid resource identifier");

/// A simulator with one user per policy case, all with password `pw`.
async fn policy_router() -> Sim {
    let builder = Simulator::builder()
        .group("agents", "api,rest-api,read,write")
        .group("norest", "api,read,write")
        .group("noapi", "rest-api,read,write")
        .group("noread", "api,rest-api,write")
        .group("nowrite", "api,rest-api,read")
        .user("agent", "pw", "agents")
        .user("norest", "pw", "norest")
        .user("noapi", "pw", "noapi")
        .user("noread", "pw", "noread")
        .user("nowrite", "pw", "nowrite")
        .user("reader", "pw", "read")
        .user("writer", "pw", "write");
    let s = start_with(builder).await;
    s.put(V4, json!({"list":"p","address":"10.0.0.1"})).await;
    s
}

/// Sends `method path body` as `user` and compares status and (for errors) the exact body.
async fn check(
    s: &Sim,
    user: Option<(&str, &str)>,
    method: &str,
    path: &str,
    body: Option<Value>,
    status: u16,
    detail: Option<&str>,
) {
    let r = s.call_as(user, method, path, body.clone()).await;
    if status >= 400 {
        assert_eq!(
            (r.status, r.text.as_str()),
            (status, crate::support::envelope(status, detail).as_str()),
            "{user:?} {method} {path} {body:?}"
        );
    } else {
        assert_eq!(
            r.status, status,
            "{user:?} {method} {path} {body:?}: {}",
            r.text
        );
    }
}

#[tokio::test]
async fn missing_policies_get_the_router_answers() {
    let s = policy_router().await;
    let item = format!("{V4}/*1");
    let add = format!("{V4}/add");
    let set = format!("{V4}/set");
    let remove = format!("{V4}/remove");
    let print = format!("{V4}/print");
    let new = || Some(json!({"list":"p","address":"10.0.0.9"}));
    let u = |name| Some((name, "pw"));
    // No rest-api: 401, not 403, whatever the request.
    check(&s, u("norest"), "GET", V4, None, 401, None).await;
    check(&s, u("norest"), "PUT", V4, new(), 401, None).await;
    // rest-api without api.
    check(&s, u("noapi"), "GET", V4, None, 500, NOT_ALLOWED).await;
    check(&s, u("noapi"), "PUT", V4, new(), 500, NOT_ALLOWED).await;
    // No read: reads refused.
    check(&s, u("noread"), "GET", V4, None, 500, NO_PERMS).await;
    check(&s, u("noread"), "GET", &item, None, 500, NO_PERMS).await;
    check(
        &s,
        u("noread"),
        "POST",
        &print,
        Some(json!({})),
        500,
        NO_PERMS,
    )
    .await;
    // No write: writes refused, PATCH differently.
    check(&s, u("nowrite"), "GET", V4, None, 200, None).await;
    check(
        &s,
        u("nowrite"),
        "POST",
        &print,
        Some(json!({"count-only":""})),
        200,
        None,
    )
    .await;
    check(&s, u("nowrite"), "PUT", V4, new(), 500, NO_PERMS).await;
    check(&s, u("nowrite"), "DELETE", &item, None, 500, NO_PERMS).await;
    check(&s, u("nowrite"), "POST", &add, new(), 500, NO_PERMS).await;
    check(
        &s,
        u("nowrite"),
        "POST",
        &set,
        Some(json!({".id":"*1","comment":"x"})),
        500,
        NO_PERMS,
    )
    .await;
    check(
        &s,
        u("nowrite"),
        "POST",
        &remove,
        Some(json!({".id":"*1"})),
        500,
        NO_PERMS,
    )
    .await;
    check(
        &s,
        u("nowrite"),
        "PATCH",
        &item,
        Some(json!({"comment":"x"})),
        400,
        NO_ID,
    )
    .await;
    // The built-in read group behaves the same; write and the custom group may write.
    check(&s, u("reader"), "GET", V4, None, 200, None).await;
    check(&s, u("reader"), "PUT", V4, new(), 500, NO_PERMS).await;
    check(
        &s,
        u("reader"),
        "PATCH",
        &item,
        Some(json!({"comment":"x"})),
        400,
        NO_ID,
    )
    .await;
    check(
        &s,
        u("agent"),
        "PATCH",
        &item,
        Some(json!({"comment":"agent"})),
        200,
        None,
    )
    .await;
    check(&s, u("writer"), "PUT", V4, new(), 201, None).await;
    check(
        &s,
        u("agent"),
        "DELETE",
        &format!("{V4}/*2"),
        None,
        204,
        None,
    )
    .await;
    // Nothing the refused requests tried was done.
    let rows = s.rows(V4).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["comment"], "agent");
}

#[tokio::test]
async fn bad_credentials_are_401_and_no_credentials_ask_for_basic() {
    let s = policy_router().await;
    let r = s.call_as(None, "GET", V4, None).await;
    r.assert_error(401, None);
    let challenge = r
        .header("www-authenticate")
        .expect("a WWW-Authenticate header");
    assert!(challenge.starts_with("Basic"), "{challenge}");
    check(&s, Some(("admin", "wrong")), "GET", V4, None, 401, None).await;
    check(&s, Some(("agent", "")), "GET", V4, None, 401, None).await;
    check(&s, Some(("nosuchuser", "pw")), "GET", V4, None, 401, None).await;
    check(&s, Some(("Admin", "admin")), "GET", V4, None, 401, None).await;
    check(&s, Some(("", "")), "GET", V4, None, 401, None).await;
    check(&s, Some(ADMIN), "GET", V4, None, 200, None).await;
    // Writes with bad credentials change nothing.
    check(
        &s,
        Some(("admin", "wrong")),
        "PUT",
        V4,
        Some(json!({"list":"p","address":"10.0.0.9"})),
        401,
        None,
    )
    .await;
    assert_eq!(s.rows(V4).await.len(), 1);
}

#[tokio::test]
async fn malformed_authorization_headers_are_401() {
    let s = start().await;
    let client = crate::support::https_client(s.sim.ca_pem());
    let url = format!("{}{V4}", s.sim.https_url());
    for value in [
        "Basic",
        "Basic !!!notbase64",
        "Bearer abc",
        "Basic YWRtaW4=",
        "Digest username=\"admin\"",
    ] {
        let r = client
            .get(&url)
            .header("authorization", value)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(
            (status, text.as_str()),
            (401, crate::support::envelope(401, None).as_str()),
            "{value}"
        );
    }
}

#[tokio::test]
async fn disabled_users_and_users_from_elsewhere_are_401() {
    let s = start_with(
        Simulator::builder()
            .group("agents", "api,rest-api,read,write")
            .user("agent", "pw", "agents")
            .user("here", "pw", "agents"),
    )
    .await;
    let agent = Some(("agent", "pw"));
    check(&s, agent, "GET", V4, None, 200, None).await;
    // Disabled through REST: refused from the next request on.
    let r = s
        .call("PATCH", "/rest/user/agent", Some(json!({"disabled":"yes"})))
        .await;
    assert_eq!(r.json()["disabled"], "true");
    check(&s, agent, "GET", V4, None, 401, None).await;
    s.call("PATCH", "/rest/user/agent", Some(json!({"disabled":"no"})))
        .await;
    check(&s, agent, "GET", V4, None, 200, None).await;
    // A password changed by PATCH is answered 400 and applied all the same (lab contract, CHR
    // 7.23.7): the old password no longer logs in, the new one does.
    let r = s
        .call("PATCH", "/rest/user/agent", Some(json!({"password":"pw2"})))
        .await;
    r.assert_error(400, Some(simulator::rest::request::PASSWORD_PATCH_DETAIL));
    check(&s, agent, "GET", V4, None, 401, None).await;
    check(&s, Some(("agent", "pw2")), "GET", V4, None, 200, None).await;
    // Allowed address elsewhere, then here (the tests connect from 127.0.0.1).
    let here = Some(("here", "pw"));
    for (address, status) in [
        ("192.0.2.0/24", 401),
        ("127.0.0.1", 200),
        ("192.0.2.1,127.0.0.0/8", 200),
        ("10.0.0.0/8", 401),
        ("", 200),
    ] {
        let r = s
            .call(
                "PATCH",
                "/rest/user/here",
                Some(json!({"address": address})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        check(&s, here, "GET", V4, None, status, None).await;
    }
}

#[tokio::test]
async fn groups_and_users_made_through_rest_apply_on_the_next_request() {
    let s = start().await;
    // Prepare the router the way a suite prepares a real one.
    let r = s
        .call(
            "PUT",
            "/rest/user/group",
            Some(json!({"name":"agents","policy":"read,write,api,rest-api"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let group = r.json()[".id"].as_str().unwrap().to_owned();
    let r = s
        .call(
            "PUT",
            "/rest/user",
            Some(json!({"name":"agent","group":"agents","password":"s3cret"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let user = r.json()[".id"].as_str().unwrap().to_owned();
    let agent = Some(("agent", "s3cret"));
    check(
        &s,
        agent,
        "PUT",
        V4,
        Some(json!({"list":"g","address":"10.0.0.1"})),
        201,
        None,
    )
    .await;
    // Take write away: the very next request is refused.
    s.call(
        "PATCH",
        &format!("/rest/user/group/{group}"),
        Some(json!({"policy":"read,api,rest-api"})),
    )
    .await;
    check(
        &s,
        agent,
        "PUT",
        V4,
        Some(json!({"list":"g","address":"10.0.0.2"})),
        500,
        NO_PERMS,
    )
    .await;
    check(
        &s,
        agent,
        "PATCH",
        &format!("{V4}/*1"),
        Some(json!({"comment":"x"})),
        400,
        NO_ID,
    )
    .await;
    check(&s, agent, "GET", V4, None, 200, None).await;
    // Take read away.
    s.call(
        "PATCH",
        &format!("/rest/user/group/{group}"),
        Some(json!({"policy":"api,rest-api"})),
    )
    .await;
    check(&s, agent, "GET", V4, None, 500, NO_PERMS).await;
    // Take api away.
    s.call(
        "PATCH",
        &format!("/rest/user/group/{group}"),
        Some(json!({"policy":"read,rest-api"})),
    )
    .await;
    check(&s, agent, "GET", V4, None, 500, NOT_ALLOWED).await;
    // Take rest-api away.
    s.call(
        "PATCH",
        &format!("/rest/user/group/{group}"),
        Some(json!({"policy":"read,api"})),
    )
    .await;
    check(&s, agent, "GET", V4, None, 401, None).await;
    // Give it all back, then move the user to the built-in read group.
    s.call(
        "PATCH",
        &format!("/rest/user/group/{group}"),
        Some(json!({"policy":"read,write,api,rest-api"})),
    )
    .await;
    check(&s, agent, "GET", V4, None, 200, None).await;
    s.call(
        "PATCH",
        &format!("/rest/user/{user}"),
        Some(json!({"group":"read"})),
    )
    .await;
    check(
        &s,
        agent,
        "DELETE",
        &format!("{V4}/*1"),
        None,
        500,
        NO_PERMS,
    )
    .await;
    // A new password replaces the old one at once.
    s.call(
        "PATCH",
        &format!("/rest/user/{user}"),
        Some(json!({"password":"n3w"})),
    )
    .await;
    check(&s, agent, "GET", V4, None, 401, None).await;
    check(&s, Some(("agent", "n3w")), "GET", V4, None, 200, None).await;
    // A removed user is unknown from the next request on.
    assert_eq!(
        s.call("DELETE", &format!("/rest/user/{user}"), None)
            .await
            .status,
        204
    );
    check(&s, Some(("agent", "n3w")), "GET", V4, None, 401, None).await;
}

#[tokio::test]
async fn passwords_are_never_returned() {
    let s = start_with(Simulator::builder().user("u", "hunter2", "read")).await;
    for path in [
        "/rest/user",
        "/rest/user/u",
        "/rest/user?.proplist=password,name",
        "/rest/user/admin?.proplist=password",
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(
            !r.text.contains("password") && !r.text.contains("hunter2"),
            "{path}: {}",
            r.text
        );
    }
    let r = s
        .call(
            "POST",
            "/rest/user/print",
            Some(json!({".proplist":["name","password"]})),
        )
        .await;
    assert!(
        !r.text.contains("password") && !r.text.contains("hunter2"),
        "{}",
        r.text
    );
    let r = s
        .call(
            "PUT",
            "/rest/user",
            Some(json!({"name":"v","group":"read","password":"topsecret"})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert!(
        !r.text.contains("topsecret") && !r.text.contains("password"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn users_and_groups_are_found_by_name() {
    let s = start().await;
    let admin = s.get("/rest/user/admin").await.json();
    assert_eq!(
        (admin[".id"].as_str(), admin["group"].as_str()),
        (Some("*1"), Some("full"))
    );
    let full = s.get("/rest/user/group/full").await.json();
    assert_eq!(full["name"], "full");
    s.get("/rest/user/nosuch").await.assert_error(404, None);
    s.get("/rest/user/group/nosuch")
        .await
        .assert_error(404, None);
}

#[tokio::test]
async fn user_and_group_refusals() {
    let s = start().await;
    let cases: &[(&str, &str, Value, u16, Option<&str>)] = &[
        (
            "PUT",
            "/rest/user",
            json!({"name":"x","group":"nosuch-group","password":"p"}),
            400,
            Some("input does not match any value of group"),
        ),
        (
            "PUT",
            "/rest/user",
            json!({"name":"admin","group":"read"}),
            400,
            Some("failure: user with the same name already exists"),
        ),
        (
            "PUT",
            "/rest/user",
            json!({"name":"x","group":"read","color":"red"}),
            400,
            Some("unknown parameter color"),
        ),
        (
            "PUT",
            "/rest/user",
            json!({"name":"x","group":"read","address":"not-an-address"}),
            400,
            Some("invalid value for argument address"),
        ),
        (
            "PUT",
            "/rest/user/group",
            json!({"name":"g","policy":"read,fly"}),
            400,
            Some("invalid value for argument policy"),
        ),
        (
            "PUT",
            "/rest/user/group",
            json!({"name":"full","policy":"read"}),
            400,
            Some("failure: group with the same name already exists"),
        ),
    ];
    for (method, path, body, status, detail) in cases {
        s.call(method, path, Some(body.clone()))
            .await
            .assert_error(*status, *detail);
    }
    // A group with members cannot go (lab probe: `failure: group has some users`).
    s.call(
        "PUT",
        "/rest/user/group",
        Some(json!({"name":"g","policy":"read,api,rest-api"})),
    )
    .await;
    s.call("PUT", "/rest/user", Some(json!({"name":"m","group":"g"})))
        .await;
    s.call("DELETE", "/rest/user/group/g", None)
        .await
        .assert_error(400, Some("failure: group has some users"));
}

/// With the router's login cache on, a group's policy change reaches a user who already logged in
/// only when the cache expires (ROUTEROS-REST.md section 6); new logins see it at once, and
/// credentials are always checked afresh.
#[tokio::test]
async fn login_cache_delays_policy_changes_for_logged_in_users() {
    let limits = simulator::Limits {
        login_cache: std::time::Duration::from_secs(600),
        ..Default::default()
    };
    let s = start_with(
        simulator::Simulator::builder()
            .limits(limits)
            .group("agents", "api,rest-api,read,write")
            .user("cached", "pw", "agents")
            .user("fresh", "pw", "agents"),
    )
    .await;
    let put = |user: &'static str, address: &'static str| {
        let s = &s;
        async move {
            s.call_as(
                Some((user, "pw")),
                "PUT",
                V4,
                Some(json!({"list": "l", "address": address})),
            )
            .await
            .status
        }
    };
    assert_eq!(put("cached", "10.0.0.1").await, 201);
    let group = s.rows("/rest/user/group?name=agents").await[0][".id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .call(
            "PATCH",
            &format!("/rest/user/group/{group}"),
            Some(json!({"policy": "api,rest-api,read"})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        put("cached", "10.0.0.2").await,
        201,
        "still the remembered policies"
    );
    assert_eq!(
        put("fresh", "10.0.0.3").await,
        500,
        "a first login sees the change"
    );
    assert_eq!(
        s.call_as(Some(("cached", "wrong")), "GET", V4, None)
            .await
            .status,
        401,
        "passwords are checked afresh"
    );
    s.sim.clock().advance(std::time::Duration::from_secs(600));
    let r = s
        .call_as(
            Some(("cached", "pw")),
            "PUT",
            V4,
            Some(json!({"list": "l", "address": "10.0.0.4"})),
        )
        .await;
    r.assert_error(500, Some("not enough permissions (9)"));
}
