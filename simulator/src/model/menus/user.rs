//! `/user`: declaration and commands. The table and the login rules are `model/users.rs`.

use super::imp::{MenuImpl, owned_item, owned_rows};
use crate::clock::SimTime;
use crate::model::Router;
use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Outcome, Rows};
use crate::model::query::Query;
use crate::model::run::item_ids;
use crate::model::spec::{Command, Name, Shape, Spec, command, name, table_commands};
use crate::model::users::{USER_ADD_ARGS, USER_ARGS};

/// Fields of a user row. `inactivity-policy` and `inactivity-timeout` arrived in 7.16 (the 7.16.2
/// schema adds them as arguments; `fixtures/routeros/user-print.json` shows them). `password` is
/// never shown; `last-logged-in` is left out because a real router shows it only after a login
/// other than REST, which never happens here.
const FIELDS: &[Name] = &[
    name(".id"),
    name("address"),
    name("comment"),
    name("disabled"),
    name("expired"),
    name("group"),
    name("inactivity-policy").since(7, 16),
    name("inactivity-timeout").since(7, 16),
    name("name"),
];

/// The ordinary table commands and `expire-password`, which marks users `expired` until their
/// password changes.
const COMMANDS: [Command; 10] = {
    let [
        print,
        get,
        add,
        set,
        enable,
        disable,
        remove,
        comment,
        export,
    ] = table_commands(USER_ADD_ARGS, USER_ARGS);
    [
        print,
        get,
        add,
        set,
        enable,
        disable,
        remove,
        comment,
        export,
        command("expire-password", &[]),
    ]
};

/// The menu's declaration.
pub static SPEC: Spec = Spec {
    path: "/user",
    shape: Shape::Table { named: true },
    fields: FIELDS,
    commands: &COMMANDS,
    // Managing users needs the `policy` policy besides `write`.
    write_policies: &["policy"],
};

/// `/user`.
#[derive(Debug)]
pub struct UserMenu;

/// The registered menu.
pub static USER: UserMenu = UserMenu;

fn rows(router: &Router) -> impl Iterator<Item = (u32, crate::model::row::Row<'_>)> {
    let inactivity = SPEC.has_field("inactivity-policy", &router.version);
    router.users.user_rows(inactivity)
}

impl MenuImpl for UserMenu {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn print(&self, router: &Router, query: &Query, _now: SimTime) -> Rows {
        owned_rows(rows(router).map(|(_, r)| r), query)
    }

    fn item(&self, router: &Router, id: u32, _now: SimTime) -> Option<Rows> {
        owned_item(rows(router), id)
    }

    fn exists(&self, router: &Router, id: u32) -> bool {
        router.users.users.iter().any(|u| u.id == id)
    }

    fn id_by_name(&self, router: &Router, name: &str) -> Option<u32> {
        router.users.id_by_name(false, name)
    }

    fn add(&self, router: &mut Router, args: &Args, _ctx: &Context) -> Result<u32, Failure> {
        router.users.add_user(args)
    }

    fn set(&self, router: &mut Router, id: u32, args: &Args, _: &Context) -> Result<(), Failure> {
        router.users.set_user(id, args)
    }

    fn remove(&self, router: &mut Router, id: u32) -> Result<(), Failure> {
        router.users.remove_user(id)
    }

    /// `expire-password`: the users named must set a new password at their next login.
    fn other(
        &self,
        router: &mut Router,
        command: &'static Command,
        args: Args,
        _ctx: &Context,
    ) -> Result<Outcome, Failure> {
        if command.name != "expire-password" {
            return Err(Failure::no_such_command());
        }
        let ids = item_ids(&args)?;
        if !ids.iter().all(|id| self.exists(router, *id)) {
            return Err(Failure::not_found());
        }
        for u in router
            .users
            .users
            .iter_mut()
            .filter(|u| ids.contains(&u.id))
        {
            u.expired = true;
        }
        Ok(Outcome::Done { rows: ids.len() })
    }
}
