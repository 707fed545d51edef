//! `/log`: the memory log (declaration and commands). `:log` lines of scripts, the `/log info`
//! family of commands and the runtime's own lines about failed scripts land here with their
//! topics (`script,info`, `script,error`, ...). The buffer is `model/scripting.rs`.

use super::imp::{MenuImpl, owned_item, owned_rows};
use crate::clock::SimTime;
use crate::model::Router;
use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Outcome, Rows};
use crate::model::query::Query;
use crate::model::scripting::Log;
use crate::model::spec::{
    Command, GET_ARGS, Name, PRINT_ARGS, Shape, Spec, command, name, read_command,
};

/// Fields of a log line (schema: `time, topics, message`, plus `buffer` and `extra-info`, which
/// the simulator does not keep).
const FIELDS: &[Name] = &[name(".id"), name("message"), name("time"), name("topics")];

const MESSAGE: &[Name] = &[name("message")];

const COMMANDS: &[Command] = &[
    read_command("print", PRINT_ARGS),
    read_command("get", GET_ARGS),
    command("debug", MESSAGE),
    command("error", MESSAGE),
    command("info", MESSAGE),
    command("warning", MESSAGE),
];

/// The menu's declaration.
pub static SPEC: Spec = Spec {
    path: "/log",
    shape: Shape::Table { named: false },
    fields: FIELDS,
    commands: COMMANDS,
    write_policies: &[],
};

/// `/log`.
#[derive(Debug)]
pub struct LogMenu;

/// The registered menu.
pub static LOG: LogMenu = LogMenu;

impl MenuImpl for LogMenu {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn print(&self, router: &Router, query: &Query, _now: SimTime) -> Rows {
        let iso = router.version.iso_timestamps();
        let log = router.state_ref::<Log>();
        owned_rows(log.iter().flat_map(|l| l.rows(iso)).map(|(_, r)| r), query)
    }

    fn item(&self, router: &Router, id: u32, _now: SimTime) -> Option<Rows> {
        let iso = router.version.iso_timestamps();
        owned_item(router.state_ref::<Log>()?.rows(iso), id)
    }

    fn exists(&self, router: &Router, id: u32) -> bool {
        router
            .state_ref::<Log>()
            .is_some_and(|l| l.lines.iter().any(|x| x.id == id))
    }

    fn other(
        &self,
        router: &mut Router,
        command: &'static Command,
        args: Args,
        ctx: &Context,
    ) -> Result<Outcome, Failure> {
        let message = args.get("message").unwrap_or("");
        // `/log info x` in a script logs as `script,info` [real topics for `:log`, MikroTik
        // manual, Log; the command form by the same pattern, likely].
        let topics = format!("script,{}", command.name);
        router.state::<Log>().push(ctx.wall_s, &topics, message);
        Ok(Outcome::Done { rows: 1 })
    }
}
