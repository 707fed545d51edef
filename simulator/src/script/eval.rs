//! The evaluator: runs a parsed script against a [`Host`], within the [`Limits`].
//!
//! Variables live in a stack of scopes, one per block; `:global` puts a reference to the host's
//! global of that name into the current scope, so a global is visible only where the script
//! declared it, as on a router. Every statement, loop turn, expression node and row examined by
//! `find` costs a step; a script that spends its budget stops with an error no `on-error` can
//! catch, so no script can hang the simulator.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use regex::{Regex, RegexBuilder};

use super::Limits;
use super::ast::{
    Arg, BinOp, Block, Builtin, Expr, Func, MenuCmd, StmtKind, Target, TextPart, UnOp,
};
use super::builtins;
use super::error::{Failure, ScriptError};
use super::host::{Call, Host, Row};
use super::value::{Array, Value, compare};

type R<T> = Result<T, ScriptError>;

/// How a statement ended.
#[derive(Debug)]
pub enum Flow {
    /// Normally, with the value of its command.
    Normal(Value),
    /// `:return`.
    Return(Value),
    /// `:break`.
    Break,
    /// `:continue`.
    Continue,
}

/// A variable in a scope.
#[derive(Debug)]
enum Slot {
    Local(Value),
    /// Declared `:global` here; the value is the host's.
    Global,
}

/// The state of one run.
pub struct Eval<'h> {
    host: &'h mut dyn Host,
    limits: &'h Limits,
    /// Steps spent.
    pub steps: u64,
    scopes: Vec<Vec<(String, Slot)>>,
    regexes: HashMap<String, Regex>,
    output: usize,
}

impl std::fmt::Debug for Eval<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Eval")
            .field("steps", &self.steps)
            .field("scopes", &self.scopes.len())
            .finish()
    }
}

/// How often (in steps) the host is asked whether the script may go on.
const CHECK_EVERY: u64 = 4096;

impl<'h> Eval<'h> {
    /// A fresh run.
    pub fn new(host: &'h mut dyn Host, limits: &'h Limits) -> Self {
        Self {
            host,
            limits,
            steps: 0,
            scopes: Vec::new(),
            regexes: HashMap::new(),
            output: 0,
        }
    }

    /// Spends `n` steps.
    fn spend(&mut self, n: u64) -> R<()> {
        let before = self.steps;
        self.steps = self.steps.saturating_add(n);
        if self.steps > self.limits.max_steps {
            return Err(ScriptError::Limit(format!(
                "script stopped after {} steps (the simulator's bound on one run)",
                self.limits.max_steps
            )));
        }
        if before / CHECK_EVERY != self.steps / CHECK_EVERY {
            self.host.check().map_err(Failure::plain)?;
        }
        Ok(())
    }

    /// Checks a value the script built against the size bounds, and charges for copying it.
    fn built(&mut self, v: Value) -> R<Value> {
        if let Value::Str(s) = &v
            && s.len() > self.limits.max_string_bytes
        {
            return Err(ScriptError::Limit(format!(
                "string of {} bytes is longer than the simulator allows ({} bytes)",
                s.len(),
                self.limits.max_string_bytes
            )));
        }
        if v.weight() > self.limits.max_value_bytes {
            return Err(ScriptError::Limit(format!(
                "value of about {} bytes is larger than the simulator allows ({} bytes)",
                v.weight(),
                self.limits.max_value_bytes
            )));
        }
        self.spend((v.weight() / 4096) as u64)?;
        Ok(v)
    }

    /// Runs a block in a new scope.
    pub fn block(&mut self, block: &Block) -> R<Flow> {
        self.block_with(block, Vec::new())
    }

    /// Runs a block in a new scope that starts with `vars`.
    fn block_with(&mut self, block: &Block, vars: Vec<(String, Slot)>) -> R<Flow> {
        self.scopes.push(vars);
        let depth = self.scopes.len();
        let result = self.statements(block);
        self.scopes.truncate(depth - 1);
        result
    }

