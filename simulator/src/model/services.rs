//! `/ip/service`: the router's network services, of which `www` and `www-ssl` are live.
//!
//! Every service a RouterOS 7 router lists is present so that prints look real, but only `www`
//! (plain HTTP) and `www-ssl` (HTTPS) have listeners behind them. Their `disabled`, `port`, allowed
//! addresses and `certificate` take effect on the listeners as soon as they change: a disabled service
//! refuses connections, a client outside the allowed addresses is reset, and `certificate=none` makes
//! the TLS handshake fail as on a real router.

use std::net::{IpAddr, SocketAddr};

use super::args::{Args, format_id};
use super::failure::Failure;
use super::row::Row;
use super::row::bool_text;
use super::spec::{Name, name, refuse_unknown};
use super::users::{address_allowed, parse_allowed};

/// The name the simulator gives its own generated certificate in `/ip/service`.
pub const SIM_CERTIFICATE: &str = "routeros-sim";

/// The TLS service that shares `www-ssl`'s port, listed from 7.22.
pub const REVERSE_PROXY: &str = "reverse-proxy";

/// One service row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Service {
    /// `.id` number.
    pub id: u32,
    /// `www`, `www-ssl`, `api`, ...
    pub name: String,
    /// TCP port.
    pub port: u16,
    /// Allowed addresses (`address`, or `available-from` from 7.24), comma separated.
    #[serde(default)]
    pub address: String,
    /// Disabled flag.
    #[serde(default)]
    pub disabled: bool,
    /// Certificate name for TLS services (`none` when unset).
    #[serde(default)]
    pub certificate: Option<String>,
    /// `any` or `only-1.2`, for TLS services.
    #[serde(default)]
    pub tls_version: Option<String>,
    /// Concurrent session cap.
    #[serde(default = "default_max_sessions")]
    pub max_sessions: u32,
}

fn default_max_sessions() -> u32 {
    20
}

/// Which live listener a service drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Listener {
    /// Plain HTTP.
    #[serde(rename = "www")]
    Www,
    /// HTTPS.
    #[serde(rename = "www-ssl")]
    WwwSsl,
}

impl Listener {
    /// The service name.
    pub fn name(self) -> &'static str {
        match self {
            Listener::Www => "www",
            Listener::WwwSsl => "www-ssl",
        }
    }
}

/// What a listener needs to know about its service, published whenever the service changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerConfig {
    /// Whether the service is enabled.
    pub enabled: bool,
    /// Port to listen on.
    pub port: u16,
    /// Allowed addresses as written.
    pub allowed: String,
    /// Whether a certificate is assigned (`www-ssl` only).
    pub has_certificate: bool,
    /// Session cap.
    pub max_sessions: u32,
}

impl ListenerConfig {
    /// Whether a client may open a connection.
    pub fn admits(&self, client: IpAddr) -> bool {
        address_allowed(&self.allowed, client)
    }
}

/// Arguments of `set`: the allowed addresses are `address` in every version and also
/// `available-from` from 7.24, where both name the same setting (every 7.24 beta, rc and release
/// schema lists both; tikoci/restraml `docs/7.24*/inspect.json`). `max-sessions` is an argument from
/// 7.16 (first in the 7.16 schema, absent from 7.15.3).
pub const SET_ARGS: &[Name] = &[
    name("address"),
    name("available-from").since(7, 24),
    name("certificate"),
    name("disabled"),
    name("max-sessions").since(7, 16),
    name("port"),
    name("tls-version"),
];

/// One open connection to a REST listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// `.id` number of its dynamic row.
    pub id: u32,
    /// The listener it came in on; its service's name is the row's `name`.
    pub listener: Listener,
    /// The router's end.
    pub local: SocketAddr,
    /// The client's end.
    pub remote: SocketAddr,
}

/// The open REST connections: from 7.19 a router lists "all TCP/UDP connections" of its services
/// (7.19 changelog) as one dynamic `/ip/service` row per open connection, the REST client's own
/// included (lab contract, CHR 7.23.7: `dynamic:"true"`, `connection:"true"`, `local`,
/// `remote:"<ip>:<port>"`; no `address`, `max-sessions` or `vrf`). Their ids come from a counter
/// that only grows, so a new connection never reuses an id [real: "their `.id` changes on every
/// request", from a steadily increasing counter].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connections {
    open: Vec<Connection>,
    next: u32,
}

/// The first id a connection row gets: above every static service's id (`*0` to `*A`) [likely; the
/// lab contract shows `*1A`-sized ids, not where the counter starts].
const FIRST_CONNECTION_ID: u32 = 0x10;

impl Default for Connections {
    fn default() -> Self {
        Self {
            open: Vec::new(),
            next: FIRST_CONNECTION_ID,
        }
    }
}

