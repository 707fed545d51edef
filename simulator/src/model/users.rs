//! `/user` and `/user/group`: who may log in, from where, and with which policies.
//!
//! Every REST request is checked against these tables as they are at that moment (no login cache),
//! so a test that changes a group sees the effect on the next request. Passwords are stored but never
//! shown. The built-in groups `read`, `write` and `full` carry RouterOS's default policies.

use std::net::IpAddr;

use ipnet::IpNet;

use super::args::{Args, format_id};
use super::duration::{format_ms, parse_ms};
use super::failure::Failure;
use super::row::Row;
use super::row::bool_text;
use super::spec::{Name, name, refuse_unknown};

/// Every policy in the order RouterOS prints them.
pub const POLICIES: [&str; 17] = [
    "local",
    "telnet",
    "ssh",
    "ftp",
    "reboot",
    "read",
    "write",
    "policy",
    "test",
    "winbox",
    "password",
    "web",
    "sniff",
    "sensitive",
    "api",
    "romon",
    "rest-api",
];

/// A set of policies, one bit per entry of [`POLICIES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policies(u32);

impl Policies {
    /// Every policy (the `full` group).
    pub const ALL: Policies = Policies((1 << POLICIES.len()) - 1);

    /// Whether `name` is granted.
    pub fn has(self, name: &str) -> bool {
        POLICIES
            .iter()
            .position(|p| *p == name)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }

    /// Parses `api,rest-api,read`; `!name` words deny and are accepted as RouterOS prints them.
    pub fn parse(text: &str) -> Option<Policies> {
        let mut bits = 0;
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let (deny, name) = match word.strip_prefix('!') {
                Some(n) => (true, n),
                None => (false, word),
            };
            let i = POLICIES.iter().position(|p| *p == name)?;
            if !deny {
                bits |= 1 << i;
            }
        }
        Some(Policies(bits))
    }

    /// The policies both sets grant: what a script runs with when its owner's and its own
    /// policies both bound it.
    pub fn intersect(self, other: Policies) -> Policies {
        Policies(self.0 & other.0)
    }

    /// The policies either set grants.
    pub fn union(self, other: Policies) -> Policies {
        Policies(self.0 | other.0)
    }

    /// Whether every policy of `self` is also in `other` (a script "with higher or more
    /// permissions than the user/scheduler cannot be run", MikroTik manual, Scripting).
    pub fn within(self, other: Policies) -> bool {
        self.0 & !other.0 == 0
    }

    /// The granted policies only, comma-joined in RouterOS's order, as a script's or a scheduler
    /// entry's `policy` prints (`read,write,policy,password,sensitive`, a captured script row in
    /// terraform-provider-routeros `resource_system_script.go`).
    pub fn granted_text(self) -> String {
        POLICIES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, p)| *p)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// As RouterOS prints a group's `policy`: granted policies, then the others with `!`.
    pub fn to_text(self) -> String {
        let granted = POLICIES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, p)| p.to_string());
        let denied = POLICIES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) == 0)
            .map(|(_, p)| format!("!{p}"));
        granted.chain(denied).collect::<Vec<_>>().join(",")
    }
}

/// A user group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Group {
    /// `.id` number.
    pub id: u32,
    /// Name.
    pub name: String,
    /// Policies, as text (parsed on use so a dump shows what a person wrote).
    pub policy: String,
    /// Comment.
    #[serde(default)]
    pub comment: Option<String>,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct User {
    /// `.id` number.
    pub id: u32,
    /// Login name.
    pub name: String,
    /// Group name.
    pub group: String,
    /// Password (never printed by the REST API).
    #[serde(default)]
    pub password: String,
    /// Allowed addresses, comma separated; empty means anywhere.
    #[serde(default)]
    pub address: String,
    /// Disabled flag.
    #[serde(default)]
    pub disabled: bool,
    /// Comment.
    #[serde(default)]
    pub comment: Option<String>,
    /// Whether the password must change at the next login (`expire-password`).
    #[serde(default)]
    pub expired: bool,
    /// `inactivity-policy` (7.16 and later): `none`, `lockscreen` or `logout`; `None` is `none`.
    #[serde(default)]
    pub inactivity_policy: Option<String>,
    /// `inactivity-timeout` in milliseconds (7.16 and later); `None` is the default, 10 minutes.
    #[serde(default)]
    pub inactivity_timeout_ms: Option<u64>,
}

/// The values of `inactivity-policy` (restraml `docs/7.22.3/deep-inspect.json` completion).
const INACTIVITY_POLICIES: &[&str] = &["lockscreen", "logout", "none"];

