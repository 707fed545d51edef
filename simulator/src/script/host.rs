//! The boundary between the interpreter and the router: the [`Host`] trait.
//!
//! The interpreter never touches router state. Every menu command of a script becomes one
//! [`Host::run`] call that the host routes to the same model code as the equivalent REST request,
//! so a scripted `add` and a `PUT` can never disagree. `find` and `where` are the exception: the
//! interpreter evaluates their conditions itself over the rows [`Host::rows`] returns, because
//! RouterOS's `where` language is the script's expression language.
//!
//! What a host must provide:
//! - [`Catalog`] (the supertrait): which words are menus and commands, with their arguments, so
//!   that parsing reports unknown commands and arguments as the router does;
//! - [`Host::run`]: execute one command; the arguments arrive in script order, named, with
//!   script values (convert them with [`Value::arg_text`]); a value without `=` (a flag such as
//!   `as-value`) arrives as [`Value::Nothing`]; `numbers` may be an empty array (the router
//!   treats `remove [find ...]` that matched nothing as a no-op); return the command's value
//!   (`add` the new `.id` as [`Value::Id`], `get` the field, `print as-value` an array of rows);
//!   refuse with [`Failure::Error`] carrying the REST `detail` text, or [`Failure::Argument`]
//!   when one argument's value was refused (the interpreter appends the command's path and line,
//!   as the router does inside scripts);
//! - [`Host::rows`]: the rows of a menu with `.id` and every field as printed;
//! - [`Host::log`], [`Host::put`]: where `:log` lines and `:put` output go;
//! - [`Host::delay`]: move the simulated clock (never sleep);
//! - [`Host::globals`]: the `:global` variables, which outlive one run;
//! - [`Host::job_name`]: what `:jobname` returns;
//! - [`Host::check`] (optional): called every few thousand steps so the host can stop a script
//!   whose session ended.

use std::collections::BTreeMap;
use std::time::Duration;

use super::catalog::Catalog;
use super::error::Failure;
use super::value::Value;

/// One menu command for the host to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The absolute menu path: `["ip", "firewall", "address-list"]`.
    pub menu: Vec<String>,
    /// The command: `add`, `set`, `remove`, `print`, `get`, `enable`, ...
    pub command: String,
    /// The arguments in the order the script gave them; unnamed ones carry the name the
    /// catalog gave them (`numbers`, `number`, `value-name`, ...).
    pub args: Vec<(String, Value)>,
    /// For a command with a `where` clause (`print where ...`, `remove where ...`): the `.id`s
    /// of the rows the clause selected, in row order. The interpreter evaluates `where` itself.
    pub selected: Option<Vec<String>>,
}

impl Call {
    /// The value of the named argument, if given.
    pub fn arg(&self, name: &str) -> Option<&Value> {
        self.args.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// One row of a menu for `find`: its `.id` and its fields as the router prints them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Row {
    /// `*1A`.
    pub id: String,
    /// Field name and printed value (`list`, `blocked`).
    pub fields: Vec<(String, String)>,
}

impl Row {
    /// The printed value of a field.
    pub fn field(&self, name: &str) -> Option<&str> {
        if name == ".id" {
            return Some(&self.id);
        }
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The levels of `:log` (and of the `/log info|warning|error|debug` commands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// `:log debug`.
    Debug,
    /// `:log info`.
    Info,
    /// `:log warning`.
    Warning,
    /// `:log error`.
    Error,
}

impl LogLevel {
    /// The level from its command word.
    pub fn from_word(word: &str) -> Option<Self> {
        Some(match word {
            "debug" => Self::Debug,
            "info" => Self::Info,
            "warning" => Self::Warning,
            "error" => Self::Error,
            _ => return None,
        })
    }

    /// The word, which is also the second topic of the log line (`script,info` on a router).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// The router's `:global` variables (`/system script environment`), kept by the host between
/// runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Globals {
    vars: BTreeMap<String, Value>,
}

impl Globals {
    /// The value of a global, if declared.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }

    /// Declares or sets a global.
    pub fn set(&mut self, name: &str, value: Value) {
        self.vars.insert(name.to_owned(), value);
    }

    /// Whether `name` is declared.
    pub fn contains(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }

    /// Removes a global (`/system script environment remove`).
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.vars.remove(name)
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.vars.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// Name and value of each, sorted by name as the environment menu prints them.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// The router as a script sees it. See the module documentation for what each method must do.
pub trait Host: Catalog {
    /// Runs one menu command exactly as the same REST request would.
    fn run(&mut self, call: Call) -> Result<Value, Failure>;

    /// The rows of a menu, for `find` and `where`.
    fn rows(&mut self, menu: &[String]) -> Result<Vec<Row>, Failure>;

    /// Writes a log line from `:log` (topics `script` and the level on a router).
    fn log(&mut self, level: LogLevel, message: &str);

    /// Writes one line of `:put` output (collected for `/execute as-string`).
    fn put(&mut self, line: &str);

    /// `:delay`: moves the simulated clock by `d`; never sleeps. May stop the script.
    fn delay(&mut self, d: Duration) -> Result<(), Failure>;

    /// The `:global` variables.
    fn globals(&mut self) -> &mut Globals;

    /// The name `:jobname` returns (the running script's name), if any.
    fn job_name(&self) -> Option<String>;

    /// Called every few thousand steps; an error stops the script (use [`Failure::Abort`]).
    fn check(&mut self) -> Result<(), Failure> {
        Ok(())
    }
}
