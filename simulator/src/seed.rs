//! Seeds and snapshots: the router's state as a file.
//!
//! A [`Seed`] is what a person writes (TOML or JSON): version, identity, board, groups, users,
//! service settings and list entries. It is applied through the same rules as REST requests, so a
//! seed cannot create a state the router would refuse. A [`Snapshot`] is what the simulator writes:
//! the exact state, ids and counters included, with each timed entry's *remaining* time so that it
//! can be restored into another simulator whose clock reads differently.
//!
//! The live ports of `www` and `www-ssl` belong to the running simulator, not to the file: seeds
//! cannot set them and restoring a snapshot keeps the ports the simulator is listening on.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::clock::SimTime;
use crate::firewall::table::TableDump;
use crate::model::Router;
use crate::model::address::Family;
use crate::model::address_list::{AddressList, EntryView};
use crate::model::args::Args;
use crate::model::certificates::Certificates;
use crate::model::menus::filter;
use crate::model::menus::service::address_key;
use crate::model::scripting::{Files, Schedules, Scripts};
use crate::model::services::{Listener, Service, Services};
use crate::model::system::Resource;
use crate::model::users::{Group, User, Users};
use crate::model::version::Version;

/// A group in a seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedGroup {
    /// Name.
    pub name: String,
    /// Policies, e.g. `api,rest-api,read,write,policy`.
    pub policy: String,
    /// Comment.
    #[serde(default)]
    pub comment: Option<String>,
}

/// A user in a seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    /// Login name.
    pub name: String,
    /// Password.
    #[serde(default)]
    pub password: String,
    /// Group name.
    pub group: String,
    /// Allowed addresses (comma list); empty: anywhere.
    #[serde(default)]
    pub address: String,
    /// Disabled flag.
    #[serde(default)]
    pub disabled: bool,
    /// Comment.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Service settings in a seed (ports of the live services are the simulator's own).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SeedService {
    /// Disabled flag.
    #[serde(default)]
    pub disabled: Option<bool>,
    /// Allowed addresses (`address`, called `available-from` from 7.24).
    #[serde(default, alias = "available-from")]
    pub address: Option<String>,
    /// Certificate name: `routeros-sim` (the generated one) or `none`.
    #[serde(default)]
    pub certificate: Option<String>,
    /// `any` or `only-1.2`.
    #[serde(default)]
    pub tls_version: Option<String>,
    /// Session cap.
    #[serde(default)]
    pub max_sessions: Option<u32>,
}

/// A list entry in a seed; the menu (IPv4 or IPv6) follows from the address unless `family` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedEntry {
    /// List name.
    pub list: String,
    /// Address, prefix, range or DNS name.
    pub address: String,
    /// `v4` or `v6`; default: `v6` when the address contains `:`.
    #[serde(default)]
    pub family: Option<Family>,
    /// RouterOS duration; makes the entry dynamic.
    #[serde(default)]
    pub timeout: Option<String>,
    /// Comment.
    #[serde(default)]
    pub comment: Option<String>,
    /// Disabled flag.
    #[serde(default)]
    pub disabled: bool,
}

/// A firewall filter rule in a seed: the properties `add` takes (`chain`, `action`,
/// `src-address-list`, `place-before`, ...), strings or booleans, and `family` (`v4` unless it says
/// `v6`). Rules are added in the order written, through the same checks as a REST `add`, so an
/// unknown property is refused as `unknown parameter`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedRule {
    /// `v4` (`/ip/firewall/filter`, the default) or `v6` (`/ipv6/firewall/filter`).
    #[serde(default)]
    pub family: Option<Family>,
    /// The rule's arguments.
    #[serde(flatten)]
    pub args: BTreeMap<String, serde_json::Value>,
}

impl SeedRule {
    /// The arguments as the text pairs `add` takes.
    fn pairs(&self) -> Result<Vec<(String, String)>, String> {
        use serde_json::Value;
        self.args
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Bool(b) => Ok((k.clone(), b.to_string())),
                Value::Number(n) => Ok((k.clone(), n.to_string())),
                _ => Err(format!(
                    "{k}: a rule's values are strings, numbers or booleans"
                )),
            })
            .collect()
    }
}

