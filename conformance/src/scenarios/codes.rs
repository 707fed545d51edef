//! Error-code scenarios: each puts the agent in the situation of one row of the contract
//! (ERROR-CODES.md) and asserts that exact code, that no grant was lost, and, where the situation
//! can be ended, that the next attempt succeeds.
//!
//! Situations a real router can produce on request (a wrong password, a restricted user, a
//! certificate the agent does not trust, a pin that does not match, an unresolvable name, a closed
//! port, a rejected address, a foreign entry) need no fault injection and run on every target. The
//! others use the simulator's faults; their fault scenarios keep the agent's time limits short and
//! let the fault persist, so the agent's retries see the same failure every time.

use std::time::Duration;

use agent::Code;
use agent::config::TlsMode;
use serde_json::json;
use simulator::{Action, FaultRule, Listener};

use super::{Scenario, scenario};
use crate::driver::Agent;
use crate::target::Ctx;
use crate::{Failure, Outcome, ensure, ensure_eq};

/// The address every scenario grants (TEST-NET-1).
const ADDR: &str = "192.0.2.10";
/// The user the grant is for.
const USER: &str = "alice";
/// The IPv4 address-list menu as faults match it.
const LIST_PATH: &str = "/rest/ip/firewall/address-list";
/// An entry of that menu.
const ENTRY_PATH: &str = "/rest/ip/firewall/address-list/*";
/// The probe `validate` and the agent start from.
const RESOURCE_PATH: &str = "/rest/system/resource";

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(
            "codes::208000::service_refuses_connections",
            [Faults, Write],
            [ConnectionRefused],
            refused_by_service
        ),
        scenario!(
            local "codes::208000::closed_port",
            [],
            [ConnectionRefused],
            closed_port
        ),
        scenario!(
            "codes::208001::wrong_password",
            [],
            [AuthenticationFailed],
            wrong_password
        ),
        scenario!(
            "codes::208001::group_without_rest_api",
            [Admin, SecondUser, Write],
            [AuthenticationFailed],
            group_without_rest_api
        ),
        scenario!(
            "codes::208002::group_without_write",
            [Admin, SecondUser, Write],
            [AuthorizationFailed],
            group_without_write
        ),
        scenario!(
            "codes::208002::group_without_api",
            [Admin, SecondUser, Write],
            [AuthorizationFailed],
            group_without_api
        ),
        scenario!(
            "codes::208002::forbidden_403",
            [Faults, Write],
            [AuthorizationFailed],
            forbidden_403
        ),
        scenario!(
            "codes::208003::unknown_ca",
            [Https],
            [CertificateNotTrusted],
            unknown_ca
        ),
        scenario!(
            "codes::208003::pinned_fingerprint_mismatch",
            [Https],
            [CertificateNotTrusted],
            pin_mismatch
        ),
        scenario!(
            "codes::208003::expired_certificate",
            [Faults, Https, Write],
            [CertificateNotTrusted],
            tls_expired
        ),
        scenario!(
            "codes::208003::wrong_name_certificate",
            [Faults, Https, Write],
            [CertificateNotTrusted],
            tls_wrong_name
        ),
        scenario!(
            "codes::208003::untrusted_issuer",
            [Faults, Https, Write],
            [CertificateNotTrusted],
            tls_untrusted
        ),
        scenario!(
            "codes::208004::response_stalls",
            [Faults, Write],
            [TimedOut],
            stall
        ),
        scenario!(
            local "codes::208005::unresolvable_name",
            [],
            [NameResolutionFailed],
            unresolvable
        ),
        scenario!(
            "codes::208006::no_certificate",
            [Faults, Https, Write],
            [TlsHandshakeFailed],
            tls_no_certificate
        ),
        scenario!(
            "codes::208006::plain_http_on_tls_port",
            [Faults, Https, Write],
            [TlsHandshakeFailed],
            tls_plaintext
        ),
        scenario!(
            "codes::208007::connection_reset",
            [Faults, Write],
            [ConnectionReset],
            reset
        ),
        scenario!(
            "codes::208007::closed_after_headers",
            [Faults, Write],
            [ConnectionReset],
            close_after_headers
        ),
        scenario!(
            "codes::208008::resource_404",
            [Faults, Write],
            [RestApiUnavailable],
            resource_404
        ),
        scenario!(
            "codes::208008::html_page",
            [Faults, Write],
            [RestApiUnavailable],
            resource_html
        ),
        scenario!(
            "codes::208009::routeros_6",
            [Faults, Write],
            [UnsupportedVersion],
            routeros_6
        ),
        scenario!(
            "codes::208010::session_closed",
            [Faults, Write],
            [SessionClosed],
            session_closed
        ),
        scenario!(
            "codes::208011::service_unavailable_503",
            [Faults, Write],
            [RouterInternalError],
            status_503
        ),
        scenario!(
            "codes::208011::internal_error_500",
            [Faults, Write],
            [RouterInternalError],
            status_500
        ),
        scenario!(
            "codes::208100::list_read_rejected",
            [Faults, Write],
            [ListReadFailed],
            list_read_rejected
        ),
        scenario!(
            "codes::208101::add_rejected",
            [Faults, Write],
            [EntryAddFailed],
            add_rejected
        ),
        scenario!(
            "codes::208102::remove_rejected",
            [Faults, Write],
            [EntryRemoveFailed],
            remove_rejected
        ),
        scenario!(
            "codes::208103::update_rejected",
            [Faults, Write],
            [EntryUpdateFailed],
            update_rejected
        ),
        scenario!(
            local "codes::208104::invalid_address_checked_before_sending",
            [],
            [AddressRejected],
            invalid_address
        ),
        scenario!(
            "codes::208104::router_refuses_address",
            [Faults, Write],
            [AddressRejected],
            router_refuses_address
        ),
        scenario!(
            "codes::208105::foreign_entry_holds_address",
            [Write],
            [EntryNotOwned],
            foreign_entry
        ),
        scenario!(
            "codes::208105::static_entry_with_agent_tag",
            [Write],
            [EntryNotOwned],
            static_entry_with_tag
        ),
        scenario!(
            "codes::208106::router_shows_other_address",
            [Faults, Write],
            [WriteNotConfirmed],
            write_not_confirmed
        ),
        scenario!(
            "codes::208400::list_is_not_json",
            [Faults, Write],
            [NotJson],
            list_not_json
        ),
        scenario!(
            "codes::208400::list_is_html",
            [Faults, Write],
            [NotJson],
            list_html
        ),
        scenario!(
            "codes::208401::object_instead_of_array",
            [Faults, Write],
            [WrongShape],
            wrong_shape
        ),
        scenario!(
            "codes::208402::row_without_id",
            [Faults, Write],
            [MissingField],
            missing_field
        ),
        scenario!(
            "codes::208403::non_string_value",
            [Faults, Write],
            [InvalidValue],
            non_string_value
        ),
        scenario!(
            "codes::208403::malformed_id",
            [Faults, Write],
            [InvalidValue],
            malformed_id
        ),
        scenario!(
            "codes::208404::unexpected_2xx",
            [Faults, Write],
            [UnexpectedStatus],
            unexpected_status
        ),
    ]
}

