//! How a script fails: syntax errors with their position, runtime errors a script may catch, and
//! the simulator's own refusals (a construct outside the subset, a spent budget) that it may not.
//!
//! The texts follow the router. A syntax error reads `syntax error (line 1 column 10)`,
//! `expected end of command (line 1 column 19)` or `bad command name nonsense (line 1 column 2)`:
//! these three shapes were captured from a RouterOS 7.21.5 hEX (`:parse` of `/nonsense/command`,
//! `/ip/address/print bogus=1` and `/nonsense command`, as published in a public lab log of a
//! RouterOS client library), with 1-based lines and columns pointing at the offending character.
//! A runtime error is the bare text the router gives (`failure: already have such entry`, or the
//! message of `:error`), which is also what `:onerror` binds to its variable.

use std::fmt;

/// A position in a script's source: 1-based line and column (in characters), as the router
/// prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// The physical line, counting from 1.
    pub line: u32,
    /// The column on that line, counting from 1.
    pub column: u32,
}

/// Why a script did not run to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptError {
    /// The source does not parse; nothing of it ran (the router, too, compiles a whole script
    /// before it runs a line of it).
    Syntax {
        /// `syntax error`, `expected end of command`, `bad command name x`, ...
        message: String,
        /// Where the parser stopped.
        pos: Pos,
    },
    /// A runtime error: a command the router refused, `:error`, a condition that is not a
    /// boolean. `:do {} on-error={}` and `:onerror` catch it; uncaught, it stops the script.
    Runtime(String),
    /// The script used something the simulator does not implement (`:beep`, `:resolve`, calling
    /// a function, ...). A real router would have run it, so no `on-error` may hide this: the
    /// script stops and the message names the construct.
    Unsupported(String),
    /// The script hit one of the simulator's bounds (steps, string or array size, output size),
    /// or the host stopped it (for example the REST session limit). Never caught by the script.
    Limit(String),
}

impl ScriptError {
    /// A syntax error with the router's wording.
    pub(crate) fn syntax(message: impl Into<String>, pos: Pos) -> Self {
        Self::Syntax {
            message: message.into(),
            pos,
        }
    }

    /// Whether `:do {} on-error={}` and `:onerror` may catch this error.
    pub fn is_catchable(&self) -> bool {
        matches!(self, Self::Runtime(_))
    }

    /// The text without position, as `:onerror` binds it and as the router logs a runtime error.
    pub fn message(&self) -> String {
        match self {
            Self::Syntax { .. } => self.to_string(),
            Self::Runtime(m) | Self::Limit(m) => m.clone(),
            Self::Unsupported(what) => format!("{what} is not supported by the simulator"),
        }
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax { message, pos } => {
                write!(f, "{message} (line {} column {})", pos.line, pos.column)
            }
            Self::Runtime(m) | Self::Limit(m) => f.write_str(m),
            Self::Unsupported(what) => write!(f, "{what} is not supported by the simulator"),
        }
    }
}

impl std::error::Error for ScriptError {}

/// A refusal from the host (the router) for one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The router refused the command with this text, exactly as the same REST request would
    /// put it in `detail` (`failure: already have such entry`, `no such item`, ...). The script
    /// may catch it.
    Error(String),
    /// The router refused the value of one argument (`input does not match any value of
    /// certificate`); the script's error then names the argument too.
    Argument {
        /// The argument.
        arg: String,
        /// The router's text.
        message: String,
    },
    /// The host stops the whole script (its session limit passed, the router rebooted). The
    /// script may not catch it.
    Abort(String),
}

impl Failure {
    /// The error a script sees when the command `path` (`/ip/firewall/address-list/add`) on
    /// `line` failed. Inside a script the router appends where it happened:
    /// `input does not match any value of certificate (/ip/service/set (certificate); line 1)`
    /// (RouterOS 7.23.3 CHR, `/rest/execute` with `as-string`) and
    /// `failure: Status 404, Not Found (/tool/fetch; line 2)` (what `:onerror` binds for a failed
    /// fetch, MikroTik manual "Fetch", 2026). Both the script's `:onerror` variable and the
    /// uncaught error carry this form.
    pub fn in_script(self, path: &str, line: u32) -> ScriptError {
        match self {
            Self::Error(m) => ScriptError::Runtime(format!("{m} ({path}; line {line})")),
            Self::Argument { arg, message } => {
                ScriptError::Runtime(format!("{message} ({path} ({arg}); line {line})"))
            }
            Self::Abort(m) => ScriptError::Limit(m),
        }
    }

    /// The error a script sees for a failure outside a menu command (`:delay`, the host's
    /// periodic check).
    pub fn plain(self) -> ScriptError {
        match self {
            Self::Error(m) | Self::Argument { message: m, .. } => ScriptError::Runtime(m),
            Self::Abort(m) => ScriptError::Limit(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_in_scripts_name_the_command_and_line() {
        let f = Failure::Argument {
            arg: "certificate".into(),
            message: "input does not match any value of certificate".into(),
        };
        assert_eq!(
            f.in_script("/ip/service/set", 1).to_string(),
            "input does not match any value of certificate (/ip/service/set (certificate); line 1)"
        );
        let f = Failure::Error("failure: Status 404, Not Found".into());
        assert_eq!(
            f.in_script("/tool/fetch", 2).message(),
            "failure: Status 404, Not Found (/tool/fetch; line 2)"
        );
        let abort = Failure::Abort("Session closed".into()).in_script("/tool/fetch", 2);
        assert!(!abort.is_catchable());
        let syntax = ScriptError::syntax("bad command name x", Pos { line: 2, column: 5 });
        assert_eq!(syntax.to_string(), "bad command name x (line 2 column 5)");
    }
}
