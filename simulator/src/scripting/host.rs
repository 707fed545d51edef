//! The router as a script sees it: [`RegistryCatalog`] (the menus the simulator serves, for the
//! parser) and the [`Host`] that runs each command of a script through [`Router::run`], exactly as
//! the same REST request would.
//!
//! A script runs on a blocking thread. Each command takes the router's lock for that command
//! only; a command that the model answers with deferred work (a nested `/tool/fetch`,
//! `/system/script run`, `/import`, `/execute`) is carried out right here, on the same thread.
//!
//! What a scripted command adds to the model's behaviour, and only that:
//! - ids: `numbers` and `number` may be ids, arrays of ids (`[find ...]`) or names; a `where`
//!   clause's rows become `numbers`; an empty selection makes `remove`/`set`/`enable`/`disable` a
//!   no-op, as on a router;
//! - `print as-value` returns the rows as an array of arrays; a plain `print` writes nothing
//!   (the console's table layout is not reproduced);
//! - fault rules: a rule whose path matches `/rest/<menu>/<command>` (method empty or `SCRIPT`)
//!   fails the scripted command with its status's text, so faults reach scripted commands;
//! - costs: each command spends `Limits::script_command_cost` of modelled time (the router-speed
//!   profile), and a print or `[find]` also the read it makes (`crate::costs`: a scan of the
//!   table, and the rows and fields a print returns), added up and slept after the script as REST costs are; with modelled time each
//!   command's cost moves the simulator's clock before the command runs (on the run's
//!   [`Meter`]), and scheduler entries that fall due meanwhile run between commands.
//!
//! [`Router::run`]: crate::model::Router::run

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::runtime::Handle;

use super::{Caller, fetch, log, mark_started};
use crate::faults::{Action, RequestInfo};
use crate::meter::Meter;
use crate::model::args::{Args, format_id, parse_id};
use crate::model::failure::Failure as ModelFailure;
use crate::model::menus::Menu;
use crate::model::outcome::{Context, Outcome, Rows};
use crate::model::scripting::{Scripts, Work};
use crate::model::services::Listener;
use crate::model::spec::Shape;
use crate::model::users::Policies;
use crate::model::version::Version;
use crate::script::{
    self, Call, Catalog, CommandSpec, Failure, Globals, Host, Limits, LogLevel, Node, Row,
    ScriptError, Value,
};
use crate::shared::Shared;

/// The menus the simulator serves, as the script parser asks about them.
#[derive(Debug, Clone)]
pub struct RegistryCatalog {
    version: Version,
}

impl RegistryCatalog {
    /// The catalog of a router of `version`.
    pub fn new(version: Version) -> Self {
        Self { version }
    }
}

/// Arguments a command takes in a script besides its declared ones: the item words, and
/// `print`'s script-only flags.
fn script_extras(command: &str) -> &'static [&'static str] {
    match command {
        "print" => &["as-value", "where", "count-only", "detail"],
        "get" => &["number", "value-name"],
        "remove" | "enable" | "disable" => &["numbers", "where"],
        "set" => &["numbers", "where"],
        _ => &[],
    }
}

impl Catalog for RegistryCatalog {
    fn node(&self, path: &[String]) -> Node {
        if path.is_empty() {
            return Node::Menu;
        }
        let joined = format!("/{}", path.join("/"));
        if let Some(menu) = Menu::at(&joined) {
            if menu.spec().shape != Shape::Commands {
                return Node::Menu;
            }
            // `/execute`, `/import`, `/tool/fetch`: the path is the command.
            let word = &path[path.len() - 1];
            return match menu.spec().command(word, &self.version) {
                Some(cmd) => Node::Command(CommandSpec::with_conventions(
                    word,
                    cmd.args
                        .iter()
                        .filter(|a| a.versions.contains(&self.version))
                        .map(|a| a.name.to_owned())
                        .collect(),
                )),
                None => Node::Unknown,
            };
        }
        let prefix = format!("{joined}/");
        if Menu::all().any(|m| m.path().starts_with(&prefix)) {
            return Node::Menu;
        }
        let (word, parent) = (&path[path.len() - 1], &path[..path.len() - 1]);
        let Some(menu) = Menu::at(&format!("/{}", parent.join("/"))) else {
            return Node::Unknown;
        };
        if menu.spec().shape == Shape::Commands {
            return Node::Unknown;
        }
        if word == "find" {
            return Node::Command(CommandSpec::with_conventions("find", Vec::new()));
        }
        match menu.spec().command(word, &self.version) {
            Some(cmd) => {
                let mut args: Vec<String> = cmd
                    .args
                    .iter()
                    .filter(|a| a.versions.contains(&self.version))
                    .map(|a| a.name.trim_start_matches('.').to_owned())
                    .collect();
                args.extend(script_extras(word).iter().map(|s| (*s).to_owned()));
                Node::Command(CommandSpec::with_conventions(word, args))
            }
            None => Node::Unknown,
        }
    }
}

