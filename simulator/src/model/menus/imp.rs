//! [`MenuImpl`]: what a menu is, its declaration and its behaviour, and helpers for small menus.
//!
//! Every module of `menus/` implements this trait for its menu and registers it in
//! [`menus::ALL`](super::ALL).

use crate::clock::SimTime;
use crate::model::Router;
use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Outcome, Rows};
use crate::model::query::Query;
use crate::model::row::Row;
use crate::model::spec::{Command, Spec};

/// A menu's declaration and behaviour. Only [`MenuImpl::spec`] and [`MenuImpl::print`] are
/// required; a command the menu does not implement answers `no such command`.
pub trait MenuImpl: Sync + 'static {
    /// The declaration: path, shape, fields, commands and arguments.
    fn spec(&self) -> &'static Spec;

    /// The rows a `print` shows, in id order, those `query` keeps only. Menus of
    /// `Shape::Commands` (`/execute`, `/import`, `/tool/fetch`) have no rows and keep this default.
    fn print(&self, _router: &Router, _query: &Query, _now: SimTime) -> Rows {
        Rows::Owned(Vec::new())
    }

    /// How many rows `query` keeps (`print count-only`).
    fn count(&self, router: &Router, query: &Query, now: SimTime) -> usize {
        self.print(router, query, now).len()
    }

    /// One item as a row, or `None` when there is no such id.
    fn item(&self, _router: &Router, _id: u32, _now: SimTime) -> Option<Rows> {
        None
    }

    /// Whether an item with this id exists.
    fn exists(&self, _router: &Router, _id: u32) -> bool {
        false
    }

    /// The id of the item called `name` (menus whose items have names).
    fn id_by_name(&self, _router: &Router, _name: &str) -> Option<u32> {
        None
    }

    /// `add`: creates an item and returns its id.
    fn add(&self, _router: &mut Router, _args: &Args, _ctx: &Context) -> Result<u32, Failure> {
        Err(Failure::no_such_command())
    }

    /// `set` on an item.
    fn set(
        &self,
        _router: &mut Router,
        _id: u32,
        _args: &Args,
        _ctx: &Context,
    ) -> Result<(), Failure> {
        Err(Failure::no_such_command())
    }

    /// `set` on a singleton menu.
    fn set_singleton(&self, _router: &mut Router, _args: &Args) -> Result<(), Failure> {
        Err(Failure::no_such_command())
    }

    /// `remove` of an item.
    fn remove(&self, _router: &mut Router, _id: u32) -> Result<(), Failure> {
        Err(Failure::no_such_command())
    }

    /// A command of the menu's own (anything but `print`, `get`, `add`, `set`, `enable`, `disable`
    /// and `remove`, which every menu runs the same way), with its declared arguments checked.
    fn other(
        &self,
        _router: &mut Router,
        _command: &'static Command,
        _args: Args,
        _ctx: &Context,
    ) -> Result<Outcome, Failure> {
        Err(Failure::no_such_command())
    }

    /// Whether a successful write changes what the listeners serve (`/ip/service`).
    fn drives_listeners(&self) -> bool {
        false
    }
}

/// The row of item `id` among `(id, row)` pairs, owned, for menus small enough to copy.
pub fn owned_item<'a>(mut rows: impl Iterator<Item = (u32, Row<'a>)>, id: u32) -> Option<Rows> {
    let row = rows.find(|(i, _)| *i == id)?.1;
    Some(Rows::Owned(vec![row.into_owned()]))
}

/// Owned rows of `rows` that `query` keeps, for menus small enough to copy.
pub fn owned_rows<'a>(rows: impl Iterator<Item = Row<'a>>, query: &Query) -> Rows {
    Rows::Owned(
        rows.filter(|r| query.matches(r))
            .map(Row::into_owned)
            .collect(),
    )
}
