//! The one way to run a command on the router: [`Router::run`].
//!
//! A REST request and a script line do the same thing to the router: name a menu, a command and its
//! arguments, and get rows, a value or nothing back, or a [`Failure`]. This module is that single
//! path. [`Call::prepare`] checks what can be checked without the router's state (the command
//! exists on this version, item ids, the arguments of `print`, `get`, `enable`, `disable` and
//! `remove`); [`Call::authorize`] applies the caller's policies; [`Router::execute`] runs it under
//! the router's lock. [`Router::run`] does all three; the REST layer calls the steps itself because
//! it waits in the user's queue between authorizing and executing, and words one refusal
//! differently for PATCH.
//!
//! What comes back is plain data: [`Rows`] own their values (or are a compact copy of address-list
//! entries), so they are rendered after the lock is released.

pub use super::outcome::{Context, Outcome, Rows};

use super::Router;
use super::args::{Args, parse_id};
use super::failure::Failure;
use super::menus::Menu;
use super::query::Query;
use super::row::Proplist;
use super::spec::{Command, Shape};
use super::users::Policies;
use super::version::Version;
use crate::clock::SimTime;

/// A command understood, before the router's state is consulted.
#[derive(Debug)]
pub struct Call {
    menu: Menu,
    command: &'static Command,
    op: Op,
}

#[derive(Debug)]
enum Op {
    Print {
        query: Query,
        proplist: Option<Proplist>,
        count_only: bool,
    },
    Get {
        id: u32,
        key: String,
    },
    GetSingleton {
        key: String,
    },
    Add(Args),
    Set {
        ids: Vec<u32>,
        args: Args,
    },
    SetSingleton(Args),
    Remove(Vec<u32>),
    /// `export` without a file: nothing comes back over REST.
    Export,
    Item(u32),
    Other(Args),
    /// A write the menu lacks, naming these ids: `404` for an unknown id, else `no such command or
    /// directory (<word>)`.
    Unimplemented(&'static str, Vec<u32>),
}

impl Call {
    /// Understands `command` on `menu` with `args` for a router of `version`.
    ///
    /// Refusals here come before any policy check, as on a real router: `no such command`, a missing
    /// or malformed `.id`, and the arguments of commands that take nothing but ids.
    pub fn prepare(
        menu: Menu,
        command: &str,
        args: Args,
        version: &Version,
    ) -> Result<Call, Failure> {
        Self::prepare_on(menu, command, None, args, version)
    }

