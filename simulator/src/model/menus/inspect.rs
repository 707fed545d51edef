//! `/console/inspect`: the router describing its own commands, generated from the menu
//! declarations the simulator serves.
//!
//! Schema-dumping tools (tikoci/restraml `rest2raml.js` and `deep-inspect.ts`, lsp-routeros-ts)
//! walk a router with `POST /rest/console/inspect {"request":"child","path":"ip,firewall"}`, then
//! ask `syntax` of every argument and `completion` of some. The tree answered here is [`ALL`]'s
//! declarations for the router's version: the directories that lead to the served menus, each
//! menu's commands, each command's arguments. What the simulator does not run is not in it, so a
//! dump of the simulator says exactly what the simulator implements.
//!
//! Shapes, from the dumps and the tools that read them (fixtures/README.md, "`/console/inspect`"):
//! `path` is comma-separated words (`ip,firewall,address-list,add,timeout`, a JavaScript array's
//! `toString()`), the empty path is the root; `request=child` answers the node itself (`type`
//! `self`) then one row per child (`type` `child`, `name`, `node-type` `path`, `dir`, `cmd` or
//! `arg`) [real: a published `.proplist=name,node-type` reply lists `add` itself first, then its
//! arguments in name order]; `request=syntax` of an argument answers one row whose `text` is the
//! value's description (`0s..35w3d13h13m56s    (time interval)`) [real text: the schema's `desc`;
//! the other fields likely]; `request=completion` answers one row per value offered, `show`
//! `true`, `preference` a string [real: deep-inspect.ts]. Every value is a string, as in every REST
//! reply.
//!
//! [`ALL`]: super::ALL

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::Menu;
use super::imp::MenuImpl;
use crate::model::Router;
use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Outcome, Rows};
use crate::model::row::{Proplist, Row};
use crate::model::spec::{Command, Shape, Spec, name, read_command};
use crate::model::version::Version;

/// The command's arguments (schema: every version; `proplist` from 7.15). `.proplist` is the REST
/// spelling of `proplist`.
const COMMANDS: &[Command] = &[read_command(
    "inspect",
    &[
        name(".proplist").since(7, 15),
        name("as-value"),
        name("input"),
        name("path"),
        name("request"),
        name("without-paging"),
    ],
)];

/// The menu's declaration: a command below `/console`, reading only.
pub static SPEC: Spec = Spec {
    path: "/console/inspect",
    shape: Shape::Commands,
    fields: &[],
    commands: COMMANDS,
    write_policies: &[],
};

/// `/console/inspect`.
#[derive(Debug)]
pub struct InspectMenu;

/// The registered menu.
pub static INSPECT: InspectMenu = InspectMenu;

/// What a node of the command tree is, as `node-type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A top-level grouping (`/ip`, `/system`, `/user`).
    Path,
    /// A menu or a directory below the top (`/ip/firewall`, `/ip/firewall/address-list`).
    Dir,
    /// A command.
    Cmd,
    /// An argument of a command.
    Arg,
}

impl Kind {
    /// The word `node-type` shows.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Path => "path",
            Kind::Dir => "dir",
            Kind::Cmd => "cmd",
            Kind::Arg => "arg",
        }
    }
}

/// One node of the tree: its kind, children by name and, for arguments, the value's description
/// and the values offered.
#[derive(Debug, Clone)]
pub struct Node {
    /// Path, dir, cmd or arg.
    pub kind: Kind,
    /// Children in name order.
    pub children: BTreeMap<&'static str, Node>,
    /// An argument's value description (`syntax`), when the simulator knows it.
    pub desc: Option<&'static str>,
    /// An argument's offered values (`completion`).
    pub completion: Vec<&'static str>,
}

impl Node {
    fn new(kind: Kind) -> Self {
        Node {
            kind,
            children: BTreeMap::new(),
            desc: None,
            completion: Vec::new(),
        }
    }
}