/// How a run is bounded and what it is.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The session limit of a REST caller that waits; `None` for background jobs and scheduled
    /// runs.
    pub session: Option<Duration>,
    /// Set when the waiting caller gave up.
    pub cancel: Arc<AtomicBool>,
    /// The simulated time the run starts at (a scheduled run sees the time it was due at);
    /// `None`: the clock's time.
    pub at: Option<u64>,
    /// `:jobname`: the script's name.
    pub job_name: Option<String>,
    /// How deeply runs are nested (a script running a script).
    pub depth: u32,
    /// With modelled time, the meter the run's costs are charged on as they are spent (the
    /// REST request's, bounded by its session; or a background run's); `None`: costs are added
    /// up and waited for after the run.
    pub meter: Option<Arc<Meter>>,
    /// Whether the run catches up with the scheduler after each modelled cost (not a scheduled
    /// run itself: the catch-up it belongs to runs the rest).
    pub catch_up: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            session: None,
            cancel: Arc::new(AtomicBool::new(false)),
            at: None,
            job_name: None,
            depth: 0,
            meter: None,
            catch_up: false,
        }
    }
}

impl RunOptions {
    /// Options whose costs go on `meter` when it is modelled (and are waited for otherwise).
    pub fn metered(meter: &Arc<Meter>, catch_up: bool) -> RunOptions {
        RunOptions {
            meter: meter.is_modelled().then(|| meter.clone()),
            catch_up,
            ..RunOptions::default()
        }
    }

    /// `cost` as the caller still has to pay it: nothing when it was charged on the modelled
    /// meter here.
    fn outstanding(&self, cost: Duration) -> Result<Duration, ModelFailure> {
        match &self.meter {
            Some(m) => m
                .charge(cost)
                .map(|()| Duration::ZERO)
                .map_err(|_| ModelFailure::bad_request(SESSION_CLOSED)),
            None => Ok(cost),
        }
    }
}

/// The most runs nested in one another (`/system script run` inside a script, `/import` inside
/// an import): a bound of the simulator's.
const MAX_DEPTH: u32 = 8;

/// A finished run.
#[derive(Debug)]
pub struct Ran {
    /// The `:put` lines.
    pub output: Vec<String>,
    /// Modelled time its commands cost that is still to be waited for (none with modelled
    /// time: the meter moved the clock as they ran).
    pub cost: Duration,
}

/// The host of one run.
struct RouterHost<'a> {
    shared: &'a Arc<Shared>,
    handle: &'a Handle,
    catalog: RegistryCatalog,
    caller: &'a Caller,
    opts: &'a RunOptions,
    globals: Globals,
    output: Vec<String>,
    /// Time `:delay` moved this run forward.
    offset: Duration,
    /// Costs to be waited for after the run.
    cost: Duration,
    /// Costs charged on the modelled meter as the run went.
    paid: Duration,
    command_cost: Duration,
}

/// Runs `source` as `caller`.
pub fn run_source(
    shared: &Arc<Shared>,
    handle: &Handle,
    source: &str,
    caller: &Caller,
    opts: &RunOptions,
) -> Result<Ran, ScriptError> {
    let (ran, result) = run_source_full(shared, handle, source, caller, opts);
    result.map(|()| ran)
}

/// Runs `source` as `caller`: what it printed and cost, whether or not it failed.
pub fn run_source_full(
    shared: &Arc<Shared>,
    handle: &Handle,
    source: &str,
    caller: &Caller,
    opts: &RunOptions,
) -> (Ran, Result<(), ScriptError>) {
    let version = shared.router().version.clone();
    let mut host = RouterHost {
        shared,
        handle,
        catalog: RegistryCatalog::new(version),
        caller,
        opts,
        globals: shared.scripting.take_globals(&caller.name),
        output: Vec::new(),
        offset: Duration::ZERO,
        cost: Duration::ZERO,
        paid: Duration::ZERO,
        command_cost: shared.limits().script_command_cost,
    };
    let result = script::run(source, &mut host, &Limits::default());
    shared
        .scripting
        .put_globals(&caller.name, std::mem::take(&mut host.globals));
    let ran = Ran {
        output: host.output,
        cost: host.cost,
    };
    (ran, result.map(|_| ()))
}