/// The bounds of `inactivity-timeout`: `1m..1d    (time interval)` in every schema from 7.16.
const INACTIVITY_TIMEOUT_MS: std::ops::RangeInclusive<u64> = 60_000..=86_400_000;

/// The default `inactivity-timeout`, as a fresh user prints it.
const INACTIVITY_TIMEOUT_DEFAULT_MS: u64 = 600_000;

/// Why a login failed; every case is a 401 on the wire, the distinction is for the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    /// No such user or a wrong password.
    BadCredentials,
    /// The user is disabled.
    Disabled,
    /// The client's address is not in the user's allowed addresses.
    AddressNotAllowed,
    /// The user's group lacks `rest-api`.
    NoRestApi,
}

/// Both tables.
#[derive(Debug, Clone, Default)]
pub struct Users {
    /// Users in id order.
    pub users: Vec<User>,
    /// Groups in id order.
    pub groups: Vec<Group>,
    next_user: u32,
    next_group: u32,
}

/// Arguments of `add` and `set` on `/user`.
pub const USER_ARGS: &[Name] = &[
    name("address"),
    name("comment"),
    name("disabled"),
    name("group"),
    name("name"),
    name("password"),
    // From 7.16 (absent in the 7.15.3 schema, present in 7.16: tikoci/restraml
    // `docs/7.16/inspect.json`).
    name("inactivity-policy").since(7, 16),
    name("inactivity-timeout").since(7, 16),
];

/// Arguments of `add` on `/user`: those of `set` and `copy-from`, which the command itself takes
/// (`model/run.rs`) before the user is made.
pub const USER_ADD_ARGS: &[Name] = &[
    name("address"),
    name("comment"),
    name("copy-from"),
    name("disabled"),
    name("group"),
    name("name"),
    name("password"),
    name("inactivity-policy").since(7, 16),
    name("inactivity-timeout").since(7, 16),
];

/// Arguments of `set` on `/user/group`.
pub const GROUP_ARGS: &[Name] = &[name("comment"), name("name"), name("policy"), name("skin")];

/// Arguments of `add` on `/user/group`: those of `set` and `copy-from`.
pub const GROUP_ADD_ARGS: &[Name] = &[
    name("comment"),
    name("copy-from"),
    name("name"),
    name("policy"),
    name("skin"),
];

