//! The RouterOS script interpreter: the subset of RouterOS v7 scripting that address-list tools
//! send to routers, parsed and run as a router does.
//!
//! [`run`] parses a whole script first (a syntax error runs nothing, as on a router), then runs it
//! against a [`Host`], which is the router: every menu command becomes one [`Host::run`] call
//! that the host answers with the same code as the equivalent REST request. The interpreter owns
//! only what RouterOS scripting itself defines: variables and scopes, values and their types,
//! expressions, control flow, error handling, `find` and `where`, and the value built-ins.
//!
//! Supported: commands by menu path (`/ip firewall address-list add ...` and
//! `/ip/firewall/address-list/add ...`, relative paths, a bare path line changing the current
//! path), `name=value`, unnamed values and flags; strings with escapes and `$var` / `$(...)` /
//! `$[...]` inside; `;`, newlines, `\` line joining, `#` comments; blocks; `:local`, `:global`,
//! `:set` (also of array elements); arrays and `->`; `:foreach`, `:for`, `:while`, `:if`, `:do`
//! (with `while=`, `if=`, `on-error=`), `:onerror`; `[find ...]` with `field=value` and
//! `where` (`=`, `!=`, `<`, `>`, `<=`, `>=`, `~`, `in`, `and`/`&&`, `or`/`||`, `!`); arithmetic,
//! bitwise and string operators; `:put`, `:log`, `:pick`, `:find`, `:len`, the conversions,
//! `:typeof`, `:delay` (on the host's clock), `:return`, `:error`, `:jobname`, `:nothing`,
//! `:break`, `:continue`.
//!
//! As on a router, a variable must be declared (`:local`, `:global`, a loop's counter) in an
//! enclosing block before it is used, or the script does not compile (`syntax error` at its
//! name), and a command that fails reports where: `failure: already have such entry
//! (/ip/firewall/address-list/add; line 3)`, which is also what `:onerror` binds.
//!
//! Refused with an error naming the construct (and not catchable, since a router would have run
//! it): functions (`:local f do={}`, `$f`), `:resolve` (the simulator has no DNS), `:execute`,
//! `:parse`, `:environment`, `:serialize`/`:deserialize`, `:retry`, `:time` and the other
//! built-ins a router knows outside this subset.
//!
//! Bounds ([`Limits`]): the source size, a step budget per run, the nesting depth, string, value
//! and array sizes, `:put` output and the number of globals. A script that reaches one stops
//! with [`ScriptError::Limit`]; nothing a script does can panic or hang the simulator.

mod ast;
mod builtins;
mod catalog;
mod error;
mod eval;
mod host;
mod lexer;
mod parser;
mod value;

#[cfg(test)]
mod tests;

pub use ast::Block;
pub use catalog::{Catalog, CommandSpec, Node, SchemaCatalog};
pub use error::{Failure, Pos, ScriptError};
pub use host::{Call, Globals, Host, LogLevel, Row};
pub use value::{Array, Key, Value, format_time, parse_time};

/// The simulator's bounds on one script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The longest source accepted, in bytes.
    pub max_source_bytes: usize,
    /// Steps one run may spend (statements, loop turns, expression nodes, rows examined).
    pub max_steps: u64,
    /// How deeply blocks and expressions may nest.
    pub max_depth: u32,
    /// The longest string a script may build.
    pub max_string_bytes: usize,
    /// The largest value (arrays included) a script may build or hold in one variable.
    pub max_value_bytes: usize,
    /// The most items one array may hold.
    pub max_array_len: usize,
    /// The most `:put` output one run may write.
    pub max_output_bytes: usize,
    /// The most `:global` variables.
    pub max_globals: usize,
}

impl Default for Limits {
    /// Bounds well above what router scripts use (a RouterOS variable holds at most a few
    /// hundred kilobytes; `/tool fetch output=user` returns at most 64 KiB) and small enough that
    /// a runaway script stops within about a second.
    fn default() -> Self {
        Self {
            max_source_bytes: 1 << 20,
            max_steps: 5_000_000,
            max_depth: 64,
            max_string_bytes: 1 << 20,
            max_value_bytes: 8 << 20,
            max_array_len: 100_000,
            max_output_bytes: 1 << 20,
            max_globals: 1_000,
        }
    }
}

/// A parsed script, ready to run (possibly many times, as a scheduler does).
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    block: Block,
}

/// What a finished run gives back.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The value of a top-level `:return`, or nothing.
    pub value: Value,
    /// The steps the run spent.
    pub steps: u64,
}

/// Parses a script, resolving its commands against `catalog`.
pub fn parse(source: &str, catalog: &dyn Catalog, limits: &Limits) -> Result<Script, ScriptError> {
    if source.len() > limits.max_source_bytes {
        return Err(ScriptError::Limit(format!(
            "script of {} bytes is longer than the simulator accepts ({} bytes)",
            source.len(),
            limits.max_source_bytes
        )));
    }
    Ok(Script {
        block: parser::parse(source, catalog, limits.max_depth)?,
    })
}

impl Script {
    /// Runs the script against `host`.
    pub fn run(&self, host: &mut dyn Host, limits: &Limits) -> Result<Outcome, ScriptError> {
        let (value, steps) = eval::run_block(&self.block, host, limits)?;
        Ok(Outcome { value, steps })
    }
}

/// Parses `source` with the host's catalog and runs it.
pub fn run(source: &str, host: &mut dyn Host, limits: &Limits) -> Result<Outcome, ScriptError> {
    let script = parse(source, &*host, limits)?;
    script.run(host, limits)
}
