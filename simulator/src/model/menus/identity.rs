//! `/system/identity`: declaration and commands.

use super::imp::{MenuImpl, owned_rows};
use crate::clock::SimTime;
use crate::model::Router;
use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Outcome, Rows};
use crate::model::query::Query;
use crate::model::row::Row;
use crate::model::spec::{
    Command, EXPORT_ARGS, PRINT_ARGS, Shape, Spec, command, name, read_command,
};

/// The name a router has until someone sets one, and again after `reset`.
pub const DEFAULT_NAME: &str = "MikroTik";

/// The menu's declaration (`fixtures/routeros/system-identity.json`). `reset` exists from 7.21: the
/// first schema that lists it is 7.21 (tikoci/restraml `docs/7.21/inspect.json`; 7.20.8 has none).
pub static SPEC: Spec = Spec {
    path: "/system/identity",
    shape: Shape::Singleton,
    fields: &[name("name")],
    commands: &[
        read_command("print", PRINT_ARGS),
        read_command("export", EXPORT_ARGS),
        read_command("get", &[name("value-name")]),
        command("set", &[name("name")]),
        command("reset", &[name("name")]).since(7, 21),
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

    /// `reset`: the name goes back to the default, whether or not `name` is given (it names the
    /// setting to reset, the only one there is).
    fn other(
        &self,
        router: &mut Router,
        command: &'static Command,
        _args: Args,
        _ctx: &Context,
    ) -> Result<Outcome, Failure> {
        match command.name {
            "reset" => {
                router.identity = DEFAULT_NAME.to_owned();
                Ok(Outcome::Done { rows: 1 })
            }
            _ => Err(Failure::no_such_command()),
        }
    }
}