impl Users {
    /// The built-in groups and no users.
    pub fn builtin() -> Self {
        let full = Policies::ALL.to_text();
        // RouterOS 7 defaults (fixtures/routeros/user-group-print.json).
        let read = "local,telnet,ssh,reboot,read,test,winbox,password,web,sniff,sensitive,api,romon,rest-api";
        let write = "local,telnet,ssh,reboot,read,write,test,winbox,password,web,sniff,sensitive,api,romon,rest-api";
        let groups = [
            ("read", read.to_owned()),
            ("write", write.to_owned()),
            ("full", full),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, (name, policy))| Group {
            id: i as u32 + 1,
            name: name.into(),
            policy,
            comment: None,
        })
        .collect();
        Self {
            users: Vec::new(),
            groups,
            next_user: 1,
            next_group: 4,
        }
    }

    /// Tables from a dump; the id counters continue after the highest id.
    pub fn from_parts(users: Vec<User>, groups: Vec<Group>) -> Self {
        let next_user = users.iter().map(|u| u.id + 1).max().unwrap_or(1);
        let next_group = groups.iter().map(|g| g.id + 1).max().unwrap_or(1);
        Self {
            users,
            groups,
            next_user,
            next_group,
        }
    }

    /// Checks a login and returns the user's policies.
    pub fn login(
        &self,
        name: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<Policies, LoginFailure> {
        let policies = self.credentials(name, password, client)?;
        if !policies.has("rest-api") {
            return Err(LoginFailure::NoRestApi);
        }
        Ok(policies)
    }

    /// Checks user, password, disabled flag and allowed address, and returns the group's policies
    /// without judging them (the REST layer may use cached policies instead, as a router does).
    pub fn credentials(
        &self,
        name: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<Policies, LoginFailure> {
        let user = self
            .users
            .iter()
            .find(|u| u.name == name)
            .ok_or(LoginFailure::BadCredentials)?;
        if user.password != password {
            return Err(LoginFailure::BadCredentials);
        }
        if user.disabled {
            return Err(LoginFailure::Disabled);
        }
        if !address_allowed(&user.address, client) {
            return Err(LoginFailure::AddressNotAllowed);
        }
        let group = self
            .groups
            .iter()
            .find(|g| g.name == user.group)
            .ok_or(LoginFailure::BadCredentials)?;
        Ok(Policies::parse(&group.policy).unwrap_or_default())
    }

    /// Renders `/user` rows; `inactivity` adds the keys 7.16 introduced. `last-logged-in` is left
    /// out: a real router shows it only after a login other than REST, which never happens here.
    pub fn user_rows(&self, inactivity: bool) -> impl Iterator<Item = (u32, Row<'_>)> {
        self.users.iter().map(move |u| {
            let mut row = Row::with_capacity(9);
            row.push(".id", format_id(u.id));
            row.push("address", u.address.as_str());
            row.push_opt("comment", u.comment.as_deref().filter(|c| !c.is_empty()));
            row.push("disabled", bool_text(u.disabled));
            row.push("expired", bool_text(u.expired));
            row.push("group", u.group.as_str());
            if inactivity {
                row.push(
                    "inactivity-policy",
                    u.inactivity_policy.as_deref().unwrap_or("none"),
                );
                row.push(
                    "inactivity-timeout",
                    format_ms(
                        u.inactivity_timeout_ms
                            .unwrap_or(INACTIVITY_TIMEOUT_DEFAULT_MS),
                    ),
                );
            }
            row.push("name", u.name.as_str());
            (u.id, row)
        })
    }

    /// The current policies of the user called `name` (through its group), if the user exists.
    pub fn policies_of(&self, name: &str) -> Option<Policies> {
        let user = self.users.iter().find(|u| u.name == name)?;
        let group = self.groups.iter().find(|g| g.name == user.group)?;
        Policies::parse(&group.policy)
    }

    /// The name of the user with this id.
    pub fn name_of(&self, id: u32) -> Option<&str> {
        self.users
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.name.as_str())
    }

    /// The id of the user or group called `name`, for paths like `/rest/user/admin`.
    pub fn id_by_name(&self, groups: bool, name: &str) -> Option<u32> {
        if groups {
            self.groups.iter().find(|g| g.name == name).map(|g| g.id)
        } else {
            self.users.iter().find(|u| u.name == name).map(|u| u.id)
        }
    }

    /// Renders `/user/group` rows.
    pub fn group_rows(&self) -> impl Iterator<Item = (u32, Row<'_>)> {
        self.groups.iter().map(|g| {
            let mut row = Row::with_capacity(5);
            row.push(".id", format_id(g.id));
            row.push_opt("comment", g.comment.as_deref().filter(|c| !c.is_empty()));
            row.push("name", g.name.as_str());
            row.push(
                "policy",
                Policies::parse(&g.policy).unwrap_or_default().to_text(),
            );
            row.push("skin", "default");
            (g.id, row)
        })
    }

    fn check_user_fields(&self, u: &User, id: Option<u32>) -> Result<(), Failure> {
        if !self.groups.iter().any(|g| g.name == u.group) {
            return Err(Failure::bad_request(
                "input does not match any value of group",
            ));
        }
        if u.name.is_empty() {
            return Err(Failure::invalid_value("name"));
        }
        if self
            .users
            .iter()
            .any(|o| o.name == u.name && Some(o.id) != id)
        {
            return Err(Failure::bad_request(
                "failure: user with the same name already exists",
            ));
        }
        if parse_allowed(&u.address).is_none() {
            return Err(Failure::invalid_value("address"));
        }
        Ok(())
    }

    fn apply_user(u: &mut User, args: &Args) -> Result<(), Failure> {
        if let Some(v) = args.get("name") {
            u.name = v.to_owned();
        }
        if let Some(v) = args.get("group") {
            u.group = v.to_owned();
        }
        if let Some(v) = args.get("password") {
            u.password = v.to_owned();
            u.expired = false;
        }
        if let Some(v) = args.get("address") {
            u.address = v.to_owned();
        }
        if let Some(v) = args.get_bool("disabled")? {
            u.disabled = v;
        }
        if let Some(v) = args.get("comment") {
            u.comment = (!v.is_empty()).then(|| v.to_owned());
        }
        if let Some(v) = args.get("inactivity-policy") {
            if !INACTIVITY_POLICIES.contains(&v) {
                return Err(Failure::bad_request(
                    "input does not match any value of inactivity-policy",
                ));
            }
            u.inactivity_policy = Some(v.to_owned());
        }
        if let Some(v) = args.get("inactivity-timeout") {
            let ms = parse_ms(v).ok_or_else(|| {
                Failure::bad_request("invalid time value for argument inactivity-timeout")
            })?;
            // The router words a time out of range with `is` and its bounds in clock form
            // (quickchr device-mode lab, 7.22.1: `value of <arg> is out of range (00:00:10 ..
            // 1d00:00:00)`).
            if !INACTIVITY_TIMEOUT_MS.contains(&ms) {
                return Err(Failure::bad_request(
                    "value of inactivity-timeout is out of range (00:01:00 .. 1d00:00:00)",
                ));
            }
            u.inactivity_timeout_ms = Some(ms);
        }
        Ok(())
    }

    /// `add` on `/user`.
    pub fn add_user(&mut self, args: &Args) -> Result<u32, Failure> {
        refuse_unknown(args, USER_ARGS)?;
        let name = args.get("name").ok_or_else(|| Failure::missing("name"))?;
        let group = args.get("group").ok_or_else(|| Failure::missing("group"))?;
        let mut u = User {
            id: self.next_user,
            name: name.to_owned(),
            group: group.to_owned(),
            password: String::new(),
            address: String::new(),
            disabled: false,
            comment: None,
            expired: false,
            inactivity_policy: None,
            inactivity_timeout_ms: None,
        };
        Self::apply_user(&mut u, args)?;
        self.check_user_fields(&u, None)?;
        self.next_user += 1;
        let id = u.id;
        self.users.push(u);
        Ok(id)
    }

    /// `set` on `/user`.
    pub fn set_user(&mut self, id: u32, args: &Args) -> Result<(), Failure> {
        refuse_unknown(args, USER_ARGS)?;
        let pos = self
            .users
            .iter()
            .position(|u| u.id == id)
            .ok_or_else(Failure::not_found)?;
        let mut u = self.users[pos].clone();
        Self::apply_user(&mut u, args)?;
        self.check_user_fields(&u, Some(id))?;
        self.users[pos] = u;
        Ok(())
    }

    /// `remove` on `/user`.
    pub fn remove_user(&mut self, id: u32) -> Result<(), Failure> {
        let pos = self
            .users
            .iter()
            .position(|u| u.id == id)
            .ok_or_else(Failure::not_found)?;
        self.users.remove(pos);
        Ok(())
    }

    fn apply_group(g: &mut Group, args: &Args) -> Result<(), Failure> {
        if let Some(v) = args.get("name") {
            if v.is_empty() {
                return Err(Failure::invalid_value("name"));
            }
            g.name = v.to_owned();
        }
        if let Some(v) = args.get("policy") {
            Policies::parse(v).ok_or_else(|| Failure::invalid_value("policy"))?;
            g.policy = v.to_owned();
        }
        if let Some(v) = args.get("skin")
            && v != "default"
        {
            return Err(Failure::invalid_value("skin"));
        }
        if let Some(v) = args.get("comment") {
            g.comment = (!v.is_empty()).then(|| v.to_owned());
        }
        Ok(())
    }

    /// `add` on `/user/group`.
    pub fn add_group(&mut self, args: &Args) -> Result<u32, Failure> {
        refuse_unknown(args, GROUP_ARGS)?;
        let name = args.get("name").ok_or_else(|| Failure::missing("name"))?;
        if self.groups.iter().any(|g| g.name == name) {
            return Err(Failure::bad_request(
                "failure: group with the same name already exists",
            ));
        }
        let mut g = Group {
            id: self.next_group,
            name: name.to_owned(),
            policy: String::new(),
            comment: None,
        };
        Self::apply_group(&mut g, args)?;
        self.next_group += 1;
        let id = g.id;
        self.groups.push(g);
        Ok(id)
    }

    /// `set` on `/user/group`; a rename carries the group's users along.
    pub fn set_group(&mut self, id: u32, args: &Args) -> Result<(), Failure> {
        refuse_unknown(args, GROUP_ARGS)?;
        let pos = self
            .groups
            .iter()
            .position(|g| g.id == id)
            .ok_or_else(Failure::not_found)?;
        let mut g = self.groups[pos].clone();
        Self::apply_group(&mut g, args)?;
        if self.groups.iter().any(|o| o.name == g.name && o.id != id) {
            return Err(Failure::bad_request(
                "failure: group with the same name already exists",
            ));
        }
        let old = std::mem::replace(&mut self.groups[pos], g);
        let new_name = self.groups[pos].name.clone();
        for u in self.users.iter_mut().filter(|u| u.group == old.name) {
            u.group = new_name.clone();
        }
        Ok(())
    }

    /// `remove` on `/user/group`: built-in groups and groups in use stay.
    pub fn remove_group(&mut self, id: u32) -> Result<(), Failure> {
        let pos = self
            .groups
            .iter()
            .position(|g| g.id == id)
            .ok_or_else(Failure::not_found)?;
        let name = &self.groups[pos].name;
        if id <= 3 {
            return Err(Failure::bad_request(
                "failure: can not remove builtin group",
            ));
        }
        if self.users.iter().any(|u| &u.group == name) {
            // Text from a 7.23.7 write probe (fixtures/README.md, "Users and groups").
            return Err(Failure::bad_request("failure: group has some users"));
        }
        self.groups.remove(pos);
        Ok(())
    }
}

