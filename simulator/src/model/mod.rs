//! The router's state and the commands run on it: plain data, no I/O, one lock around it.
//!
//! [`Router`] holds everything a real router would answer from: identity, board, users and groups,
//! services, and the two address-list menus. Its methods take the simulated time as an argument
//! rather than reading a clock, so every rule is a plain function that unit tests drive directly.
//! Nothing here knows HTTP or JSON.
//!
//! **The entry point** is [`Router::run`] (`run.rs`): `router.run(menu, command, args, &ctx)` with a
//! [`Menu`](menus::Menu) from the registry (`Menu::at("/ip/firewall/address-list")`), a command word,
//! its [`Args`](args::Args) (and row filter), and a [`Context`](run::Context) (the caller's policies,
//! the simulated time), returning an [`Outcome`](run::Outcome) (rows, an added id, a value, or done)
//! or a [`Failure`](failure::Failure) in the router's words. The REST layer maps methods, paths and
//! bodies onto it and renders what comes back; a script runs its commands through the same call.
//!
//! Each menu is a module of `menus/` declaring its fields, commands and arguments per version
//! ([`spec`]); the tables behind them are `address_list.rs`, `users.rs`, `services.rs`, `system.rs`.

pub mod address;
pub mod address_list;
pub mod args;
pub mod certificates;
pub mod duration;
pub mod failure;
pub mod menus;
pub mod outcome;
pub mod query;
pub mod row;
pub mod run;
pub mod scripting;
pub mod services;
pub mod spec;
pub mod system;
pub mod timestamp;
pub mod users;
pub mod version;

use std::any::{Any, TypeId};
use std::collections::HashMap;

use address::Family;
use address_list::AddressList;
use services::Services;
use system::Resource;
use users::Users;
use version::Version;

use crate::clock::SimTime;

/// Everything the router knows.
#[derive(Debug)]
pub struct Router {
    /// RouterOS version followed.
    pub version: Version,
    /// `/system/identity` name.
    pub identity: String,
    /// `/system/resource` board facts.
    pub resource: Resource,
    /// Simulated time of the last boot (uptime counts from here).
    pub booted_at: SimTime,
    /// Users and groups.
    pub users: Users,
    /// Services.
    pub services: Services,
    /// `/ip/firewall/address-list`.
    pub v4: AddressList,
    /// `/ipv6/firewall/address-list`.
    pub v6: AddressList,
    /// State of menus that keep it here rather than in a field of their own (see [`Router::state`]).
    menu_state: MenuState,
}

/// State of menus, one value per type.
#[derive(Default)]
struct MenuState(HashMap<TypeId, Box<dyn Any + Send>>);

impl std::fmt::Debug for MenuState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MenuState({} tables)", self.0.len())
    }
}

impl Router {
    /// A router with the built-in groups, no users, default services and empty lists.
    pub fn new(version: Version) -> Self {
        Self {
            version,
            identity: "MikroTik".into(),
            resource: Resource::default(),
            booted_at: 0,
            users: Users::builtin(),
            services: Services::defaults(80, 443, true),
            v4: AddressList::new(Family::V4),
            v6: AddressList::new(Family::V6),
            menu_state: MenuState::default(),
        }
    }

    /// The state a menu keeps in the router, created empty on first use: a new menu's table lives
    /// here, so adding a menu does not change the router.
    pub fn state<T: Default + Send + 'static>(&mut self) -> &mut T {
        let slot = self
            .menu_state
            .0
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()));
        match slot.downcast_mut::<T>() {
            Some(t) => t,
            // The map is keyed by the value's own type, so the cast cannot fail.
            None => unreachable!("menu state stored under another type"),
        }
    }

    /// The state a menu keeps in the router, if it has any yet (for reads, which take the router
    /// shared).
    pub fn state_ref<T: Send + 'static>(&self) -> Option<&T> {
        self.menu_state
            .0
            .get(&TypeId::of::<T>())
            .and_then(|b| b.downcast_ref::<T>())
    }

    /// The address-list menu of `family`.
    pub fn list(&self, family: Family) -> &AddressList {
        match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }

    /// The address-list menu of `family`, mutable.
    pub fn list_mut(&mut self, family: Family) -> &mut AddressList {
        match family {
            Family::V4 => &mut self.v4,
            Family::V6 => &mut self.v6,
        }
    }

    /// Drops expired entries; every read and command calls this first.
    pub fn purge(&mut self, now: SimTime) {
        self.v4.purge(now);
        self.v6.purge(now);
    }

    /// A reboot: dynamic entries vanish, uptime restarts, firewall counters start again from zero
    /// (they are kept in RAM only), the memory log is emptied, scheduler run counts restart and
    /// `start-time=startup` entries become due.
    pub fn reboot(&mut self, now: SimTime) {
        self.v4.drop_dynamic();
        self.v6.drop_dynamic();
        self.state::<menus::filter::Filters>().reset_counters();
        self.booted_at = now;
        if let Some(log) = self.state_mut_if::<scripting::Log>() {
            *log = scripting::Log::default();
        }
        if let Some(table) = self.state_mut_if::<scripting::Schedules>() {
            table.boot(now);
        }
    }

    /// The state a menu keeps, mutable, only if it exists.
    fn state_mut_if<T: Send + 'static>(&mut self) -> Option<&mut T> {
        self.menu_state
            .0
            .get_mut(&TypeId::of::<T>())
            .and_then(|b| b.downcast_mut::<T>())
    }
}
