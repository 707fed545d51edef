//! `/certificate`: the router's certificate store (declaration and commands). A CA reaches it as
//! on a router: a PEM file written with `/file add contents=` (from 7.9) and `/certificate import
//! file-name=<file> passphrase=""`; `/tool/fetch check-certificate=yes` trusts what it shows
//! `trusted=true`. The table is `model/certificates.rs`.
//!
//! Only importing, listing, renaming, trusting and removing are simulated: templates (`add`),
//! signing, requests, SCEP, ACME and exports answer `no such command` here, as the commands and
//! arguments of `fixtures/routeros/menus.json` that the simulator does not run.

use super::imp::{MenuImpl, owned_item, owned_rows};
use crate::clock::SimTime;
use crate::model::Router;
use crate::model::args::Args;
use crate::model::certificates::Certificates;
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Outcome, Rows};
use crate::model::query::Query;
use crate::model::row::Row;
use crate::model::scripting::Files;
use crate::model::spec::{
    Command, GET_ARGS, Name, PRINT_ARGS, Shape, Spec, command, name, read_command,
};

/// Fields of a certificate row: those of a captured REST print (terraform-provider-routeros
/// `resource_system_certificate.go`, a 7.x row) that an imported certificate without a private
/// key has, plus `issuer` and `expired` (manual, Certificates, properties).
const FIELDS: &[Name] = &[
    name(".id"),
    name("akid"),
    name("authority"),
    name("common-name"),
    name("crl"),
    name("digest-algorithm"),
    name("expired"),
    name("expires-after"),
    name("fingerprint"),
    name("invalid-after"),
    name("invalid-before"),
    name("issuer"),
    name("key-type"),
    name("key-usage"),
    name("name"),
    name("private-key"),
    name("serial-number"),
    name("skid"),
    name("smart-card-key"),
    name("subject-alt-name"),
    name("trusted"),
];

/// `import`'s arguments as the schemas list them (`trusted` from 7.15, `no-key-export` from 7.16,
/// `trust-store` from 7.21; `fixtures/routeros/menus.json`).
const IMPORT: &[Name] = &[
    name("file-name"),
    name("name"),
    name("passphrase"),
    name("trusted").since(7, 15),
    name("no-key-export").since(7, 16),
    name("trust-store").since(7, 21),
];

const COMMANDS: &[Command] = &[
    read_command("print", PRINT_ARGS),
    read_command("get", GET_ARGS),
    command("import", IMPORT),
    command(
        "set",
        &[
            name("name"),
            name("trusted"),
            name("trust-store").since(7, 21),
        ],
    ),
    command("remove", &[]),
];

/// The menu's declaration. Certificates are also addressed by name.
pub static SPEC: Spec = Spec {
    path: "/certificate",
    shape: Shape::Table { named: true },
    fields: FIELDS,
    commands: COMMANDS,
    write_policies: &[],
};

/// `/certificate`.
#[derive(Debug)]
pub struct CertificateMenu;

/// The registered menu.
pub static CERTIFICATE: CertificateMenu = CertificateMenu;

/// The file `file-name` names: a file of exactly that name, or the only one whose name starts
/// with it. RouterOS completes the value against the router's files: several matches are
/// `ambiguous value of file-name, more than one possible value matches input` (a REST capture,
/// terraform-provider-routeros issue #511), none is `input does not match any value of file-name`
/// (the router's text for a value outside a completed set, as for `/user group=`) [likely].
fn file<'a>(
    files: Option<&'a Files>,
    wanted: &str,
) -> Result<&'a crate::model::scripting::FileItem, Failure> {
    let wanted = wanted.trim_start_matches('/');
    let none = || Failure::bad_request("input does not match any value of file-name");
    let files = files.ok_or_else(none)?;
    if let Some(f) = files.by_name(wanted) {
        return Ok(f);
    }
    let mut matches = files.items.iter().filter(|f| f.name.starts_with(wanted));
    match (matches.next(), matches.next()) {
        (Some(f), None) if !wanted.is_empty() => Ok(f),
        (Some(_), Some(_)) => Err(Failure::bad_request(
            "ambiguous value of file-name, more than one possible value matches input",
        )),
        _ => Err(none()),
    }
}

impl MenuImpl for CertificateMenu {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn print(&self, router: &Router, query: &Query, now: SimTime) -> Rows {
        let iso = router.version.iso_timestamps();
        match router.state_ref::<Certificates>() {
            Some(c) => owned_rows(c.rows(iso, c.wall_at(now)).map(|(_, r)| r), query),
            None => Rows::Owned(Vec::new()),
        }
    }

    fn item(&self, router: &Router, id: u32, now: SimTime) -> Option<Rows> {
        let iso = router.version.iso_timestamps();
        let c = router.state_ref::<Certificates>()?;
        owned_item(c.rows(iso, c.wall_at(now)), id)
    }

    fn exists(&self, router: &Router, id: u32) -> bool {
        router
            .state_ref::<Certificates>()
            .is_some_and(|c| c.items.iter().any(|x| x.id == id))
    }

    fn id_by_name(&self, router: &Router, name: &str) -> Option<u32> {
        router
            .state_ref::<Certificates>()?
            .by_name(name)
            .map(|c| c.id)
    }

    fn set(&self, router: &mut Router, id: u32, args: &Args, _: &Context) -> Result<(), Failure> {
        let trusted = args.get_bool("trusted")?;
        let store = router.state::<Certificates>();
        if let Some(name) = args.get("name") {
            if name.is_empty() {
                return Err(Failure::invalid_value("name"));
            }
            if store.items.iter().any(|c| c.name == name && c.id != id) {
                return Err(Failure::bad_request(
                    "failure: certificate with the same name already exists",
                ));
            }
        }
        let Some(c) = store.get_mut(id) else {
            return Err(Failure::not_found());
        };
        if let Some(name) = args.get("name") {
            c.name = name.to_owned();
        }
        if let Some(t) = trusted {
            c.trusted = t;
        }
        Ok(())
    }

    fn remove(&self, router: &mut Router, id: u32) -> Result<(), Failure> {
        router.state::<Certificates>().items.retain(|c| c.id != id);
        Ok(())
    }

    fn other(
        &self,
        router: &mut Router,
        command: &'static Command,
        args: Args,
        ctx: &Context,
    ) -> Result<Outcome, Failure> {
        if command.name != "import" {
            return Err(Failure::no_such_command());
        }
        let wanted = args
            .get("file-name")
            .ok_or_else(|| Failure::missing("file-name"))?;
        let f = file(router.state_ref::<Files>(), wanted)?;
        let (file_name, contents) = (f.name.clone(), f.contents.clone());
        // `trusted` defaults to yes [likely: the manual's print after an import shows `T`].
        let trusted = args.get_bool("trusted")?.unwrap_or(true);
        let name = args.get("name").filter(|n| !n.is_empty());
        let store = router.state::<Certificates>();
        store.set_wall(ctx.now, ctx.wall_s);
        let imported = store.import_pem(&contents, &file_name, name, trusted)?;
        // The console prints these five counts after an import (MikroTik manual, Certificates);
        // over REST they come back as one row [likely: no capture].
        let mut row = Row::with_capacity(5);
        row.push("certificates-imported", imported.certificates.to_string());
        row.push("decryption-failures", "0");
        row.push("files-imported", "1");
        row.push("keys-with-no-certificate", "0");
        row.push("private-keys-imported", "0");
        Ok(Outcome::Rows {
            rows: Rows::Owned(vec![row.into_owned()]),
            proplist: None,
            examined: 0,
        })
    }
}