/// A router described for people.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Seed {
    /// RouterOS version (default `7.23.7`).
    #[serde(default)]
    pub version: Option<String>,
    /// `/system/identity` name.
    #[serde(default)]
    pub identity: Option<String>,
    /// `/system/resource` board facts.
    #[serde(default)]
    pub resource: Option<Resource>,
    /// Groups besides the built-in `read`, `write`, `full`.
    #[serde(default, rename = "group")]
    pub groups: Vec<SeedGroup>,
    /// Users.
    #[serde(default, rename = "user")]
    pub users: Vec<SeedUser>,
    /// Service settings by service name (`www`, `www-ssl`, `api`, ...).
    #[serde(default, rename = "service")]
    pub services: BTreeMap<String, SeedService>,
    /// Address-list entries.
    #[serde(default, rename = "address-list")]
    pub entries: Vec<SeedEntry>,
    /// Firewall filter rules, in console order.
    #[serde(default, rename = "filter")]
    pub filter_rules: Vec<SeedRule>,
    /// Certificates in the router's store, as `/certificate import` of a PEM file leaves them:
    /// a CA here is what `/tool/fetch check-certificate=yes` trusts.
    #[serde(default, rename = "certificate")]
    pub certificates: Vec<SeedCertificate>,
}

/// A certificate in a seed: PEM text (one or more certificates), imported as `/certificate
/// import` would import the same file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedCertificate {
    /// The name the store shows (default: `seed.pem_0`, `seed.pem_1`, ... as the router names
    /// the certificates of an imported file).
    #[serde(default)]
    pub name: Option<String>,
    /// The PEM text, `-----BEGIN CERTIFICATE-----` blocks.
    pub pem: String,
    /// Whether the certificate is trusted (default yes, as an imported CA is).
    #[serde(default = "yes")]
    pub trusted: bool,
}

fn yes() -> bool {
    true
}

/// Where the live services listen, which seeds and snapshots do not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LivePorts {
    /// `www` port, when plain HTTP was started.
    pub www: Option<u16>,
    /// `www-ssl` port.
    pub www_ssl: u16,
}

impl LivePorts {
    fn apply(&self, services: &mut Services) {
        for s in services.rows.iter_mut() {
            match s.name.as_str() {
                "www" => {
                    s.port = self.www.unwrap_or(s.port);
                    // Without a plain listener the service cannot be on.
                    s.disabled |= self.www.is_none();
                }
                "www-ssl" => s.port = self.www_ssl,
                _ => {}
            }
        }
    }
}

impl Seed {
    /// Reads a seed from a `.toml` or `.json` file.
    pub fn from_file(path: &Path) -> Result<Seed, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read seed {}: {e}", path.display()))?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        Self::parse(&text, is_json).map_err(|e| format!("seed {}: {e}", path.display()))
    }

    /// Parses seed text, TOML or JSON.
    pub fn parse(text: &str, json: bool) -> Result<Seed, String> {
        if json {
            serde_json::from_str(text).map_err(|e| e.to_string())
        } else {
            toml::from_str(text).map_err(|e| e.to_string())
        }
    }

    /// The router this seed describes, at simulated time `now` (wall seconds `wall_s`).
    pub fn build(&self, now: SimTime, wall_s: i64, ports: LivePorts) -> Result<Router, String> {
        let version: Version = match &self.version {
            Some(v) => v.parse().map_err(|e| format!("{e}"))?,
            None => Version::default(),
        };
        let mut router = Router::new(version);
        router.booted_at = now;
        if let Some(name) = &self.identity {
            router.identity = name.clone();
        }
        if let Some(r) = &self.resource {
            router.resource = r.clone();
        }
        router.services =
            Services::defaults(ports.www.unwrap_or(80), ports.www_ssl, ports.www.is_some());
        for g in &self.groups {
            let mut args = vec![("name", g.name.as_str()), ("policy", g.policy.as_str())];
            if let Some(c) = &g.comment {
                args.push(("comment", c));
            }
            router
                .users
                .add_group(&Args::from_pairs(args))
                .map_err(|e| format!("group {}: {e}", g.name))?;
        }
        for u in &self.users {
            let disabled = if u.disabled { "true" } else { "false" };
            let mut args = vec![
                ("name", u.name.as_str()),
                ("password", u.password.as_str()),
                ("group", u.group.as_str()),
                ("address", u.address.as_str()),
                ("disabled", disabled),
            ];
            if let Some(c) = &u.comment {
                args.push(("comment", c));
            }
            router
                .users
                .add_user(&Args::from_pairs(args))
                .map_err(|e| format!("user {}: {e}", u.name))?;
        }
        for (name, s) in &self.services {
            let id = router
                .services
                .rows
                .iter()
                .find(|r| &r.name == name)
                .map(|r| r.id)
                .ok_or_else(|| format!("no service called {name}"))?;
            let key = address_key(&router.version);
            let mut args: Vec<(&str, String)> = Vec::new();
            if let Some(d) = s.disabled {
                args.push(("disabled", d.to_string()));
            }
            if let Some(a) = &s.address {
                args.push((key, a.clone()));
            }
            if let Some(c) = &s.certificate {
                args.push(("certificate", c.clone()));
            }
            if let Some(t) = &s.tls_version {
                args.push(("tls-version", t.clone()));
            }
            if let Some(m) = s.max_sessions {
                args.push(("max-sessions", m.to_string()));
            }
            router
                .services
                .set(id, &Args::from_pairs(args), key)
                .map_err(|e| format!("service {name}: {e}"))?;
        }
        ports.apply(&mut router.services);
        for e in &self.entries {
            let family = e.family.unwrap_or(if e.address.contains(':') {
                Family::V6
            } else {
                Family::V4
            });
            let mut args = vec![("list", e.list.as_str()), ("address", e.address.as_str())];
            if let Some(t) = &e.timeout {
                args.push(("timeout", t));
            }
            if let Some(c) = &e.comment {
                args.push(("comment", c));
            }
            if e.disabled {
                args.push(("disabled", "true"));
            }
            router
                .list_mut(family)
                .add(&Args::from_pairs(args), now, wall_s)
                .map_err(|err| format!("address-list entry {} in {}: {err}", e.address, e.list))?;
        }
        for (n, rule) in self.filter_rules.iter().enumerate() {
            let family = rule.family.unwrap_or(Family::V4);
            let pairs = rule
                .pairs()
                .map_err(|e| format!("filter rule {}: {e}", n + 1))?;
            filter::table_mut(&mut router, family)
                .add(pairs)
                .map_err(|e| format!("filter rule {}: {e}", n + 1))?;
        }
        let store = router.state::<Certificates>();
        store.set_wall(now, wall_s);
        for (n, c) in self.certificates.iter().enumerate() {
            store
                .import_pem(c.pem.as_bytes(), "seed.pem", c.name.as_deref(), c.trusted)
                .map_err(|e| format!("certificate {}: {e}", n + 1))?;
        }
        Ok(router)
    }

    /// The seed of a router with just the `admin` user.
    pub fn bare(admin_password: &str) -> Seed {
        Seed {
            users: vec![SeedUser {
                name: crate::DEFAULT_USER.into(),
                password: admin_password.into(),
                group: "full".into(),
                address: String::new(),
                disabled: false,
                comment: Some("system default user".into()),
            }],
            ..Seed::default()
        }
    }
}