/// A status fault with a RouterOS error body.
fn status(code: u16, detail: Option<&str>) -> Action {
    Action::Status {
        status: code,
        detail: detail.map(str::to_owned),
    }
}

/// A body fault with status 200 (or `code`) and JSON content type.
fn body(code: u16, text: &str) -> Action {
    Action::Body {
        status: code,
        content_type: "application/json".into(),
        body: text.into(),
    }
}

/// Grants under a fault: the exact code, the grant kept; then the fault goes and a sync adds the entry.
async fn grant_fails_then_recovers(
    ctx: &Ctx,
    agent: &Agent,
    rule: FaultRule,
    code: Code,
) -> Outcome {
    let id = ctx.fault(rule).await?;
    agent
        .grant(ADDR, USER, "1h")
        .await
        .expect_code(code.number())?;
    agent.expect_grant(ADDR, USER)?;
    ctx.remove_fault(id).await?;
    agent.sync().await.expect_ok()?;
    ensure_eq!(
        ctx.addresses(false).await?,
        vec![ADDR.to_owned()],
        "the list after the fault ended"
    );
    Ok(())
}

/// A grant that works, then `validate` under a fault: the exact code, and the grant and its entry stay.
async fn validate_fails_grant_stays(ctx: &Ctx, rule: FaultRule, code: Code) -> Outcome {
    let agent = Agent::new(ctx);
    agent.grant(ADDR, USER, "1h").await.expect_ok()?;
    let id = ctx.fault(rule).await?;
    agent.validate(false).await.expect_code(code.number())?;
    agent.expect_grant(ADDR, USER)?;
    ctx.remove_fault(id).await?;
    ensure_eq!(
        ctx.addresses(false).await?,
        vec![ADDR.to_owned()],
        "the list after the failed validate"
    );
    agent.validate(false).await.expect_ok()?;
    Ok(())
}

