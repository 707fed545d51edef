//! `/system/script`: the script repository (declaration and commands). The table is
//! `model/scripting.rs`; `run` is carried out by the scripting runtime (`crate::scripting`).

use super::imp::{MenuImpl, owned_item, owned_rows};
use crate::clock::SimTime;
use crate::model::Router;
use crate::model::args::{Args, parse_id};
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Outcome, Rows};
use crate::model::query::Query;
use crate::model::scripting::{Scripts, Work};
use crate::model::spec::{
    COMMENT_ARGS, Command, EXPORT_ARGS, GET_ARGS, Name, PRINT_ARGS, Shape, Spec, command, name,
    read_command,
};

/// Fields of a script row, as the 7.20-7.22 schemas list them for `print` and as a captured REST
/// row shows them (terraform-provider-routeros `resource_system_script.go`). `comment` shows only
/// when set and `last-started` only after a run.
const FIELDS: &[Name] = &[
    name(".id"),
    name("comment"),
    name("dont-require-permissions"),
    name("invalid"),
    name("last-started"),
    name("name"),
    name("owner"),
    name("policy"),
    name("run-count"),
    name("source"),
];

/// Arguments of `set`; `add` also takes `copy-from` (run for every menu in `model/run.rs`).
const ARGS: &[Name] = &[
    name("comment"),
    name("dont-require-permissions"),
    name("name"),
    name("owner"),
    name("policy"),
    name("source"),
];

const ADD_ARGS: &[Name] = &[
    name("comment"),
    name("copy-from"),
    name("dont-require-permissions"),
    name("name"),
    name("owner"),
    name("policy"),
    name("source"),
];

/// A script table has no `enable` or `disable` (schema, every version).
const COMMANDS: &[Command] = &[
    read_command("print", PRINT_ARGS),
    read_command("get", GET_ARGS),
    command("add", ADD_ARGS),
    command("set", ARGS),
    command("remove", &[]),
    command("comment", COMMENT_ARGS),
    read_command("export", EXPORT_ARGS),
    // Running a script changes nothing by itself; the commands inside need their own policies.
    read_command(
        "run",
        &[name("number"), name("use-script-permissions").since(7, 15)],
    ),
];

/// The menu's declaration.
pub static SPEC: Spec = Spec {
    path: "/system/script",
    shape: Shape::Table { named: true },
    fields: FIELDS,
    commands: COMMANDS,
    write_policies: &[],
};

/// `/system/script`.
#[derive(Debug)]
pub struct ScriptMenu;

/// The registered menu.
pub static SCRIPT: ScriptMenu = ScriptMenu;

/// The script `text` names: an `.id` or a name.
pub fn resolve(scripts: &Scripts, text: &str) -> Option<u32> {
    match parse_id(text) {
        Some(id) => scripts.get(id).map(|s| s.id),
        None => scripts.by_name(text).map(|s| s.id),
    }
}

/// The caller's name for `owner`, or `*sys` when the simulator itself adds.
pub fn caller_name(router: &Router, ctx: &Context) -> String {
    ctx.user
        .and_then(|id| router.users.name_of(id))
        .unwrap_or("*sys")
        .to_owned()
}

impl MenuImpl for ScriptMenu {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn print(&self, router: &Router, query: &Query, _now: SimTime) -> Rows {
        let iso = router.version.iso_timestamps();
        let scripts = router.state_ref::<Scripts>();
        owned_rows(
            scripts.iter().flat_map(|s| s.rows(iso)).map(|(_, r)| r),
            query,
        )
    }

    fn item(&self, router: &Router, id: u32, _now: SimTime) -> Option<Rows> {
        let iso = router.version.iso_timestamps();
        owned_item(router.state_ref::<Scripts>()?.rows(iso), id)
    }

    fn exists(&self, router: &Router, id: u32) -> bool {
        router
            .state_ref::<Scripts>()
            .is_some_and(|s| s.get(id).is_some())
    }

    fn id_by_name(&self, router: &Router, name: &str) -> Option<u32> {
        router.state_ref::<Scripts>()?.by_name(name).map(|s| s.id)
    }

    fn add(&self, router: &mut Router, args: &Args, ctx: &Context) -> Result<u32, Failure> {
        let owner = caller_name(router, ctx);
        router.state::<Scripts>().add(args, &owner)
    }

    fn set(&self, router: &mut Router, id: u32, args: &Args, _: &Context) -> Result<(), Failure> {
        router.state::<Scripts>().set(id, args)
    }

    fn remove(&self, router: &mut Router, id: u32) -> Result<(), Failure> {
        router.state::<Scripts>().remove(id);
        Ok(())
    }

    fn other(
        &self,
        router: &mut Router,
        command: &'static Command,
        args: Args,
        _ctx: &Context,
    ) -> Result<Outcome, Failure> {
        match command.name {
            "run" => {
                let number = args
                    .get("number")
                    .ok_or_else(|| Failure::missing("number"))?;
                // An unknown script is `no such item` [likely: the generic text for a name that
                // names nothing; the API answers a `!trap`].
                let id = resolve(router.state::<Scripts>(), number)
                    .ok_or_else(|| Failure::bad_request("no such item"))?;
                // A flag: given without a value it is set, as `as-value` is.
                let use_script_permissions = match args.get("use-script-permissions") {
                    Some("") => true,
                    _ => args.get_bool("use-script-permissions")?.unwrap_or(false),
                };
                Ok(Outcome::Deferred(Work::Run {
                    id,
                    use_script_permissions,
                }))
            }
            _ => Err(Failure::no_such_command()),
        }
    }
}
