//! `/ip/firewall/address-list` and `/ipv6/firewall/address-list`: declaration and commands.
//!
//! The table itself (entries, expiry, duplicates) is `model/address_list.rs`; this module says what
//! the menu looks like to a client and hands its rows out as compact copies, so that printing a
//! million entries never happens under the router's lock.

use super::imp::MenuImpl;
use crate::clock::SimTime;
use crate::model::Router;
use crate::model::address::Family;
use crate::model::address_list::{ADD_ARGS, SET_ARGS};
use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Rows};
use crate::model::query::Query;
use crate::model::spec::{Command, Name, Shape, Spec, name, table_commands};

/// Fields of an entry (ROUTEROS-REST.md section 4): `comment` only when set, `timeout` only on
/// timed entries.
const FIELDS: &[Name] = &[
    name(".id"),
    name("address"),
    name("comment"),
    name("creation-time"),
    name("disabled"),
    name("dynamic"),
    name("list"),
    name("timeout"),
];

const COMMANDS: [Command; 9] = table_commands(ADD_ARGS, SET_ARGS);

static V4_SPEC: Spec = Spec {
    path: "/ip/firewall/address-list",
    shape: Shape::Table { named: false },
    fields: FIELDS,
    commands: &COMMANDS,
    write_policies: &[],
};

static V6_SPEC: Spec = Spec {
    path: "/ipv6/firewall/address-list",
    ..V4_SPEC
};

/// One of the two address-list menus.
#[derive(Debug)]
pub struct AddressListMenu(Family);

/// `/ip/firewall/address-list`.
pub static V4: AddressListMenu = AddressListMenu(Family::V4);
/// `/ipv6/firewall/address-list`.
pub static V6: AddressListMenu = AddressListMenu(Family::V6);

impl MenuImpl for AddressListMenu {
    fn spec(&self) -> &'static Spec {
        match self.0 {
            Family::V4 => &V4_SPEC,
            Family::V6 => &V6_SPEC,
        }
    }

    fn print(&self, router: &Router, query: &Query, now: SimTime) -> Rows {
        let iso = router.version.iso_timestamps();
        let list = router.list(self.0);
        Rows::Entries(match query.is_empty() {
            true => list.snapshot(now, iso, None),
            false => list.snapshot(now, iso, Some(&|r| query.matches(r))),
        })
    }

    fn count(&self, router: &Router, query: &Query, now: SimTime) -> usize {
        let list = router.list(self.0);
        match query.is_empty() {
            true => list.len(),
            false => list.count(now, router.version.iso_timestamps(), &|r| query.matches(r)),
        }
    }

    fn item(&self, router: &Router, id: u32, now: SimTime) -> Option<Rows> {
        let iso = router.version.iso_timestamps();
        router
            .list(self.0)
            .snapshot_one(id, now, iso)
            .map(Rows::Entries)
    }

    fn exists(&self, router: &Router, id: u32) -> bool {
        router.list(self.0).contains(id)
    }

    fn add(&self, router: &mut Router, args: &Args, ctx: &Context) -> Result<u32, Failure> {
        router.list_mut(self.0).add(args, ctx.now, ctx.wall_s)
    }

    fn set(&self, router: &mut Router, id: u32, args: &Args, ctx: &Context) -> Result<(), Failure> {
        router.list_mut(self.0).set(id, args, ctx.now)
    }

    fn remove(&self, router: &mut Router, id: u32) -> Result<(), Failure> {
        router.list_mut(self.0).remove(id)
    }
}