    /// Like [`Call::prepare`], with the items named by the caller (the id in a REST path) rather
    /// than by `.id` or `numbers` among the arguments.
    pub fn prepare_on(
        menu: Menu,
        command: &str,
        ids: Option<Vec<u32>>,
        mut args: Args,
        version: &Version,
    ) -> Result<Call, Failure> {
        let mut given = ids;
        let mut ids_of = move |args: &mut Args| match given.take() {
            Some(ids) => Ok(ids),
            None => take_ids(args),
        };
        let spec = menu.spec();
        let singleton = spec.shape == Shape::Singleton;
        let table = matches!(spec.shape, Shape::Table { .. });
        let Some(cmd) = spec.command(command, version) else {
            // `add` and `remove` on a table that lacks them (`/ip/service`) are refused only once
            // the caller is authorized to write, as before; every other missing command is
            // refused here. A router names the command word it cannot find, as it names an unknown
            // path word (MikroTik manual, REST API "Errors": `no such command or directory
            // (remove)`; the status is 400, not the manual's 406: see fixtures/README.md).
            return match command {
                "add" if table => Ok(Call {
                    menu,
                    command: &UNIMPLEMENTED_WRITE,
                    op: Op::Unimplemented("add", Vec::new()),
                }),
                "remove" if table => {
                    let ids = ids_of(&mut args)?;
                    args.only(&[])?;
                    Ok(Call {
                        menu,
                        command: &UNIMPLEMENTED_WRITE,
                        op: Op::Unimplemented("remove", ids),
                    })
                }
                _ => Err(Failure::no_such_directory(command)),
            };
        };
        let op = match cmd.name {
            "print" => {
                cmd.check_args(&args, version)?;
                Op::Print {
                    query: args.query().clone(),
                    // A print's `.proplist` returns exactly the keys listed (MikroTik manual).
                    proplist: args.get(".proplist").map(|p| Proplist::new([p], false)),
                    count_only: args.get("count-only").is_some(),
                }
            }
            "add" => Op::Add(args),
            "set" if singleton => Op::SetSingleton(args),
            "set" => Op::Set {
                ids: ids_of(&mut args)?,
                args,
            },
            "enable" | "disable" => {
                let ids = ids_of(&mut args)?;
                cmd.check_args(&args, version)?;
                let value = if cmd.name == "disable" {
                    "true"
                } else {
                    "false"
                };
                // Run as a `set` of `disabled`, checked against `set`'s arguments.
                let set = spec.command("set", version).unwrap_or(cmd);
                return Ok(Call {
                    menu,
                    command: set,
                    op: Op::Set {
                        ids,
                        args: Args::from_pairs([("disabled", value)]),
                    },
                });
            }
            "remove" => {
                let ids = ids_of(&mut args)?;
                cmd.check_args(&args, version)?;
                Op::Remove(ids)
            }
            "get" if singleton => {
                let key = args
                    .take("value-name")
                    .ok_or_else(|| Failure::missing("value-name"))?;
                cmd.check_args(&args, version)?;
                Op::GetSingleton { key }
            }
            "get" => {
                // `number` is the console's name for the one item `get` reads.
                let ids = match args.take("number") {
                    Some(n) => take_ids(&mut Args::from_pairs([(".id", n)]))?,
                    None => ids_of(&mut args)?,
                };
                let key = args
                    .get("value-name")
                    .ok_or_else(|| Failure::missing("value-name"))?
                    .to_owned();
                cmd.check_args(&args, version)?;
                match ids.as_slice() {
                    [id] => Op::Get { id: *id, key },
                    _ => return Err(Failure::not_found()),
                }
            }
            "comment" => {
                let ids = ids_of(&mut args)?;
                Op::Set { ids, args }
            }
            "export" => {
                cmd.check_args(&args, version)?;
                Op::Export
            }
            _ => {
                // Over the API and REST the items a command works on are its `.id`; the console
                // calls the same argument `numbers` (`/ip/firewall/filter/move` with `.id` and
                // `destination`) or, for one item, `number` (`/system script run number=...`).
                let word = if cmd.takes("numbers", version) {
                    Some("numbers")
                } else if cmd.takes("number", version) {
                    Some("number")
                } else {
                    None
                };
                if let Some(word) = word
                    && let Some(id) = args.take(".id")
                {
                    args.push(word, id);
                }
                Op::Other(args)
            }
        };
        Ok(Call {
            menu,
            command: cmd,
            op,
        })
    }

    /// A `print` of one item, as `GET <menu>/<id>` asks for it: its row, or `404`.
    pub fn item(menu: Menu, id: u32, version: &Version) -> Result<Call, Failure> {
        let print = menu
            .spec()
            .command("print", version)
            .ok_or_else(Failure::no_such_command)?;
        Ok(Call {
            menu,
            command: print,
            op: Op::Item(id),
        })
    }

    /// The menu the call runs on.
    pub fn menu(&self) -> Menu {
        self.menu
    }

    /// Whether the call changes the router (and so needs the `write` policy).
    pub fn writes(&self) -> bool {
        self.command.writes
    }