async fn refused_by_service(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    let rule = FaultRule::always(Action::Refuse).listener(Listener::WwwSsl);
    grant_fails_then_recovers(ctx, &agent, rule, Code::ConnectionRefused).await
}

/// A loopback port that was just free: connecting to it is refused on any machine.
async fn closed_port(ctx: &Ctx) -> Outcome {
    let port = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| Failure::new(e.to_string()))?;
        l.local_addr()
            .map_err(|e| Failure::new(e.to_string()))?
            .port()
    };
    let agent = Agent::new(ctx).with_url(&format!("https://127.0.0.1:{port}"));
    agent
        .validate(false)
        .await
        .expect_code(Code::ConnectionRefused.number())?;
    // In read-only mode not even a grant that must fail is attempted: it would write if it did not.
    if ctx.settings.read_only {
        return Ok(());
    }
    agent
        .grant(ADDR, USER, "1h")
        .await
        .expect_code(Code::ConnectionRefused.number())?;
    agent.expect_grant(ADDR, USER)
}

async fn wrong_password(ctx: &Ctx) -> Outcome {
    let mut creds = ctx.live.agent.clone();
    creds.password.push_str("-wrong");
    let agent = Agent::new(ctx).with_creds(&creds);
    let run = agent.validate(false).await;
    run.expect_code(Code::AuthenticationFailed.number())?;
    ensure!(
        run.output.text.contains("rest-api"),
        "the 208001 message should name the `rest-api` cause too:\n{}",
        run.output.text
    );
    Ok(())
}

/// Grants as a user whose group has `policy`, expecting `code`; the grant is kept.
async fn restricted_grant(ctx: &Ctx, label: &str, policy: &str, code: Code) -> Outcome {
    let creds = ctx.restricted_user(label, policy).await?;
    let agent = Agent::new(ctx).with_creds(&creds);
    agent
        .grant(ADDR, USER, "1h")
        .await
        .expect_code(code.number())?;
    agent.expect_grant(ADDR, USER)?;
    // The same grants with the proper user go through: nothing was lost.
    let good = agent.clone().with_creds(&ctx.live.agent);
    good.sync().await.expect_ok()?;
    ensure_eq!(
        ctx.addresses(false).await?,
        vec![ADDR.to_owned()],
        "the list after a sync with the service user"
    );
    Ok(())
}

async fn group_without_rest_api(ctx: &Ctx) -> Outcome {
    restricted_grant(
        ctx,
        "norest",
        "api,read,write,policy",
        Code::AuthenticationFailed,
    )
    .await
}

async fn group_without_write(ctx: &Ctx) -> Outcome {
    restricted_grant(
        ctx,
        "nowrite",
        "api,rest-api,read",
        Code::AuthorizationFailed,
    )
    .await
}

async fn group_without_api(ctx: &Ctx) -> Outcome {
    restricted_grant(
        ctx,
        "noapi",
        "rest-api,read,write,policy",
        Code::AuthorizationFailed,
    )
    .await
}

async fn forbidden_403(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    let rule = FaultRule::always(status(403, Some("forbidden"))).path(LIST_PATH);
    grant_fails_then_recovers(ctx, &agent, rule, Code::AuthorizationFailed).await
}

async fn unknown_ca(ctx: &Ctx) -> Outcome {
    let other = simulator::tls::Authority::new("a CA the router does not use")
        .map_err(|e| Failure::new(e.to_string()))?;
    let path = ctx.dir.path().join("other-ca.pem");
    std::fs::write(&path, &other.ca_pem).map_err(|e| Failure::new(e.to_string()))?;
    let agent = Agent::new(ctx).with_tls(TlsMode::CaFile(path));
    agent
        .validate(false)
        .await
        .expect_code(Code::CertificateNotTrusted.number())?;
    // In read-only mode not even a grant that must fail is attempted: it would write if it did not.
    if ctx.settings.read_only {
        return Ok(());
    }
    agent
        .grant(ADDR, USER, "1h")
        .await
        .expect_code(Code::CertificateNotTrusted.number())?;
    agent.expect_grant(ADDR, USER)
}