/// One address-list menu in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListDump {
    /// The id the next entry will get.
    pub next_id: u32,
    /// Entries; `expires_at_ms` holds the *remaining* milliseconds.
    pub entries: Vec<EntryView>,
}

/// The router's exact state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Version with its channel, e.g. `7.23.7 (long-term)`.
    pub version: String,
    /// Identity.
    pub identity: String,
    /// Board.
    pub resource: Resource,
    /// Milliseconds since the last boot.
    pub uptime_ms: u64,
    /// Groups.
    pub groups: Vec<Group>,
    /// Users (with passwords: a snapshot restores logins).
    pub users: Vec<User>,
    /// Services.
    pub services: Vec<Service>,
    /// `/ip/firewall/address-list`.
    pub ipv4: ListDump,
    /// `/ipv6/firewall/address-list`.
    pub ipv6: ListDump,
    /// `/ip/firewall/filter` (absent in snapshots written before filters were simulated).
    #[serde(default)]
    pub ipv4_filter: TableDump,
    /// `/ipv6/firewall/filter`.
    #[serde(default)]
    pub ipv6_filter: TableDump,
    /// `/system/script` (absent in snapshots written before scripts were kept).
    #[serde(default)]
    pub scripts: Scripts,
    /// `/system/scheduler`, each `next_run` as milliseconds from the snapshot's moment.
    #[serde(default)]
    pub schedules: Schedules,
    /// `/file`.
    #[serde(default)]
    pub files: Files,
    /// `/certificate`.
    #[serde(default)]
    pub certificates: Certificates,
}

fn dump_list(list: &AddressList, now: SimTime) -> ListDump {
    let entries = list
        .views()
        .into_iter()
        .map(|mut v| {
            v.expires_at_ms = v.expires_at_ms.map(|at| at.saturating_sub(now));
            v
        })
        .collect();
    ListDump {
        next_id: list.next_id(),
        entries,
    }
}

fn restore_list(family: Family, dump: &ListDump, now: SimTime) -> Result<AddressList, String> {
    let views: Vec<EntryView> = dump
        .entries
        .iter()
        .cloned()
        .map(|mut v| {
            v.expires_at_ms = v.expires_at_ms.map(|left| now + left);
            v
        })
        .collect();
    AddressList::from_views(family, &views, dump.next_id)
}

