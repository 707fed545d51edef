//! Menu declarations: the fields, commands and arguments of a menu, per RouterOS version.
//!
//! Each menu module (`model/menus/*.rs`) declares one [`Spec`], and everything a client can get
//! wrong about a menu is answered from it: a command the menu lacks is `no such command`, an
//! argument the command lacks is `unknown parameter <key>`, and a field or argument that exists only
//! from (or until) some version appears or disappears with the router's version. The declarations
//! are what the simulator *implements*; `fixtures/routeros/menus.json` is what real routers report,
//! and a test (`model::menus::tests`) holds every declaration to it, listing the few places where the
//! simulator knowingly answers otherwise.

use super::args::Args;
use super::failure::Failure;
use super::version::Version;

/// The RouterOS versions something exists in: from `since` (inclusive) until `until` (exclusive),
/// compared by major and minor number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    since: Option<(u32, u32)>,
    until: Option<(u32, u32)>,
}

impl Versions {
    /// Every version.
    pub const ALL: Versions = Versions {
        since: None,
        until: None,
    };

    /// Whether `v` is in the range.
    pub fn contains(&self, v: &Version) -> bool {
        let mm = (v.numbers.0, v.numbers.1);
        self.since.is_none_or(|s| mm >= s) && self.until.is_none_or(|u| mm < u)
    }

    /// Whether the range covers a version given as `(major, minor)`.
    pub fn contains_minor(&self, mm: (u32, u32)) -> bool {
        self.since.is_none_or(|s| mm >= s) && self.until.is_none_or(|u| mm < u)
    }
}

/// A named thing that exists in some versions: a field, an argument or a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Name {
    /// The word as RouterOS spells it.
    pub name: &'static str,
    /// Where it exists.
    pub versions: Versions,
}

/// Declares a field or an argument present in every version.
pub const fn name(name: &'static str) -> Name {
    Name {
        name,
        versions: Versions::ALL,
    }
}

impl Name {
    /// Present from `major.minor` on.
    pub const fn since(mut self, major: u32, minor: u32) -> Self {
        self.versions.since = Some((major, minor));
        self
    }

    /// Present before `major.minor` only.
    pub const fn until(mut self, major: u32, minor: u32) -> Self {
        self.versions.until = Some((major, minor));
        self
    }
}

/// Declares every word of `words` (present in every version) followed by `extra`, as one array of
/// `M` names; `M` must be `words.len() + K`, which the compiler checks when the constant is built.
/// Menus whose argument lists live in a module of their own (the firewall filter's) declare them
/// from that list rather than copying it.
pub const fn names<const K: usize, const M: usize>(
    words: &[&'static str],
    extra: [Name; K],
) -> [Name; M] {
    assert!(words.len() + K == M, "names: M must be words.len() + K");
    let mut out = [name(""); M];
    let mut i = 0;
    while i < words.len() {
        out[i] = name(words[i]);
        i += 1;
    }
    let mut j = 0;
    while j < K {
        out[words.len() + j] = extra[j];
        j += 1;
    }
    out
}

/// A command of a menu and its arguments.
#[derive(Debug, Clone, Copy)]
pub struct Command {
    /// The command word (`print`, `add`, `set`, ...).
    pub name: &'static str,
    /// The arguments it takes besides the item ids (`.id`, `numbers`), which commands on items take
    /// on every menu.
    pub args: &'static [Name],
    /// Where the command exists.
    pub versions: Versions,
    /// Whether it changes the router (and so needs the `write` policy) rather than reads it.
    pub writes: bool,
    /// Whether an argument it does not take is answered `no such command` rather than
    /// `unknown parameter <key>` (`set` on `/system/resource`, which has nothing to set).
    pub args_refused_as_no_such_command: bool,
}

/// Refuses the first argument not among `allowed` (in any version): `unknown parameter <key>`.
pub fn refuse_unknown(args: &Args, allowed: &[Name]) -> Result<(), Failure> {
    refuse_unknown_where(args, allowed, |_| true)
}

fn refuse_unknown_where(
    args: &Args,
    allowed: &[Name],
    present: impl Fn(&Name) -> bool,
) -> Result<(), Failure> {
    match args
        .keys()
        .find(|k| !allowed.iter().any(|a| a.name == *k && present(a)))
    {
        Some(k) => Err(Failure::unknown_parameter(k)),
        None => Ok(()),
    }
}

/// Declares a command that changes the router, present in every version.
pub const fn command(name: &'static str, args: &'static [Name]) -> Command {
    Command {
        name,
        args,
        versions: Versions::ALL,
        writes: true,
        args_refused_as_no_such_command: false,
    }
}

/// Declares a command that only reads, present in every version.
pub const fn read_command(name: &'static str, args: &'static [Name]) -> Command {
    Command {
        writes: false,
        ..command(name, args)
    }
}

impl Command {
    /// Present from `major.minor` on.
    pub const fn since(mut self, major: u32, minor: u32) -> Self {
        self.versions.since = Some((major, minor));
        self
    }

    /// Present before `major.minor` only.
    pub const fn until(mut self, major: u32, minor: u32) -> Self {
        self.versions.until = Some((major, minor));
        self
    }

    /// Answers an argument it does not take with `no such command`.
    pub const fn refusing_args_as_no_such_command(mut self) -> Self {
        self.args_refused_as_no_such_command = true;
        self
    }

    /// How the command words a refusal of its arguments.
    pub fn refusal(&self, e: Failure) -> Failure {
        match self.args_refused_as_no_such_command {
            true => Failure::no_such_command(),
            false => e,
        }
    }

    /// Refuses the first argument the command does not take on `version`: `unknown parameter <key>`.
    pub fn check_args(&self, args: &Args, version: &Version) -> Result<(), Failure> {
        refuse_unknown_where(args, self.args, |a| a.versions.contains(version))
    }

    /// Whether the command takes `arg` on `version`.
    pub fn takes(&self, arg: &str, version: &Version) -> bool {
        self.args
            .iter()
            .any(|a| a.name == arg && a.versions.contains(version))
    }
}

/// How a menu holds its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Items with ids (`*1A`); `named` menus also find an item by its `name` (`/rest/user/admin`).
    Table {
        /// Whether items can be addressed by name.
        named: bool,
    },
    /// One item without an id (`/system/resource`, `/system/identity`).
    Singleton,
    /// Commands only, no items (`/execute`, `/tool/fetch`, `/import`).
    Commands,
}