/// Parses a comma list of allowed addresses (hosts or prefixes); `None` when one is not an address.
pub fn parse_allowed(text: &str) -> Option<Vec<IpNet>> {
    text.split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.parse::<IpNet>()
                .ok()
                .or_else(|| w.parse::<IpAddr>().ok().map(IpNet::from))
        })
        .collect()
}

/// Whether `client` is within an allowed-address list (empty allows everyone).
pub fn address_allowed(list: &str, client: IpAddr) -> bool {
    let client = match client {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(client),
        v4 => v4,
    };
    match parse_allowed(list) {
        Some(nets) => nets.is_empty() || nets.iter().any(|n| n.contains(&client)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Users {
        let mut u = Users::builtin();
        u.add_group(&Args::from_pairs([
            ("name", "agents"),
            ("policy", "api,rest-api,read,write"),
        ]))
        .unwrap();
        u.add_group(&Args::from_pairs([
            ("name", "norest"),
            ("policy", "api,read,write"),
        ]))
        .unwrap();
        for (name, group, extra) in [
            ("a", "agents", vec![]),
            ("ro", "read", vec![]),
            ("nr", "norest", vec![]),
            ("off", "agents", vec![("disabled", "yes")]),
            ("far", "agents", vec![("address", "192.0.2.0/24")]),
        ] {
            let mut pairs = vec![("name", name), ("group", group), ("password", "pw")];
            pairs.extend(extra);
            u.add_user(&Args::from_pairs(pairs)).unwrap();
        }
        u
    }

    #[test]
    fn login_outcomes() {
        let u = users();
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let p = u.login("a", "pw", lo).unwrap();
        assert!(p.has("write") && p.has("api") && !p.has("policy"));
        assert!(!u.login("ro", "pw", lo).unwrap().has("write"));
        assert_eq!(u.login("a", "bad", lo), Err(LoginFailure::BadCredentials));
        assert_eq!(
            u.login("nobody", "pw", lo),
            Err(LoginFailure::BadCredentials)
        );
        assert_eq!(u.login("nr", "pw", lo), Err(LoginFailure::NoRestApi));
        assert_eq!(u.login("off", "pw", lo), Err(LoginFailure::Disabled));
        assert_eq!(
            u.login("far", "pw", lo),
            Err(LoginFailure::AddressNotAllowed)
        );
        assert!(u.login("far", "pw", "192.0.2.9".parse().unwrap()).is_ok());
    }

    #[test]
    fn policy_text() {
        assert_eq!(
            Policies::parse("read,api")
                .unwrap()
                .to_text()
                .split(',')
                .take(3)
                .collect::<Vec<_>>(),
            ["read", "api", "!local"]
        );
        assert_eq!(Policies::parse("bogus"), None);
        assert_eq!(
            Policies::parse(&Policies::ALL.to_text()),
            Some(Policies::ALL)
        );
    }

    #[test]
    fn table_rules() {
        let mut u = users();
        let err = |r: Result<u32, Failure>| r.unwrap_err().detail.unwrap().into_owned();
        assert_eq!(
            err(u.add_user(&Args::from_pairs([("name", "x"), ("group", "nope")]))),
            "input does not match any value of group"
        );
        assert_eq!(
            err(u.add_user(&Args::from_pairs([("name", "a"), ("group", "read")]))),
            "failure: user with the same name already exists"
        );
        assert_eq!(
            err(u.add_user(&Args::from_pairs([("group", "read")]))),
            "missing =name="
        );
        assert!(u.remove_group(1).is_err());
        assert_eq!(
            u.remove_group(4).unwrap_err().detail.as_deref(),
            Some("failure: group has some users"),
            "in use"
        );
        assert!(u.user_rows(true).all(|(_, r)| r.get("password").is_none()));
        u.set_group(4, &Args::from_pairs([("name", "renamed")]))
            .unwrap();
        assert_eq!(u.users[0].group, "renamed");
    }
}