/// Carries out deferred work on this (blocking) thread: the result as REST renders it, and the
/// modelled cost.
pub fn perform_blocking(
    shared: &Arc<Shared>,
    handle: &Handle,
    work: Work,
    caller: &Caller,
    opts: &RunOptions,
) -> Result<(Outcome, Duration), ModelFailure> {
    match work {
        Work::Execute {
            source,
            as_string,
            file,
        } => {
            if !as_string {
                // A nested background `/execute` runs in line: the outer script is already off
                // the request's path.
                let (ran, result) = run_source_full(shared, handle, &source, caller, opts);
                if let Some(name) = &file {
                    super::write_output(shared, name, &ran.output);
                }
                let cost = match result {
                    Ok(()) => ran.cost,
                    Err(_) => Duration::ZERO,
                };
                return Ok((
                    Outcome::Value {
                        text: "*0".into(),
                        rows: 0,
                    },
                    cost,
                ));
            }
            let (ran, result) = run_source_full(shared, handle, &source, caller, opts);
            if let Some(name) = &file {
                super::write_output(shared, name, &ran.output);
            }
            match result {
                Ok(()) if ran.output.is_empty() => Ok((Outcome::Done { rows: 0 }, ran.cost)),
                // Lines of `:put` are joined by the console's line break; a single `:put 1`
                // answers `{"ret":"1"}` (7.23.3 capture, tikoci/routeros-skills PR #20).
                Ok(()) => Ok((
                    Outcome::Value {
                        text: ran.output.join("\r\n"),
                        rows: 0,
                    },
                    ran.cost,
                )),
                // Out of time: the router answers `400 Session closed` (ROUTEROS-REST.md §5).
                Err(ScriptError::Limit(m)) if m == SESSION_CLOSED => {
                    Err(ModelFailure::bad_request(SESSION_CLOSED))
                }
                // A script error comes back as `200` with the error text in `ret` (7.23.3 CHR,
                // tikoci/routeros-skills PR #20), after what the script printed before it
                // [likely: not captured].
                Err(e) => {
                    let mut lines = ran.output;
                    lines.push(e.to_string());
                    Ok((
                        Outcome::Value {
                            text: lines.join("\r\n"),
                            rows: 0,
                        },
                        ran.cost,
                    ))
                }
            }
        }
        Work::Run {
            id,
            use_script_permissions,
        } => run_script(shared, handle, id, use_script_permissions, caller, opts)
            .map(|cost| (Outcome::Done { rows: 0 }, cost))
            .map_err(|e| match e {
                RunError::Refused(f) => f,
                RunError::Script(e) => ModelFailure::bad_request(e.to_string()),
            }),
        // `dry-run` reads the whole file as the import would and reports what would stop it,
        // changing nothing (MikroTik manual, Scripting, "import", 7.16) [likely: only the parse
        // is checked; commands are not tried against the configuration].
        Work::Import {
            source,
            dry_run: true,
            ..
        } => {
            let catalog = RegistryCatalog::new(shared.router().version.clone());
            match script::parse(&source, &catalog, &Limits::default()) {
                Ok(_) => Ok((Outcome::Done { rows: 0 }, Duration::ZERO)),
                Err(e) => Err(ModelFailure::bad_request(format!("Script Error: {e}"))),
            }
        }
        Work::Import { source, .. } => match run_source(shared, handle, &source, caller, opts) {
            Ok(ran) => Ok((Outcome::Done { rows: 0 }, ran.cost)),
            // `Script Error: bad command name this (line 1 column 1)` is what `:onerror` sees of
            // a failed import (MikroTik manual, Scripting, "import").
            Err(e) => Err(ModelFailure::bad_request(format!("Script Error: {e}"))),
        },
        Work::Fetch(args) => {
            let version = shared.router().version.clone();
            let result = handle.block_on(fetch::fetch(shared, &args, &version))?;
            Ok((
                result.rest_outcome(&args),
                opts.outstanding(shared.limits().fetch_cost)?,
            ))
        }
    }
}