async fn pin_mismatch(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx).with_tls(TlsMode::Pin([0x5a; 32]));
    agent
        .validate(false)
        .await
        .expect_code(Code::CertificateNotTrusted.number())?;
    // In read-only mode not even a grant that must fail is attempted: it would write if it did not.
    if ctx.settings.read_only {
        return Ok(());
    }
    agent
        .grant(ADDR, USER, "1h")
        .await
        .expect_code(Code::CertificateNotTrusted.number())?;
    agent.expect_grant(ADDR, USER)
}

async fn tls_fault(ctx: &Ctx, action: Action, code: Code) -> Outcome {
    let agent = Agent::new(ctx);
    grant_fails_then_recovers(ctx, &agent, FaultRule::always(action), code).await
}

async fn tls_expired(ctx: &Ctx) -> Outcome {
    tls_fault(ctx, Action::TlsExpired, Code::CertificateNotTrusted).await
}

async fn tls_wrong_name(ctx: &Ctx) -> Outcome {
    tls_fault(ctx, Action::TlsWrongName, Code::CertificateNotTrusted).await
}

async fn tls_untrusted(ctx: &Ctx) -> Outcome {
    tls_fault(ctx, Action::TlsUntrusted, Code::CertificateNotTrusted).await
}

async fn tls_no_certificate(ctx: &Ctx) -> Outcome {
    tls_fault(ctx, Action::TlsNoCertificate, Code::TlsHandshakeFailed).await
}

async fn tls_plaintext(ctx: &Ctx) -> Outcome {
    tls_fault(ctx, Action::TlsPlaintext, Code::TlsHandshakeFailed).await
}

async fn stall(ctx: &Ctx) -> Outcome {
    // A short request limit: the agent gives up after 300 ms per attempt instead of 30 s.
    let agent = Agent::new(ctx).with_timeouts(Duration::from_secs(2), Duration::from_millis(300));
    let rule = FaultRule::always(Action::Stall).path(LIST_PATH);
    grant_fails_then_recovers(ctx, &agent, rule, Code::TimedOut).await
}

async fn unresolvable(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx).with_url("https://nonexistent.invalid");
    agent
        .validate(false)
        .await
        .expect_code(Code::NameResolutionFailed.number())?;
    // In read-only mode not even a grant that must fail is attempted: it would write if it did not.
    if ctx.settings.read_only {
        return Ok(());
    }
    agent
        .grant(ADDR, USER, "1h")
        .await
        .expect_code(Code::NameResolutionFailed.number())?;
    agent.expect_grant(ADDR, USER)
}

async fn reset(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    let rule = FaultRule::always(Action::Reset).path(LIST_PATH);
    grant_fails_then_recovers(ctx, &agent, rule, Code::ConnectionReset).await
}

async fn close_after_headers(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    let rule = FaultRule::always(Action::CloseAfterHeaders)
        .path(LIST_PATH)
        .method("GET");
    grant_fails_then_recovers(ctx, &agent, rule, Code::ConnectionReset).await
}

async fn resource_404(ctx: &Ctx) -> Outcome {
    let rule = FaultRule::always(status(404, None)).path(RESOURCE_PATH);
    validate_fails_grant_stays(ctx, rule, Code::RestApiUnavailable).await
}

async fn resource_html(ctx: &Ctx) -> Outcome {
    let rule = FaultRule::always(Action::html_page()).path(RESOURCE_PATH);
    validate_fails_grant_stays(ctx, rule, Code::RestApiUnavailable).await
}

