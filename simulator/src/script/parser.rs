//! The parser: source text to [`Block`], resolving menu paths against the [`Catalog`].
//!
//! It follows the router's grammar as the manual ("Scripting") describes it and as scripts in the
//! wild use it:
//! - a command is a path of menu words (absolute after `/`, otherwise relative to the current
//!   path; words separated by `/` or blanks; `..` goes up), a command word, and arguments
//!   `name=value` (blanks are allowed after `=`), unnamed values, or bare flags;
//! - a line holding only a path makes it the current path for the following commands of the same
//!   block, and `path { ... }` runs a block there;
//! - built-ins start with `:`; values are `"strings"`, `(expressions)`, `[commands]`,
//!   `{arrays}`, `$variables` or bare words typed by their shape;
//! - `where` clauses and `(...)` hold expressions with the operators of the manual's
//!   "Operators" section.
//!
//! Errors carry the router's texts and positions (see [`super::error`]): an unknown word is
//! `bad command name <word>` at the word, or `syntax error` at a `/` right after it; anything left
//! over where a command should end is `expected end of command` at that character.

use super::ast::{
    Arg, BinOp, Block, Builtin, Expr, Func, MenuCmd, Stmt, StmtKind, Target, TextPart, UnOp,
};
use super::catalog::{Catalog, CommandSpec, Node};
use super::error::ScriptError;
use super::host::LogLevel;
use super::lexer::{
    Cursor, decode_escape, ends_word, is_arg_name_char, is_command_char, is_var_char,
};
use super::value::Value;

type R<T> = Result<T, ScriptError>;

/// Parses a whole script. `max_depth` bounds the nesting of blocks and expressions.
pub fn parse(source: &str, catalog: &dyn Catalog, max_depth: u32) -> R<Block> {
    let mut p = Parser {
        cur: Cursor::new(source),
        catalog,
        depth: 0,
        max_depth,
        path: Vec::new(),
        where_mode: false,
        field_ok: false,
        newlines: false,
        vars: Vec::new(),
        pending: Vec::new(),
    };
    p.block(End::Eof, Vec::new())
}

/// What closes the block being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Eof,
    Brace,
    Bracket,
}

/// How a bare word in a value position is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WordKind {
    /// Menu command arguments: the text as written (the command parses it by its argument type).
    Text,
    /// Built-ins and arrays: typed by shape (`10` is a `num`, `1h` a `time`).
    Typed,
}

/// How one parameter of a built-in is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A variable name (`:local name`).
    Name,
    /// `k,v` or `v` (`:foreach`).
    NamePair,
    /// What `:set` assigns to.
    Target,
    /// A value.
    Value,
    /// A `{ ... }` block.
    Code,
}

/// One parameter of a built-in: its name (also usable as `name=`), how it is read, and whether
/// an unnamed value may fill it.
type Param = (&'static str, Kind, bool);

/// A parameter after parsing.
#[derive(Debug)]
enum Raw {
    Name(String),
    Pair(Option<String>, String),
    Target(Target),
    Value(Expr),
    Code(Block),
}

struct Parser<'c> {
    cur: Cursor,
    catalog: &'c dyn Catalog,
    depth: u32,
    max_depth: u32,
    /// The current menu path.
    path: Vec<String>,
    /// Inside a `where` clause: bare words are row fields.
    where_mode: bool,
    /// Whether a bare word may be a field here (not on the right of a comparison).
    field_ok: bool,
    /// Whether newlines are blanks (inside parentheses).
    newlines: bool,
    /// The variables declared in each enclosing block, innermost last. The router compiles a
    /// script before running it and refuses a variable no enclosing block declared with
    /// `syntax error` at its name (manual "Scripting", section "Scopes": `:put $myVar` outside the
    /// scope of `:local myVar` gives `syntax error (line 1 column 7)`).
    vars: Vec<Vec<String>>,
    /// Names the next block declares on entry (the counter of `:for`, the variables of
    /// `:foreach` and `:onerror`).
    pending: Vec<String>,
}