/// The kind of a directory that is not a menu, and of `/user`, which is a menu and yet a `path`
/// (tikoci/restraml `docs/7.23.3/inspect.json`: `ip`, `ipv6`, `system`, `tool` and `user` are
/// `path`; `console`, `ip/firewall`, `ipv6/firewall` and every other menu `dir`).
fn directory_kind(path: &str) -> Kind {
    match path {
        "/ip" | "/ipv6" | "/system" | "/tool" | "/user" => Kind::Path,
        _ => Kind::Dir,
    }
}

/// Commands on items name them with `numbers` in the console; the declarations leave that implicit
/// (`model/run.rs` reads `.id` or `numbers`), so the tree adds it where a router lists it.
const ON_ITEMS: &[&str] = &[
    "comment",
    "disable",
    "enable",
    "expire-password",
    "move",
    "remove",
    "reset",
    "reset-counters",
    "set",
    "unset",
];

/// The command tree of a router of `version`, built once per version: a schema dump asks for
/// thousands of nodes, and the tree depends on nothing but the version. The cache holds the few
/// versions a process asks about (one per simulator), at most [`CACHED_TREES`].
pub fn tree(version: &Version) -> Arc<Node> {
    static TREES: OnceLock<Mutex<Trees>> = OnceLock::new();
    let mut trees = TREES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some((_, t)) = trees.iter().find(|(v, _)| v == version) {
        return t.clone();
    }
    let t = Arc::new(build(version));
    if trees.len() >= CACHED_TREES {
        trees.remove(0);
    }
    trees.push((version.clone(), t.clone()));
    t
}

/// The trees [`tree`] keeps, by version.
type Trees = Vec<(Version, Arc<Node>)>;

/// How many versions' trees [`tree`] keeps.
const CACHED_TREES: usize = 16;

fn build(version: &Version) -> Node {
    let mut root = Node::new(Kind::Path);
    for menu in Menu::all() {
        let spec = menu.spec();
        let mut node = &mut root;
        let mut prefix = String::new();
        for word in spec.path.split('/').filter(|w| !w.is_empty()) {
            prefix.push('/');
            prefix.push_str(word);
            node = node
                .children
                .entry(word)
                .or_insert_with(|| Node::new(directory_kind(&prefix)));
        }
        match spec.shape {
            // `/execute`, `/import`, `/tool/fetch`, `/console/inspect`: the node is the command.
            Shape::Commands => {
                node.kind = Kind::Cmd;
                for cmd in spec
                    .commands
                    .iter()
                    .filter(|c| c.versions.contains(version))
                {
                    add_args(node, menu, cmd, version);
                }
            }
            shape => {
                node.kind = directory_kind(spec.path);
                for cmd in spec
                    .commands
                    .iter()
                    .filter(|c| c.versions.contains(version))
                {
                    let mut c = Node::new(Kind::Cmd);
                    add_args(&mut c, menu, cmd, version);
                    if matches!(shape, Shape::Table { .. })
                        && ON_ITEMS.contains(&cmd.name)
                        && !cmd.takes("number", version)
                    {
                        c.children
                            .insert("numbers", argument(menu, cmd.name, "numbers", version));
                    }
                    node.children.insert(cmd.name, c);
                }
            }
        }
    }
    root
}

fn add_args(node: &mut Node, menu: Menu, cmd: &Command, version: &Version) {
    for arg in cmd.args.iter().filter(|a| a.versions.contains(version)) {
        let word = match arg.name {
            // The API query stack is not a console argument.
            ".query" => continue,
            ".proplist" => "proplist",
            other => other,
        };
        node.children
            .insert(word, argument(menu, cmd.name, word, version));
    }
}

fn argument(menu: Menu, cmd: &str, arg: &str, version: &Version) -> Node {
    Node {
        desc: describe(menu.path(), cmd, arg, version),
        completion: match (cmd, arg) {
            // The field names a `get` reads and a `print` lists: the menu's declared fields on
            // this version (the 7.21.5 and 7.22.3 deep dumps offer a row's field names here).
            ("get", "value-name") | ("print", "proplist") => menu
                .spec()
                .fields
                .iter()
                .filter(|f| f.versions.contains(version) && f.name != ".id")
                .map(|f| f.name)
                .collect(),
            _ => offered(menu.path(), arg).to_vec(),
        },
        ..Node::new(Kind::Arg)
    }
}

