//! The router's state: plain data, no I/O, one lock around it.
//!
//! [`Router`] holds everything a real router would answer from: identity, board, users and groups,
//! services, and the two address-list menus. Its methods take the simulated time as an argument
//! rather than reading a clock, so every rule is a plain function that unit tests drive directly.
//! The REST layer turns HTTP requests into calls on [`Router`] and [`Menu`]; the server turns
//! service changes into listener changes.

pub mod address;
pub mod address_list;
pub mod args;
pub mod duration;
pub mod services;
pub mod system;
pub mod timestamp;
pub mod users;
pub mod version;

use address::Family;
use address_list::AddressList;
use args::Args;
use services::Services;
use system::Resource;
use users::Users;
use version::Version;

use crate::clock::SimTime;
use crate::rest::error::RosError;
use crate::rest::json::Row;

/// A menu the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Menu {
    /// `/ip/firewall/address-list` or `/ipv6/firewall/address-list`.
    AddressList(Family),
    /// `/user`.
    User,
    /// `/user/group`.
    Group,
    /// `/ip/service`.
    Service,
    /// `/system/resource` (singleton).
    Resource,
    /// `/system/identity` (singleton).
    Identity,
}

/// Where a path leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The menu itself.
    Menu(Menu),
    /// One item of a menu.
    Item(Menu, u32),
    /// A command of a menu (`print`, `add`, ...).
    Command(Menu, String),
    /// An item looked up by its `name` (`/rest/user/admin`).
    Named(Menu, String),
}

/// Command words RouterOS knows on ordinary menus; the simulator implements a subset and answers
/// the rest with `no such command`.
const COMMANDS: &[&str] = &[
    "add", "comment", "disable", "edit", "enable", "export", "find", "get", "move", "print",
    "remove", "reset", "set", "unset",
];

impl Menu {
    /// Every menu, for listings.
    pub const ALL: [Menu; 7] = [
        Menu::AddressList(Family::V4),
        Menu::AddressList(Family::V6),
        Menu::User,
        Menu::Group,
        Menu::Service,
        Menu::Resource,
        Menu::Identity,
    ];