    /// Checks the caller's policies: `read` for reading, `write` (and whatever else the menu
    /// declares, such as `policy` on `/user`) for writing.
    pub fn authorize(&self, policies: Policies) -> Result<(), Failure> {
        let allowed = match self.writes() {
            true => {
                policies.has("write")
                    && self
                        .menu
                        .spec()
                        .write_policies
                        .iter()
                        .all(|p| policies.has(p))
            }
            false => policies.has("read"),
        };
        match allowed {
            true => Ok(()),
            false => Err(Failure::not_enough_permissions()),
        }
    }
}

/// The stand-in for `add` and `remove` on a table that lacks them: a write, refused once authorized.
static UNIMPLEMENTED_WRITE: Command = super::spec::command("", &[]);

/// `.id` or `numbers` (a comma list of ids) of a command.
fn take_ids(args: &mut Args) -> Result<Vec<u32>, Failure> {
    let text = match (args.take(".id"), args.take("numbers")) {
        (Some(id), _) => id,
        (None, Some(numbers)) => numbers,
        (None, None) => return Err(Failure::missing(".id")),
    };
    text.split(',')
        .map(|w| parse_id(w.trim()).ok_or_else(Failure::not_found))
        .collect()
}

/// The items a command of a menu's own names by `.id` or `numbers` (a comma list of ids): `missing
/// =.id=` when it names none, `404` for a malformed id.
pub fn item_ids(args: &Args) -> Result<Vec<u32>, Failure> {
    take_ids(&mut args.clone())
}

impl Router {
    /// Runs `command` on `menu` with `args` as `ctx`'s caller: the entry point REST requests and
    /// scripts share, so that both get exactly the same answer.
    ///
    /// ```
    /// # use simulator::model::{Router, menus::Menu, run::{Context, Outcome}, users::Policies};
    /// # use simulator::{Args, Version};
    /// let mut router = Router::new(Version::default());
    /// let menu = Menu::at("/ip/firewall/address-list").unwrap();
    /// let ctx = Context { policies: Policies::ALL, now: 0, wall_s: 0, user: None };
    /// let args = Args::from_pairs([("list", "l"), ("address", "10.0.0.1")]);
    /// let Ok(Outcome::Added(id)) = router.run(menu, "add", args, &ctx) else { panic!() };
    /// assert_eq!(id, 1);
    /// ```
    pub fn run(
        &mut self,
        menu: Menu,
        command: &str,
        args: Args,
        ctx: &Context,
    ) -> Result<Outcome, Failure> {
        let call = Call::prepare(menu, command, args, &self.version)?;
        call.authorize(ctx.policies)?;
        self.purge(ctx.now);
        self.execute(call, ctx)
    }

    /// One item of `menu` as a row (the reply to a PUT or PATCH), or `None` when there is none.
    pub fn item(&self, menu: Menu, id: u32, now: SimTime) -> Option<Rows> {
        menu.imp().item(self, id, now)
    }

    /// The id of the item of `menu` called `name` (`/rest/user/admin`).
    pub fn id_by_name(&self, menu: Menu, name: &str) -> Option<u32> {
        menu.imp().id_by_name(self, name)
    }

    /// The arguments of an `add ... copy-from=<item>`: the source item's values of every argument
    /// `add` takes, under those given. The source is an id or, in menus with names, a name; one
    /// that is neither is `no such item` (the API's word for an unknown item).
    fn copied(
        &self,
        menu: Menu,
        add: &Command,
        source: &str,
        mut args: Args,
        now: SimTime,
    ) -> Result<Args, Failure> {
        let id = parse_id(source)
            .filter(|id| menu.imp().exists(self, *id))
            .or_else(|| self.id_by_name(menu, source))
            .ok_or_else(|| Failure::bad_request("no such item"))?;
        let rows = self.item(menu, id, now).ok_or_else(Failure::not_found)?;
        let row = rows.first().ok_or_else(Failure::not_found)?;
        for arg in add
            .args
            .iter()
            .filter(|a| a.versions.contains(&self.version))
        {
            if args.get(arg.name).is_none()
                && let Some(value) = row.get(arg.name)
            {
                args.push(arg.name, value.to_owned());
            }
        }
        Ok(args)
    }