    fn statements(&mut self, block: &Block) -> R<Flow> {
        let mut last = Value::Nothing;
        for stmt in &block.stmts {
            self.spend(1)?;
            let flow = match &stmt.kind {
                StmtKind::Builtin(b) => self.builtin(b)?,
                StmtKind::Menu(cmd) => Flow::Normal(self.menu(cmd, stmt.pos.line)?),
                StmtKind::Block(b) => self.block(b)?,
                StmtKind::Eval(e) => Flow::Normal(self.expr(e, None)?),
            };
            match flow {
                Flow::Normal(v) => last = v,
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal(last))
    }

    fn lookup(&mut self, name: &str) -> Value {
        for scope in self.scopes.iter().rev() {
            for (n, slot) in scope.iter().rev() {
                if n == name {
                    return match slot {
                        Slot::Local(v) => v.clone(),
                        Slot::Global => self.host.globals().get(name).cloned().unwrap_or_default(),
                    };
                }
            }
        }
        Value::Nothing
    }

    /// The element `key` of the variable `name`, read without copying the variable.
    fn index_var(&mut self, name: &str, key: &Value) -> Value {
        let pick = |v: &Value| match v {
            Value::Array(a) => a.get(key).cloned().unwrap_or_default(),
            _ => Value::Nothing,
        };
        for scope in self.scopes.iter().rev() {
            for (n, slot) in scope.iter().rev() {
                if n == name {
                    return match slot {
                        Slot::Local(v) => pick(v),
                        Slot::Global => self.host.globals().get(name).map(pick).unwrap_or_default(),
                    };
                }
            }
        }
        Value::Nothing
    }

    /// Declares a variable in the current scope (a second `:local` of a name replaces it).
    fn declare(&mut self, name: &str, slot: Slot) {
        let scope = self.scopes.last_mut().expect("a run always has a scope");
        if let Some(entry) = scope.iter_mut().find(|(n, _)| n == name) {
            entry.1 = slot;
        } else {
            scope.push((name.to_owned(), slot));
        }
    }

    fn opt(&mut self, e: &Option<Expr>) -> R<Value> {
        match e {
            Some(e) => self.expr(e, None),
            None => Ok(Value::Nothing),
        }
    }

    fn condition(&mut self, e: &Expr) -> R<bool> {
        match self.expr(e, None)? {
            Value::Bool(b) => Ok(b),
            // The router's text for a condition that is not a boolean (the forum thread
            // "conditional not boolean" bug with :onerror, RouterOS 7.13).
            _ => Err(ScriptError::Runtime("conditional not boolean".to_owned())),
        }
    }

    fn number(&mut self, e: &Expr, what: &str) -> R<i64> {
        self.expr(e, None)?
            .to_num()
            .ok_or_else(|| ScriptError::Runtime(format!("invalid value for argument {what}")))
    }

    fn builtin(&mut self, b: &Builtin) -> R<Flow> {
        match b {
            Builtin::Local(name, value) => {
                let v = self.opt(value)?;
                let v = self.built(v)?;
                self.declare(name, Slot::Local(v));
            }
            Builtin::Global(name, value) => {
                let v = match value {
                    Some(e) => {
                        let v = self.expr(e, None)?;
                        Some(self.built(v)?)
                    }
                    None => None,
                };
                let globals = self.host.globals();
                if !globals.contains(name) && globals.len() >= self.limits.max_globals {
                    return Err(ScriptError::Limit(format!(
                        "more than {} global variables (the simulator's bound)",
                        self.limits.max_globals
                    )));
                }
                match v {
                    Some(v) => globals.set(name, v),
                    None if !globals.contains(name) => globals.set(name, Value::Nothing),
                    None => {}
                }
                self.declare(name, Slot::Global);
            }
            Builtin::Set(target, value) => {
                let v = self.opt(value)?;
                let v = self.built(v)?;
                self.assign(target, v)?;
            }
            Builtin::Put(e) => {
                let text = self.opt(e)?.to_string();
                self.output = self.output.saturating_add(text.len() + 1);
                if self.output > self.limits.max_output_bytes {
                    return Err(ScriptError::Limit(format!(
                        "script output longer than {} bytes (the simulator's bound)",
                        self.limits.max_output_bytes
                    )));
                }
                self.host.put(&text);
            }
            Builtin::Log(level, e) => {
                let text = self.opt(e)?.to_string();
                self.host.log(*level, &text);
            }
            Builtin::If {
                cond,
                then,
                otherwise,
            } => {
                let branch = if self.condition(cond)? {
                    then
                } else {
                    otherwise
                };
                if let Some(b) = branch {
                    return self.block(b);
                }
            }
            Builtin::While { cond, body } => {
                while self.condition(cond)? {
                    self.spend(1)?;
                    if let Some(b) = body {
                        match self.block(b)? {
                            Flow::Break => break,
                            Flow::Return(v) => return Ok(Flow::Return(v)),
                            Flow::Normal(_) | Flow::Continue => {}
                        }
                    }
                }
            }
            Builtin::Do {
                body,
                repeat,
                only_if,
                on_error,
            } => {
                return self.do_block(body, repeat.as_ref(), only_if.as_ref(), on_error.as_ref());
            }
            Builtin::For {
                var,
                from,
                to,
                step,
                body,
            } => {
                let from = self.number(from, "from")?;
                let to = self.number(to, "to")?;
                let step = match step {
                    Some(s) => self.number(s, "step")?,
                    None if from <= to => 1,
                    None => -1,
                };
                let mut i = from;
                while (step >= 0 && i <= to) || (step < 0 && i >= to) {
                    self.spend(1)?;
                    if let Some(b) = body {
                        match self.block_with(b, vec![(var.clone(), Slot::Local(Value::Num(i)))])? {
                            Flow::Break => break,
                            Flow::Return(v) => return Ok(Flow::Return(v)),
                            Flow::Normal(_) | Flow::Continue => {}
                        }
                    }
                    match i.checked_add(step) {
                        Some(next) => i = next,
                        None => break,
                    }
                }
            }
            Builtin::Foreach {
                key,
                var,
                over,
                body,
            } => {
                let items: Vec<(Value, Value)> = match self.expr(over, None)? {
                    Value::Array(a) => a.iter().map(|(k, v)| (k.to_value(), v.clone())).collect(),
                    Value::Nothing | Value::Nil => Vec::new(),
                    other => vec![(Value::Num(0), other)],
                };
                for (k, v) in items {
                    self.spend(1)?;
                    let mut vars = Vec::with_capacity(2);
                    if let Some(key) = key {
                        vars.push((key.clone(), Slot::Local(k)));
                    }
                    vars.push((var.clone(), Slot::Local(v)));
                    if let Some(b) = body {
                        match self.block_with(b, vars)? {
                            Flow::Break => break,
                            Flow::Return(v) => return Ok(Flow::Return(v)),
                            Flow::Normal(_) | Flow::Continue => {}
                        }
                    }
                }
            }
            Builtin::OnError { var, body, handler } => {
                let depth = self.scopes.len();
                return match self.block(body) {
                    Ok(Flow::Normal(_)) => Ok(Flow::Normal(Value::Bool(false))),
                    Ok(other) => Ok(other),
                    Err(e) if e.is_catchable() => {
                        self.scopes.truncate(depth);
                        if let Some(h) = handler {
                            let vars = vec![(var.clone(), Slot::Local(Value::Str(e.message())))];
                            if let flow @ (Flow::Return(_) | Flow::Break | Flow::Continue) =
                                self.block_with(h, vars)?
                            {
                                return Ok(flow);
                            }
                        }
                        Ok(Flow::Normal(Value::Bool(true)))
                    }
                    Err(e) => Err(e),
                };
            }
            Builtin::Return(e) => return Ok(Flow::Return(self.opt(e)?)),
            Builtin::Error(e) => return Err(ScriptError::Runtime(self.opt(e)?.to_string())),
            Builtin::Delay(e) => {
                let v = self.opt(e)?;
                let nanos = match &v {
                    Value::Nothing | Value::Nil => 0,
                    other => other.to_time().ok_or_else(|| {
                        ScriptError::Runtime("invalid value for argument delay-time".to_owned())
                    })?,
                };
                let d = Duration::from_nanos(u64::try_from(nanos.max(0)).unwrap_or(0));
                self.host.delay(d).map_err(Failure::plain)?;
            }
            Builtin::Break => return Ok(Flow::Break),
            Builtin::Continue => return Ok(Flow::Continue),
            Builtin::Func(f, args) => {
                if *f == Func::JobName {
                    return Ok(Flow::Normal(
                        self.host.job_name().map_or(Value::Nothing, Value::Str),
                    ));
                }
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(match a {
                        Some(e) => Some(self.expr(e, None)?),
                        None => None,
                    });
                }
                let v = builtins::call(*f, &values);
                return Ok(Flow::Normal(self.built(v)?));
            }
            Builtin::Unsupported(what) => return Err(ScriptError::Unsupported(what.clone())),
        }
        Ok(Flow::Normal(Value::Nothing))
    }