impl Snapshot {
    /// Captures `router` at simulated time `now`.
    pub fn capture(router: &Router, now: SimTime) -> Snapshot {
        Snapshot {
            version: router.version.resource_string(),
            identity: router.identity.clone(),
            resource: router.resource.clone(),
            uptime_ms: now.saturating_sub(router.booted_at),
            groups: router.users.groups.clone(),
            users: router.users.users.clone(),
            services: router.services.rows.clone(),
            ipv4: dump_list(&router.v4, now),
            ipv6: dump_list(&router.v6, now),
            ipv4_filter: filter::dump(router, Family::V4),
            ipv6_filter: filter::dump(router, Family::V6),
            scripts: router.state_ref::<Scripts>().cloned().unwrap_or_default(),
            schedules: {
                let mut s = router
                    .state_ref::<Schedules>()
                    .cloned()
                    .unwrap_or_default()
                    .without_wall();
                for item in &mut s.items {
                    item.next_run = item.next_run.map(|t| t.saturating_sub(now));
                }
                s
            },
            files: router.state_ref::<Files>().cloned().unwrap_or_default(),
            certificates: router
                .state_ref::<Certificates>()
                .cloned()
                .unwrap_or_default()
                .without_wall(),
        }
    }

    /// The router this snapshot describes, at simulated time `now`, which the router shows as
    /// wall time `wall_s` (Unix seconds).
    pub fn restore(&self, now: SimTime, wall_s: i64, ports: LivePorts) -> Result<Router, String> {
        let version: Version = self.version.parse().map_err(|e| format!("{e}"))?;
        let mut router = Router::new(version);
        router.identity = self.identity.clone();
        router.resource = self.resource.clone();
        router.booted_at = now.saturating_sub(self.uptime_ms);
        router.users = Users::from_parts(self.users.clone(), self.groups.clone());
        router.services = Services {
            rows: self.services.clone(),
        };
        for l in [Listener::Www, Listener::WwwSsl] {
            if router.services.get(l).is_none() {
                return Err(format!("the snapshot has no {} service", l.name()));
            }
        }
        ports.apply(&mut router.services);
        router.v4 = restore_list(Family::V4, &self.ipv4, now)?;
        router.v6 = restore_list(Family::V6, &self.ipv6, now)?;
        filter::restore(&mut router, Family::V4, &self.ipv4_filter)
            .map_err(|e| format!("IPv4 filter: {e}"))?;
        filter::restore(&mut router, Family::V6, &self.ipv6_filter)
            .map_err(|e| format!("IPv6 filter: {e}"))?;
        *router.state::<Scripts>() = self.scripts.clone();
        let mut schedules = self.schedules.clone();
        for item in &mut schedules.items {
            item.next_run = item.next_run.map(|left| now + left);
        }
        schedules.rebase(now, wall_s, router.booted_at);
        *router.state::<Schedules>() = schedules;
        *router.state::<Files>() = self.files.clone();
        *router.state::<Certificates>() = self.certificates.clone().restored(now, wall_s)?;
        Ok(router)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PORTS: LivePorts = LivePorts {
        www: Some(8080),
        www_ssl: 8443,
    };

    #[test]
    fn seeds_build_routers_and_refuse_nonsense() {
        let seed = Seed::parse(
            r#"
            version = "7.19.4"
            identity = "edge-1"
            [[group]]
            name = "knocknoc"
            policy = "api,rest-api,read,write,policy"
            [[user]]
            name = "knocknoc-agent"
            password = "s3cret"
            group = "knocknoc"
            [service.www-ssl]
            address = "127.0.0.0/8"
            [[address-list]]
            list = "knocknoc-users"
            address = "10.1.2.3"
            timeout = "1h"
            [[address-list]]
            list = "knocknoc-users"
            address = "2001:db8::1"
            "#,
            false,
        )
        .unwrap();
        let r = seed.build(0, 0, PORTS).unwrap();
        assert_eq!(r.identity, "edge-1");
        assert_eq!(r.v4.len(), 1);
        assert_eq!(r.v6.len(), 1);
        assert_eq!(r.services.get(Listener::WwwSsl).unwrap().port, 8443);
        assert_eq!(
            r.services.get(Listener::WwwSsl).unwrap().address,
            "127.0.0.0/8"
        );
        assert!(
            r.users
                .login("knocknoc-agent", "s3cret", "127.0.0.1".parse().unwrap())
                .is_ok()
        );

        let bad = |text: &str| {
            Seed::parse(text, false)
                .and_then(|s| s.build(0, 0, PORTS).map(|_| ()))
                .unwrap_err()
        };
        assert!(bad("[[user]]\nname = \"x\"\ngroup = \"nope\"").contains("user x"));
        assert!(bad("colour = 1").contains("unknown field"));
        assert!(bad("[service.www-ssl]\nport = 1").contains("unknown field"));
        assert!(
            bad("[[address-list]]\nlist = \"l\"\naddress = \"1.2.3.4\"\ntimeout = \"soon\"")
                .contains("invalid time value")
        );
        assert!(
            bad("[[filter]]\naction = \"drop\"").contains("filter rule 1: 400 missing =chain=")
        );
        assert!(
            bad("[[filter]]\nchain = \"forward\"\nsrc-adress-list = \"l\"")
                .contains("unknown parameter src-adress-list")
        );
        assert!(bad("[[filter]]\nchain = \"forward\"\nlog = [1]").contains("filter rule 1"));
    }

    #[test]
    fn shipped_seeds_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/seeds");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml" || e == "json") {
                let seed = Seed::from_file(&path).unwrap();
                let r = seed
                    .build(0, 0, PORTS)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert!(
                    r.users
                        .login("admin", "admin", "127.0.0.1".parse().unwrap())
                        .is_ok(),
                    "{}",
                    path.display()
                );
                n += 1;
            }
        }
        assert!(n >= 3, "bare, vendor-guide and policy-matrix at least");
        // The vendor guide's accept rule sits above a default drop, in both families.
        let guide = Seed::from_file(&dir.join("vendor-guide.toml")).unwrap();
        let mut r = guide.build(0, 0, PORTS).unwrap();
        for family in [Family::V4, Family::V6] {
            let t = filter::table_mut(&mut r, family);
            let shape: Vec<(&str, Option<&str>)> = t
                .rules()
                .iter()
                .map(|r| (r.action(), r.get("src-address-list")))
                .collect();
            assert_eq!(
                shape,
                [("accept", Some("knocknoc-users")), ("drop", None)],
                "{family:?}"
            );
        }
    }

    #[test]
    fn snapshots_round_trip_with_remaining_time() {
        let seed = Seed {
            entries: vec![SeedEntry {
                list: "l".into(),
                address: "10.0.0.1".into(),
                family: None,
                timeout: Some("1h".into()),
                comment: None,
                disabled: false,
            }],
            ..Seed::bare("pw")
        };
        let r = seed.build(1_000, 0, PORTS).unwrap();
        let snap = Snapshot::capture(&r, 61_000);
        assert_eq!(snap.ipv4.entries[0].expires_at_ms, Some(3_540_000));
        let json = serde_json::to_string(&snap).unwrap();
        let back: Snapshot = serde_json::from_str(&json).unwrap();
        let r2 = back
            .restore(
                5_000_000,
                1_700_000_000,
                LivePorts {
                    www: None,
                    www_ssl: 9443,
                },
            )
            .unwrap();
        assert_eq!(
            r2.v4.render(1, 5_000_000, true).unwrap().get("timeout"),
            Some("59m")
        );
        assert_eq!(r2.services.get(Listener::WwwSsl).unwrap().port, 9443);
        assert!(r2.services.get(Listener::Www).unwrap().disabled);
        assert_eq!(Snapshot::capture(&r2, 5_000_000).ipv4, snap.ipv4);

        // Filter rules, their order, ids and counters travel with a snapshot.
        let mut seed = Seed::parse(
            "[[filter]]\nchain = \"forward\"\naction = \"drop\"\n\
             [[filter]]\nchain = \"forward\"\nplace-before = \"*1\"\ndisabled = true\n\
             [[filter]]\nfamily = \"v6\"\nchain = \"input\"",
            false,
        )
        .unwrap();
        seed.users = Seed::bare("pw").users;
        let r = seed.build(0, 0, PORTS).unwrap();
        let snap = Snapshot::capture(&r, 0);
        assert_eq!(snap.ipv4_filter.rules.len(), 2);
        assert_eq!(snap.ipv4_filter.rules[0].id, 2);
        assert_eq!(snap.ipv6_filter.rules.len(), 1);
        let json = serde_json::to_string(&snap).unwrap();
        let back: Snapshot = serde_json::from_str(&json).unwrap();
        let r2 = back.restore(0, 1_700_000_000, PORTS).unwrap();
        assert_eq!(Snapshot::capture(&r2, 0), snap);
    }
}
