//! `/import file-name=x.rsc`: run a file of commands as one script, stopping at the first error
//! (MikroTik manual, Scripting, "import"). The file comes from `/file`; the run is the scripting
//! runtime's.

use super::imp::MenuImpl;
use crate::model::Router;
use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Outcome};
use crate::model::scripting::{Files, Work};
use crate::model::spec::{Command, Shape, Spec, command, name};

/// `dry-run` (from 7.16, `fixtures/routeros/menus.json`) checks the file without running it;
/// `verbose` and `from-line` are not implemented.
const COMMANDS: &[Command] = &[command(
    "import",
    &[name("file-name"), name("dry-run").since(7, 16)],
)];

/// The menu's declaration: a command at the root; importing changes configuration, so it needs
/// `write` [likely].
pub static SPEC: Spec = Spec {
    path: "/import",
    shape: Shape::Commands,
    fields: &[],
    commands: COMMANDS,
    write_policies: &[],
};

/// `/import`.
#[derive(Debug)]
pub struct ImportMenu;

/// The registered menu.
pub static IMPORT: ImportMenu = ImportMenu;

impl MenuImpl for ImportMenu {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn other(
        &self,
        router: &mut Router,
        _command: &'static Command,
        args: Args,
        _ctx: &Context,
    ) -> Result<Outcome, Failure> {
        let name = args
            .get("file-name")
            .ok_or_else(|| Failure::missing("file-name"))?;
        // A missing file [likely text: the console's `no such item`].
        let file = router
            .state::<Files>()
            .by_name(name)
            .ok_or_else(|| Failure::bad_request("no such item"))?;
        // A flag: given without a value it is set.
        let dry_run = match args.get("dry-run") {
            Some("") => true,
            _ => args.get_bool("dry-run")?.unwrap_or(false),
        };
        Ok(Outcome::Deferred(Work::Import {
            name: file.name.clone(),
            source: String::from_utf8_lossy(&file.contents).into_owned(),
            dry_run,
        }))
    }
}