impl Connections {
    /// Lists a connection that a listener accepted; returns the id its row shows.
    pub fn open(&mut self, listener: Listener, local: SocketAddr, remote: SocketAddr) -> u32 {
        let id = self.next;
        self.next = self.next.wrapping_add(1).max(FIRST_CONNECTION_ID);
        self.open.push(Connection {
            id,
            listener,
            local,
            remote,
        });
        id
    }

    /// Drops a closed connection's row.
    pub fn close(&mut self, id: u32) {
        self.open.retain(|c| c.id != id);
    }

    /// The open connections, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Connection> {
        self.open.iter()
    }

    /// The dynamic rows, oldest first. `local` is the router's address without a port, `remote`
    /// the client's address and port (MikroTik's console reference for `/ip/service`: `local` is an
    /// address, `remote` a composite of address and port).
    pub fn rows(&self) -> impl Iterator<Item = (u32, Row<'_>)> {
        self.open.iter().map(|c| {
            let mut row = Row::with_capacity(10);
            row.push(".id", format_id(c.id));
            row.push("connection", "true");
            row.push("disabled", "false");
            row.push("dynamic", "true");
            row.push("invalid", "false");
            row.push("local", c.local.ip().to_string());
            row.push("name", c.listener.name());
            row.push("port", c.local.port().to_string());
            row.push("proto", "tcp");
            row.push("remote", c.remote.to_string());
            (c.id, row)
        })
    }
}

/// The service table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Services {
    /// Rows in id order.
    pub rows: Vec<Service>,
}

impl Services {
    /// A RouterOS 7 default table with the simulator's live ports filled in.
    pub fn defaults(www_port: u16, www_ssl_port: u16, www_enabled: bool) -> Self {
        let row = |id, name: &str, port, disabled, tls: bool| Service {
            id,
            name: name.into(),
            port,
            address: String::new(),
            disabled,
            certificate: tls.then(|| {
                if name == Listener::WwwSsl.name() {
                    SIM_CERTIFICATE.to_owned()
                } else {
                    "none".to_owned()
                }
            }),
            tls_version: tls.then(|| "any".to_owned()),
            max_sessions: 20,
        };
        Self {
            rows: vec![
                // Ids as a 7.19 router numbers its static services (fixtures/routeros/ip-service-print.json).
                row(0, "telnet", 23, false, false),
                row(1, "ftp", 21, false, false),
                row(2, "www", www_port, !www_enabled, false),
                row(3, "ssh", 22, false, false),
                row(6, "www-ssl", www_ssl_port, false, true),
                row(7, "api", 8728, false, false),
                row(8, "winbox", 8291, false, false),
                row(9, "api-ssl", 8729, false, true),
                // Listed from 7.22 only (the menu filters it by version): a TLS service on 443
                // beside `www-ssl`, without a certificate until one is assigned (lab contract, CHR
                // 7.23.7; restraml `docs/7.22.3/deep-inspect.json`). Its id is not captured.
                row(10, REVERSE_PROXY, 443, false, true),
            ],
        }
    }

    /// The row behind a live listener.
    pub fn get(&self, l: Listener) -> Option<&Service> {
        self.rows.iter().find(|s| s.name == l.name())
    }

    /// The listener settings of `l`.
    pub fn listener_config(&self, l: Listener) -> ListenerConfig {
        match self.get(l) {
            Some(s) => ListenerConfig {
                enabled: !s.disabled,
                port: s.port,
                allowed: s.address.clone(),
                has_certificate: s.certificate.as_deref().is_some_and(|c| c != "none"),
                max_sessions: s.max_sessions,
            },
            None => ListenerConfig {
                enabled: false,
                port: 0,
                allowed: String::new(),
                has_certificate: false,
                max_sessions: 0,
            },
        }
    }

    /// Renders the static rows. `address_key` is `address` or `available-from` (7.24); `v719` adds
    /// the keys 7.19 introduced (`dynamic`, `proto`); `max_sessions` the key 7.16 introduced;
    /// `reverse_proxy` lists the `reverse-proxy` row (7.22).
    pub fn rows(
        &self,
        address_key: &'static str,
        v719: bool,
        max_sessions: bool,
        reverse_proxy: bool,
    ) -> impl Iterator<Item = (u32, Row<'_>)> {
        self.listed(reverse_proxy).map(move |s| {
            let mut row = Row::with_capacity(12);
            row.push(".id", format_id(s.id));
            if address_key == "address" {
                row.push("address", s.address.as_str());
            }
            if address_key == "available-from" {
                row.push("available-from", s.address.as_str());
            }
            row.push_opt("certificate", s.certificate.as_deref());
            row.push("disabled", bool_text(s.disabled));
            if v719 {
                row.push("dynamic", "false");
            }
            row.push("invalid", "false");
            if max_sessions {
                row.push("max-sessions", s.max_sessions.to_string());
            }
            row.push("name", s.name.as_str());
            row.push("port", s.port.to_string());
            if v719 {
                row.push("proto", "tcp");
            }
            row.push_opt("tls-version", s.tls_version.as_deref());
            row.push("vrf", "main");
            (s.id, row)
        })
    }