/// The text of the 60-second cut (ROUTEROS-REST.md §5).
pub const SESSION_CLOSED: &str = "Session closed";

/// Why `/system/script run` failed.
#[derive(Debug)]
pub enum RunError {
    /// Refused before running (`not enough permissions (9)`, no such script).
    Refused(ModelFailure),
    /// The script stopped with an error.
    Script(ScriptError),
}

/// Runs script `id` as `caller` would with `run` (MikroTik manual, Scripting, "Script
/// permissions"): a script whose policies are not all the caller's cannot be run unless it has
/// `dont-require-permissions=yes`; it runs with the caller's policies, or with its own under
/// `use-script-permissions`.
pub fn run_script(
    shared: &Arc<Shared>,
    handle: &Handle,
    id: u32,
    use_script_permissions: bool,
    caller: &Caller,
    opts: &RunOptions,
) -> Result<Duration, RunError> {
    let script = shared
        .router()
        .state::<Scripts>()
        .get(id)
        .cloned()
        .ok_or_else(|| RunError::Refused(ModelFailure::bad_request("no such item")))?;
    if !script.dont_require_permissions && !script.policy.within(caller.policies) {
        return Err(RunError::Refused(ModelFailure::not_enough_permissions()));
    }
    let policies = match use_script_permissions {
        true => script.policy,
        false => caller.policies,
    };
    mark_started(shared, id);
    let inner = Caller {
        policies,
        ..caller.clone()
    };
    let opts = RunOptions {
        job_name: Some(script.name.clone()),
        ..opts.clone()
    };
    run_source(shared, handle, &script.source, &inner, &opts)
        .map(|r| r.cost)
        .map_err(RunError::Script)
}

impl Catalog for RouterHost<'_> {
    fn node(&self, path: &[String]) -> Node {
        self.catalog.node(path)
    }
}

fn fail(f: ModelFailure) -> Failure {
    Failure::Error(f.to_string())
}

