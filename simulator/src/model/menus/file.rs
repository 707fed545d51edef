//! `/file`: the router's files (declaration and commands). Files are written by `add`, by
//! `/tool/fetch output=file` and read by `/import`; the table is `model/scripting.rs`.

use super::imp::{MenuImpl, owned_item, owned_rows};
use crate::clock::SimTime;
use crate::model::Router;
use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Rows};
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
    // `add` creates files from 7.9 on; `type=directory` (7.15) is not implemented.
    command("add", &[name("contents"), name("name")]),
    command("set", &[name("contents")]),
    command("remove", &[]),
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
        let Some(f) = files.items.iter_mut().find(|f| f.id == id) else {
            return Err(Failure::not_found());
        };
        if let Some(c) = args.get("contents") {
            // Editing goes through the same 60 KB window as reading (MikroTik manual, Files).
            if c.len() > FILE_CONTENTS_LIMIT {
                return Err(Failure::bad_request("failure: file too big"));
            }
            f.contents = c.as_bytes().to_vec();
            f.modified = ctx.wall_s;
        }
        Ok(())
    }

    fn remove(&self, router: &mut Router, id: u32) -> Result<(), Failure> {
        router.state::<Files>().items.retain(|f| f.id != id);
        Ok(())
    }
}