    fn do_block(
        &mut self,
        body: &Block,
        repeat: Option<&Expr>,
        only_if: Option<&Expr>,
        on_error: Option<&Block>,
    ) -> R<Flow> {
        if let Some(c) = only_if
            && !self.condition(c)?
        {
            return Ok(Flow::Normal(Value::Nothing));
        }
        loop {
            self.spend(1)?;
            let depth = self.scopes.len();
            match self.block(body) {
                Ok(Flow::Normal(_)) => {}
                Ok(Flow::Continue) if repeat.is_some() => {}
                Ok(Flow::Break) if repeat.is_some() => break,
                Ok(other) => return Ok(other),
                Err(e) if e.is_catchable() && on_error.is_some() => {
                    self.scopes.truncate(depth);
                    if let Some(h) = on_error {
                        match self.block(h)? {
                            Flow::Normal(_) => {}
                            other => return Ok(other),
                        }
                    }
                    break;
                }
                Err(e) => return Err(e),
            }
            match repeat {
                Some(c) if self.condition(c)? => {}
                _ => break,
            }
        }
        Ok(Flow::Normal(Value::Nothing))
    }

    /// `:set`: a variable in scope (local or declared global), or an element inside it. A name
    /// not declared anywhere becomes a local of the current scope.
    fn assign(&mut self, target: &Target, v: Value) -> R<()> {
        let mut keys = Vec::with_capacity(target.keys.len());
        for k in &target.keys {
            keys.push(self.expr(k, None)?);
        }
        let mut found = None;
        'outer: for (si, scope) in self.scopes.iter().enumerate().rev() {
            for (vi, (n, _)) in scope.iter().enumerate().rev() {
                if n == &target.name {
                    found = Some((si, vi));
                    break 'outer;
                }
            }
        }
        match found {
            Some((si, vi)) => match &mut self.scopes[si][vi].1 {
                Slot::Local(old) => {
                    set_in(old, &keys, v);
                    let w = old.weight();
                    if w > self.limits.max_value_bytes {
                        *old = Value::Nothing;
                        return Err(ScriptError::Limit(format!(
                            "value of about {w} bytes is larger than the simulator allows ({} bytes)",
                            self.limits.max_value_bytes
                        )));
                    }
                }
                Slot::Global => {
                    let max = self.limits.max_value_bytes;
                    let globals = self.host.globals();
                    let mut value = globals.get(&target.name).cloned().unwrap_or_default();
                    set_in(&mut value, &keys, v);
                    if value.weight() > max {
                        return Err(ScriptError::Limit(format!(
                            "value of about {} bytes is larger than the simulator allows ({max} bytes)",
                            value.weight()
                        )));
                    }
                    globals.set(&target.name, value);
                }
            },
            None => {
                let mut value = Value::Nothing;
                set_in(&mut value, &keys, v);
                self.declare(&target.name, Slot::Local(value));
            }
        }
        Ok(())
    }

    /// A menu command: `find` is answered here, everything else by the host.
    fn menu(&mut self, cmd: &MenuCmd, line: u32) -> R<Value> {
        // A command at the root (`/import`, `/execute`) has no menu words before it.
        let path = match cmd.menu.is_empty() {
            true => format!("/{}", cmd.command),
            false => format!("/{}/{}", cmd.menu.join("/"), cmd.command),
        };
        let fail = |f: Failure| f.in_script(&path, line);
        let mut args = Vec::with_capacity(cmd.args.len());
        for (name, arg) in &cmd.args {
            let v = match arg {
                Arg::Value(e) => self.expr(e, None)?,
                Arg::Flag => Value::Nothing,
            };
            args.push((name.clone(), v));
        }
        if cmd.command == "find" {
            let ids = self.select(&cmd.menu, &args, cmd.filter.as_ref(), &fail)?;
            return Ok(Value::Array(Array::from_values(
                ids.into_iter().map(Value::Id).collect(),
            )));
        }
        let selected = match &cmd.filter {
            Some(f) => Some(self.select(&cmd.menu, &[], Some(f), &fail)?),
            None => None,
        };
        let call = Call {
            menu: cmd.menu.clone(),
            command: cmd.command.clone(),
            args,
            selected,
        };
        self.host.run(call).map_err(fail)
    }

    /// The `.id`s of the rows matching `field=value` filters and a `where` clause.
    fn select(
        &mut self,
        menu: &[String],
        filters: &[(String, Value)],
        clause: Option<&Expr>,
        fail: &dyn Fn(Failure) -> ScriptError,
    ) -> R<Vec<String>> {
        let rows = self.host.rows(menu).map_err(fail)?;
        self.spend(rows.len() as u64)?;
        let mut ids = Vec::new();
        for row in &rows {
            let mut keep = filters.iter().all(|(name, want)| {
                let have = row.field(name).unwrap_or("");
                loose_eq(&Value::from_word(have), want)
            });
            if keep && let Some(c) = clause {
                keep = matches!(self.expr(c, Some(row))?, Value::Bool(true));
            }
            if keep {
                ids.push(row.id.clone());
            }
        }
        Ok(ids)
    }

    /// Evaluates an expression; `row` is the row a `where` clause is looking at.
    fn expr(&mut self, e: &Expr, row: Option<&Row>) -> R<Value> {
        self.spend(1)?;
        Ok(match e {
            Expr::Lit(v) => v.clone(),
            Expr::Text(parts) => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        TextPart::Lit(t) => s.push_str(t),
                        TextPart::Expr(e) => {
                            let v = self.expr(e, row)?;
                            s.push_str(&v.to_string());
                        }
                    }
                    if s.len() > self.limits.max_string_bytes {
                        break;
                    }
                }
                self.built(Value::Str(s))?
            }
            Expr::Var(name) => {
                let v = self.lookup(name);
                self.spend((v.weight() / 4096) as u64)?;
                v
            }
            Expr::Field(name) => match row.and_then(|r| r.field(name)) {
                Some(text) => Value::from_word(text),
                None => Value::Nothing,
            },
            // `$name->key` reads the element in place: copying a whole array to read one item
            // would make a script that looks up each of 10,000 keys quadratic.
            Expr::Index(base, key) if matches!(&**base, Expr::Var(_)) => {
                let Expr::Var(name) = &**base else {
                    unreachable!("matched above")
                };
                let key = self.expr(key, row)?;
                self.spend(1)?;
                self.index_var(name, &key)
            }
            Expr::Index(base, key) => {
                let base = self.expr(base, row)?;
                let key = self.expr(key, row)?;
                match base {
                    Value::Array(a) => a.get(&key).cloned().unwrap_or_default(),
                    _ => Value::Nothing,
                }
            }
            Expr::Unary(op, inner) => {
                let v = self.expr(inner, row)?;
                match (op, v) {
                    (UnOp::Not, Value::Bool(b)) => Value::Bool(!b),
                    (UnOp::Neg, Value::Num(n)) => Value::Num(n.wrapping_neg()),
                    (UnOp::Neg, Value::Time(t)) => Value::Time(t.wrapping_neg()),
                    (UnOp::Inv, Value::Num(n)) => Value::Num(!n),
                    (UnOp::Inv, Value::Ip(ip)) => Value::Ip(Ipv4Addr::from(!u32::from(ip))),
                    _ => Value::Nil,
                }
            }
            Expr::Binary(op, a, b) => self.binary(*op, a, b, row)?,
            Expr::Array(items) => {
                let mut arr = Array::new();
                for (key, e) in items {
                    let v = self.expr(e, row)?;
                    match key {
                        Some(k) => arr.insert(k.clone(), v),
                        None => arr.push(v),
                    }
                    if arr.len() > self.limits.max_array_len {
                        return Err(self.array_too_long());
                    }
                }
                self.built(Value::Array(arr))?
            }
            Expr::Cmd(block) => match self.block(block)? {
                Flow::Normal(v) | Flow::Return(v) => v,
                Flow::Break | Flow::Continue => Value::Nothing,
            },
        })
    }

    fn array_too_long(&self) -> ScriptError {
        ScriptError::Limit(format!(
            "array longer than {} items (the simulator's bound)",
            self.limits.max_array_len
        ))
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, row: Option<&Row>) -> R<Value> {
        // `and` and `or` look at their right side only when they need it.
        if matches!(op, BinOp::And | BinOp::Or) {
            let left = self.expr(a, row)?;
            return Ok(match (op, left) {
                (BinOp::And, Value::Bool(false)) => Value::Bool(false),
                (BinOp::Or, Value::Bool(true)) => Value::Bool(true),
                (_, Value::Bool(_)) => match self.expr(b, row)? {
                    Value::Bool(r) => Value::Bool(r),
                    _ => Value::Nil,
                },
                _ => Value::Nil,
            });
        }
        let x = self.expr(a, row)?;
        let y = self.expr(b, row)?;
        use Value as V;
        Ok(match op {
            BinOp::Comma => {
                let mut arr = into_array(x);
                arr.extend(into_array(y));
                if arr.len() > self.limits.max_array_len {
                    return Err(self.array_too_long());
                }
                self.built(V::Array(arr))?
            }
            BinOp::Eq | BinOp::Ne => {
                // Inside `where` a field's printed text and the value it is compared with match
                // when either their typed values or their texts are equal (`comment="123"`).
                let eq = if row.is_some() {
                    loose_eq(&x, &y)
                } else {
                    x == y
                };
                V::Bool(eq == (op == BinOp::Eq))
            }
            BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
                let ord = compare(&x, &y);
                V::Bool(match (op, ord) {
                    (_, None) => false,
                    (BinOp::Lt, Some(o)) => o.is_lt(),
                    (BinOp::Gt, Some(o)) => o.is_gt(),
                    (BinOp::Le, Some(o)) => o.is_le(),
                    (_, Some(o)) => o.is_ge(),
                })
            }
            BinOp::Match => {
                let pattern = y.to_string();
                let re = self.regex(&pattern)?;
                V::Bool(re.is_match(&x.to_string()))
            }
            BinOp::In => V::Bool(match (&x, &y) {
                (V::Ip(ip), V::IpPrefix(net)) => net.trunc().contains(ip),
                (V::IpPrefix(inner), V::IpPrefix(net)) => net.trunc().contains(&inner.trunc()),
                (V::Ip6(ip), V::Ip6Prefix(net)) => net.trunc().contains(ip),
                (V::Ip6Prefix(inner), V::Ip6Prefix(net)) => net.trunc().contains(&inner.trunc()),
                (V::Ip(a), V::Ip(b)) => a == b,
                _ => false,
            }),
            BinOp::BitOr | BinOp::BitXor | BinOp::BitAnd => match (x, y) {
                (V::Num(p), V::Num(q)) => V::Num(bitop(op, p as u64, q as u64) as i64),
                (V::Ip(p), V::Ip(q)) => {
                    V::Ip(Ipv4Addr::from(
                        bitop(op, u64::from(u32::from(p)), u64::from(u32::from(q))) as u32,
                    ))
                }
                _ => V::Nil,
            },
            BinOp::Shl | BinOp::Shr => match (x, y) {
                (V::Num(p), V::Num(q)) if (0..64).contains(&q) => {
                    V::Num(if op == BinOp::Shl { p << q } else { p >> q })
                }
                (V::Num(_), V::Num(_)) => V::Num(0),
                _ => V::Nil,
            },
            BinOp::Add => match (x, y) {
                (V::Num(p), V::Num(q)) => V::Num(p.wrapping_add(q)),
                (V::Time(p), V::Time(q)) => V::Time(p.saturating_add(q)),
                (V::Ip(ip), V::Num(n)) | (V::Num(n), V::Ip(ip)) => V::Ip(ip_add(ip, n)),
                _ => V::Nil,
            },
            BinOp::Sub => match (x, y) {
                (V::Num(p), V::Num(q)) => V::Num(p.wrapping_sub(q)),
                (V::Time(p), V::Time(q)) => V::Time(p.saturating_sub(q)),
                (V::Ip(ip), V::Num(n)) => V::Ip(ip_add(ip, n.wrapping_neg())),
                (V::Ip(p), V::Ip(q)) => V::Num(i64::from(u32::from(p)) - i64::from(u32::from(q))),
                _ => V::Nil,
            },
            BinOp::Concat => {
                let mut s = x.to_string();
                s.push_str(&y.to_string());
                self.built(V::Str(s))?
            }
            BinOp::Mul => match (x, y) {
                (V::Num(p), V::Num(q)) => V::Num(p.wrapping_mul(q)),
                (V::Time(t), V::Num(n)) | (V::Num(n), V::Time(t)) => V::Time(t.saturating_mul(n)),
                _ => V::Nil,
            },
            BinOp::Div | BinOp::Rem => match (x, y) {
                (V::Num(_), V::Num(0)) | (V::Time(_), V::Num(0)) | (V::Time(_), V::Time(0)) => {
                    return Err(ScriptError::Runtime("division by zero".to_owned()));
                }
                (V::Num(p), V::Num(q)) => V::Num(if op == BinOp::Div {
                    p.wrapping_div(q)
                } else {
                    p.wrapping_rem(q)
                }),
                (V::Time(t), V::Num(n)) if op == BinOp::Div => V::Time(t.wrapping_div(n)),
                (V::Time(t), V::Time(u)) if op == BinOp::Div => V::Num(t.wrapping_div(u)),
                _ => V::Nil,
            },
            BinOp::And | BinOp::Or => unreachable!("handled above"),
        })
    }

    /// A compiled regular expression, cached per pattern (bounded in size and count).
    fn regex(&mut self, pattern: &str) -> R<Regex> {
        if let Some(re) = self.regexes.get(pattern) {
            return Ok(re.clone());
        }
        self.spend(pattern.len() as u64)?;
        let re = RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .dfa_size_limit(1 << 20)
            .build()
            .map_err(|_| ScriptError::Runtime(format!("invalid regular expression: {pattern}")))?;
        if self.regexes.len() >= 64 {
            self.regexes.clear();
        }
        self.regexes.insert(pattern.to_owned(), re.clone());
        Ok(re)
    }
}

