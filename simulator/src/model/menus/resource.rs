//! `/system/resource`: declaration and commands. The board facts are `model/system.rs`.

use super::imp::{MenuImpl, owned_rows};
use crate::clock::SimTime;
use crate::model::Router;
use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::outcome::Rows;
use crate::model::query::Query;
use crate::model::spec::{EXPORT_ARGS, Name, PRINT_ARGS, Shape, Spec, command, name, read_command};

/// Fields (ROUTEROS-REST.md section 3; `fixtures/routeros/system-resource.json`).
const FIELDS: &[Name] = &[
    name("architecture-name"),
    name("board-name"),
    name("build-time"),
    name("cpu"),
    name("cpu-count"),
    name("cpu-frequency"),
    name("cpu-load"),
    name("factory-software"),
    name("free-hdd-space"),
    name("free-memory"),
    name("platform"),
    name("total-hdd-space"),
    name("total-memory"),
    name("uptime"),
    name("version"),
    name("write-sect-since-reboot"),
    name("write-sect-total"),
];

/// The menu's declaration. A real router has no `set` here; the simulator has always accepted an
/// empty one and answered any argument with `no such command`, and still does.
pub static SPEC: Spec = Spec {
    path: "/system/resource",
    shape: Shape::Singleton,
    fields: FIELDS,
    commands: &[
        read_command("print", PRINT_ARGS),
        read_command("export", EXPORT_ARGS),
        read_command("get", &[name("value-name")]),
        command("set", &[]).refusing_args_as_no_such_command(),
    ],
    write_policies: &[],
};

/// `/system/resource`.
#[derive(Debug)]
pub struct ResourceMenu;

/// The registered menu.
pub static RESOURCE: ResourceMenu = ResourceMenu;

impl MenuImpl for ResourceMenu {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn print(&self, router: &Router, query: &Query, now: SimTime) -> Rows {
        let row = router.resource.row(&router.version, now, router.booted_at);
        owned_rows(std::iter::once(row), query)
    }

    fn set_singleton(&self, _router: &mut Router, _args: &Args) -> Result<(), Failure> {
        // The declaration refused every argument; there is nothing to change.
        Ok(())
    }
}