impl RouterHost<'_> {
    /// The simulated time a command of this run happens at: the clock's (which modelled costs
    /// move), or for a run that starts at a given time (a scheduled run) that time plus what the
    /// run has charged; plus what `:delay` added.
    fn now(&self) -> u64 {
        let base = match self.opts.at {
            Some(at) => at + self.paid.as_millis() as u64,
            None => self.shared.clock.now(),
        };
        base + self.offset.as_millis() as u64
    }

    /// Spends `cost` of the router-speed profile: on the modelled meter, moving the clock (and
    /// running the scheduler entries that fall due), or added up to be waited for after the run.
    fn spend(&mut self, cost: Duration) -> Result<(), Failure> {
        let Some(meter) = &self.opts.meter else {
            self.cost += cost;
            return Ok(());
        };
        if cost.is_zero() {
            return Ok(());
        }
        meter
            .charge(cost)
            .map_err(|_| Failure::Abort(SESSION_CLOSED.into()))?;
        self.paid += cost;
        if self.opts.catch_up {
            super::schedule::catch_up_blocking(self.shared, self.handle);
        }
        Ok(())
    }

    fn context(&self) -> Context {
        let now = self.now();
        Context {
            policies: self.caller.policies,
            now,
            wall_s: self.shared.clock.wall_ms(now).div_euclid(1000),
            user: self.caller.user,
        }
    }

    /// Stops the run when its caller gave up or its modelled time passed the session limit.
    fn bounded(&self) -> Result<(), Failure> {
        if self.opts.cancel.load(Ordering::Relaxed) {
            return Err(Failure::Abort(SESSION_CLOSED.into()));
        }
        if let Some(meter) = &self.opts.meter {
            // Modelled time: the meter knows what the whole request spent; `:delay` moves only
            // the run's own time, and counts against the session as before.
            return meter
                .check(self.offset)
                .map_err(|_| Failure::Abort(SESSION_CLOSED.into()));
        }
        if let Some(limit) = self.opts.session
            && self.cost + self.offset > limit
        {
            return Err(Failure::Abort(SESSION_CLOSED.into()));
        }
        Ok(())
    }

    /// The menu and command word of a scripted command.
    fn target(call: &Call) -> Result<(Menu, String), Failure> {
        let joined = format!("/{}", call.menu.join("/"));
        let whole = format!("{joined}/{}", call.command).replace("//", "/");
        if let Some(m) = Menu::at(&whole).filter(|m| m.spec().shape == Shape::Commands) {
            return Ok((m, call.command.clone()));
        }
        match Menu::at(&joined) {
            Some(m) => Ok((m, call.command.clone())),
            None => Err(Failure::Error(format!(
                "no such command or directory ({})",
                call.command
            ))),
        }
    }

    /// The fault a rule for `/rest/<menu>/<command>` injects into a scripted command.
    fn fault(&self, menu: Menu, command: &str) -> Result<(), Failure> {
        let path = match menu.spec().shape {
            Shape::Commands => format!("/rest{}", menu.path()),
            _ => format!("/rest{}/{command}", menu.path()),
        };
        let info = RequestInfo {
            listener: Listener::WwwSsl,
            method: "SCRIPT",
            path: &path,
            user: Some(&self.caller.name),
        };
        match self.shared.faults.on_request(&info).map(|h| h.action) {
            Some(Action::Status { detail, status }) => Err(Failure::Error(
                detail.unwrap_or_else(|| format!("failure: status {status}")),
            )),
            Some(Action::Body { .. }) => Err(Failure::Error("failure: bad reply".into())),
            _ => Ok(()),
        }
    }

    /// The ids a `numbers`/`number` value names: ids, arrays of ids, or names.
    fn ids(&self, menu: Menu, v: &Value) -> Result<Vec<String>, Failure> {
        let words: Vec<String> = match v {
            Value::Array(a) => a.values().map(Value::arg_text).collect(),
            other => other
                .arg_text()
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        let router = self.shared.router();
        words
            .into_iter()
            .map(|w| match parse_id(&w) {
                Some(_) => Ok(w),
                None => router
                    .id_by_name(menu, &w)
                    .map(format_id)
                    .ok_or_else(|| Failure::Error("no such item".into())),
            })
            .collect()
    }

    fn rows_value(rows: &Rows) -> Value {
        let items = rows
            .iter()
            .map(|r| {
                let mut a = script::Array::new();
                for (k, v) in r.fields() {
                    a.insert((*k).to_owned(), Value::from_word(v));
                }
                Value::Array(a)
            })
            .collect();
        Value::Array(script::Array::from_values(items))
    }

    fn nested(&mut self, work: Work) -> Result<Value, Failure> {
        if self.opts.depth >= MAX_DEPTH {
            return Err(Failure::Abort(format!(
                "scripts nested more than {MAX_DEPTH} deep; the simulator stops here"
            )));
        }
        let opts = RunOptions {
            depth: self.opts.depth + 1,
            at: Some(self.now()),
            ..self.opts.clone()
        };
        if let Work::Fetch(args) = &work {
            let version = self.catalog.version.clone();
            let result = self
                .handle
                .block_on(fetch::fetch(self.shared, args, &version))
                .map_err(fail)?;
            self.spend(self.shared.limits().fetch_cost)?;
            return Ok(result.script_value(args));
        }
        let (outcome, cost) =
            perform_blocking(self.shared, self.handle, work, self.caller, &opts).map_err(fail)?;
        self.cost += cost;
        Ok(match outcome {
            Outcome::Value { text, .. } => Value::str(text),
            _ => Value::Nothing,
        })
    }
}