/// A value as an array for the `,` operator.
fn into_array(v: Value) -> Array {
    match v {
        Value::Array(a) => a,
        Value::Nothing => Array::new(),
        other => Array::from_values(vec![other]),
    }
}

fn bitop(op: BinOp, p: u64, q: u64) -> u64 {
    match op {
        BinOp::BitOr => p | q,
        BinOp::BitXor => p ^ q,
        _ => p & q,
    }
}

fn ip_add(ip: Ipv4Addr, n: i64) -> Ipv4Addr {
    Ipv4Addr::from((i64::from(u32::from(ip)).wrapping_add(n)) as u32)
}

/// Equality for `find` filters and `where`: equal values, or equal texts.
fn loose_eq(a: &Value, b: &Value) -> bool {
    a == b || a.to_string() == b.to_string()
}

/// Writes `v` at `keys` inside `target`, turning non-arrays on the way into arrays.
fn set_in(target: &mut Value, keys: &[Value], v: Value) {
    let Some((first, rest)) = keys.split_first() else {
        *target = v;
        return;
    };
    if !matches!(target, Value::Array(_)) {
        *target = Value::Array(Array::new());
    }
    if let Value::Array(arr) = target {
        arr.update(first, |slot| set_in(slot, rest, v));
    }
}

/// A whole run: the value of `:return` (or nothing) and the steps spent.
pub fn run_block(block: &Block, host: &mut dyn Host, limits: &Limits) -> R<(Value, u64)> {
    let mut ev = Eval::new(host, limits);
    let flow = ev.block(block)?;
    let value = match flow {
        Flow::Return(v) => v,
        Flow::Normal(_) | Flow::Break | Flow::Continue => Value::Nothing,
    };
    Ok((value, ev.steps))
}