impl Parser<'_> {
    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(ScriptError::Limit(format!(
                "script nested deeper than {} levels (the simulator's bound)",
                self.max_depth
            )));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn err(&self, message: impl Into<String>) -> ScriptError {
        self.cur.error_at(message, self.cur.i)
    }

    /// Whether the next character ends a command.
    fn at_cmd_end(&self) -> bool {
        matches!(self.cur.peek(), None | Some(';' | '\n' | '\r' | '}' | ']'))
    }

    /// Reads statements up to `end` (consuming it), with `path` as the current path.
    fn block(&mut self, end: End, path: Vec<String>) -> R<Block> {
        self.enter()?;
        let saved = (
            std::mem::replace(&mut self.path, path),
            self.where_mode,
            self.field_ok,
            self.newlines,
        );
        self.where_mode = false;
        self.field_ok = false;
        self.newlines = false;
        let declared = std::mem::take(&mut self.pending);
        self.vars.push(declared);
        let result = self.statements(end);
        self.vars.pop();
        (self.path, self.where_mode, self.field_ok, self.newlines) = saved;
        self.leave();
        result.map(|stmts| Block { stmts })
    }

    fn statements(&mut self, end: End) -> R<Vec<Stmt>> {
        let mut stmts = Vec::new();
        loop {
            loop {
                self.cur.skip_blanks();
                match self.cur.peek() {
                    Some('\n' | '\r' | ';') => {
                        self.cur.bump();
                    }
                    Some('#') => self.cur.skip_comment(),
                    _ => break,
                }
            }
            match (self.cur.peek(), end) {
                (None, End::Eof) => return Ok(stmts),
                (None, _) => return Err(self.err("syntax error")),
                (Some('}'), End::Brace) | (Some(']'), End::Bracket) => {
                    self.cur.bump();
                    return Ok(stmts);
                }
                _ => {}
            }
            let start = self.cur.i;
            if let Some(kind) = self.statement()? {
                stmts.push(Stmt {
                    pos: self.cur.pos_of(start),
                    kind,
                });
            }
            self.cur.skip_blanks();
            let ok = match self.cur.peek() {
                None | Some(';' | '\n' | '\r') => true,
                Some('}') => end == End::Brace,
                Some(']') => end == End::Bracket,
                Some(_) => false,
            };
            if !ok {
                return Err(self.err("expected end of command"));
            }
        }
    }

    /// One statement; `None` for a line that only changed the current path.
    fn statement(&mut self) -> R<Option<StmtKind>> {
        match self.cur.peek() {
            Some(':') => {
                self.cur.bump();
                self.builtin().map(|b| Some(StmtKind::Builtin(b)))
            }
            Some('{') => {
                self.cur.bump();
                let path = self.path.clone();
                self.block(End::Brace, path)
                    .map(|b| Some(StmtKind::Block(b)))
            }
            Some('[') => {
                self.cur.bump();
                let path = self.path.clone();
                let b = self.block(End::Bracket, path)?;
                Ok(Some(StmtKind::Eval(Expr::Cmd(Box::new(b)))))
            }
            Some('$') => {
                // `$f arg=...` calls a function stored in a variable.
                let name = match self.variable()? {
                    Expr::Var(n) => n,
                    _ => String::new(),
                };
                self.skip_generic_args()?;
                Ok(Some(StmtKind::Builtin(Builtin::Unsupported(format!(
                    "calling a function (${name})"
                )))))
            }
            Some(c) if c == '/' || c == '.' || is_command_char(c) => self.menu_statement(),
            _ => Err(self.err("syntax error")),
        }
    }

    /// A statement starting with a path: a command, a path change, or `path { block }`.
    fn menu_statement(&mut self) -> R<Option<StmtKind>> {
        let mut menu = if self.cur.eat('/') {
            Vec::new()
        } else {
            self.path.clone()
        };
        loop {
            let start = self.cur.i;
            let word = if self.cur.looking_at("..") {
                self.cur.i += 2;
                "..".to_owned()
            } else {
                self.cur.take_while(is_command_char)
            };
            if word.is_empty() {
                break;
            }
            if word == ".." {
                menu.pop();
            } else {
                let mut probe = menu.clone();
                probe.push(word.clone());
                match self.catalog.node(&probe) {
                    Node::Menu => menu = probe,
                    Node::Command(spec) => return self.menu_command(menu, word, &spec).map(Some),
                    Node::Unknown => {
                        return Err(if self.cur.peek() == Some('/') {
                            self.err("syntax error")
                        } else {
                            self.cur.error_at(format!("bad command name {word}"), start)
                        });
                    }
                }
            }
            if self.cur.eat('/') {
                continue;
            }
            let save = self.cur.i;
            self.cur.skip_blanks();
            match self.cur.peek() {
                Some(c) if is_command_char(c) || self.cur.looking_at("..") => {}
                _ => {
                    self.cur.i = save;
                    break;
                }
            }
        }
        self.cur.skip_blanks();
        if self.cur.eat('{') {
            return self
                .block(End::Brace, menu)
                .map(|b| Some(StmtKind::Block(b)));
        }
        self.path = menu;
        Ok(None)
    }

    /// The arguments of a menu command.
    fn menu_command(
        &mut self,
        menu: Vec<String>,
        command: String,
        spec: &CommandSpec,
    ) -> R<StmtKind> {
        // `/log info "text"` is the same as `:log info "text"`.
        if menu == ["log"]
            && let Some(level) = LogLevel::from_word(&command)
        {
            let mut raw = self.params(&[("message", Kind::Value, true)])?;
            return Ok(StmtKind::Builtin(Builtin::Log(
                level,
                take_expr(&mut raw[0]),
            )));
        }
        // Commands inside the arguments (`remove [find ...]`) run relative to this menu.
        let saved = std::mem::replace(&mut self.path, menu.clone());
        let parsed = self.menu_args(spec);
        self.path = saved;
        let (args, filter) = parsed?;
        Ok(StmtKind::Menu(MenuCmd {
            menu,
            command,
            args,
            filter,
        }))
    }

    /// The arguments of a menu command, and its `where` clause.
    #[allow(clippy::type_complexity)]
    fn menu_args(&mut self, spec: &CommandSpec) -> R<(Vec<(String, Arg)>, Option<Expr>)> {
        let mut args = Vec::new();
        let mut filter = None;
        let mut unnamed = spec.unnamed.iter();
        loop {
            self.cur.skip_blanks();
            if self.at_cmd_end() {
                break;
            }
            if filter.is_none()
                && spec.accepts("where")
                && self.cur.next_word_is("where", is_arg_name_char)
            {
                self.cur.i += "where".len();
                filter = Some(self.where_clause()?);
                continue;
            }
            let start = self.cur.i;
            if self.cur.peek().is_some_and(is_arg_name_char) {
                let name = self.cur.take_while(is_arg_name_char);
                if self.cur.eat('=') {
                    if !spec.accepts(&name) {
                        return Err(self.cur.error_at("expected end of command", start));
                    }
                    let value = self.value(WordKind::Text)?;
                    args.push((name, Arg::Value(value)));
                    continue;
                }
                let is_flag = spec.args.as_ref().is_some_and(|a| a.contains(&name));
                if is_flag
                    && (self.at_cmd_end() || self.cur.peek().is_some_and(char::is_whitespace))
                {
                    args.push((name, Arg::Flag));
                    continue;
                }
                self.cur.i = start;
            }
            let Some(slot) = unnamed.next() else {
                return Err(self.cur.error_at("expected end of command", start));
            };
            let value = self.value(WordKind::Text)?;
            args.push((slot.clone(), Arg::Value(value)));
        }
        Ok((args, filter))
    }

    /// The expression after `where`, up to the end of the command.
    fn where_clause(&mut self) -> R<Expr> {
        let saved = (self.where_mode, self.field_ok, self.newlines);
        self.where_mode = true;
        self.field_ok = true;
        self.newlines = false;
        let e = self.expr();
        (self.where_mode, self.field_ok, self.newlines) = saved;
        e
    }

    /// Skips the arguments of a construct the simulator refuses, so that the error names it at
    /// run time and the rest of the script still parses.
    fn skip_generic_args(&mut self) -> R<()> {
        loop {
            self.cur.skip_blanks();
            if self.at_cmd_end() {
                return Ok(());
            }
            let start = self.cur.i;
            if self.cur.peek().is_some_and(is_arg_name_char) {
                self.cur.take_while(is_arg_name_char);
                if !self.cur.eat('=') {
                    self.cur.i = start;
                }
            }
            self.cur.skip_blanks();
            if self.cur.eat('{') {
                let path = self.path.clone();
                self.block(End::Brace, path)?;
            } else if self.at_cmd_end() {
                return Ok(());
            } else {
                self.value(WordKind::Typed)?;
            }
        }
    }

    /// A built-in after its `:`.
    fn builtin(&mut self) -> R<Builtin> {
        let start = self.cur.i;
        let name = self.cur.take_while(is_command_char);
        if name.is_empty() {
            return Err(self.err("syntax error"));
        }
        use Kind::{Code, Name, NamePair, Value as V};
        let func = |f: Func, n: usize| (f, n);
        let value_fn = match name.as_str() {
            "pick" => Some(func(Func::Pick, 3)),
            "find" => Some(func(Func::Find, 3)),
            "len" => Some(func(Func::Len, 1)),
            "typeof" => Some(func(Func::TypeOf, 1)),
            "tostr" => Some(func(Func::ToStr, 1)),
            "tonum" => Some(func(Func::ToNum, 1)),
            "toip" => Some(func(Func::ToIp, 1)),
            "toip6" => Some(func(Func::ToIp6, 1)),
            "totime" => Some(func(Func::ToTime, 1)),
            "tobool" => Some(func(Func::ToBool, 1)),
            "toid" => Some(func(Func::ToId, 1)),
            "toarray" => Some(func(Func::ToArray, 2)),
            "jobname" => Some(func(Func::JobName, 0)),
            "nothing" => Some(func(Func::Nothing, 0)),
            _ => None,
        };
        if let Some((f, _)) = value_fn {
            // Parameter names as `/console/inspect` reports them for each built-in.
            let params: &[Param] = match f {
                Func::Pick => &[("counter", V, true), ("begin", V, true), ("end", V, true)],
                Func::Find => &[("in", V, true), ("key", V, true), ("from", V, true)],
                Func::ToArray => &[("value", V, true), ("delimiter", V, false)],
                Func::JobName | Func::Nothing => &[],
                _ => &[("value", V, true)],
            };
            let raw = self.params(params)?;
            let args = raw
                .into_iter()
                .map(|r| match r {
                    Some(Raw::Value(e)) => Some(e),
                    _ => None,
                })
                .collect();
            return Ok(Builtin::Func(f, args));
        }
        let b = match name.as_str() {
            "local" | "global" | "set" => {
                let first = if name == "set" { Kind::Target } else { Name };
                let mut raw = self.params(&[
                    ("name", first, true),
                    ("value", V, true),
                    ("do", Code, false),
                ])?;
                if raw[2].is_some() {
                    return Ok(Builtin::Unsupported(format!(
                        "defining a function (:{name} ... do=)"
                    )));
                }
                let value = take_expr(&mut raw[1]);
                match (name.as_str(), raw[0].take()) {
                    ("local", Some(Raw::Name(n))) => {
                        self.declare(&n);
                        Builtin::Local(n, value)
                    }
                    ("global", Some(Raw::Name(n))) => {
                        self.declare(&n);
                        Builtin::Global(n, value)
                    }
                    ("set", Some(Raw::Target(t))) => Builtin::Set(t, value),
                    _ => return Err(self.err("syntax error")),
                }
            }
            "put" => Builtin::Put(take_expr(&mut self.params(&[("message", V, true)])?[0])),
            "error" => Builtin::Error(take_expr(&mut self.params(&[("message", V, true)])?[0])),
            "return" => Builtin::Return(take_expr(&mut self.params(&[("value", V, true)])?[0])),
            "delay" => Builtin::Delay(take_expr(&mut self.params(&[("delay-time", V, true)])?[0])),
            "break" => {
                self.params(&[])?;
                Builtin::Break
            }
            "continue" => {
                self.params(&[])?;
                Builtin::Continue
            }
            "log" => {
                self.cur.skip_blanks();
                let at = self.cur.i;
                let word = self.cur.take_while(is_command_char);
                let Some(level) = LogLevel::from_word(&word) else {
                    if word.is_empty() {
                        return Err(self.err("syntax error"));
                    }
                    // `:log print`, `:log find`: the rest of the `:log` menu.
                    if matches!(word.as_str(), "print" | "find" | "get") {
                        self.skip_generic_args()?;
                        return Ok(Builtin::Unsupported(format!(":log {word}")));
                    }
                    return Err(self.cur.error_at(format!("bad command name {word}"), at));
                };
                Builtin::Log(
                    level,
                    take_expr(&mut self.params(&[("message", V, true)])?[0]),
                )
            }
            "if" => {
                let mut raw = self.params(&[
                    ("condition", V, true),
                    ("do", Code, false),
                    ("else", Code, false),
                ])?;
                let Some(cond) = take_expr(&mut raw[0]) else {
                    return Err(self.err("syntax error"));
                };
                Builtin::If {
                    cond,
                    then: take_code(&mut raw[1]),
                    otherwise: take_code(&mut raw[2]),
                }
            }
            "while" => {
                let mut raw = self.params(&[("condition", V, true), ("do", Code, false)])?;
                let Some(cond) = take_expr(&mut raw[0]) else {
                    return Err(self.err("syntax error"));
                };
                Builtin::While {
                    cond,
                    body: take_code(&mut raw[1]),
                }
            }
            "do" => {
                let mut raw = self.params(&[
                    ("command", Code, true),
                    ("while", V, false),
                    ("if", V, false),
                    ("on-error", Code, false),
                ])?;
                Builtin::Do {
                    body: take_code(&mut raw[0]).unwrap_or_default(),
                    repeat: take_expr(&mut raw[1]),
                    only_if: take_expr(&mut raw[2]),
                    on_error: take_code(&mut raw[3]),
                }
            }
            "for" => {
                let mut raw = self.params(&[
                    ("counter", Name, true),
                    ("from", V, false),
                    ("to", V, false),
                    ("step", V, false),
                    ("do", Code, false),
                    ("on-error", Code, false),
                ])?;
                if raw[5].is_some() {
                    return Ok(Builtin::Unsupported(":for ... on-error=".to_owned()));
                }
                let (Some(Raw::Name(var)), Some(from), Some(to)) = (
                    raw[0].take(),
                    take_expr(&mut raw[1]),
                    take_expr(&mut raw[2]),
                ) else {
                    return Err(self.err("syntax error"));
                };
                Builtin::For {
                    var,
                    from,
                    to,
                    step: take_expr(&mut raw[3]),
                    body: take_code(&mut raw[4]),
                }
            }
            "foreach" => {
                let mut raw = self.params(&[
                    ("counter", NamePair, true),
                    ("in", V, false),
                    ("do", Code, false),
                    ("on-error", Code, false),
                ])?;
                if raw[3].is_some() {
                    return Ok(Builtin::Unsupported(":foreach ... on-error=".to_owned()));
                }
                let (Some(Raw::Pair(key, var)), Some(over)) =
                    (raw[0].take(), take_expr(&mut raw[1]))
                else {
                    return Err(self.err("syntax error"));
                };
                Builtin::Foreach {
                    key,
                    var,
                    over,
                    body: take_code(&mut raw[2]),
                }
            }
            "onerror" => {
                let mut raw = self.params(&[
                    ("error", Name, true),
                    ("in", Code, false),
                    ("do", Code, false),
                ])?;
                let (Some(Raw::Name(var)), Some(body)) = (raw[0].take(), take_code(&mut raw[1]))
                else {
                    return Err(self.err("syntax error"));
                };
                Builtin::OnError {
                    var,
                    body,
                    handler: take_code(&mut raw[2]),
                }
            }
            // The other built-ins a RouterOS 7 router knows (`script` keys of the schema): parsed
            // so that the script compiles as on a router, refused when reached.
            "beep" | "convert" | "deserialize" | "environment" | "execute" | "exit" | "grep"
            | "import" | "parse" | "resolve" | "retry" | "rndnum" | "rndstr" | "serialize"
            | "terminal" | "time" | "timestamp" | "tonsec" => {
                self.skip_generic_args()?;
                Builtin::Unsupported(format!(":{name}"))
            }
            _ => return Err(self.cur.error_at(format!("bad command name {name}"), start)),
        };
        Ok(b)
    }

    /// Declares a variable in the innermost block.
    fn declare(&mut self, name: &str) {
        if let Some(scope) = self.vars.last_mut()
            && !scope.iter().any(|n| n == name)
        {
            scope.push(name.to_owned());
        }
    }

    /// Fails unless `name` is declared in an enclosing block; `at` is where its name starts.
    fn check_declared(&self, name: &str, at: usize) -> R<()> {
        if self
            .vars
            .iter()
            .any(|scope| scope.iter().any(|n| n == name))
        {
            Ok(())
        } else {
            Err(self.cur.error_at("syntax error", at))
        }
    }

    /// Reads the arguments of a built-in into its parameters. A block parameter sees the
    /// variables named by the parameters before it (`:for i ... do={ $i }`).
    fn params(&mut self, params: &[Param]) -> R<Vec<Option<Raw>>> {
        let mut out: Vec<Option<Raw>> = params.iter().map(|_| None).collect();
        loop {
            self.cur.skip_blanks();
            if self.at_cmd_end() {
                return Ok(out);
            }
            let start = self.cur.i;
            if self.cur.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                let name = self.cur.take_while(is_arg_name_char);
                if self.cur.eat('=') {
                    let Some(idx) = params.iter().position(|p| p.0 == name) else {
                        return Err(self.cur.error_at("expected end of command", start));
                    };
                    out[idx] = Some(self.raw(params[idx].1, &out)?);
                    continue;
                }
                self.cur.i = start;
            }
            let free = params
                .iter()
                .enumerate()
                .position(|(i, p)| p.2 && out[i].is_none());
            let Some(idx) = free else {
                return Err(self.cur.error_at("expected end of command", start));
            };
            out[idx] = Some(self.raw(params[idx].1, &out)?);
        }
    }

    fn raw(&mut self, kind: Kind, out: &[Option<Raw>]) -> R<Raw> {
        self.cur.skip_blanks();
        Ok(match kind {
            Kind::Name => Raw::Name(self.name_alone()?),
            Kind::NamePair => {
                let first = self.name()?;
                if self.cur.eat(',') {
                    Raw::Pair(Some(first), self.name_alone()?)
                } else {
                    self.name_ends()?;
                    Raw::Pair(None, first)
                }
            }
            Kind::Target => Raw::Target(self.target()?),
            Kind::Value => Raw::Value(self.value(WordKind::Typed)?),
            Kind::Code => {
                if !self.cur.eat('{') {
                    return Err(self.err("syntax error"));
                }
                for r in out.iter().flatten() {
                    match r {
                        Raw::Name(n) | Raw::Pair(None, n) => self.pending.push(n.clone()),
                        Raw::Pair(Some(k), v) => self.pending.extend([k.clone(), v.clone()]),
                        _ => {}
                    }
                }
                let path = self.path.clone();
                Raw::Code(self.block(End::Brace, path)?)
            }
        })
    }

    /// A variable name that must stand alone: `:local MAX_ACTIONS 200` stops at the underscore
    /// with `expected end of command`, as on a router.
    fn name_alone(&mut self) -> R<String> {
        let n = self.name()?;
        self.name_ends()?;
        Ok(n)
    }

    fn name_ends(&self) -> R<()> {
        if self.at_cmd_end() || self.cur.peek().is_some_and(char::is_whitespace) {
            Ok(())
        } else {
            Err(self.err("expected end of command"))
        }
    }

    /// A variable name: letters and digits, or a quoted string.
    fn name(&mut self) -> R<String> {
        if self.cur.peek() == Some('"') {
            return self.plain_string();
        }
        let n = self.cur.take_while(is_var_char);
        if n.is_empty() {
            return Err(self.err("syntax error"));
        }
        Ok(n)
    }

    /// What `:set` assigns to: `name`, `$name`, or `($name->key...)`.
    fn target(&mut self) -> R<Target> {
        if self.cur.peek() == Some('(') {
            let at = self.cur.i;
            let e = self.value(WordKind::Typed)?;
            let mut keys = Vec::new();
            let mut e = e;
            loop {
                match e {
                    Expr::Index(inner, key) => {
                        keys.push(*key);
                        e = *inner;
                    }
                    Expr::Var(name) => {
                        keys.reverse();
                        return Ok(Target { name, keys });
                    }
                    _ => return Err(self.cur.error_at("syntax error", at)),
                }
            }
        }
        if self.cur.peek() == Some('$')
            && let Expr::Var(name) = self.variable()?
        {
            return Ok(Target {
                name,
                keys: Vec::new(),
            });
        }
        let at = self.cur.i;
        let name = self.name_alone()?;
        self.check_declared(&name, at)?;
        Ok(Target {
            name,
            keys: Vec::new(),
        })
    }

    /// A value in an argument position.
    fn value(&mut self, words: WordKind) -> R<Expr> {
        self.cur.skip_blanks();
        match self.cur.peek() {
            None | Some(';' | '\n' | '\r' | '}' | ']') => Ok(Expr::Lit(Value::Str(String::new()))),
            Some('"') => self.string(),
            Some('(') => self.paren(),
            Some('[') => self.substitution(),
            Some('{') if words == WordKind::Text => {
                // `source={ ... }`: the braces hold script text; the router compiles it, so a
                // syntax error inside is reported now.
                self.cur.bump();
                let start = self.cur.i;
                let path = self.path.clone();
                self.block(End::Brace, path)?;
                let text = self.cur.text_from(start);
                Ok(Expr::Lit(Value::Str(text[..text.len() - 1].to_owned())))
            }
            Some('{') => {
                self.cur.bump();
                self.array()
            }
            Some('$') => {
                let v = self.variable()?;
                self.postfix(v)
            }
            Some(_) => {
                let word = self.cur.take_while(|c| !ends_word(c));
                if word.is_empty() {
                    return Err(self.err("syntax error"));
                }
                Ok(Expr::Lit(match words {
                    WordKind::Text => Value::Str(word),
                    WordKind::Typed => Value::from_word(&word),
                }))
            }
        }
    }

    /// `$name` or `$"name"`.
    fn variable(&mut self) -> R<Expr> {
        self.cur.bump();
        let at = self.cur.i;
        let n = if self.cur.peek() == Some('"') {
            self.plain_string()?
        } else {
            self.cur.take_while(is_var_char)
        };
        if n.is_empty() {
            return Err(self.err("syntax error"));
        }
        self.check_declared(&n, at)?;
        Ok(Expr::Var(n))
    }

    /// A string without `$` substitutions (names and keys).
    fn plain_string(&mut self) -> R<String> {
        let at = self.cur.i;
        match self.string()? {
            Expr::Text(parts) => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        TextPart::Lit(t) => s.push_str(&t),
                        TextPart::Expr(_) => return Err(self.cur.error_at("syntax error", at)),
                    }
                }
                Ok(s)
            }
            _ => Err(self.cur.error_at("syntax error", at)),
        }
    }

    /// A double-quoted string, at its opening quote.
    fn string(&mut self) -> R<Expr> {
        self.enter()?;
        self.cur.bump();
        let mut parts = Vec::new();
        let mut bytes: Vec<u8> = Vec::new();
        let flush = |bytes: &mut Vec<u8>, parts: &mut Vec<TextPart>| {
            if !bytes.is_empty() {
                parts.push(TextPart::Lit(String::from_utf8_lossy(bytes).into_owned()));
                bytes.clear();
            }
        };
        loop {
            let at = self.cur.i;
            match self.cur.bump() {
                None => return Err(self.err("syntax error")),
                Some('"') => break,
                Some('\\') => match decode_escape(&mut self.cur) {
                    Some(b) => bytes.extend(b),
                    None => return Err(self.cur.error_at("syntax error", at)),
                },
                Some('$') => match self.cur.peek() {
                    Some('(') => {
                        flush(&mut bytes, &mut parts);
                        parts.push(TextPart::Expr(self.paren()?));
                    }
                    Some('[') => {
                        flush(&mut bytes, &mut parts);
                        parts.push(TextPart::Expr(self.substitution()?));
                    }
                    Some(c) if is_var_char(c) => {
                        flush(&mut bytes, &mut parts);
                        let name_at = self.cur.i;
                        let name = self.cur.take_while(is_var_char);
                        self.check_declared(&name, name_at)?;
                        parts.push(TextPart::Expr(Expr::Var(name)));
                    }
                    _ => bytes.push(b'$'),
                },
                Some(c) => {
                    let mut buf = [0; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        flush(&mut bytes, &mut parts);
        self.leave();
        Ok(Expr::Text(parts))
    }

    /// `( expression )`, at the opening parenthesis.
    fn paren(&mut self) -> R<Expr> {
        self.cur.bump();
        let saved = self.newlines;
        self.newlines = true;
        let e = self.expr();
        self.newlines = saved;
        let e = e?;
        self.cur.skip_space();
        if !self.cur.eat(')') {
            return Err(self.err("syntax error"));
        }
        Ok(e)
    }

    /// `[ commands ]`, at the opening bracket.
    fn substitution(&mut self) -> R<Expr> {
        self.cur.bump();
        let path = self.path.clone();
        Ok(Expr::Cmd(Box::new(self.block(End::Bracket, path)?)))
    }

    /// `{ items }`, after the opening brace.
    fn array(&mut self) -> R<Expr> {
        self.enter()?;
        let mut items = Vec::new();
        loop {
            self.cur.skip_space();
            if self.cur.eat('}') {
                break;
            }
            if self.cur.at_end() {
                return Err(self.err("syntax error"));
            }
            let start = self.cur.i;
            let mut key = None;
            if self.cur.peek() == Some('"') {
                let k = self.plain_string()?;
                if self.cur.eat('=') {
                    key = Some(k);
                } else {
                    self.cur.i = start;
                }
            } else {
                let k = self.cur.take_while(|c| !ends_word(c));
                if !k.is_empty() && self.cur.eat('=') {
                    key = Some(k);
                } else {
                    self.cur.i = start;
                }
            }
            let value = self.value(WordKind::Typed)?;
            items.push((key, value));
            self.cur.skip_space();
            if !self.cur.eat(';') && self.cur.peek() != Some('}') {
                return Err(self.err("syntax error"));
            }
        }
        self.leave();
        Ok(Expr::Array(items))
    }

    fn ws(&mut self) {
        if self.newlines {
            self.cur.skip_space()
        } else {
            self.cur.skip_blanks()
        }
    }

    /// Whether the keyword `word` comes next (and consumes it).
    fn keyword(&mut self, word: &str) -> bool {
        if self
            .cur
            .next_word_is(word, |c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            self.cur.i += word.len();
            true
        } else {
            false
        }
    }

    /// Consumes the operator `op` unless it is the start of a longer one in `not_before`.
    fn op(&mut self, op: &str, not_followed_by: &[char]) -> bool {
        if self.cur.looking_at(op)
            && !self
                .cur
                .peek_at(op.len())
                .is_some_and(|c| not_followed_by.contains(&c))
        {
            self.cur.i += op.len();
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> R<Expr> {
        self.enter()?;
        let e = self.comma();
        self.leave();
        e
    }

    fn comma(&mut self) -> R<Expr> {
        let mut left = self.or()?;
        loop {
            self.ws();
            if self.cur.eat(',') {
                let right = self.or()?;
                left = Expr::Binary(BinOp::Comma, Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn or(&mut self) -> R<Expr> {
        let mut left = self.and()?;
        loop {
            self.ws();
            if self.op("||", &[]) || self.keyword("or") {
                let right = self.and()?;
                left = Expr::Binary(BinOp::Or, Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn and(&mut self) -> R<Expr> {
        let mut left = self.cmp()?;
        loop {
            self.ws();
            if self.op("&&", &[]) || self.keyword("and") {
                let right = self.cmp()?;
                left = Expr::Binary(BinOp::And, Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn cmp(&mut self) -> R<Expr> {
        let mut left = self.bits()?;
        loop {
            self.ws();
            let op = if self.op("!=", &[]) {
                BinOp::Ne
            } else if self.op("<=", &[]) {
                BinOp::Le
            } else if self.op(">=", &[]) {
                BinOp::Ge
            } else if self.op("<", &['<']) {
                BinOp::Lt
            } else if self.op(">", &['>']) {
                BinOp::Gt
            } else if self.op("=", &[]) {
                BinOp::Eq
            } else if self.op("~", &[]) {
                BinOp::Match
            } else if self.keyword("in") {
                BinOp::In
            } else {
                return Ok(left);
            };
            // On the right of a comparison a bare word is a value, not a field:
            // `where list=blocked` compares the field `list` with the text `blocked`.
            let saved = self.field_ok;
            self.field_ok = false;
            let right = self.bits();
            self.field_ok = saved;
            left = Expr::Binary(op, Box::new(left), Box::new(right?));
        }
    }

    fn bits(&mut self) -> R<Expr> {
        let mut left = self.shift()?;
        loop {
            self.ws();
            let op = if self.op("|", &['|']) {
                BinOp::BitOr
            } else if self.op("^", &[]) {
                BinOp::BitXor
            } else if self.op("&", &['&']) {
                BinOp::BitAnd
            } else {
                return Ok(left);
            };
            let right = self.shift()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn shift(&mut self) -> R<Expr> {
        let mut left = self.additive()?;
        loop {
            self.ws();
            let op = if self.op("<<", &[]) {
                BinOp::Shl
            } else if self.op(">>", &[]) {
                BinOp::Shr
            } else {
                return Ok(left);
            };
            let right = self.additive()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn additive(&mut self) -> R<Expr> {
        let mut left = self.multiplicative()?;
        loop {
            self.ws();
            let op = if self.op("+", &[]) {
                BinOp::Add
            } else if self.op("-", &['>']) {
                BinOp::Sub
            } else if self.op(".", &[]) {
                BinOp::Concat
            } else {
                return Ok(left);
            };
            let right = self.multiplicative()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn multiplicative(&mut self) -> R<Expr> {
        let mut left = self.unary()?;
        loop {
            self.ws();
            let op = if self.op("*", &[]) {
                BinOp::Mul
            } else if self.op("/", &[]) {
                BinOp::Div
            } else if self.op("%", &[]) {
                BinOp::Rem
            } else {
                return Ok(left);
            };
            let right = self.unary()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> R<Expr> {
        self.ws();
        let op = if self.op("!", &['=']) {
            UnOp::Not
        } else if self.op("-", &['>']) {
            UnOp::Neg
        } else if self.op("~", &[]) {
            UnOp::Inv
        } else {
            let p = self.primary()?;
            return self.postfix(p);
        };
        self.enter()?;
        let inner = self.unary();
        self.leave();
        Ok(Expr::Unary(op, Box::new(inner?)))
    }

    /// `->key` chains after a value.
    fn postfix(&mut self, mut e: Expr) -> R<Expr> {
        while self.cur.looking_at("->") {
            self.cur.i += 2;
            let saved = self.field_ok;
            self.field_ok = false;
            let key = self.primary();
            self.field_ok = saved;
            e = Expr::Index(Box::new(e), Box::new(key?));
        }
        Ok(e)
    }

    fn primary(&mut self) -> R<Expr> {
        self.ws();
        let start = self.cur.i;
        match self.cur.peek() {
            Some('(') => self.paren(),
            Some('[') => self.substitution(),
            Some('{') => {
                self.cur.bump();
                self.array()
            }
            Some('"') => self.string(),
            Some('$') => self.variable(),
            Some('*') if self.cur.peek_at(1).is_some_and(|c| c.is_ascii_hexdigit()) => {
                self.cur.bump();
                let hex = self.cur.take_while(|c| c.is_ascii_hexdigit());
                Ok(Expr::Lit(Value::from_word(&format!("*{hex}"))))
            }
            Some(c) if c.is_ascii_digit() || (c == ':' && self.cur.peek_at(1) == Some(':')) => {
                self.literal(start)
            }
            Some(c) if c.is_ascii_alphabetic() || c == '.' && self.cur.peek_at(1) == Some('i') => {
                let mut word = self
                    .cur
                    .take_while(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
                if self.cur.peek() == Some(':') {
                    // An IPv6 address that starts with a letter (`fe80::1`).
                    let save = self.cur.i;
                    let rest = self
                        .cur
                        .take_while(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.' | '/'));
                    let candidate = format!("{word}{rest}");
                    if matches!(
                        Value::from_word(&candidate),
                        Value::Ip6(_) | Value::Ip6Prefix(_)
                    ) {
                        word = candidate;
                    } else {
                        self.cur.i = save;
                    }
                }
                if self.where_mode && self.field_ok && word != "true" && word != "false" {
                    return Ok(Expr::Field(word));
                }
                Ok(Expr::Lit(Value::from_word(&word)))
            }
            _ => Err(self.err("syntax error")),
        }
    }

    /// A literal starting with a digit: the longest prefix of the run of literal characters that
    /// types as something other than a string (`10.0.0.0/8`, `1h30m`, `10` in `10/2`).
    fn literal(&mut self, start: usize) -> R<Expr> {
        let run = self
            .cur
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '/'));
        if run.len() > 64 {
            return Err(self.cur.error_at("syntax error", start));
        }
        let chars: Vec<char> = run.chars().collect();
        for len in (1..=chars.len()).rev() {
            let candidate: String = chars[..len].iter().collect();
            let v = Value::from_word(&candidate);
            if !matches!(v, Value::Str(_)) {
                self.cur.i = start + len;
                return Ok(Expr::Lit(v));
            }
        }
        Err(self.cur.error_at("syntax error", start))
    }
}

/// Takes the expression out of a parsed parameter.
fn take_expr(raw: &mut Option<Raw>) -> Option<Expr> {
    match raw.take() {
        Some(Raw::Value(e)) => Some(e),
        _ => None,
    }
}

/// Takes the block out of a parsed parameter.
fn take_code(raw: &mut Option<Raw>) -> Option<Block> {
    match raw.take() {
        Some(Raw::Code(b)) => Some(b),
        _ => None,
    }
}