    /// Runs a prepared and authorized call. The caller has purged expired entries.
    pub fn execute(&mut self, call: Call, ctx: &Context) -> Result<Outcome, Failure> {
        let Call { menu, command, op } = call;
        let imp = menu.imp();
        let now = ctx.now;
        match op {
            Op::Print {
                query,
                proplist,
                count_only,
            } => match count_only {
                true => {
                    let n = imp.count(self, &query, now);
                    // Counting reads every row the filter is checked against.
                    let examined = match query.is_empty() {
                        true => n,
                        false => imp.count(self, &super::query::Query::default(), now),
                    };
                    Ok(Outcome::Value {
                        text: n.to_string(),
                        rows: examined,
                    })
                }
                false => {
                    let rows = imp.print(self, &query, now);
                    // A filter is checked against every row of the table.
                    let examined = match query.is_empty() {
                        true => rows.len(),
                        false => imp.count(self, &super::query::Query::default(), now),
                    };
                    Ok(Outcome::Rows {
                        rows,
                        proplist,
                        examined,
                    })
                }
            },
            Op::Get { id, key } => {
                let rows = imp.item(self, id, now).ok_or_else(Failure::not_found)?;
                let text = rows
                    .first()
                    .and_then(|r| r.get(&key).map(str::to_owned))
                    .ok_or_else(|| Failure::invalid_value("value-name"))?;
                Ok(Outcome::Value { text, rows: 1 })
            }
            Op::GetSingleton { key } => {
                let rows = imp.print(self, &super::query::Query::default(), now);
                let text = rows
                    .first()
                    .and_then(|r| r.get(&key).map(str::to_owned))
                    .ok_or_else(|| Failure::invalid_value("value-name"))?;
                Ok(Outcome::Value { text, rows: 1 })
            }
            Op::Add(mut args) => {
                command.check_args(&args, &self.version)?;
                if let Some(source) = args.take("copy-from") {
                    args = self.copied(menu, command, &source, args, now)?;
                }
                imp.add(self, &args, ctx).map(Outcome::Added)
            }
            Op::Export => Ok(Outcome::Done { rows: 0 }),
            Op::Set { ids, args } => {
                // An unknown id is a 404 for PATCH and for `set` alike (captures show 404 for
                // commands naming unknown ids; see fixtures/README.md).
                if !ids.iter().all(|id| imp.exists(self, *id)) {
                    return Err(Failure::not_found());
                }
                command.check_args(&args, &self.version)?;
                for id in &ids {
                    imp.set(self, *id, &args, ctx)?;
                }
                Ok(Outcome::Done { rows: ids.len() })
            }
            Op::SetSingleton(args) => {
                command
                    .check_args(&args, &self.version)
                    .map_err(|e| command.refusal(e))?;
                imp.set_singleton(self, &args)?;
                Ok(Outcome::Done { rows: 1 })
            }
            Op::Remove(ids) => {
                if !ids.iter().all(|id| imp.exists(self, *id)) {
                    return Err(Failure::not_found());
                }
                for id in &ids {
                    imp.remove(self, *id)?;
                }
                Ok(Outcome::Done { rows: ids.len() })
            }
            Op::Item(id) => Ok(Outcome::Rows {
                rows: imp.item(self, id, now).ok_or_else(Failure::not_found)?,
                proplist: None,
                examined: 1,
            }),
            Op::Unimplemented(word, ids) => match ids.iter().all(|id| imp.exists(self, *id)) {
                true => Err(Failure::no_such_directory(word)),
                false => Err(Failure::not_found()),
            },
            Op::Other(args) => {
                // Commands on items (`unset`, `reset`) take `.id` or `numbers` besides their
                // declared arguments; the menu reads them with [`item_ids`].
                let mut declared = args.clone();
                if matches!(menu.spec().shape, Shape::Table { .. }) {
                    declared.take(".id");
                    declared.take("numbers");
                }
                command.check_args(&declared, &self.version)?;
                imp.other(self, command, args, ctx)
            }
        }
    }
}
