//! `/tool/fetch`: download (or send) over HTTP and HTTPS. This module declares the command and
//! decides who may run it; the request itself is made by the scripting runtime
//! (`crate::scripting::fetch`) with the router's lock released.

use super::imp::MenuImpl;
use crate::model::Router;
use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::outcome::{Context, Outcome};
use crate::model::scripting::{ScriptSettings, Work};
use crate::model::spec::{Command, Shape, Spec, name, read_command};

/// The implemented arguments (schema: every version has these but `idle-timeout`, 7.15 on, and
/// `proplist`, 7.19 on). The FTP, SFTP and TFTP modes' arguments, uploads, client certificates and
/// the other arguments the schema lists are not implemented and answered `unknown parameter`; the
/// schema walk (`model::menus::tests`) lists each with its reason.
const COMMANDS: &[Command] = &[read_command(
    "fetch",
    &[
        name("as-value"),
        name("check-certificate"),
        name("dst-path"),
        name("duration"),
        name("http-data"),
        name("http-header-field"),
        name("http-max-redirect-count").since(7, 18),
        name("http-method"),
        name("idle-timeout").since(7, 15),
        name("keep-result"),
        name("mode"),
        name("once"),
        name("output"),
        name("password"),
        name("proplist").since(7, 19),
        name("url"),
        name("user"),
        name("without-paging"),
    ],
)];

/// The menu's declaration: a command below `/tool`.
pub static SPEC: Spec = Spec {
    path: "/tool/fetch",
    shape: Shape::Commands,
    fields: &[],
    commands: COMMANDS,
    write_policies: &[],
};

/// `/tool/fetch`.
#[derive(Debug)]
pub struct FetchMenu;

/// The registered menu.
pub static FETCH: FetchMenu = FetchMenu;

impl MenuImpl for FetchMenu {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn other(
        &self,
        router: &mut Router,
        _command: &'static Command,
        args: Args,
        ctx: &Context,
    ) -> Result<Outcome, Failure> {
        let settings = router.state::<ScriptSettings>().clone();
        // `output` defaults to `file` (MikroTik manual, Fetch).
        let to_file = args.get("output").is_none_or(|o| o == "file");
        let mut needs = settings.fetch_policies;
        if to_file {
            needs = Policies::union(needs, settings.fetch_file_policies);
        }
        if !needs.within(ctx.policies) {
            return Err(Failure::not_enough_permissions());
        }
        if args.get("url").is_none() {
            return Err(Failure::missing("url"));
        }
        Ok(Outcome::Deferred(Work::Fetch(args)))
    }
}

use crate::model::users::Policies;
