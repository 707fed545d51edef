//! The parsed form of a script: blocks of statements and the expressions inside them.
//!
//! Menu paths are already resolved here (the parser walks them against the catalog, as the router
//! does while compiling), so the evaluator only sees absolute menus and known commands.

use super::error::Pos;
use super::host::LogLevel;
use super::value::Value;

/// A block: `{ ... }`, a `do={ ... }` body or a whole script. Each block is a scope for `:local`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    /// Its statements in order.
    pub stmts: Vec<Stmt>,
}

/// One statement and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    /// Where the statement begins.
    pub pos: Pos,
    /// What it does.
    pub kind: StmtKind,
}

/// The kinds of statement.
#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    /// A built-in such as `:local` or `:foreach`.
    Builtin(Builtin),
    /// A menu command such as `/ip firewall address-list add list=x`.
    Menu(MenuCmd),
    /// A nested block `{ ... }` (also `/ip firewall address-list { add ... }`).
    Block(Block),
    /// A command substitution used as a statement: `[/ip firewall address-list add ...]`.
    Eval(Expr),
}

/// A menu command.
#[derive(Debug, Clone, PartialEq)]
pub struct MenuCmd {
    /// The absolute menu path.
    pub menu: Vec<String>,
    /// The command word.
    pub command: String,
    /// The arguments in order, each named (unnamed ones get the catalog's name).
    pub args: Vec<(String, Arg)>,
    /// A `where` clause, evaluated per row.
    pub filter: Option<Expr>,
}

/// One argument of a menu command.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// `name=value` or an unnamed value.
    Value(Expr),
    /// A bare flag such as `as-value`.
    Flag,
}

/// What `:set` assigns to: a variable, or an element inside one (`:set ($a->"k") 1`).
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The variable.
    pub name: String,
    /// The keys from the variable down to the element, outermost first.
    pub keys: Vec<Expr>,
}

/// The built-in commands of the subset, already checked for their arguments.
#[derive(Debug, Clone, PartialEq)]
pub enum Builtin {
    /// `:local name [value]`.
    Local(String, Option<Expr>),
    /// `:global name [value]`.
    Global(String, Option<Expr>),
    /// `:set name [value]`.
    Set(Target, Option<Expr>),
    /// `:put [message]`.
    Put(Option<Expr>),
    /// `:log <level> message` and `/log <level> message`.
    Log(LogLevel, Option<Expr>),
    /// `:if (condition) do={} [else={}]`.
    If {
        /// The condition (must be a boolean).
        cond: Expr,
        /// Runs when true.
        then: Option<Block>,
        /// Runs when false.
        otherwise: Option<Block>,
    },
    /// `:while (condition) do={}`.
    While {
        /// Checked before each run of the body.
        cond: Expr,
        /// The body.
        body: Option<Block>,
    },
    /// `:do {} [while=(...)] [if=(...)] [on-error={}]`.
    Do {
        /// The body.
        body: Block,
        /// `while=`: repeat the body while true (checked after each run).
        repeat: Option<Expr>,
        /// `if=`: run the body only when true.
        only_if: Option<Expr>,
        /// `on-error=`: runs when the body fails.
        on_error: Option<Block>,
    },
    /// `:for i from= to= [step=] do={}`.
    For {
        /// The counter variable.
        var: String,
        /// First value.
        from: Expr,
        /// Last value (inclusive).
        to: Expr,
        /// Step; by default 1, or -1 when counting down.
        step: Option<Expr>,
        /// The body.
        body: Option<Block>,
    },
    /// `:foreach [k,]v in= do={}`.
    Foreach {
        /// The key variable of the `k,v` form.
        key: Option<String>,
        /// The value variable.
        var: String,
        /// What to iterate.
        over: Expr,
        /// The body.
        body: Option<Block>,
    },
    /// `:onerror e in={} [do={}]` (RouterOS 7.13 and later).
    OnError {
        /// The variable the error message is bound to.
        var: String,
        /// The guarded body.
        body: Block,
        /// Runs when the body fails.
        handler: Option<Block>,
    },
    /// `:return [value]`.
    Return(Option<Expr>),
    /// `:error message`.
    Error(Option<Expr>),
    /// `:delay time`.
    Delay(Option<Expr>),
    /// `:break` (RouterOS 7.22 and later).
    Break,
    /// `:continue` (RouterOS 7.22 and later).
    Continue,
    /// A value function: `:pick`, `:len`, `:tostr`, ...
    Func(Func, Vec<Option<Expr>>),
    /// A construct the simulator refuses when it is reached, named for the error.
    Unsupported(String),
}

/// The value functions among the built-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `:pick value begin [end]`.
    Pick,
    /// `:find in key [from]`.
    Find,
    /// `:len value`.
    Len,
    /// `:typeof value`.
    TypeOf,
    /// `:tostr value`.
    ToStr,
    /// `:tonum value`.
    ToNum,
    /// `:toip value`.
    ToIp,
    /// `:toip6 value`.
    ToIp6,
    /// `:totime value`.
    ToTime,
    /// `:tobool value`.
    ToBool,
    /// `:toid value`.
    ToId,
    /// `:toarray value [delimiter=]`.
    ToArray,
    /// `:jobname`.
    JobName,
    /// `:nothing`.
    Nothing,
}

/// Expressions.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal value.
    Lit(Value),
    /// A double-quoted string with `$var`, `$(...)` and `$[...]` inside.
    Text(Vec<TextPart>),
    /// `$name`.
    Var(String),
    /// A field of the row, inside a `where` clause.
    Field(String),
    /// `value->key`.
    Index(Box<Expr>, Box<Expr>),
    /// A unary operator.
    Unary(UnOp, Box<Expr>),
    /// A binary operator.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `{1;2;"k"=3}`.
    Array(Vec<(Option<String>, Expr)>),
    /// `[commands]`: the value of the last one.
    Cmd(Box<Block>),
}

/// A piece of a double-quoted string.
#[derive(Debug, Clone, PartialEq)]
pub enum TextPart {
    /// Literal text, escapes already decoded.
    Lit(String),
    /// An embedded expression (`$name`, `$(...)`, `$[...]`).
    Expr(Expr),
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    /// `!`: logical not.
    Not,
    /// `-`: negation.
    Neg,
    /// `~`: bitwise inversion.
    Inv,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `,`: array concatenation.
    Comma,
    /// `||`, `or`.
    Or,
    /// `&&`, `and`.
    And,
    /// `=`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `>`.
    Gt,
    /// `<=`.
    Le,
    /// `>=`.
    Ge,
    /// `~`: regular-expression match.
    Match,
    /// `in`: address in prefix.
    In,
    /// `|`.
    BitOr,
    /// `^`.
    BitXor,
    /// `&`.
    BitAnd,
    /// `<<`.
    Shl,
    /// `>>`.
    Shr,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `.`: string concatenation.
    Concat,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Rem,
}