    /// The menu's path below `/rest`.
    pub fn path(self) -> &'static str {
        match self {
            Menu::AddressList(Family::V4) => "/ip/firewall/address-list",
            Menu::AddressList(Family::V6) => "/ipv6/firewall/address-list",
            Menu::User => "/user",
            Menu::Group => "/user/group",
            Menu::Service => "/ip/service",
            Menu::Resource => "/system/resource",
            Menu::Identity => "/system/identity",
        }
    }

    /// Whether the menu is a singleton (one bare object, no ids).
    pub fn is_singleton(self) -> bool {
        matches!(self, Menu::Resource | Menu::Identity)
    }

    /// Resolves the path segments after `/rest`.
    ///
    /// Directories that only group menus (`/ip`, `/ip/firewall`, `/system`) are walked through; an
    /// unknown word anywhere is `no such command or directory (<word>)`, as on a real router. A
    /// percent-encoded segment (`%2A1` for `*1`) is refused the way RouterOS refuses it.
    pub fn resolve(segments: &[&str]) -> Result<Target, RosError> {
        let mut path = String::new();
        let mut menu: Option<Menu> = None;
        let mut rest = segments.iter().filter(|s| !s.is_empty());
        for seg in rest.by_ref() {
            if seg.starts_with('%') {
                return Err(RosError::bad_request("no such command prefix"));
            }
            if let Some(m) = menu {
                if !m.is_singleton()
                    && let Some(id) = args::parse_id(seg)
                {
                    return match rest.next() {
                        None => Ok(Target::Item(m, id)),
                        Some(extra) => Err(RosError::no_such_directory(extra)),
                    };
                }
                if COMMANDS.contains(seg) {
                    return match rest.next() {
                        None => Ok(Target::Command(m, seg.to_string())),
                        Some(extra) => Err(RosError::no_such_directory(extra)),
                    };
                }
                let child = format!("{path}/{seg}");
                if !Menu::ALL.iter().any(|c| c.path() == child) {
                    // Any other word after a menu is a lookup by name, which only menus whose items
                    // have names support; elsewhere RouterOS answers `no such command prefix`.
                    return match (m, rest.next()) {
                        (Menu::User | Menu::Group | Menu::Service, None) => {
                            Ok(Target::Named(m, seg.to_string()))
                        }
                        (Menu::User | Menu::Group | Menu::Service, Some(extra)) => {
                            Err(RosError::no_such_directory(extra))
                        }
                        _ => Err(RosError::bad_request("no such command prefix")),
                    };
                }
            }
            path.push('/');
            path.push_str(seg);
            menu = Menu::ALL.into_iter().find(|m| m.path() == path);
            let is_dir = matches!(
                path.as_str(),
                "/ip" | "/ip/firewall" | "/ipv6" | "/ipv6/firewall" | "/system"
            );
            if menu.is_none() && !is_dir {
                return Err(RosError::no_such_directory(seg));
            }
        }
        match menu {
            Some(m) => Ok(Target::Menu(m)),
            // `/rest`, `/rest/ip`: a directory is not something to print.
            None => Err(RosError::no_such_command()),
        }
    }
}

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
        }
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

    /// A reboot: dynamic entries vanish, uptime restarts.
    pub fn reboot(&mut self, now: SimTime) {
        self.v4.drop_dynamic();
        self.v6.drop_dynamic();
        self.booted_at = now;
    }

    /// Every row of `menu`, in id order. Singletons yield their one row.
    pub fn rows(&self, menu: Menu, now: SimTime) -> Box<dyn Iterator<Item = Row<'_>> + '_> {
        let iso = self.version.iso_timestamps();
        match menu {
            Menu::AddressList(f) => Box::new(self.list(f).rows(now, iso)),
            Menu::User => Box::new(
                self.users
                    .user_rows(self.version.user_inactivity())
                    .map(|(_, r)| r),
            ),
            Menu::Group => Box::new(self.users.group_rows().map(|(_, r)| r)),
            Menu::Service => Box::new(self.service_rows().map(|(_, r)| r)),
            Menu::Resource => Box::new(std::iter::once(self.resource.row(
                &self.version,
                now,
                self.booted_at,
            ))),
            Menu::Identity => Box::new(std::iter::once(system::identity_row(&self.identity))),
        }
    }

    /// One item, or `404` when there is no such id.
    pub fn row(&self, menu: Menu, id: u32, now: SimTime) -> Result<Row<'_>, RosError> {
        let found = match menu {
            Menu::AddressList(f) => self.list(f).render(id, now, self.version.iso_timestamps()),
            Menu::User => self
                .users
                .user_rows(self.version.user_inactivity())
                .find(|(i, _)| *i == id)
                .map(|(_, r)| r),
            Menu::Group => self
                .users
                .group_rows()
                .find(|(i, _)| *i == id)
                .map(|(_, r)| r),
            Menu::Service => self.service_rows().find(|(i, _)| *i == id).map(|(_, r)| r),
            Menu::Resource | Menu::Identity => None,
        };
        found.ok_or_else(RosError::not_found)
    }

    fn service_rows(&self) -> impl Iterator<Item = (u32, Row<'_>)> {
        self.services.rows(
            self.version.service_address_key(),
            self.version.service_v719_keys(),
        )
    }

    /// The id of the item called `name` in a menu whose items have names (`/rest/user/admin`).
    pub fn id_by_name(&self, menu: Menu, name: &str) -> Option<u32> {
        match menu {
            Menu::User => self.users.id_by_name(false, name),
            Menu::Group => self.users.id_by_name(true, name),
            Menu::Service => self
                .services
                .rows
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.id),
            _ => None,
        }
    }

    /// Whether `id` exists in `menu`.
    pub fn exists(&self, menu: Menu, id: u32) -> bool {
        match menu {
            Menu::AddressList(f) => self.list(f).contains(id),
            Menu::User => self.users.users.iter().any(|u| u.id == id),
            Menu::Group => self.users.groups.iter().any(|g| g.id == id),
            Menu::Service => self.services.rows.iter().any(|s| s.id == id),
            Menu::Resource | Menu::Identity => false,
        }
    }

    /// `add`: creates an item and returns its id.
    pub fn add(
        &mut self,
        menu: Menu,
        args: &Args,
        now: SimTime,
        wall_s: i64,
    ) -> Result<u32, RosError> {
        match menu {
            Menu::AddressList(f) => self.list_mut(f).add(args, now, wall_s),
            Menu::User => self.users.add_user(args),
            Menu::Group => self.users.add_group(args),
            Menu::Service | Menu::Resource | Menu::Identity => Err(RosError::no_such_command()),
        }
    }

    /// `set` on an item.
    pub fn set(&mut self, menu: Menu, id: u32, args: &Args, now: SimTime) -> Result<(), RosError> {
        match menu {
            Menu::AddressList(f) => self.list_mut(f).set(id, args, now),
            Menu::User => self.users.set_user(id, args),
            Menu::Group => self.users.set_group(id, args),
            Menu::Service => {
                let key = self.version.service_address_key();
                self.services.set(id, args, key)
            }
            Menu::Resource | Menu::Identity => Err(RosError::no_such_command()),
        }
    }

    /// `set` on a singleton menu.
    pub fn set_singleton(&mut self, menu: Menu, args: &Args) -> Result<(), RosError> {
        match menu {
            Menu::Identity => {
                args.only(&["name"])?;
                if let Some(name) = args.get("name") {
                    if name.is_empty() {
                        return Err(RosError::invalid_value("name"));
                    }
                    self.identity = name.to_owned();
                }
                Ok(())
            }
            Menu::Resource => match args.is_empty() {
                true => Ok(()),
                false => Err(RosError::no_such_command()),
            },
            _ => Err(RosError::no_such_command()),
        }
    }

    /// `remove` of an item.
    pub fn remove(&mut self, menu: Menu, id: u32) -> Result<(), RosError> {
        match menu {
            Menu::AddressList(f) => self.list_mut(f).remove(id),
            Menu::User => self.users.remove_user(id),
            Menu::Group => self.users.remove_group(id),
            Menu::Service | Menu::Resource | Menu::Identity => Err(RosError::no_such_command()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, expected: Result<Target, &str>) {
        let segs: Vec<&str> = path.split('/').collect();
        let got =
            Menu::resolve(&segs).map_err(|e| e.detail.map(|d| d.into_owned()).unwrap_or_default());
        assert_eq!(got, expected.map_err(str::to_owned), "{path}");
    }

    #[test]
    fn paths() {
        let v4 = Menu::AddressList(Family::V4);
        check("ip/firewall/address-list", Ok(Target::Menu(v4)));
        check("ip/firewall/address-list/", Ok(Target::Menu(v4)));
        check("ip/firewall/address-list/*1A", Ok(Target::Item(v4, 0x1a)));
        check(
            "ip/firewall/address-list/print",
            Ok(Target::Command(v4, "print".into())),
        );
        check(
            "ipv6/firewall/address-list/add",
            Ok(Target::Command(Menu::AddressList(Family::V6), "add".into())),
        );
        check("user/group", Ok(Target::Menu(Menu::Group)));
        check("user/*1", Ok(Target::Item(Menu::User, 1)));
        check("system/resource", Ok(Target::Menu(Menu::Resource)));
        check(
            "system/identity/set",
            Ok(Target::Command(Menu::Identity, "set".into())),
        );
        check("ip/service", Ok(Target::Menu(Menu::Service)));
        check(
            "ip/firewall/address-lists",
            Err("no such command or directory (address-lists)"),
        );
        check("interface", Err("no such command or directory (interface)"));
        check(
            "ip/firewall/address-list/%2A1",
            Err("no such command prefix"),
        );
        check(
            "ip/firewall/address-list/*1/x",
            Err("no such command or directory (x)"),
        );
        check(
            "ip/firewall/address-list/frobnicate",
            Err("no such command prefix"),
        );
        check("user/admin", Ok(Target::Named(Menu::User, "admin".into())));
        check(
            "ip/service/www-ssl",
            Ok(Target::Named(Menu::Service, "www-ssl".into())),
        );
        check("ip/foo", Err("no such command or directory (foo)"));
        check("ip", Err("no such command"));
        check("", Err("no such command"));
        check("system/resource/*1", Err("no such command prefix"));
    }
}
