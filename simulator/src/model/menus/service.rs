//! `/ip/service`: declaration and commands. The table and the listener settings are
//! `model/services.rs`; a successful write makes the server follow the new settings.

use super::imp::{MenuImpl, owned_item, owned_rows};
use crate::clock::SimTime;
use crate::model::Router;
use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Outcome, Rows};
use crate::model::query::Query;
use crate::model::row::Row;
use crate::model::run::item_ids;
use crate::model::services::SET_ARGS;
use crate::model::spec::{
    Command, EXPORT_ARGS, GET_ARGS, Name, PRINT_ARGS, Shape, Spec, command, name, read_command,
};
use crate::model::version::Version;

/// Fields of a service row. The allowed addresses are `address` before 7.24 and `available-from`
/// from 7.24; `max-sessions` arrived in 7.16 (the first schema with the argument: tikoci/restraml
/// `docs/7.16/inspect.json`; absent from 7.15.3); `dynamic` and `proto` in 7.19
/// (`fixtures/routeros/ip-service-print.json`, `ip-service-www-ssl-7.19.1.json`), with the
/// per-connection rows and their `connection`, `local` and `remote` (7.19 changelog; lab contract,
/// CHR 7.23.7; `model/services.rs`, [`Connections`](crate::model::services::Connections)).
const FIELDS: &[Name] = &[
    name(".id"),
    name("address").until(7, 24),
    name("available-from").since(7, 24),
    name("certificate"),
    name("connection").since(7, 19),
    name("disabled"),
    name("dynamic").since(7, 19),
    name("invalid"),
    name("local").since(7, 19),
    name("max-sessions").since(7, 16),
    name("name"),
    name("port"),
    name("proto").since(7, 19),
    name("remote").since(7, 19),
    name("tls-version"),
    name("vrf"),
];

/// Services are neither added nor removed: a real router has no such commands here. `unset` exists
/// until 7.16 only: the 7.16.2 schema is the last to list it, 7.17 has none (tikoci/restraml
/// `docs/7.16.2/inspect.json`, `docs/7.17/inspect.json`).
const COMMANDS: &[Command] = &[
    read_command("print", PRINT_ARGS),
    read_command("export", EXPORT_ARGS),
    read_command("get", GET_ARGS),
    command("set", SET_ARGS),
    command("enable", &[]),
    command("disable", &[]),
    command("unset", &[name("value-name")]).until(7, 17),
];

/// What `unset` clears: the allowed addresses (to "any address"), the only service setting whose
/// default is "no value".
const UNSETTABLE: &[&str] = &["address"];

/// The menu's declaration.
pub static SPEC: Spec = Spec {
    path: "/ip/service",
    shape: Shape::Table { named: true },
    fields: FIELDS,
    commands: COMMANDS,
    write_policies: &[],
};

/// `/ip/service`.
#[derive(Debug)]
pub struct ServiceMenu;

/// The registered menu.
pub static SERVICE: ServiceMenu = ServiceMenu;

/// The name of the allowed-addresses field and argument on `version`.
pub fn address_key(version: &Version) -> &'static str {
    match SPEC.has_field("available-from", version) {
        true => "available-from",
        false => "address",
    }
}

/// The static rows, then (7.19 and later) one dynamic row per open REST connection.
fn rows(router: &Router) -> impl Iterator<Item = (u32, Row<'_>)> {
    let v = &router.version;
    let (v719, max_sessions) = (
        SPEC.has_field("proto", v),
        SPEC.has_field("max-sessions", v),
    );
    let connections = SPEC
        .has_field("connection", v)
        .then(|| router.connections.rows());
    router
        .services
        .rows(address_key(v), v719, max_sessions, reverse_proxy(v))
        .chain(connections.into_iter().flatten())
}

fn reverse_proxy(version: &Version) -> bool {
    version.reverse_proxy_service()
}

impl MenuImpl for ServiceMenu {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn print(&self, router: &Router, query: &Query, _now: SimTime) -> Rows {
        owned_rows(rows(router).map(|(_, r)| r), query)
    }

    fn item(&self, router: &Router, id: u32, _now: SimTime) -> Option<Rows> {
        owned_item(rows(router), id)
    }

    /// Only static rows can be written: a connection row's id answers a write with `404` as an
    /// id that names nothing would [likely: no capture of a write to a dynamic service row].
    fn exists(&self, router: &Router, id: u32) -> bool {
        router
            .services
            .listed(reverse_proxy(&router.version))
            .any(|s| s.id == id)
    }

    fn id_by_name(&self, router: &Router, name: &str) -> Option<u32> {
        router
            .services
            .listed(reverse_proxy(&router.version))
            .find(|s| s.name == name)
            .map(|s| s.id)
    }

    fn set(&self, router: &mut Router, id: u32, args: &Args, _: &Context) -> Result<(), Failure> {
        let key = address_key(&router.version);
        router.services.set(id, args, key)
    }

    /// `unset value-name=address`: the service admits every address again.
    fn other(
        &self,
        router: &mut Router,
        command: &'static Command,
        args: Args,
        _ctx: &Context,
    ) -> Result<Outcome, Failure> {
        if command.name != "unset" {
            return Err(Failure::no_such_command());
        }
        let ids = item_ids(&args)?;
        let field = args
            .get("value-name")
            .ok_or_else(|| Failure::missing("value-name"))?;
        if !UNSETTABLE.contains(&field) {
            return Err(Failure::bad_request(
                "input does not match any value of value-name",
            ));
        }
        if !ids.iter().all(|id| self.exists(router, *id)) {
            return Err(Failure::not_found());
        }
        for id in &ids {
            let clear = Args::from_pairs([("address", "")]);
            router.services.set(*id, &clear, "address")?;
        }
        Ok(Outcome::Done { rows: ids.len() })
    }

    fn drives_listeners(&self) -> bool {
        true
    }
}