/// The value descriptions a router prints for the arguments the simulator parses, in the router's
/// words (tikoci/restraml `docs/<version>/inspect.json`, as `../shared/routeros-schema/` holds
/// them; checked by `tests::a_restraml_walk_matches_the_schema`). `None` where the simulator does
/// not know the router's text.
pub fn describe(menu: &str, cmd: &str, arg: &str, version: &Version) -> Option<&'static str> {
    let v = version.numbers;
    Some(match (menu, cmd, arg) {
        ("/console/inspect", _, "request") => {
            "self|child|completion|highlight|syntax|error[,Request*]"
        }
        ("/ip/firewall/address-list", "add" | "set", "address") => {
            "A.B.C.D[-A.B.C.D |0..32 |/A.B.C.D ]    (IP address range)"
        }
        ("/ipv6/firewall/address-list", "add" | "set", "address") => "IPv6/0..128    (IPv6 prefix)",
        ("/user" | "/ip/service", "add" | "set", "address") => "A.B.C.D/M    (IP prefix)",
        // The IPv4 timeout printed its lower bound from 7.14 (first in the 7.14.3 dump).
        ("/ip/firewall/address-list", "add" | "set", "timeout") if (v.0, v.1) < (7, 14) => {
            "..35w3d13h13m56s    (time interval)"
        }
        ("/ip/firewall/address-list", "add" | "set", "timeout") => {
            "0s..35w3d13h13m56s    (time interval)"
        }
        ("/ipv6/firewall/address-list", "add" | "set", "timeout") => "time interval",
        // The filters' `address-list-timeout`: IPv4 as the address list's timeout; IPv6 printed a
        // range only from 7.17 (restraml `docs/7.16.2` and `docs/7.17/inspect.json`).
        ("/ip/firewall/filter", "add" | "set", "address-list-timeout") if (v.0, v.1) < (7, 14) => {
            "..35w3d13h13m56s    (time interval)"
        }
        ("/ipv6/firewall/filter", "add" | "set", "address-list-timeout")
            if (v.0, v.1) < (7, 17) =>
        {
            "time interval"
        }
        (
            "/ip/firewall/filter" | "/ipv6/firewall/filter",
            "add" | "set",
            "address-list-timeout",
        ) => "0s..35w3d13h13m56s    (time interval)",
        // Item numbers: `/user` says "see documentation" in every version, `/file` until 7.17.
        ("/user", _, "numbers") => "see documentation",
        ("/file", _, "numbers") if (v.0, v.1) < (7, 18) => "see documentation",
        // `/file` names lost their description with the 7.18 rework of file paths (restraml
        // `docs/7.17` and `docs/7.18/inspect.json`).
        ("/file", "add" | "set", "name") if (v.0, v.1) < (7, 18) => "string value",
        ("/file", _, "name") => return None,
        ("/user", "add" | "set", "inactivity-timeout") => "1m..1d    (time interval)",
        ("/tool/fetch", _, "idle-timeout") => "1s..1w    (time interval)",
        ("/tool/fetch", _, "duration") => "time interval",
        ("/system/scheduler", "add" | "set", "interval") => "time interval",
        (_, "print", "interval") => "00:00:00.200..    (time interval)",
        ("/ip/firewall/filter" | "/ipv6/firewall/filter", "add" | "set", "log-prefix")
            if (v.0, v.1) >= (7, 21) =>
        {
            "string value, max length 31"
        }
        (_, "print", "on-event") => "script",
        (
            _,
            _,
            "comment" | "contents" | "message" | "owner" | "password" | "source" | "url" | "user"
            | "http-data" | "http-header-field" | "script" | "input" | "log-prefix" | "on-event",
        ) => "string value",
        ("/console/inspect", _, "path") => "string value",
        ("/tool/fetch", _, "dst-path") => "string value",
        // `/execute file=` printed no description from 7.20 (the 7.20.8 dump has none).
        ("/execute", _, "file") if (v.0, v.1) < (7, 20) => "string value",
        ("/certificate", "import", "name" | "passphrase") => "string value",
        ("/certificate", "set", "name") => "string value",
        // The stores a certificate is trusted for grew by minor version (restraml
        // `docs/7.21.5`, `docs/7.22.3` and `docs/7.23.3`; the 7.24 dump prints none).
        ("/certificate", "import" | "set", "trust-store") if (v.0, v.1) < (7, 22) => {
            "ipsec|wpa-eap|capsman|fetch|sstp|ovpn|mqtt|email|netwatch|radius|container|userman|lora|openflow|tr069|dot1x|dns|www|api[,AppStore*]"
        }
        ("/certificate", "import" | "set", "trust-store") if (v.0, v.1) < (7, 23) => {
            "ipsec|wpa-eap|capsman|fetch|sstp|ovpn|mqtt|email|netwatch|radius|container|userman|lora|openflow|tr069|dot1x|dns|www|api|reverse-proxy[,Component*]"
        }
        ("/certificate", "import" | "set", "trust-store") => {
            "ipsec|wpa-eap|capsman|fetch|sstp|ovpn|mqtt|email|netwatch|radius|container|userman|lora|wiliot|openflow|tr069|dot1x|dns|www|api|reverse-proxy|logging[,Component*]"
        }
        (
            "/system/identity" | "/system/script" | "/system/scheduler" | "/user" | "/user/group",
            "add" | "set" | "reset",
            "name",
        ) => "string value",
        _ => return None,
    })
}

