//! The menus the simulator serves, one module each, and how a path finds one.
//!
//! A menu is a [`MenuImpl`]: its declaration ([`Spec`]: fields, commands and their arguments per
//! version) and its behaviour (rows, add, set, remove, and commands of its own). [`ALL`] registers
//! every menu; paths, `no such command`, `unknown parameter` and the version switches of fields and
//! arguments all follow from that list. Adding a menu is one new module here and one line in
//! [`ALL`] (and its `mod` line); a menu whose state is new keeps it in [`Router::state`], so the
//! router itself does not change.
//!
//! Commands are run through [`Router::run`](super::Router::run) (`model/run.rs`), the one entry
//! point that REST requests and scripts share.

pub mod address_list;
pub mod certificate;
pub mod execute;
pub mod fetch;
pub mod file;
pub mod filter;
pub mod group;
pub mod identity;
pub mod imp;
pub mod import;
pub mod log;
pub mod resource;
pub mod scheduler;
pub mod script;
pub mod service;
pub mod user;

use std::fmt;

pub use imp::MenuImpl;

use super::args::parse_id;
use super::failure::Failure;
use super::spec::{Shape, Spec};

/// Every menu the simulator serves: the registry.
pub static ALL: &[&dyn MenuImpl] = &[
    &address_list::V4,
    &address_list::V6,
    &user::USER,
    &group::GROUP,
    &service::SERVICE,
    &resource::RESOURCE,
    &identity::IDENTITY,
    &script::SCRIPT,
    &scheduler::SCHEDULER,
    &execute::EXECUTE,
    &import::IMPORT,
    &fetch::FETCH,
    &file::FILE,
    &certificate::CERTIFICATE,
    &log::LOG,
    &filter::V4,
    &filter::V6,
];

/// A handle on a registered menu; equal when the paths are.
#[derive(Clone, Copy)]
pub struct Menu(&'static dyn MenuImpl);

impl Menu {
    /// The menu at `path` (`/ip/firewall/address-list`), if one is registered.
    pub fn at(path: &str) -> Option<Menu> {
        ALL.iter().find(|m| m.spec().path == path).map(|m| Menu(*m))
    }

    /// Every registered menu.
    pub fn all() -> impl Iterator<Item = Menu> {
        ALL.iter().map(|m| Menu(*m))
    }

    /// The menu's path below `/rest`.
    pub fn path(self) -> &'static str {
        self.0.spec().path
    }

    /// Its declaration.
    pub fn spec(self) -> &'static Spec {
        self.0.spec()
    }

    /// Its behaviour.
    pub fn imp(self) -> &'static dyn MenuImpl {
        self.0
    }

    /// Whether the menu is a singleton (one bare object, no ids).
    pub fn is_singleton(self) -> bool {
        self.spec().is_singleton()
    }
}

impl PartialEq for Menu {
    fn eq(&self, other: &Self) -> bool {
        self.path() == other.path()
    }
}

impl Eq for Menu {}

impl std::hash::Hash for Menu {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.path().hash(state);
    }
}

impl fmt::Debug for Menu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Menu({})", self.path())
    }
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

/// Command words RouterOS knows on the menus below `/ip`, `/ipv6`, `/system`, `/user` and
/// `/certificate` (the commands in `fixtures/routeros/menus.json` and their neighbours); a word
/// after a menu path is a
/// command when it is one of these, and the menu's declaration then says whether it has it. A word
/// that is none of these is a name (`/rest/user/admin`) or `no such command prefix`.
const COMMANDS: &[&str] = &[
    "add",
    "add-acme",
    "add-scep",
    "card-reinstall",
    "card-verify",
    "comment",
    "create-certificate-request",
    "debug",
    "disable",
    "edit",
    "enable",
    "enable-ssl-certificate",
    "error",
    "expire-password",
    "export",
    "export-certificate",
    "find",
    "get",
    "import",
    "info",
    "issued-revoke",
    "monitor",
    "move",
    "print",
    "remove",
    "request-logout",
    "reset",
    "reset-counters",
    "reset-counters-all",
    "run",
    "scep-renew",
    "set",
    "sign",
    "sign-certificate-request",
    "unset",
    "warning",
];

/// Whether `path` is a directory that only groups menus (`/ip`, `/ip/firewall`, `/system`).
fn is_directory(path: &str) -> bool {
    ALL.iter().any(|m| {
        m.spec()
            .path
            .strip_prefix(path)
            .is_some_and(|rest| rest.starts_with('/'))
    }) && Menu::at(path).is_none()
}

