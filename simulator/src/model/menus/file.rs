//! `/file`: the router's files (declaration and commands). Files are written by `add`, by
//! `/tool/fetch output=file` and read by `/import`; the table is `model/scripting.rs`.

use super::imp::{MenuImpl, owned_item, owned_rows};
use crate::clock::SimTime;
use crate::model::Router;
use crate::model::args::{Args, parse_id};
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Outcome, Rows};
use crate::model::query::Query;
use crate::model::scripting::{FILE_CONTENTS_LIMIT, Files};
use crate::model::spec::{
    Command, GET_ARGS, Name, PRINT_ARGS, Shape, Spec, command, name, read_command,
};

/// Fields of a file row (schema 7.22.3 `print` proplist, without the `package-*` and `shared`
/// fields of packages and shares). `contents` shows only for files up to the 60 KB the manual
/// names ([`FILE_CONTENTS_LIMIT`]).
const FIELDS: &[Name] = &[
    name(".id"),
    name("contents"),
    name("last-modified"),
    name("name"),
    name("size"),
    name("type"),
];

const COMMANDS: &[Command] = &[
    read_command("print", PRINT_ARGS),
    read_command("get", GET_ARGS),
    // `add` creates files from 7.9 on, and copies one (`copy-from`) until 7.17 (last in 7.17.1,
    // gone in 7.18: restraml dumps, `fixtures/routeros/boundaries.json`); `type=directory` (7.15)
    // is not implemented.
    command(
        "add",
        &[
            name("contents"),
            name("copy-from").until(7, 18),
            name("name"),
        ],
    ),
    // `set name=` renames a file from 7.13 (schema).
    command("set", &[name("contents"), name("name").since(7, 13)]),
    command("remove", &[]),
    // `copy number=<file> name=<new name>` (7.23, schema): a new file with the same contents.
    command("copy", &[name("name"), name("number")]).since(7, 23),
];

/// The menu's declaration. Files are also addressed by name (`/file remove list.rsc`).
pub static SPEC: Spec = Spec {
    path: "/file",
    shape: Shape::Table { named: true },
    fields: FIELDS,
    commands: COMMANDS,
    write_policies: &[],
};

/// `/file`.
#[derive(Debug)]
pub struct FileMenu;

/// The registered menu.
pub static FILE: FileMenu = FileMenu;

impl MenuImpl for FileMenu {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn print(&self, router: &Router, query: &Query, _now: SimTime) -> Rows {
        let iso = router.version.iso_timestamps();
        let files = router.state_ref::<Files>();
        owned_rows(
            files.iter().flat_map(|f| f.rows(iso)).map(|(_, r)| r),
            query,
        )
    }

    fn item(&self, router: &Router, id: u32, _now: SimTime) -> Option<Rows> {
        let iso = router.version.iso_timestamps();
        owned_item(router.state_ref::<Files>()?.rows(iso), id)
    }

    fn exists(&self, router: &Router, id: u32) -> bool {
        router
            .state_ref::<Files>()
            .is_some_and(|f| f.items.iter().any(|x| x.id == id))
    }

    fn id_by_name(&self, router: &Router, name: &str) -> Option<u32> {
        router.state_ref::<Files>()?.by_name(name).map(|f| f.id)
    }

    fn add(&self, router: &mut Router, args: &Args, ctx: &Context) -> Result<u32, Failure> {
        let name = args
            .get("name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Failure::missing("name"))?
            .trim_start_matches('/')
            .to_owned();
        let contents = args.get("contents").unwrap_or("").as_bytes().to_vec();
        let files = router.state::<Files>();
        if files.by_name(&name).is_some() {
            return Err(Failure::bad_request(
                "failure: item with such name already exists",
            ));
        }
        files.write(&name, contents, ctx.wall_s)
    }

    fn set(&self, router: &mut Router, id: u32, args: &Args, ctx: &Context) -> Result<(), Failure> {
        let files = router.state::<Files>();
        // Everything is checked before anything changes, so a refused `set` changes nothing.
        let name = match args.get("name").map(|n| n.trim_start_matches('/')) {
            Some("") => return Err(Failure::invalid_value("name")),
            Some(n) if files.items.iter().any(|f| f.name == n && f.id != id) => {
                return Err(Failure::bad_request(
                    "failure: item with such name already exists",
                ));
            }
            other => other.map(str::to_owned),
        };
        let contents = args.get("contents");
        // Editing goes through the same 60 KB window as reading (MikroTik manual, Files).
        if contents.is_some_and(|c| c.len() > FILE_CONTENTS_LIMIT) {
            return Err(Failure::bad_request("failure: file too big"));
        }
        let Some(f) = files.items.iter_mut().find(|f| f.id == id) else {
            return Err(Failure::not_found());
        };
        if let Some(n) = name {
            f.name = n;
            f.modified = ctx.wall_s;
        }
        if let Some(c) = contents {
            f.contents = c.as_bytes().to_vec();
            f.modified = ctx.wall_s;
        }
        Ok(())
    }

    fn remove(&self, router: &mut Router, id: u32) -> Result<(), Failure> {
        router.state::<Files>().items.retain(|f| f.id != id);
        Ok(())
    }

    fn other(
        &self,
        router: &mut Router,
        command: &'static Command,
        args: Args,
        ctx: &Context,
    ) -> Result<Outcome, Failure> {
        if command.name != "copy" {
            return Err(Failure::no_such_command());
        }
        let source = args
            .get("number")
            .ok_or_else(|| Failure::missing("number"))?;
        let target = args
            .get("name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Failure::missing("name"))?
            .trim_start_matches('/')
            .to_owned();
        let files = router.state::<Files>();
        // The source is an id or a name, as for every named item; one that names nothing is `no
        // such item` (the API's word for an unknown item).
        let contents = match parse_id(source) {
            Some(id) => files.items.iter().find(|f| f.id == id),
            None => files.by_name(source),
        }
        .ok_or_else(|| Failure::bad_request("no such item"))?
        .contents
        .clone();
        if files.by_name(&target).is_some() {
            return Err(Failure::bad_request(
                "failure: item with such name already exists",
            ));
        }
        files.write(&target, contents, ctx.wall_s)?;
        Ok(Outcome::Done { rows: 1 })
    }
}
