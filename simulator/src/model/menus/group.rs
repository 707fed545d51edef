//! `/user/group`: declaration and commands. The table is `model/users.rs`.

use super::imp::{MenuImpl, owned_item, owned_rows};
use crate::clock::SimTime;
use crate::model::Router;
use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Rows};
use crate::model::query::Query;
use crate::model::spec::{Command, Name, Shape, Spec, name, table_commands};
use crate::model::users::{GROUP_ADD_ARGS, GROUP_ARGS};

/// Fields of a group row (`fixtures/routeros/user-group-print.json`).
const FIELDS: &[Name] = &[
    name(".id"),
    name("comment"),
    name("name"),
    name("policy"),
    name("skin"),
];

/// A real router's `/user/group` has no `enable` or `disable` (fixtures/routeros/menus.json, every
/// version), so they are answered like any command the menu lacks.
const COMMANDS: [Command; 7] = {
    let [
        print,
        get,
        add,
        set,
        _enable,
        _disable,
        remove,
        comment,
        export,
    ] = table_commands(GROUP_ADD_ARGS, GROUP_ARGS);
    [print, get, add, set, remove, comment, export]
};

/// The menu's declaration.
pub static SPEC: Spec = Spec {
    path: "/user/group",
    shape: Shape::Table { named: true },
    fields: FIELDS,
    commands: &COMMANDS,
    // Managing groups needs the `policy` policy besides `write`.
    write_policies: &["policy"],
};

/// `/user/group`.
#[derive(Debug)]
pub struct GroupMenu;

/// The registered menu.
pub static GROUP: GroupMenu = GroupMenu;

impl MenuImpl for GroupMenu {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn print(&self, router: &Router, query: &Query, _now: SimTime) -> Rows {
        owned_rows(router.users.group_rows().map(|(_, r)| r), query)
    }

    fn item(&self, router: &Router, id: u32, _now: SimTime) -> Option<Rows> {
        owned_item(router.users.group_rows(), id)
    }

    fn exists(&self, router: &Router, id: u32) -> bool {
        router.users.groups.iter().any(|g| g.id == id)
    }

    fn id_by_name(&self, router: &Router, name: &str) -> Option<u32> {
        router.users.id_by_name(true, name)
    }

    fn add(&self, router: &mut Router, args: &Args, _ctx: &Context) -> Result<u32, Failure> {
        router.users.add_group(args)
    }

    fn set(&self, router: &mut Router, id: u32, args: &Args, _: &Context) -> Result<(), Failure> {
        router.users.set_group(id, args)
    }

    fn remove(&self, router: &mut Router, id: u32) -> Result<(), Failure> {
        router.users.remove_group(id)
    }
}