impl Host for RouterHost<'_> {
    fn run(&mut self, call: Call) -> Result<Value, Failure> {
        self.bounded()?;
        self.spend(self.command_cost)?;
        let (menu, command) = Self::target(&call)?;
        self.fault(menu, &command)?;
        let mut args = Args::default();
        let mut as_value = false;
        let mut numbers: Option<Vec<String>> = None;
        for (name, v) in &call.args {
            match name.as_str() {
                "numbers" | "number" if command != "run" => {
                    numbers
                        .get_or_insert_with(Vec::new)
                        .extend(self.ids(menu, v)?);
                }
                "as-value" if command == "print" => as_value = true,
                "where" => {}
                "proplist" => args.push(".proplist", v.arg_text()),
                _ => args.push(name.as_str(), v.arg_text()),
            }
        }
        if let Some(sel) = &call.selected
            && command != "print"
        {
            numbers
                .get_or_insert_with(Vec::new)
                .extend(sel.iter().cloned());
        }
        if let Some(ids) = &numbers {
            if ids.is_empty() {
                // `remove [find ...]` that matched nothing does nothing on a router.
                return Ok(Value::Nothing);
            }
            args.push("numbers", ids.join(","));
        }
        let ctx = self.context();
        let outcome = {
            let mut router = self.shared.router();
            router.purge(ctx.now);
            router.run(menu, &command, args, &ctx)
        };
        if menu.imp().drives_listeners() {
            self.shared.publish_services();
        }
        let outcome = outcome.map_err(fail)?;
        // A print inside a script reads the table as a REST print does: its scan, rows and
        // fields cost the same (`crate::costs`), on top of the command's own cost. Writes are
        // already in the scripted command's cost, which was measured on scripted adds.
        if let Outcome::Rows { .. } = &outcome {
            self.spend(self.shared.limits().outcome_cost(&outcome, None))?;
        }
        match outcome {
            Outcome::Added(id) => Ok(Value::Id(format_id(id))),
            Outcome::Value { text, .. } => Ok(Value::from_word(&text)),
            Outcome::Done { .. } => Ok(Value::Nothing),
            Outcome::Rows { rows, .. } => {
                let rows = match &call.selected {
                    Some(sel) => Rows::Owned(
                        rows.iter()
                            .filter(|r| r.get(".id").is_some_and(|id| sel.iter().any(|s| s == id)))
                            .map(|r| r.into_owned())
                            .collect(),
                    ),
                    None => rows,
                };
                match as_value {
                    true => Ok(Self::rows_value(&rows)),
                    false => Ok(Value::Nothing),
                }
            }
            Outcome::Deferred(work) => self.nested(work),
        }
    }

    fn rows(&mut self, menu: &[String]) -> Result<Vec<Row>, Failure> {
        let menu = Menu::at(&format!("/{}", menu.join("/")))
            .ok_or_else(|| Failure::Error("no such command or directory".into()))?;
        let ctx = self.context();
        let outcome = {
            let mut router = self.shared.router();
            router.purge(ctx.now);
            router.run(menu, "print", Args::default(), &ctx)
        };
        let outcome = outcome.map_err(fail)?;
        // `[find where ...]` checks every row of the table against its condition, as a filtered
        // print does: a scan of each row (`crate::costs`).
        if let Outcome::Rows { rows, .. } = &outcome {
            let scan = self.shared.limits().read_cost(crate::costs::Read {
                examined: rows.len(),
                ..Default::default()
            });
            self.spend(scan)?;
        }
        match outcome {
            Outcome::Rows { rows, .. } => Ok(rows
                .iter()
                .map(|r| Row {
                    id: r.get(".id").unwrap_or_default().to_owned(),
                    fields: r
                        .fields()
                        .iter()
                        .filter(|(k, _)| *k != ".id")
                        .map(|(k, v)| ((*k).to_owned(), v.to_string()))
                        .collect(),
                })
                .collect()),
            _ => Ok(Vec::new()),
        }
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        let now = self.now();
        let wall = self.shared.clock.wall_ms(now).div_euclid(1000);
        let topics = format!("script,{}", level.as_str());
        self.shared
            .router()
            .state::<crate::model::scripting::Log>()
            .push(wall, &topics, message);
    }

    fn put(&mut self, line: &str) {
        self.output.push(line.to_owned());
    }

    fn delay(&mut self, d: Duration) -> Result<(), Failure> {
        self.offset += d;
        self.bounded()
    }

    fn globals(&mut self) -> &mut Globals {
        &mut self.globals
    }

    fn job_name(&self) -> Option<String> {
        self.opts.job_name.clone()
    }

    fn check(&mut self) -> Result<(), Failure> {
        self.bounded()
    }
}

/// Logs a scheduled or background run's failure the way a router does: `executing script <name>
/// from scheduler (<entry>) failed, please check it manually` under `script,error`, and the
/// message under `script,error,debug` (MikroTik manual, Scripting, "Script permissions").
pub fn log_failure(shared: &Shared, script: Option<&str>, entry: &str, message: &str) {
    let head = match script {
        Some(name) => format!(
            "executing script {name} from scheduler ({entry}) failed, please check it manually"
        ),
        None => {
            format!("executing script from scheduler ({entry}) failed, please check it manually")
        }
    };
    log(shared, "script,error", &head);
    log(shared, "script,error,debug", message);
}

/// The policies a user has now, by name.
pub fn policies_of(shared: &Shared, user: &str) -> Policies {
    shared.router().users.policies_of(user).unwrap_or_default()
}