/// Values a router offers for the arguments whose values the simulator checks (the completions of
/// the 7.21.5 and 7.22.3 deep-inspect dumps).
pub fn offered(menu: &str, arg: &str) -> &'static [&'static str] {
    match (menu, arg) {
        (
            _,
            "disabled"
            | "dynamic"
            | "dont-require-permissions"
            | "keep-result"
            | "log"
            | "use-script-permissions",
        ) => &["no", "yes"],
        ("/ip/service", "tls-version") => &["any", "only-1.2"],
        ("/user", "inactivity-policy") => &["lockscreen", "logout", "none"],
        ("/tool/fetch", "check-certificate") => &["no", "yes", "yes-without-crl"],
        ("/tool/fetch", "output") => &["file", "none", "user", "user-with-headers"],
        ("/tool/fetch", "http-method") => &["delete", "get", "head", "patch", "post", "put"],
        ("/console/inspect", "request") => &[
            "child",
            "completion",
            "error",
            "highlight",
            "self",
            "syntax",
        ],
        _ => &[],
    }
}

/// What `request` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Request {
    SelfRow,
    Child,
    Syntax,
    Completion,
}

fn requests(text: &str) -> Result<Vec<Request>, Failure> {
    text.split(',')
        .map(|w| match w.trim() {
            "self" => Ok(Request::SelfRow),
            "child" => Ok(Request::Child),
            "syntax" => Ok(Request::Syntax),
            "completion" => Ok(Request::Completion),
            // Highlighting and error positions of console input are a terminal's business; no
            // client of the simulator asks for them.
            w @ ("highlight" | "error") => Err(Failure::bad_request(format!(
                "request={w} is not simulated"
            ))),
            _ => Err(Failure::bad_request(
                "input does not match any value of request",
            )),
        })
        .collect()
}

/// The rows `/console/inspect` answers for `args` on a router of `version`.
pub fn inspect(args: &Args, version: &Version) -> Result<Vec<Row<'static>>, Failure> {
    // Without `request` the console describes the node itself [likely].
    let asked = requests(args.get("request").unwrap_or("self"))?;
    let root = tree(version);
    let words: Vec<&str> = args
        .get("path")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    let mut node: &Node = &root;
    for w in &words {
        // A word the tree lacks is refused as a REST path word is [likely: not captured].
        node = node
            .children
            .get(w)
            .ok_or_else(|| Failure::no_such_directory(w))?;
    }
    let name = words.last().copied().unwrap_or("");
    let input = args.get("input").unwrap_or("");
    let mut rows = Vec::new();
    for request in asked {
        match request {
            Request::SelfRow => rows.push(child_row(name, node.kind, "self")),
            Request::Child => {
                rows.push(child_row(name, node.kind, "self"));
                for (child, n) in &node.children {
                    rows.push(child_row(child, n.kind, "child"));
                }
            }
            Request::Syntax => match node.kind {
                Kind::Arg => rows.push(syntax_row(name, node.desc.unwrap_or(""))),
                _ => {
                    for (child, n) in &node.children {
                        rows.push(syntax_row(child, n.desc.unwrap_or("")));
                    }
                }
            },
            Request::Completion => match node.kind {
                Kind::Arg => {
                    for value in node.completion.iter().filter(|v| v.starts_with(input)) {
                        rows.push(completion_row(value, "none", input));
                    }
                }
                _ => {
                    for (child, n) in node.children.iter().filter(|(c, _)| c.starts_with(input)) {
                        rows.push(completion_row(child, n.kind.word(), input));
                    }
                }
            },
        }
    }
    Ok(rows)
}

