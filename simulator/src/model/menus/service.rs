//! `/ip/service`: declaration and commands. The table and the listener settings are
//! `model/services.rs`; a successful write makes the server follow the new settings.

use super::imp::{MenuImpl, owned_item, owned_rows};
use crate::clock::SimTime;
use crate::model::Router;
use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Rows};
use crate::model::query::Query;
use crate::model::row::Row;
use crate::model::services::SET_ARGS;
use crate::model::spec::{
    Command, GET_ARGS, Name, PRINT_ARGS, Shape, Spec, command, name, read_command,
};
use crate::model::version::Version;

/// Fields of a service row. The allowed addresses are `address` before 7.24 and `available-from`
/// from 7.24; `dynamic`, `max-sessions` and `proto` arrived in 7.19
/// (`fixtures/routeros/ip-service-print.json`, `ip-service-www-ssl-7.19.1.json`). The
/// per-connection dynamic rows that 7.19 also lists are not simulated (see `fixtures/README.md`).
const FIELDS: &[Name] = &[
    name(".id"),
    name("address").until(7, 24),
    name("available-from").since(7, 24),
    name("certificate"),
    name("disabled"),
    name("dynamic").since(7, 19),
    name("invalid"),
    name("max-sessions").since(7, 19),
    name("name"),
    name("port"),
    name("proto").since(7, 19),
    name("tls-version"),
    name("vrf"),
];

/// Services are neither added nor removed: a real router has no such commands here.
const COMMANDS: &[Command] = &[
    read_command("print", PRINT_ARGS),
    read_command("get", GET_ARGS),
    command("set", SET_ARGS),
    command("enable", &[]),
    command("disable", &[]),
];

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

fn rows(router: &Router) -> impl Iterator<Item = (u32, Row<'_>)> {
    let v719 = SPEC.has_field("proto", &router.version);
    router.services.rows(address_key(&router.version), v719)
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

    fn exists(&self, router: &Router, id: u32) -> bool {
        router.services.rows.iter().any(|s| s.id == id)
    }

    fn id_by_name(&self, router: &Router, name: &str) -> Option<u32> {
        router
            .services
            .rows
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.id)
    }

    fn set(&self, router: &mut Router, id: u32, args: &Args, _: &Context) -> Result<(), Failure> {
        let key = address_key(&router.version);
        router.services.set(id, args, key)
    }

    fn drives_listeners(&self) -> bool {
        true
    }
}