impl Target {
    /// Resolves the path segments after `/rest`.
    ///
    /// Directories that only group menus (`/ip`, `/ip/firewall`, `/system`) are walked through; an
    /// unknown word anywhere is `no such command or directory (<word>)`, as on a real router. A
    /// percent-encoded segment (`%2A1` for `*1`) is refused the way RouterOS refuses it.
    pub fn resolve(segments: &[&str]) -> Result<Target, Failure> {
        let mut path = String::new();
        let mut menu: Option<Menu> = None;
        let mut rest = segments.iter().filter(|s| !s.is_empty());
        for seg in rest.by_ref() {
            if seg.starts_with('%') {
                return Err(Failure::bad_request("no such command prefix"));
            }
            if let Some(m) = menu {
                if !m.is_singleton()
                    && let Some(id) = parse_id(seg)
                {
                    return match rest.next() {
                        None => Ok(Target::Item(m, id)),
                        Some(extra) => Err(Failure::no_such_directory(extra)),
                    };
                }
                if COMMANDS.contains(seg) {
                    return match rest.next() {
                        None => Ok(Target::Command(m, seg.to_string())),
                        Some(extra) => Err(Failure::no_such_directory(extra)),
                    };
                }
                let child = format!("{path}/{seg}");
                if Menu::at(&child).is_none() {
                    // Any other word after a menu is a lookup by name, which only menus whose items
                    // have names support; elsewhere RouterOS answers `no such command prefix`.
                    let named = m.spec().shape == Shape::Table { named: true };
                    return match (named, rest.next()) {
                        (true, None) => Ok(Target::Named(m, seg.to_string())),
                        (true, Some(extra)) => Err(Failure::no_such_directory(extra)),
                        (false, _) => Err(Failure::bad_request("no such command prefix")),
                    };
                }
            }
            path.push('/');
            path.push_str(seg);
            menu = Menu::at(&path);
            if menu.is_none() && !is_directory(&path) {
                return Err(Failure::no_such_directory(seg));
            }
        }
        match menu {
            Some(m) => Ok(Target::Menu(m)),
            // `/rest`, `/rest/ip`: a directory is not something to print.
            None => Err(Failure::no_such_command()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(path: &str) -> Menu {
        Menu::at(path).unwrap()
    }

    fn check(path: &str, expected: Result<Target, &str>) {
        let segs: Vec<&str> = path.split('/').collect();
        let got = Target::resolve(&segs)
            .map_err(|e| e.detail.map(|d| d.into_owned()).unwrap_or_default());
        assert_eq!(got, expected.map_err(str::to_owned), "{path}");
    }

    #[test]
    fn paths() {
        let v4 = m("/ip/firewall/address-list");
        check("ip/firewall/address-list", Ok(Target::Menu(v4)));
        check("ip/firewall/address-list/", Ok(Target::Menu(v4)));
        check("ip/firewall/address-list/*1A", Ok(Target::Item(v4, 0x1a)));
        check(
            "ip/firewall/address-list/print",
            Ok(Target::Command(v4, "print".into())),
        );
        check(
            "ipv6/firewall/address-list/add",
            Ok(Target::Command(
                m("/ipv6/firewall/address-list"),
                "add".into(),
            )),
        );
        check("user/group", Ok(Target::Menu(m("/user/group"))));
        check("user/*1", Ok(Target::Item(m("/user"), 1)));
        check("system/resource", Ok(Target::Menu(m("/system/resource"))));
        check(
            "system/identity/set",
            Ok(Target::Command(m("/system/identity"), "set".into())),
        );
        check("ip/service", Ok(Target::Menu(m("/ip/service"))));
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
        check("user/admin", Ok(Target::Named(m("/user"), "admin".into())));
        check(
            "ip/service/www-ssl",
            Ok(Target::Named(m("/ip/service"), "www-ssl".into())),
        );
        check("ip/foo", Err("no such command or directory (foo)"));
        check("ip", Err("no such command"));
        check("", Err("no such command"));
        check("system/resource/*1", Err("no such command prefix"));
    }

    use crate::model::Router;
    use crate::model::args::Args;
    use crate::model::outcome::{Context, Outcome};
    use crate::model::query::Query;
    use crate::model::row::Row;
    use crate::model::users::Policies;
    use crate::model::version::Version;

    /// Where the simulator knowingly differs from what real routers report, each with its reason.
    /// `None` as the argument means the command itself.
    const DIVERGENCES: &[(&str, &str, Option<&str>, &str)] = &[(
        "/system/resource",
        "set",
        None,
        "no such command on a real router; the simulator has always accepted an empty one",
    )];

    /// Commands and arguments real routers report that the simulator does not run, each with its
    /// reason. `"*"` as the menu means every menu; `None` as the argument means the command itself.
    const NOT_SIMULATED: &[(&str, &str, Option<&str>, &str)] = &[
        (
            "*",
            "edit",
            None,
            "opens the console's editor; REST has no terminal, and no capture shows the answer",
        ),
        (
            "*",
            "find",
            None,
            "hands ids to a console script; the API manual calls it unsupported there, and no REST capture shows the answer",
        ),
        (
            "*",
            "reset",
            None,
            "the value each field returns to is not captured",
        ),
        (
            "/system/resource",
            "monitor",
            None,
            "runs until the 60-second session cut unless `once`; not simulated",
        ),
        (
            "/ip/service",
            "set",
            Some("vrf"),
            "one routing table (`main`) only",
        ),
        (
            "*",
            "set",
            Some("dynamic"),
            "an add-time flag here (fixtures/README.md); no capture of a set",
        ),
        (
            "*",
            "get",
            Some("as-string"),
            "a console conversion flag; a REST reply is text already",
        ),
        (
            "*",
            "get",
            Some("as-string-value"),
            "a console conversion flag; a REST reply is text already",
        ),
        (
            "*",
            "export",
            Some("file"),
            "writing a file is not simulated",
        ),
        (
            "*",
            "export",
            Some("path"),
            "writing a file is not simulated",
        ),
        (
            "*",
            "export",
            Some("where"),
            "a console expression; not evaluated here",
        ),
        (
            "*",
            "print",
            Some("append"),
            "console output formatting; a REST reply has one form",
        ),
        (
            "*",
            "print",
            Some("as-value"),
            "console output formatting; a REST reply has one form",
        ),
        (
            "*",
            "print",
            Some("brief"),
            "console output formatting; a REST reply has one form",
        ),
        (
            "*",
            "print",
            Some("comments"),
            "console output formatting; a REST reply has one form",
        ),
        (
            "*",
            "print",
            Some("timestamp"),
            "console output formatting; a REST reply has one form",
        ),
        (
            "*",
            "print",
            Some("value-list"),
            "console output formatting; a REST reply has one form",
        ),
        (
            "*",
            "print",
            Some("show-sensitive"),
            "console output formatting; `password` is never printed over REST",
        ),
        (
            "*",
            "print",
            Some("oid"),
            "SNMP ids of the fields; not simulated",
        ),
        (
            "*",
            "print",
            Some("file"),
            "writing a file is not simulated",
        ),
        (
            "*",
            "print",
            Some("follow"),
            "runs until the 60-second session cut (MikroTik manual); not simulated",
        ),
        (
            "*",
            "print",
            Some("follow-only"),
            "runs until the 60-second session cut (MikroTik manual); not simulated",
        ),
        (
            "*",
            "print",
            Some("follow-strict"),
            "runs until the 60-second session cut (MikroTik manual); not simulated",
        ),
        (
            "*",
            "print",
            Some("interval"),
            "runs until the 60-second session cut (MikroTik manual); not simulated",
        ),
        (
            "*",
            "print",
            Some("on-event"),
            "runs a script per row; not simulated",
        ),
        (
            "*",
            "print",
            Some("from"),
            "console item numbers; REST filters with the query string or `.query`",
        ),
        (
            "*",
            "print",
            Some("where"),
            "a console expression; REST filters with the query string or `.query`",
        ),
        (
            "*",
            "print",
            Some("group-by"),
            "console grouping; no REST capture",
        ),
        (
            "*",
            "print",
            Some("order-by"),
            "console ordering; no REST capture",
        ),
    ];

    fn not_simulated(menu: &str, cmd: &str, arg: Option<&str>) -> bool {
        NOT_SIMULATED.iter().any(|(m, c, a, _)| {
            (*m == "*" || *m == menu) && *c == cmd && (a.is_none() || *a == arg)
        })
    }

    /// `print` flags that singleton menus do not report but the simulator accepts on every menu.
    const SINGLETON_PRINT_EXTRAS: &[&str] =
        &["proplist", "count-only", "detail", "show-ids", "terse"];

    fn fixture() -> serde_json::Value {
        serde_json::from_str(include_str!("../../../../fixtures/routeros/menus.json")).unwrap()
    }

    fn diverges(menu: &str, cmd: &str, arg: Option<&str>) -> bool {
        DIVERGENCES
            .iter()
            .any(|(m, c, a, _)| *m == menu && *c == cmd && *a == arg)
    }

    /// The schema versions a fixture range `[first, last]` covers.
    fn covers(fixture_versions: &[Version], range: &serde_json::Value, v: &Version) -> bool {
        let at = |i: usize| -> Version { range[i].as_str().unwrap().parse().unwrap() };
        let (first, last) = (at(0), at(1));
        let pos = |x: &Version| fixture_versions.iter().position(|f| f == x).unwrap();
        (pos(&first)..=pos(&last)).contains(&pos(v))
    }

    /// Every command and argument a menu declares is one real routers report, in the versions the
    /// declaration gives it; an argument declared for some versions only appears and disappears
    /// exactly where the schema says. The exceptions are listed, with reasons, in `DIVERGENCES`.
    #[test]
    fn declarations_match_the_schema_fixture() {
        let fx = fixture();
        let versions: Vec<Version> = fx["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().parse().unwrap())
            .collect();
        for menu in Menu::all() {
            let spec = menu.spec();
            let commands = &fx["menus"][spec.path];
            assert!(commands.is_object(), "{} is not in the fixture", spec.path);
            for cmd in spec.commands {
                let real = &commands[cmd.name];
                if diverges(spec.path, cmd.name, None) {
                    continue;
                }
                assert!(
                    real.is_object(),
                    "{} {} is not a real command",
                    spec.path,
                    cmd.name
                );
                for v in &versions {
                    if cmd.versions.contains(v) {
                        assert!(
                            covers(&versions, &real["in"], v),
                            "{} {} on {v}",
                            spec.path,
                            cmd.name
                        );
                    }
                }
                for arg in cmd.args {
                    let word = match arg.name {
                        // The API query stack is not a console argument.
                        ".query" => continue,
                        ".proplist" => "proplist",
                        other => other,
                    };
                    if diverges(spec.path, cmd.name, Some(arg.name))
                        || (spec.is_singleton()
                            && cmd.name == "print"
                            && SINGLETON_PRINT_EXTRAS.contains(&word))
                    {
                        continue;
                    }
                    let range = &real["args"][word];
                    assert!(
                        range.is_array(),
                        "{} {} {word} is not a real argument",
                        spec.path,
                        cmd.name
                    );
                    for v in versions.iter().filter(|v| cmd.versions.contains(v)) {
                        let declared = arg.versions.contains(v);
                        let reported = covers(&versions, range, v);
                        if arg.versions == crate::model::spec::Versions::ALL {
                            assert!(reported, "{} {} {word} on {v}", spec.path, cmd.name);
                        } else {
                            assert_eq!(
                                declared, reported,
                                "{} {} {word} on {v}",
                                spec.path, cmd.name
                            );
                        }
                    }
                }
            }
        }
        // Every divergence names something declared, so the list cannot go stale.
        for (m, c, a, _) in DIVERGENCES {
            let cmd = Menu::at(m)
                .unwrap()
                .spec()
                .commands
                .iter()
                .find(|x| x.name == *c);
            let cmd = cmd.unwrap_or_else(|| panic!("{m} {c} is not declared"));
            if let Some(a) = a {
                assert!(
                    cmd.args.iter().any(|x| x.name == *a),
                    "{m} {c} {a} is not declared"
                );
            }
        }
    }

    /// The switches the schema dates (research in `fixtures/README.md`, "Version switches"): each
    /// appears in the first version that reports it and not in the one before.
    #[test]
    fn version_switches_follow_the_schema() {
        let service_set = |v: &str, pairs: &[(&str, &str)]| {
            let mut r = full_router(v);
            let mut all = vec![(".id", "*6")];
            all.extend_from_slice(pairs);
            r.run(m("/ip/service"), "set", Args::from_pairs(all), &ctx())
        };
        // `max-sessions` from 7.16, both as an argument and as a field.
        assert_eq!(
            service_set("7.15.3", &[("max-sessions", "5")]).unwrap_err(),
            Failure::unknown_parameter("max-sessions")
        );
        service_set("7.16", &[("max-sessions", "5")]).unwrap();
        let shows = |v: &str, field: &str| {
            let mut r = full_router(v);
            let Ok(Outcome::Rows { rows, .. }) =
                r.run(m("/ip/service"), "print", Args::default(), &ctx())
            else {
                panic!("print");
            };
            rows.iter().all(|row| row.get(field).is_some())
        };
        assert!(!shows("7.15.3", "max-sessions"));
        assert!(shows("7.16.2", "max-sessions"));
        assert!(!shows("7.18.2", "proto"));
        assert!(shows("7.19.4", "proto"));
        // `/ip/service unset` until 7.16, gone from 7.17.
        let mut old = full_router("7.16.2");
        let set = Args::from_pairs([(".id", "*6"), ("address", "10.0.0.0/8")]);
        old.run(m("/ip/service"), "set", set, &ctx()).unwrap();
        let unset = Args::from_pairs([("numbers", "*6"), ("value-name", "address")]);
        old.run(m("/ip/service"), "unset", unset.clone(), &ctx())
            .unwrap();
        assert_eq!(
            old.services
                .rows
                .iter()
                .find(|s| s.id == 6)
                .unwrap()
                .address,
            ""
        );
        let bad = Args::from_pairs([("numbers", "*6"), ("value-name", "port")]);
        assert_eq!(
            old.run(m("/ip/service"), "unset", bad, &ctx())
                .unwrap_err()
                .detail
                .unwrap(),
            "input does not match any value of value-name"
        );
        let mut new = full_router("7.17");
        assert_eq!(
            new.run(m("/ip/service"), "unset", unset, &ctx())
                .unwrap_err(),
            Failure::no_such_directory("unset")
        );
        // `/system/identity reset` from 7.21.
        let mut r = full_router("7.20.8");
        assert_eq!(
            r.run(m("/system/identity"), "reset", Args::default(), &ctx())
                .unwrap_err(),
            Failure::no_such_directory("reset")
        );
        let mut r = full_router("7.21");
        let set = Args::from_pairs([("name", "edge")]);
        r.run(m("/system/identity"), "set", set, &ctx()).unwrap();
        r.run(m("/system/identity"), "reset", Args::default(), &ctx())
            .unwrap();
        assert_eq!(r.identity, "MikroTik");
    }

    /// The schema's commands that the simulator runs besides the ordinary ones: `comment`, `export`,
    /// `get number`, `add copy-from`, `expire-password`, and `get` on a singleton.
    #[test]
    fn comment_export_get_number_copy_from_and_expire_password() {
        let mut r = full_router("7.23.7");
        let v4 = m("/ip/firewall/address-list");
        let value = |r: &mut Router, menu: &str, pairs: &[(&str, &str)]| match r.run(
            m(menu),
            "get",
            Args::from_pairs(pairs.iter().copied()),
            &ctx(),
        ) {
            Ok(Outcome::Value { text, .. }) => text,
            other => panic!("{other:?}"),
        };
        let comment = Args::from_pairs([("numbers", "*1"), ("comment", "first")]);
        r.run(v4, "comment", comment, &ctx()).unwrap();
        assert_eq!(
            value(
                &mut r,
                "/ip/firewall/address-list",
                &[("number", "*1"), ("value-name", "comment")]
            ),
            "first"
        );
        assert!(matches!(
            r.run(v4, "export", Args::default(), &ctx()),
            Ok(Outcome::Done { rows: 0 })
        ));
        // A copy takes the source's values under those given.
        let copy = Args::from_pairs([("copy-from", "*1"), ("address", "10.0.0.2")]);
        let Ok(Outcome::Added(id)) = r.run(v4, "add", copy, &ctx()) else {
            panic!("copy-from");
        };
        let id = crate::model::args::format_id(id);
        for (key, expected) in [("list", "l"), ("comment", "first"), ("address", "10.0.0.2")] {
            let got = value(
                &mut r,
                "/ip/firewall/address-list",
                &[("number", id.as_str()), ("value-name", key)],
            );
            assert_eq!(got, expected, "{key}");
        }
        let missing = Args::from_pairs([("copy-from", "*99"), ("address", "10.0.0.3")]);
        assert_eq!(
            r.run(v4, "add", missing, &ctx()).unwrap_err(),
            Failure::bad_request("no such item")
        );
        // A user copied by name keeps the source's group; expire-password marks it expired.
        let copy = Args::from_pairs([("copy-from", "u"), ("name", "u2")]);
        let Ok(Outcome::Added(uid)) = r.run(m("/user"), "add", copy, &ctx()) else {
            panic!("user copy-from");
        };
        let uid = crate::model::args::format_id(uid);
        let user = |key: &'static str| [("number", uid.clone()), ("value-name", key.to_owned())];
        let get = |r: &mut Router, key: &'static str| {
            let pairs = user(key);
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            value(r, "/user", &pairs)
        };
        assert_eq!(get(&mut r, "group"), "g");
        let expire = Args::from_pairs([("numbers", uid.as_str())]);
        r.run(m("/user"), "expire-password", expire, &ctx())
            .unwrap();
        assert_eq!(get(&mut r, "expired"), "true");
        let set = Args::from_pairs([(".id", uid.as_str()), ("password", "new")]);
        r.run(m("/user"), "set", set, &ctx()).unwrap();
        assert_eq!(get(&mut r, "expired"), "false");
        assert_eq!(
            value(&mut r, "/system/identity", &[("value-name", "name")]),
            "MikroTik"
        );
    }

    /// `/user` `inactivity-policy` and `inactivity-timeout` are `add`/`set` arguments from 7.16,
    /// with the values and the `1m..1d` range the schema gives.
    #[test]
    fn user_inactivity_arguments() {
        let user = |pairs: &[(&str, &str)]| {
            let mut all = vec![("name", "i"), ("group", "read")];
            all.extend_from_slice(pairs);
            Args::from_pairs(all)
        };
        let mut old = full_router("7.15.3");
        assert_eq!(
            old.run(
                m("/user"),
                "add",
                user(&[("inactivity-timeout", "5m")]),
                &ctx()
            )
            .unwrap_err(),
            Failure::unknown_parameter("inactivity-timeout")
        );
        let mut r = full_router("7.16");
        let args = user(&[
            ("inactivity-timeout", "1d00:00:00"),
            ("inactivity-policy", "logout"),
        ]);
        let Ok(Outcome::Added(id)) = r.run(m("/user"), "add", args, &ctx()) else {
            panic!("add");
        };
        let id = crate::model::args::format_id(id);
        let get = |r: &mut Router, key: &str| {
            let args = Args::from_pairs([(".id", id.as_str()), ("value-name", key)]);
            match r.run(m("/user"), "get", args, &ctx()) {
                Ok(Outcome::Value { text, .. }) => text,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(get(&mut r, "inactivity-timeout"), "1d");
        assert_eq!(get(&mut r, "inactivity-policy"), "logout");
        let set = |r: &mut Router, pairs: &[(&str, &str)]| {
            let mut all = vec![(".id", id.as_str())];
            all.extend_from_slice(pairs);
            r.run(m("/user"), "set", Args::from_pairs(all), &ctx())
                .map_err(|e| e.detail.unwrap_or_default().into_owned())
        };
        set(&mut r, &[("inactivity-timeout", "00:01:00")]).unwrap();
        assert_eq!(get(&mut r, "inactivity-timeout"), "1m");
        for (value, detail) in [
            (
                "30s",
                "value of inactivity-timeout is out of range (00:01:00 .. 1d00:00:00)",
            ),
            (
                "1d1s",
                "value of inactivity-timeout is out of range (00:01:00 .. 1d00:00:00)",
            ),
            ("soon", "invalid time value for argument inactivity-timeout"),
        ] {
            assert_eq!(
                set(&mut r, &[("inactivity-timeout", value)]).unwrap_err(),
                detail
            );
        }
        assert_eq!(
            set(&mut r, &[("inactivity-policy", "sleep")]).unwrap_err(),
            "input does not match any value of inactivity-policy"
        );
        assert_eq!(get(&mut r, "inactivity-timeout"), "1m");
    }

    /// Every command and argument the schema reports for a menu the simulator serves, in every
    /// schema version, is run by the simulator (declared, and answered otherwise than "no such
    /// command" or "unknown parameter" when tried) or listed in `NOT_SIMULATED` with its reason.
    #[test]
    fn every_schema_command_and_argument_is_run_or_listed() {
        let fx = fixture();
        let versions: Vec<Version> = fx["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().parse().unwrap())
            .collect();
        let mut misses = Vec::new();
        // The walk covers the menus whose every command and argument has been audited against the
        // schema; the scripting and firewall-filter menus say in their own modules what they leave
        // out and join the walk once their `NOT_SIMULATED` entries are written.
        const AUDITED: &[&str] = &[
            "/ip/firewall/address-list",
            "/ipv6/firewall/address-list",
            "/user",
            "/user/group",
            "/ip/service",
            "/system/resource",
            "/system/identity",
        ];
        for v in &versions {
            let mut r = full_router(&v.to_string());
            for menu in Menu::all().filter(|m| AUDITED.contains(&m.spec().path)) {
                let spec = menu.spec();
                let reported = fx["menus"][spec.path].as_object().unwrap();
                for (cmd, info) in reported {
                    if !covers(&versions, &info["in"], v) || not_simulated(spec.path, cmd, None) {
                        continue;
                    }
                    let Some(declared) = spec.command(cmd, v) else {
                        misses.push(format!("{} {cmd} on {v}", spec.path));
                        continue;
                    };
                    for (arg, range) in info["args"].as_object().unwrap() {
                        let word = match arg.as_str() {
                            "proplist" => ".proplist",
                            other => other,
                        };
                        let ids = matches!(word, "numbers" | "number")
                            && matches!(spec.shape, Shape::Table { .. });
                        if !covers(&versions, range, v)
                            || ids
                            || declared.takes(word, v)
                            || not_simulated(spec.path, cmd, Some(arg))
                        {
                            continue;
                        }
                        misses.push(format!("{} {cmd} {arg} on {v}", spec.path));
                    }
                    // Tried with the first item (if any) and nothing else, the command is known.
                    let mut args = Args::default();
                    if matches!(spec.shape, Shape::Table { .. })
                        && !matches!(cmd.as_str(), "add" | "print" | "export")
                        && let Ok(Outcome::Rows { rows, .. }) =
                            r.run(menu, "print", Args::default(), &ctx())
                        && let Some(id) = rows
                            .first()
                            .and_then(|row| row.get(".id").map(str::to_owned))
                    {
                        args.push("numbers", id);
                    }
                    if let Err(e) = r.run(menu, cmd, args, &ctx()) {
                        let detail = e.detail.unwrap_or_default();
                        assert!(
                            !detail.starts_with("no such command")
                                && !detail.starts_with("unknown parameter"),
                            "{} {cmd} on {v}: {detail}",
                            spec.path
                        );
                    }
                }
            }
        }
        assert!(
            misses.is_empty(),
            "not run and not listed:\n{}",
            misses.join("\n")
        );
    }

    fn ctx() -> Context {
        Context {
            policies: Policies::ALL,
            now: 0,
            wall_s: 1_700_000_000,
            user: None,
        }
    }

    /// A router with at least one row showing every optional field.
    fn full_router(version: &str) -> Router {
        let mut r = Router::new(version.parse().unwrap());
        let add = |r: &mut Router, menu: &str, pairs: &[(&str, &str)]| {
            let args = Args::from_pairs(pairs.iter().copied());
            r.run(m(menu), "add", args, &ctx()).unwrap();
        };
        add(
            &mut r,
            "/user/group",
            &[("name", "g"), ("policy", "read"), ("comment", "c")],
        );
        add(
            &mut r,
            "/user",
            &[("name", "u"), ("group", "g"), ("comment", "c")],
        );
        let entry = [
            ("list", "l"),
            ("address", "10.0.0.1"),
            ("comment", "c"),
            ("timeout", "1h"),
        ];
        add(&mut r, "/ip/firewall/address-list", &entry);
        let entry = [
            ("list", "l"),
            ("address", "2001:db8::1"),
            ("comment", "c"),
            ("timeout", "1h"),
        ];
        add(&mut r, "/ipv6/firewall/address-list", &entry);
        let script = [("name", "s"), ("source", ":put 1"), ("comment", "c")];
        add(&mut r, "/system/script", &script);
        // A run is the runtime's; what it records is `run-count` and `last-started`.
        if let Some(s) = r.state::<crate::model::scripting::Scripts>().get_mut(1) {
            s.run_count = 1;
            s.last_started = Some(1_700_000_000);
        }
        let schedule = [
            ("name", "t"),
            ("on-event", "s"),
            ("interval", "1m"),
            ("comment", "c"),
        ];
        add(&mut r, "/system/scheduler", &schedule);
        add(&mut r, "/file", &[("name", "a.txt"), ("contents", "x")]);
        // A CA imported from a file: every field of a certificate row.
        let ca = crate::tls::Authority::new("Test CA").unwrap().ca_pem;
        add(&mut r, "/file", &[("name", "ca.pem"), ("contents", &ca)]);
        let import = Args::from_pairs([("file-name", "ca.pem")]);
        r.run(m("/certificate"), "import", import, &ctx()).unwrap();
        let info = Args::from_pairs([("message", "m")]);
        r.run(m("/log"), "info", info, &ctx()).unwrap();
        // One filter rule per family with every property its `add` takes on this version.
        for menu in ["/ip/firewall/filter", "/ipv6/firewall/filter"] {
            let v6 = menu.starts_with("/ipv6");
            let add_cmd = m(menu).spec().command("add", &r.version).unwrap();
            let pairs: Vec<(&str, &str)> = add_cmd
                .args
                .iter()
                .filter(|a| a.versions.contains(&r.version))
                .filter(|a| !matches!(a.name, "copy-from" | "place-before"))
                .map(|a| (a.name, filter::example_value(a.name, v6)))
                .collect();
            add(&mut r, menu, &pairs);
        }
        r
    }

    /// Rows show exactly the fields their menu declares for the router's version.
    #[test]
    fn rows_show_the_declared_fields() {
        for version in ["7.1", "7.15.3", "7.16.2", "7.19.4", "7.23.7", "7.24rc1"] {
            let mut r = full_router(version);
            for menu in Menu::all().filter(|m| m.spec().shape != Shape::Commands) {
                let Ok(Outcome::Rows { rows, .. }) = r.run(menu, "print", Args::default(), &ctx())
                else {
                    panic!("{} print", menu.path());
                };
                let rows: Vec<Row<'_>> = rows.iter().collect();
                let shown: std::collections::BTreeSet<&str> = rows
                    .iter()
                    .flat_map(|r| r.fields().iter().map(|(k, _)| *k))
                    .collect();
                let declared: std::collections::BTreeSet<&str> = menu
                    .spec()
                    .fields
                    .iter()
                    .filter(|f| f.versions.contains(&r.version))
                    .map(|f| f.name)
                    .collect();
                assert_eq!(shown, declared, "{} on {version}", menu.path());
            }
        }
    }

    fn refusal(r: &mut Router, menu: &str, cmd: &str, pairs: &[(&str, &str)]) -> String {
        let args = Args::from_pairs(pairs.iter().copied());
        let e = r.run(m(menu), cmd, args, &ctx()).unwrap_err();
        e.detail.map(|d| d.into_owned()).unwrap_or_default()
    }

    #[test]
    fn commands_and_arguments_come_from_the_declaration() {
        let mut r = full_router("7.23.7");
        assert_eq!(
            refusal(&mut r, "/ip/firewall/address-list", "move", &[]),
            "no such command or directory (move)"
        );
        assert_eq!(
            refusal(&mut r, "/system/identity", "find", &[]),
            "no such command or directory (find)"
        );
        assert_eq!(
            refusal(&mut r, "/user/group", "enable", &[("numbers", "*1")]),
            "no such command or directory (enable)"
        );
        assert_eq!(
            refusal(
                &mut r,
                "/ip/firewall/address-list",
                "print",
                &[("as-value", "")]
            ),
            "unknown parameter as-value"
        );
        assert_eq!(
            refusal(
                &mut r,
                "/ip/service",
                "set",
                &[(".id", "*6"), ("available-from", "")]
            ),
            "unknown parameter available-from"
        );
        assert_eq!(
            refusal(&mut r, "/system/resource", "set", &[("cpu", "x")]),
            "no such command"
        );
        // 7.24 lists `address` beside `available-from` as arguments of `set`; both write the same
        // setting (tikoci/restraml `docs/7.24/inspect.json`).
        let mut new = full_router("7.24rc1");
        let set = Args::from_pairs([(".id", "*6"), ("address", "10.0.0.0/8")]);
        new.run(m("/ip/service"), "set", set, &ctx()).unwrap();
        let get = Args::from_pairs([(".id", "*6"), ("value-name", "available-from")]);
        let Ok(Outcome::Value { text, .. }) = new.run(m("/ip/service"), "get", get, &ctx()) else {
            panic!("get available-from");
        };
        assert_eq!(text, "10.0.0.0/8");
        let set = Args::from_pairs([(".id", "*6"), ("available-from", "10.0.0.0/8")]);
        new.run(m("/ip/service"), "set", set, &ctx()).unwrap();
        assert_eq!(service::address_key(&"7.23.7".parse().unwrap()), "address");
        assert_eq!(
            service::address_key(&"7.24rc1".parse().unwrap()),
            "available-from"
        );
        // A reader may print but not write; `/user` also needs `policy`.
        let reader = Context {
            policies: crate::model::users::Policies::parse("read,api,rest-api").unwrap(),
            ..ctx()
        };
        let add = Args::from_pairs([("list", "l"), ("address", "10.0.0.9")]);
        let e = r
            .run(m("/ip/firewall/address-list"), "add", add, &reader)
            .unwrap_err();
        assert_eq!(e, Failure::not_enough_permissions());
        let writer = Context {
            policies: crate::model::users::Policies::parse("read,write,api,rest-api").unwrap(),
            ..ctx()
        };
        let add = Args::from_pairs([("name", "v"), ("group", "read")]);
        let e = r.run(m("/user"), "add", add, &writer).unwrap_err();
        assert_eq!(e, Failure::not_enough_permissions());
        // Through the same entry point: add, count, get, remove.
        let add = Args::from_pairs([("list", "k"), ("address", "10.0.0.7")]);
        let Ok(Outcome::Added(id)) = r.run(m("/ip/firewall/address-list"), "add", add, &ctx())
        else {
            panic!("add");
        };
        let count =
            Args::from_pairs([("count-only", "")]).with_query(Query::parse(["list=k"]).unwrap());
        let Ok(Outcome::Value { text, .. }) =
            r.run(m("/ip/firewall/address-list"), "print", count, &ctx())
        else {
            panic!("count");
        };
        assert_eq!(text, "1");
        let get = Args::from_pairs([
            (".id", crate::model::args::format_id(id).as_str()),
            ("value-name", "address"),
        ]);
        let Ok(Outcome::Value { text, .. }) =
            r.run(m("/ip/firewall/address-list"), "get", get, &ctx())
        else {
            panic!("get");
        };
        assert_eq!(text, "10.0.0.7");
        let remove = Args::from_pairs([("numbers", crate::model::args::format_id(id))]);
        assert!(matches!(
            r.run(m("/ip/firewall/address-list"), "remove", remove, &ctx()),
            Ok(Outcome::Done { rows: 1 })
        ));
    }
}
