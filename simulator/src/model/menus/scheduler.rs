//! `/system/scheduler`: declaration and commands. The table and its timing are
//! `model/scripting.rs`; runs happen in the scripting runtime (`crate::scripting::schedule`) on
//! the simulator's clock.

use super::imp::{MenuImpl, owned_item, owned_rows};
use crate::clock::SimTime;
use crate::model::Router;
use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Rows};
use crate::model::query::Query;
use crate::model::scripting::Schedules;
use crate::model::spec::{Command, Name, Shape, Spec, name, table_commands};

/// Fields of a scheduler row (schema 7.22.3 `print` proplist, without 7.24's `days`).
/// `start-date` is not shown for `start-time=startup` [likely]; `next-run` only when there is
/// one; `comment` only when set.
const FIELDS: &[Name] = &[
    name(".id"),
    name("comment"),
    name("disabled"),
    name("interval"),
    name("name"),
    name("next-run"),
    name("on-event"),
    name("owner"),
    name("policy"),
    name("run-count"),
    name("start-date"),
    name("start-time"),
];

/// Arguments of `add` and `set`. The schema has no `owner` argument here: the owner is whoever
/// added the entry.
const ARGS: &[Name] = &[
    name("comment"),
    name("disabled"),
    name("interval"),
    name("name"),
    name("on-event"),
    name("policy"),
    name("start-date"),
    name("start-time"),
];

/// `add` also takes `copy-from` (run for every menu in `model/run.rs`).
const ADD_ARGS: &[Name] = &[
    name("comment"),
    name("copy-from"),
    name("disabled"),
    name("interval"),
    name("name"),
    name("on-event"),
    name("policy"),
    name("start-date"),
    name("start-time"),
];

const COMMANDS: [Command; 9] = table_commands(ADD_ARGS, ARGS);

/// The menu's declaration.
pub static SPEC: Spec = Spec {
    path: "/system/scheduler",
    shape: Shape::Table { named: true },
    fields: FIELDS,
    commands: &COMMANDS,
    write_policies: &[],
};

/// `/system/scheduler`.
#[derive(Debug)]
pub struct SchedulerMenu;

/// The registered menu.
pub static SCHEDULER: SchedulerMenu = SchedulerMenu;

impl MenuImpl for SchedulerMenu {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn print(&self, router: &Router, query: &Query, now: SimTime) -> Rows {
        let iso = router.version.iso_timestamps();
        let table = router.state_ref::<Schedules>();
        owned_rows(
            table.iter().flat_map(|s| s.rows(iso, now)).map(|(_, r)| r),
            query,
        )
    }

    fn item(&self, router: &Router, id: u32, now: SimTime) -> Option<Rows> {
        let iso = router.version.iso_timestamps();
        owned_item(router.state_ref::<Schedules>()?.rows(iso, now), id)
    }

    fn exists(&self, router: &Router, id: u32) -> bool {
        router
            .state_ref::<Schedules>()
            .is_some_and(|s| s.items.iter().any(|x| x.id == id))
    }

    fn id_by_name(&self, router: &Router, name: &str) -> Option<u32> {
        let table = router.state_ref::<Schedules>()?;
        table.items.iter().find(|s| s.name == name).map(|s| s.id)
    }

    fn add(&self, router: &mut Router, args: &Args, ctx: &Context) -> Result<u32, Failure> {
        let owner = super::script::caller_name(router, ctx);
        let booted = router.booted_at;
        let table = router.state::<Schedules>();
        table.booted_at = table.booted_at.max(booted);
        table.add(args, &owner, ctx.now, ctx.wall_s)
    }

    fn set(&self, router: &mut Router, id: u32, args: &Args, ctx: &Context) -> Result<(), Failure> {
        router
            .state::<Schedules>()
            .set(id, args, ctx.now, ctx.wall_s)
    }

    fn remove(&self, router: &mut Router, id: u32) -> Result<(), Failure> {
        router.state::<Schedules>().remove(id);
        Ok(())
    }
}