/// Everything a menu declares.
#[derive(Debug)]
pub struct Spec {
    /// The menu's path (`/ip/firewall/address-list`).
    pub path: &'static str,
    /// Items with ids, one item, or commands only.
    pub shape: Shape,
    /// The fields its rows show, sorted; each may exist in some versions only.
    pub fields: &'static [Name],
    /// The commands the simulator implements on it.
    pub commands: &'static [Command],
    /// Policies a write needs besides `write` (`/user` and `/user/group` need `policy`).
    pub write_policies: &'static [&'static str],
}

impl Spec {
    /// The command called `name` on `version`, if the menu has it.
    pub fn command(&self, name: &str, version: &Version) -> Option<&'static Command> {
        self.commands
            .iter()
            .find(|c| c.name == name && c.versions.contains(version))
    }

    /// Whether rows show `field` on `version`.
    pub fn has_field(&self, field: &str, version: &Version) -> bool {
        self.fields
            .iter()
            .any(|f| f.name == field && f.versions.contains(version))
    }

    /// Whether the menu is a singleton.
    pub fn is_singleton(&self) -> bool {
        self.shape == Shape::Singleton
    }
}

/// The arguments every menu's `print` takes over REST. `.proplist` is the REST spelling of the
/// console's `proplist`; `.query` is the API query stack; the other flags are accepted and change
/// nothing in a REST reply.
pub const PRINT_ARGS: &[Name] = &names::<0, PRINT_ARGS_LEN>(PRINT_WORDS, []);

/// The words of [`PRINT_ARGS`], for menus whose `print` takes more ([`names`]).
pub const PRINT_WORDS: &[&str] = &[
    ".proplist",
    ".query",
    "count-only",
    "detail",
    "show-ids",
    "terse",
    "without-paging",
];

/// How many words [`PRINT_WORDS`] has.
pub const PRINT_ARGS_LEN: usize = PRINT_WORDS.len();

/// `get`: one field's value of one item, named by `.id`, `numbers` or `number`.
pub const GET_ARGS: &[Name] = &[name("number"), name("value-name")];

/// `export`: the menu as a script. Over REST nothing comes back without `file` (MikroTik manual,
/// REST API: `POST /rest/export` answers `[]`); writing a file is not simulated, so `file` and the
/// arguments that only shape the file's text are left out.
pub const EXPORT_ARGS: &[Name] = &[
    name("compact"),
    name("hide-sensitive"),
    name("show-sensitive"),
    name("terse"),
    name("verbose"),
];

/// `comment`: sets the comment of the items named by `numbers`.
pub const COMMENT_ARGS: &[Name] = &[name("comment")];

/// The commands of an ordinary table: `print`, `get`, `add` and `set` with their arguments,
/// `enable`, `disable`, `remove`, `comment` and `export`.
pub const fn table_commands(add: &'static [Name], set: &'static [Name]) -> [Command; 9] {
    [
        read_command("print", PRINT_ARGS),
        read_command("get", GET_ARGS),
        command("add", add),
        command("set", set),
        command("enable", &[]),
        command("disable", &[]),
        command("remove", &[]),
        command("comment", COMMENT_ARGS),
        read_command("export", EXPORT_ARGS),
    ]
}
