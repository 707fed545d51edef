//! `/execute` (REST `POST /rest/execute`): run a script as the caller, waiting for its output
//! with `as-string` or as a background job without it. The run itself is the scripting runtime's
//! (`crate::scripting`); this module declares the command and checks its arguments.
//!
//! `as-string` is presence-based: any value, even `false`, makes the call wait (captures on a
//! CHR: tikoci/quickchr `src/lib/exec.ts`; tikoci/routeros-skills `async-commands-rest.md`).

use super::imp::MenuImpl;
use crate::model::Router;
use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Outcome};
use crate::model::scripting::Work;
use crate::model::spec::{Command, Shape, Spec, name, read_command};

/// `file=` writes the run's output into a file when it ends: "The result can be written in the
/// file by setting a `file` parameter or printed to the CLI by setting `as-string`" (MikroTik
/// manual, Scripting, `:execute`).
const COMMANDS: &[Command] = &[read_command(
    "execute",
    &[name("as-string"), name("file"), name("script")],
)];

/// The menu's declaration: a command at the root, without rows. `/execute` itself changes
/// nothing, so it needs `read` only [likely; no source names its policy]; the commands inside
/// need their own.
pub static SPEC: Spec = Spec {
    path: "/execute",
    shape: Shape::Commands,
    fields: &[],
    commands: COMMANDS,
    write_policies: &[],
};

/// `/execute`.
#[derive(Debug)]
pub struct ExecuteMenu;

/// The registered menu.
pub static EXECUTE: ExecuteMenu = ExecuteMenu;

impl MenuImpl for ExecuteMenu {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn other(
        &self,
        _router: &mut Router,
        _command: &'static Command,
        args: Args,
        _ctx: &Context,
    ) -> Result<Outcome, Failure> {
        let source = args
            .get("script")
            .ok_or_else(|| Failure::missing("script"))?;
        let file = match args.get("file") {
            Some("") => return Err(Failure::invalid_value("file")),
            other => other.map(|f| f.trim_start_matches('/').to_owned()),
        };
        Ok(Outcome::Deferred(Work::Execute {
            source: source.to_owned(),
            as_string: args.get("as-string").is_some(),
            file,
        }))
    }
}