async fn routeros_6(ctx: &Ctx) -> Outcome {
    // A complete, well-formed resource of a v6 router (every value a string): only the version is wrong.
    let v6 = json!({
        "architecture-name": "mipsbe", "board-name": "hAP ac lite", "build-time": "Jan/17/2023 11:27:59",
        "cpu": "MIPS 24Kc V7.4", "cpu-count": "1", "cpu-frequency": "650", "cpu-load": "3",
        "factory-software": "6.40.4", "free-hdd-space": "3919872", "free-memory": "33837056",
        "platform": "MikroTik", "total-hdd-space": "16777216", "total-memory": "67108864",
        "uptime": "3d4h5m6s", "version": "6.49.10 (long-term)",
        "write-sect-since-reboot": "1234", "write-sect-total": "56789"
    });
    let rule = FaultRule::always(body(200, &v6.to_string())).path(RESOURCE_PATH);
    validate_fails_grant_stays(ctx, rule, Code::UnsupportedVersion).await
}

async fn session_closed(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    let rule = FaultRule::always(status(400, Some("Session closed"))).path(LIST_PATH);
    grant_fails_then_recovers(ctx, &agent, rule, Code::SessionClosed).await
}

async fn status_503(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    let rule = FaultRule::always(status(503, None)).path(LIST_PATH);
    grant_fails_then_recovers(ctx, &agent, rule, Code::RouterInternalError).await
}

async fn status_500(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    let rule = FaultRule::always(status(500, Some("std failure: timeout (13)"))).path(LIST_PATH);
    grant_fails_then_recovers(ctx, &agent, rule, Code::RouterInternalError).await
}

async fn list_read_rejected(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    let rule = FaultRule::always(status(
        400,
        Some("no such command or directory (address-list)"),
    ))
    .path(LIST_PATH)
    .method("GET");
    grant_fails_then_recovers(ctx, &agent, rule, Code::ListReadFailed).await
}

async fn add_rejected(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    let rule = FaultRule::always(status(400, Some("invalid time value for argument timeout")))
        .path(LIST_PATH)
        .method("PUT");
    grant_fails_then_recovers(ctx, &agent, rule, Code::EntryAddFailed).await
}

async fn remove_rejected(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    agent.grant(ADDR, USER, "1h").await.expect_ok()?;
    let id = ctx
        .fault(
            FaultRule::always(status(400, Some("failure: entry is locked")))
                .path(ENTRY_PATH)
                .method("DELETE"),
        )
        .await?;
    agent
        .revoke(ADDR, USER)
        .await
        .expect_code(Code::EntryRemoveFailed.number())?;
    ensure_eq!(
        ctx.addresses(false).await?,
        vec![ADDR.to_owned()],
        "the list after the refused removal"
    );
    ctx.remove_fault(id).await?;
    // The revoke is not lost either: the next sync removes the entry.
    agent.sync().await.expect_ok()?;
    ensure_eq!(
        ctx.addresses(false).await?,
        Vec::<String>::new(),
        "the list after the next sync"
    );
    Ok(())
}

async fn update_rejected(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    agent.grant(ADDR, USER, "10m").await.expect_ok()?;
    // RouterOS answers PATCH by a user without `write` like this.
    let id = ctx
        .fault(
            FaultRule::always(status(400, Some("missing or invalid resource identifier")))
                .path(ENTRY_PATH)
                .method("PATCH"),
        )
        .await?;
    agent
        .grant(ADDR, USER, "2h")
        .await
        .expect_code(Code::EntryUpdateFailed.number())?;
    agent.expect_grant(ADDR, USER)?;
    ctx.remove_fault(id).await?;
    agent.sync().await.expect_ok()?;
    let rows = ctx.entries(false).await?;
    let timeout = rows
        .first()
        .and_then(|r| r.get("timeout"))
        .and_then(|t| t.as_str())
        .unwrap_or("");
    ensure!(
        super::seconds(timeout)? > 3600,
        "after the fault ended the entry should carry the 2h grant, has timeout `{timeout}`"
    );
    Ok(())
}

async fn invalid_address(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    for bad in ["300.1.1.1", "not an address", "2001:db8::/129"] {
        agent
            .grant(bad, USER, "1h")
            .await
            .expect_code(Code::AddressRejected.number())?;
    }
    ensure!(
        agent.grants()?.is_empty(),
        "an invalid address must not be stored as a grant"
    );
    Ok(())
}

async fn router_refuses_address(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    let rule = FaultRule::always(status(400, Some("invalid value for argument address")))
        .path(LIST_PATH)
        .method("PUT");
    grant_fails_then_recovers(ctx, &agent, rule, Code::AddressRejected).await
}