fn child_row(name: &str, kind: Kind, kind_of_row: &'static str) -> Row<'static> {
    let mut row = Row::with_capacity(3);
    row.push("name", name.to_owned());
    row.push("node-type", kind.word());
    row.push("type", kind_of_row);
    row
}

/// A `syntax` row: the argument and its value's description [likely field set beside `text`].
fn syntax_row(symbol: &str, text: &str) -> Row<'static> {
    let mut row = Row::with_capacity(6);
    row.push("nested", "0");
    row.push("nonorm", "false");
    row.push("symbol", symbol.to_owned());
    row.push("symbol-type", "explanation");
    row.push("text", text.to_owned());
    row.push("type", "syntax");
    row
}

/// A `completion` row: arguments are offered with preference 96 and style `arg` (deep-inspect.ts);
/// values with style `none`.
fn completion_row(value: &str, style: &'static str, input: &str) -> Row<'static> {
    let mut row = Row::with_capacity(7);
    row.push("completion", value.to_owned());
    row.push("offset", input.len().to_string());
    row.push("preference", if style == "arg" { "96" } else { "80" });
    row.push("show", "true");
    row.push("style", style);
    row.push("text", "");
    row.push("type", "completion");
    row
}

impl MenuImpl for InspectMenu {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn other(
        &self,
        router: &mut Router,
        _command: &'static Command,
        args: Args,
        _ctx: &Context,
    ) -> Result<Outcome, Failure> {
        let rows = inspect(&args, &router.version)?;
        Ok(Outcome::Rows {
            rows: Rows::Owned(rows),
            proplist: args.get(".proplist").map(|p| Proplist::new([p], false)),
            examined: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn fixture() -> serde_json::Value {
        serde_json::from_str(include_str!("../../../../fixtures/routeros/inspect.json")).unwrap()
    }

    /// Where the simulator's tree knowingly differs from what routers report: `print` flags that
    /// singleton menus do not report but the simulator accepts, and `/system/resource set`
    /// (`model::menus::tests::DIVERGENCES`).
    fn diverges(path: &str) -> bool {
        let singleton_print = ["proplist", "count-only", "detail", "show-ids", "terse"]
            .iter()
            .any(|a| {
                path == format!("/system/resource/print/{a}")
                    || path == format!("/system/identity/print/{a}")
            });
        singleton_print || path == "/system/resource/set"
    }

    /// One reply row, as field name to value.
    type Reply = BTreeMap<String, String>;

    /// What rest2raml.js builds: `request=child` from the root down, `request=syntax` of every
    /// argument (kept when exactly one row with a non-empty text comes back), skipping the words
    /// it skips. Nodes by full path: node type and description.
    pub(crate) fn restraml_walk(
        call: &mut dyn FnMut(&str, &str) -> Vec<Reply>,
    ) -> BTreeMap<String, (String, Option<String>)> {
        let mut out = BTreeMap::new();
        let mut todo = vec![Vec::<String>::new()];
        while let Some(path) = todo.pop() {
            for child in call("child", &path.join(",")) {
                if child.get("type").map(String::as_str) != Some("child") {
                    continue;
                }
                let mut next = path.clone();
                next.push(child["name"].clone());
                let kind = child["node-type"].clone();
                let mut desc = None;
                let skipped = ["where", "do", "else", "rule", "command", "on-error"]
                    .iter()
                    .any(|w| next.iter().any(|n| n == w));
                if kind == "arg" && !skipped {
                    let syntax = call("syntax", &next.join(","));
                    if syntax.len() == 1 && !syntax[0]["text"].is_empty() {
                        desc = Some(syntax[0]["text"].clone());
                    }
                }
                out.insert(format!("/{}", next.join("/")), (kind, desc));
                todo.push(next);
            }
        }
        out
    }

    fn in_process(version: &Version) -> BTreeMap<String, (String, Option<String>)> {
        restraml_walk(&mut |request, path| {
            let args = Args::from_pairs([("request", request), ("path", path)]);
            inspect(&args, version)
                .unwrap()
                .iter()
                .map(|r| {
                    r.fields()
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                })
                .collect()
        })
    }

    /// Compares a walk of the simulator with what real routers report (`fixtures/routeros/
    /// inspect.json`, from the schema dumps): every node the simulator shows exists on a router of
    /// that version with the same node type, and every description it gives is the router's. What
    /// a router has and the simulator does not run is the schema walk's business
    /// (`model::menus::tests::every_schema_command_and_argument_is_run_or_listed`).
    pub(crate) fn compare(
        version: &str,
        walked: &BTreeMap<String, (String, Option<String>)>,
        completions: &BTreeMap<String, Vec<&'static str>>,
    ) {
        let fx = fixture();
        let versions: Vec<&str> = fx["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let pos = |v: &str| versions.iter().position(|x| *x == v).unwrap();
        let here = pos(version);
        let within = |range: &serde_json::Value, first: usize, last: usize| {
            pos(range[first].as_str().unwrap()) <= here
                && here <= pos(range[last].as_str().unwrap())
        };
        let mut problems = Vec::new();
        let mut described = 0;
        let mut compared = 0;
        for (path, (kind, desc)) in walked {
            // Directories above the menus are not in the dumps' menu trees; their kinds are
            // checked against `directory_kind`'s source by the menus below them.
            let node = &fx["nodes"][path.as_str()];
            if node.is_null() {
                let above = fx["nodes"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .any(|k| k.starts_with(&format!("{path}/")));
                if !above && !diverges(path) {
                    problems.push(format!("{path}: not reported"));
                }
                continue;
            }
            if node["type"] != kind.as_str() {
                problems.push(format!("{path}: {kind}, reported {}", node["type"]));
            }
            if !within(&node["in"], 0, 1) && !diverges(path) {
                problems.push(format!("{path}: not reported on {version}"));
            }
            let real = node["desc"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|r| within(r, 1, 2))
                .map(|r| r[0].as_str().unwrap());
            // Offered values are among what routers offer (only the 7.21.5 and 7.22.3 deep dumps
            // have completions, so only those versions are compared).
            if ["7.21.5", "7.22.3"].contains(&version)
                && let Some(real) = node["completion"].as_array()
                && let Some(offered) = completions.get(path)
            {
                for value in offered {
                    if !real.iter().any(|r| r == *value) {
                        problems.push(format!("{path}: completion {value} not offered by routers"));
                    }
                }
                compared += 1;
            }
            match (desc.as_deref(), real) {
                (Some(d), Some(r)) if d == r => described += 1,
                // The 7.24 dumps print no description for many arguments that kept theirs (a dump
                // artefact: every 7.24 beta did print them); the simulator keeps the 7.23 text.
                (Some(_), None) if version == "7.24" => {}
                (None, None) => {}
                (d, r) => problems.push(format!("{path}: syntax {d:?}, reported {r:?}")),
            }
        }
        assert!(problems.is_empty(), "{version}:\n{}", problems.join("\n"));
        assert!(described > 10, "{version}: only {described} descriptions");
        if ["7.21.5", "7.22.3"].contains(&version) {
            assert!(
                compared > 20,
                "{version}: only {compared} completions compared"
            );
        }
    }

    /// Every argument's offered values, by full path.
    fn collect_completions(
        node: &Node,
        path: String,
        out: &mut BTreeMap<String, Vec<&'static str>>,
    ) {
        if !node.completion.is_empty() {
            out.insert(path.clone(), node.completion.clone());
        }
        for (name, child) in &node.children {
            collect_completions(child, format!("{path}/{name}"), out);
        }
    }

    #[test]
    fn a_restraml_walk_matches_the_schema() {
        let fx = fixture();
        for v in fx["versions"].as_array().unwrap() {
            let v = v.as_str().unwrap();
            let version: Version = v.parse().unwrap();
            let mut completions = BTreeMap::new();
            collect_completions(&tree(&version), String::new(), &mut completions);
            compare(v, &in_process(&version), &completions);
        }
    }

    #[test]
    fn child_syntax_and_completion_rows() {
        let v: Version = "7.23.7".parse().unwrap();
        let ask = |pairs: &[(&str, &str)]| -> Vec<Vec<(String, String)>> {
            inspect(&Args::from_pairs(pairs.iter().copied()), &v)
                .unwrap()
                .iter()
                .map(|r| {
                    r.fields()
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                })
                .collect()
        };
        let rows = ask(&[
            ("request", "child"),
            ("path", "ip,firewall,address-list,add"),
        ]);
        let names: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r[0].1.as_str(), r[1].1.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("add", "cmd"),
                ("address", "arg"),
                ("comment", "arg"),
                ("copy-from", "arg"),
                ("disabled", "arg"),
                ("dynamic", "arg"),
                ("list", "arg"),
                ("timeout", "arg"),
            ]
        );
        assert_eq!(rows[0][2].1, "self");
        assert_eq!(rows[1][2].1, "child");
        let syntax = ask(&[
            ("request", "syntax"),
            ("path", "ip,firewall,address-list,add,timeout"),
        ]);
        assert_eq!(syntax.len(), 1);
        assert_eq!(
            syntax[0][4],
            (
                "text".into(),
                "0s..35w3d13h13m56s    (time interval)".into()
            )
        );
        let old = inspect(
            &Args::from_pairs([
                ("request", "syntax"),
                ("path", "ip,firewall,address-list,add,timeout"),
            ]),
            &"7.13.5".parse().unwrap(),
        )
        .unwrap();
        assert_eq!(
            old[0].get("text"),
            Some("..35w3d13h13m56s    (time interval)")
        );
        let completion = ask(&[
            ("request", "completion"),
            ("path", "ip,service,set,tls-version"),
        ]);
        let values: Vec<&str> = completion.iter().map(|r| r[0].1.as_str()).collect();
        assert_eq!(values, ["any", "only-1.2"]);
        // `get value-name` offers the row's fields, from the menu's declaration.
        let fields = ask(&[
            ("request", "completion"),
            ("path", "ip,firewall,address-list,get,value-name"),
        ]);
        let values: Vec<&str> = fields.iter().map(|r| r[0].1.as_str()).collect();
        assert_eq!(
            values,
            [
                "address",
                "comment",
                "creation-time",
                "disabled",
                "dynamic",
                "list",
                "timeout"
            ]
        );
        let prefix = ask(&[
            ("request", "completion"),
            ("path", "ip,firewall,address-list"),
            ("input", "re"),
        ]);
        let values: Vec<&str> = prefix.iter().map(|r| r[0].1.as_str()).collect();
        assert_eq!(values, ["remove"]);
        // The root leads only to what the simulator serves; versions add and drop nodes.
        let root: Vec<String> = ask(&[("request", "child")])
            .iter()
            .skip(1)
            .map(|r| r[0].1.clone())
            .collect();
        assert_eq!(
            root,
            [
                "certificate",
                "console",
                "execute",
                "file",
                "import",
                "ip",
                "ipv6",
                "log",
                "system",
                "tool",
                "user"
            ]
        );
        let unset = |v: &str| {
            inspect(
                &Args::from_pairs([("request", "self"), ("path", "ip,service,unset")]),
                &v.parse().unwrap(),
            )
            .map(|r| r.len())
        };
        assert_eq!(unset("7.16.2"), Ok(1));
        assert_eq!(unset("7.17"), Err(Failure::no_such_directory("unset")));
        let bad = Args::from_pairs([("request", "children")]);
        assert_eq!(
            inspect(&bad, &v).unwrap_err().detail.unwrap(),
            "input does not match any value of request"
        );
    }
}
