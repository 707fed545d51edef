//! What the command words of a script name: menus, commands and their arguments.
//!
//! The router resolves a command line such as `/ip firewall address-list add list=x` word by word
//! against its command tree while it parses the script, so a misspelt word is a syntax error
//! before anything runs (`bad command name adress-list (line 1 column 14)`), and so is an
//! argument the command does not take (`expected end of command (line 1 column 19)`). The parser
//! asks a [`Catalog`] the same questions; the simulator answers from the menus it serves, and
//! [`SchemaCatalog`] answers from a `/console/inspect` dump of a real router (the `menus` part of
//! `routeros-schema/<version>.json`).

use std::collections::BTreeMap;

/// What a path of words is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A menu (`/ip/firewall`): more words may follow.
    Menu,
    /// A command of the menu before it.
    Command(CommandSpec),
    /// Neither.
    Unknown,
}

/// The arguments a command takes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandSpec {
    /// The named arguments it accepts; `None` accepts any name (the `find` command takes the
    /// menu's fields as `field=value` filters, which `/console/inspect` does not list).
    pub args: Option<Vec<String>>,
    /// The names the unnamed arguments stand for, in order (`remove [find]` is
    /// `remove numbers=[find]`; `get $id address` is `get number=$id value-name=address`).
    pub unnamed: Vec<String>,
}

impl CommandSpec {
    /// Whether the command accepts the named argument `name`.
    pub fn accepts(&self, name: &str) -> bool {
        match &self.args {
            None => true,
            Some(args) => args.iter().any(|a| a == name),
        }
    }

    /// The spec the router's conventions give a command with these arguments: which of them the
    /// unnamed values fill. RouterOS does not publish this in `/console/inspect`; the order below
    /// is the one its manual's examples use (`remove <numbers>`, `set <numbers> key=value`,
    /// `get <number> <value-name>`, `/system script run <number>`, `:log info <message>`,
    /// `/import <file-name>`, `/execute <script>`).
    pub fn with_conventions(command: &str, args: Vec<String>) -> Self {
        let order: &[&str] = match command {
            "get" | "edit" => &["number", "value-name"],
            "run" => &["number"],
            "info" | "warning" | "error" | "debug" => &["message"],
            "import" => &["file-name"],
            "execute" => &["script"],
            _ => &["numbers"],
        };
        let unnamed = order
            .iter()
            .filter(|n| args.iter().any(|a| a == *n))
            .map(|n| (*n).to_owned())
            .collect();
        let args = if command == "find" { None } else { Some(args) };
        Self { args, unnamed }
    }
}

/// Answers what a path of command words is. The path is absolute, without slashes:
/// `["ip", "firewall", "address-list", "add"]`.
pub trait Catalog {
    /// What `path` names.
    fn node(&self, path: &[String]) -> Node;
}

/// A catalog read from a `/console/inspect` dump (`routeros-schema/<version>.json`, key `menus`).
#[derive(Debug, Clone, Default)]
pub struct SchemaCatalog {
    nodes: BTreeMap<String, Node>,
}

impl SchemaCatalog {
    /// Builds the catalog from the schema's `menus` object: keys are menu paths
    /// (`/ip/firewall/address-list`), values trees of `_type` `dir` / `cmd` / `arg` nodes.
    /// Entries of unexpected shape are skipped.
    pub fn from_menus(menus: &serde_json::Value) -> Self {
        let mut nodes = BTreeMap::new();
        if let Some(map) = menus.as_object() {
            for (path, tree) in map {
                let words: Vec<&str> = path.split('/').filter(|w| !w.is_empty()).collect();
                for i in 1..=words.len() {
                    nodes.entry(words[..i].join("/")).or_insert(Node::Menu);
                }
                add_tree(&mut nodes, &words.join("/"), tree);
            }
        }
        Self { nodes }
    }
}

/// Adds the children of one `dir` node below `prefix`.
fn add_tree(nodes: &mut BTreeMap<String, Node>, prefix: &str, tree: &serde_json::Value) {
    let Some(children) = tree.as_object() else {
        return;
    };
    for (name, child) in children {
        if name.starts_with('_') {
            continue;
        }
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        match child.get("_type").and_then(|t| t.as_str()) {
            Some("dir") => {
                nodes.insert(path.clone(), Node::Menu);
                add_tree(nodes, &path, child);
            }
            Some("cmd") => {
                let args = child
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .filter(|(_, v)| v.get("_type").and_then(|t| t.as_str()) == Some("arg"))
                            .map(|(k, _)| k.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                nodes.insert(
                    path,
                    Node::Command(CommandSpec::with_conventions(name, args)),
                );
            }
            _ => {}
        }
    }
}

impl Catalog for SchemaCatalog {
    fn node(&self, path: &[String]) -> Node {
        if path.is_empty() {
            return Node::Menu;
        }
        self.nodes
            .get(&path.join("/"))
            .cloned()
            .unwrap_or(Node::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(p: &str) -> Vec<String> {
        p.split('/')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn schema_menus_become_menus_commands_and_arguments() {
        let menus = serde_json::json!({
            "/ip/firewall/address-list": {
                "_type": "dir",
                "add": {"_type": "cmd", "list": {"_type": "arg"}, "address": {"_type": "arg"}},
                "remove": {"_type": "cmd", "numbers": {"_type": "arg"}},
                "get": {"_type": "cmd", "number": {"_type": "arg"}, "value-name": {"_type": "arg"}},
                "find": {"_type": "cmd", "where": {"_type": "arg"}}
            },
            "/system/script": {"_type": "dir", "environment": {"_type": "dir",
                "print": {"_type": "cmd"}}}
        });
        let c = SchemaCatalog::from_menus(&menus);
        assert_eq!(c.node(&words("/ip")), Node::Menu);
        assert_eq!(c.node(&words("/ip/firewall")), Node::Menu);
        assert_eq!(c.node(&words("/system/script/environment")), Node::Menu);
        assert_eq!(c.node(&words("/ip/route")), Node::Unknown);
        let Node::Command(add) = c.node(&words("/ip/firewall/address-list/add")) else {
            panic!("add is a command")
        };
        assert!(add.accepts("list") && !add.accepts("bogus"));
        assert!(add.unnamed.is_empty());
        let Node::Command(get) = c.node(&words("/ip/firewall/address-list/get")) else {
            panic!("get is a command")
        };
        assert_eq!(get.unnamed, ["number", "value-name"]);
        let Node::Command(find) = c.node(&words("/ip/firewall/address-list/find")) else {
            panic!("find is a command")
        };
        assert!(find.accepts("list"), "find takes the menu's fields");
    }
}