    /// The static rows a router lists: `reverse-proxy` only when `reverse_proxy` (7.22 and later).
    pub fn listed(&self, reverse_proxy: bool) -> impl Iterator<Item = &Service> {
        self.rows
            .iter()
            .filter(move |s| reverse_proxy || s.name != REVERSE_PROXY)
    }

    /// `set` on `/ip/service`. `address_key` is the name the router's version gives the allowed
    /// addresses; `address` is accepted as well on every version (7.24 lists both arguments).
    pub fn set(&mut self, id: u32, args: &Args, address_key: &str) -> Result<(), Failure> {
        refuse_unknown(args, SET_ARGS)?;
        if address_key == "address" && args.get("available-from").is_some() {
            return Err(Failure::unknown_parameter("available-from"));
        }
        let pos = self
            .rows
            .iter()
            .position(|s| s.id == id)
            .ok_or_else(Failure::not_found)?;
        let mut s = self.rows[pos].clone();
        for key in ["address", "available-from"] {
            if let Some(v) = args.get(key) {
                parse_allowed(v).ok_or_else(|| Failure::invalid_value(key))?;
                s.address = v.to_owned();
            }
        }
        if let Some(v) = args.get_bool("disabled")? {
            s.disabled = v;
        }
        if let Some(v) = args.get("port") {
            s.port = v
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| Failure::invalid_value("port"))?;
        }
        if let Some(v) = args.get("max-sessions") {
            s.max_sessions = v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| Failure::invalid_value("max-sessions"))?;
        }
        if let Some(v) = args.get("certificate") {
            if s.certificate.is_none() {
                return Err(Failure::unknown_parameter("certificate"));
            }
            if v != "none" && v != SIM_CERTIFICATE {
                return Err(Failure::bad_request(
                    "input does not match any value of certificate",
                ));
            }
            s.certificate = Some(v.to_owned());
        }
        if let Some(v) = args.get("tls-version") {
            if s.tls_version.is_none() {
                return Err(Failure::unknown_parameter("tls-version"));
            }
            if v != "any" && v != "only-1.2" {
                return Err(Failure::invalid_value("tls-version"));
            }
            s.tls_version = Some(v.to_owned());
        }
        // `reverse-proxy` and `www-ssl` share 443 on a real router (lab contract, CHR 7.23.7).
        let shared = |a: &Service, b: &Service| {
            let names = [a.name.as_str(), b.name.as_str()];
            names.contains(&REVERSE_PROXY) && names.contains(&Listener::WwwSsl.name())
        };
        if self
            .rows
            .iter()
            .any(|o| o.id != id && !o.disabled && !s.disabled && o.port == s.port && !shared(o, &s))
        {
            return Err(Failure::bad_request(
                "failure: port already used by another service",
            ));
        }
        self.rows[pos] = s;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_listener_config() {
        let mut s = Services::defaults(8080, 8443, true);
        let www_ssl = s.get(Listener::WwwSsl).unwrap().id;
        s.set(
            www_ssl,
            &Args::from_pairs([("address", "10.0.0.0/8"), ("disabled", "yes")]),
            "address",
        )
        .unwrap();
        let c = s.listener_config(Listener::WwwSsl);
        assert!(!c.enabled);
        assert!(!c.admits("127.0.0.1".parse().unwrap()));
        assert!(c.admits("10.1.2.3".parse().unwrap()));
        assert!(c.has_certificate);
        s.set(
            www_ssl,
            &Args::from_pairs([("certificate", "none")]),
            "address",
        )
        .unwrap();
        assert!(!s.listener_config(Listener::WwwSsl).has_certificate);
        let err = |r: Result<(), Failure>| r.unwrap_err().detail.unwrap().into_owned();
        assert_eq!(
            err(s.set(
                www_ssl,
                &Args::from_pairs([("available-from", "")]),
                "address"
            )),
            "unknown parameter available-from"
        );
        assert_eq!(
            err(s.set(www_ssl, &Args::from_pairs([("port", "x")]), "address")),
            "invalid value for argument port"
        );
        assert_eq!(
            err(s.set(2, &Args::from_pairs([("certificate", "none")]), "address")),
            "unknown parameter certificate"
        );
        assert_eq!(
            s.set(99, &Args::from_pairs([("disabled", "no")]), "address"),
            Err(Failure::not_found())
        );
    }
}
