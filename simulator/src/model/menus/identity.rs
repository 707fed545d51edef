//! `/system/identity`: declaration and commands.

use super::imp::{MenuImpl, owned_rows};
use crate::clock::SimTime;
use crate::model::Router;
use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::outcome::Rows;
use crate::model::query::Query;
use crate::model::row::Row;
use crate::model::spec::{PRINT_ARGS, Shape, Spec, command, name, read_command};

/// The menu's declaration (`fixtures/routeros/system-identity.json`).
pub static SPEC: Spec = Spec {
    path: "/system/identity",
    shape: Shape::Singleton,
    fields: &[name("name")],
    commands: &[
        read_command("print", PRINT_ARGS),
        command("set", &[name("name")]),
    ],
    write_policies: &[],
};

/// `/system/identity`.
#[derive(Debug)]
pub struct IdentityMenu;

/// The registered menu.
pub static IDENTITY: IdentityMenu = IdentityMenu;

impl MenuImpl for IdentityMenu {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn print(&self, router: &Router, query: &Query, _now: SimTime) -> Rows {
        let mut row = Row::with_capacity(1);
        row.push("name", router.identity.as_str());
        owned_rows(std::iter::once(row), query)
    }

    fn set_singleton(&self, router: &mut Router, args: &Args) -> Result<(), Failure> {
        if let Some(name) = args.get("name") {
            if name.is_empty() {
                return Err(Failure::invalid_value("name"));
            }
            router.identity = name.to_owned();
        }
        Ok(())
    }
}