/// Puts a foreign static entry (no timeout) for `address` into the scenario's list.
async fn put_foreign(
    ctx: &Ctx,
    address: &str,
    comment: &str,
) -> Result<serde_json::Value, Failure> {
    let reply = ctx
        .rest
        .put(
            Ctx::menu(false),
            &json!({ "list": ctx.list, "address": address, "comment": comment }),
        )
        .await?;
    reply.expect_status(201)?;
    reply.json()
}

async fn foreign_entry(ctx: &Ctx) -> Outcome {
    let before = put_foreign(ctx, ADDR, "managed by someone else").await?;
    let agent = Agent::new(ctx);
    let run = agent.grant(ADDR, USER, "1h").await;
    run.expect_code(Code::EntryNotOwned.number())?;
    agent.expect_grant(ADDR, USER)?;
    let rows = ctx.entries(false).await?;
    ensure_eq!(rows.len(), 1, "rows in the list");
    ensure_eq!(
        serde_json::Value::Object(rows[0].clone()),
        before,
        "the foreign entry (untouched)"
    );
    Ok(())
}

async fn static_entry_with_tag(ctx: &Ctx) -> Outcome {
    // The agent's own tag on a static entry: still not the agent's (it only creates timed entries).
    let before = put_foreign(ctx, ADDR, &ctx.tag).await?;
    let agent = Agent::new(ctx);
    agent
        .grant(ADDR, USER, "1h")
        .await
        .expect_code(Code::EntryNotOwned.number())?;
    let rows = ctx.entries(false).await?;
    ensure_eq!(rows.len(), 1, "rows in the list");
    ensure_eq!(
        serde_json::Value::Object(rows[0].clone()),
        before,
        "the static entry (untouched)"
    );
    Ok(())
}

async fn write_not_confirmed(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    // A well-formed 201 reply that shows another address than the one sent.
    let row = json!({
        ".id": "*99", "address": "192.0.2.99", "comment": ctx.tag, "creation-time": "2025-01-01 00:00:00",
        "disabled": "false", "dynamic": "true", "list": ctx.list, "timeout": "1h"
    });
    let rule = FaultRule::always(body(201, &row.to_string()))
        .path(LIST_PATH)
        .method("PUT");
    grant_fails_then_recovers(ctx, &agent, rule, Code::WriteNotConfirmed).await
}

async fn list_body(ctx: &Ctx, action: Action, code: Code) -> Outcome {
    let agent = Agent::new(ctx);
    let rule = FaultRule::always(action).path(LIST_PATH).method("GET");
    grant_fails_then_recovers(ctx, &agent, rule, code).await
}

async fn list_not_json(ctx: &Ctx) -> Outcome {
    list_body(ctx, Action::invalid_json(), Code::NotJson).await
}

async fn list_html(ctx: &Ctx) -> Outcome {
    list_body(ctx, Action::html_page(), Code::NotJson).await
}

async fn wrong_shape(ctx: &Ctx) -> Outcome {
    list_body(ctx, body(200, r#"{"ret":"*1"}"#), Code::WrongShape).await
}

async fn missing_field(ctx: &Ctx) -> Outcome {
    let rows = json!([{ "address": "192.0.2.77", "creation-time": "2025-01-01 00:00:00", "disabled": "false", "dynamic": "false", "list": ctx.list }]);
    list_body(ctx, body(200, &rows.to_string()), Code::MissingField).await
}

async fn non_string_value(ctx: &Ctx) -> Outcome {
    let rows = json!([{ ".id": "*1", "address": "192.0.2.77", "creation-time": "2025-01-01 00:00:00", "disabled": false, "dynamic": "false", "list": ctx.list }]);
    list_body(ctx, body(200, &rows.to_string()), Code::InvalidValue).await
}

async fn malformed_id(ctx: &Ctx) -> Outcome {
    let rows = json!([{ ".id": "1A", "address": "192.0.2.77", "creation-time": "2025-01-01 00:00:00", "disabled": "false", "dynamic": "false", "list": ctx.list }]);
    list_body(ctx, body(200, &rows.to_string()), Code::InvalidValue).await
}

async fn unexpected_status(ctx: &Ctx) -> Outcome {
    list_body(ctx, body(202, "[]"), Code::UnexpectedStatus).await
}
