//! Configuration: a TOML file, environment variables and command-line flags, merged once.
//!
//! Flags win over environment variables (clap reads `ROUTEROS_URL` and `ROUTEROS_USERNAME` as the
//! defaults of `--url` and `--username`), which win over the file (`--config`), which wins over the
//! built-in defaults. The password never comes from a flag, whose value anyone could read in `ps`: it
//! comes from `ROUTEROS_PASSWORD` or from a file (`--password-file`, or `password_file` in the TOML).
//! It is held in a [`Secret`], whose `Debug` shows stars and which has no `Display`, so it cannot end
//! up in a log line or an error message by accident.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustls::pki_types::ServerName;

use crate::duration;
use crate::request::PrefixLimits;

/// The environment variable that carries the password.
pub const PASSWORD_ENV: &str = "ROUTEROS_PASSWORD";

/// The environment variable that carries the daemon's control API token (instead of the token file).
pub const TOKEN_ENV: &str = "ROUTEROS_AGENT_TOKEN";

/// What every command prints on stderr, whatever the log level or output format, when the router's
/// certificate is not checked.
pub const INSECURE_WARNING: &str = "warning: TLS certificate verification is OFF (--insecure): \
anyone on the path can impersonate the router and read its password; use --ca-file or --pin-sha256";

/// What every command prints on stderr when the password goes over plain HTTP to a host that is
/// not this machine (allowed only with `--allow-plain-http`).
pub const PLAIN_HTTP_WARNING: &str = "warning: plain http:// to a host that is not this machine \
(--allow-plain-http): the router password travels in clear; use https://";

/// A password or other secret; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How the router's certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// Against the system's trust store (the default).
    SystemRoots,
    /// Against the CA certificates in a PEM file.
    CaFile(PathBuf),
    /// The leaf certificate's SHA-256 fingerprint must equal this (for self-signed router certificates).
    Pin([u8; 32]),
    /// Not at all (`--insecure`): a warning is printed on every start.
    Insecure,
}

/// Connection and behaviour flags shared by every command.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GlobalArgs {
    /// TOML configuration file; flags and environment variables override its values.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Router URL, `https://host[:port]` (plain `http://` only for testing).
    #[arg(long, global = true, env = "ROUTEROS_URL", value_name = "URL")]
    pub url: Option<String>,
    /// User name of the router's service user.
    #[arg(long, global = true, env = "ROUTEROS_USERNAME", value_name = "NAME")]
    pub username: Option<String>,
    /// File whose first line is the password (otherwise the ROUTEROS_PASSWORD environment variable).
    #[arg(long, global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// PEM file with the CA certificate(s) that signed the router's certificate.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Accept only the router certificate with this SHA-256 fingerprint (hex, colons allowed).
    #[arg(long, global = true, value_name = "HEX")]
    pub pin_sha256: Option<String>,
    /// Do not verify the router's certificate at all (testing only; a warning is printed).
    #[arg(long, global = true)]
    pub insecure: bool,
    /// Allow `http://` to a host that is not this machine: the password then travels in clear.
    #[arg(long, global = true)]
    pub allow_plain_http: bool,
    /// The widest IPv4 prefix a grant may name (default 17: /17 to /32; /0 is never granted).
    #[arg(long, global = true, value_name = "LEN")]
    pub widest_prefix_v4: Option<u8>,
    /// The widest IPv6 prefix a grant may name (default 49: /49 to /128; /0 is never granted).
    #[arg(long, global = true, value_name = "LEN")]
    pub widest_prefix_v6: Option<u8>,
    /// File holding the daemon's control API token (default: `<state>.token`, which `run` creates
    /// with mode 0600; or set ROUTEROS_AGENT_TOKEN).
    #[arg(long, global = true, value_name = "FILE")]
    pub control_token_file: Option<PathBuf>,
    /// IPv4 address-list name (default: routeros-agent).
    #[arg(long, global = true, value_name = "NAME")]
    pub list: Option<String>,
    /// IPv6 address-list name (default: the IPv4 list name).
    #[arg(long, global = true, value_name = "NAME")]
    pub list6: Option<String>,
    /// Ownership tag written into the `comment` of every entry the agent creates (default: routeros-agent).
    #[arg(long, global = true, value_name = "TEXT")]
    pub tag: Option<String>,
    /// Grant store file (default: routeros-agent-grants.json).
    #[arg(long, global = true, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Time limit for connecting and the TLS handshake (RouterOS duration; default 5s).
    #[arg(long, global = true, value_name = "DURATION")]
    pub connect_timeout: Option<String>,
    /// Time limit for a whole request (default 30s).
    #[arg(long, global = true, value_name = "DURATION")]
    pub request_timeout: Option<String>,
    /// Requests in flight during a reconcile (default 1: a real router runs one user's requests one at a time).
    #[arg(long, global = true, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Passive mode: file whose first line is the feed's API key (default: `<state>.feed-key`, which
    /// `run --mode passive` creates with mode 0600 and keeps).
    #[arg(long, global = true, value_name = "FILE")]
    pub feed_key_file: Option<PathBuf>,
    /// How entries are written: `auto` (batches through /execute when the router allows them,
    /// else one request each; the default), `bulk` (batches only) or `single` (one request each).
    #[arg(long, global = true, value_name = "MODE")]
    pub write_mode: Option<String>,
}

/// The TOML file; every key is optional.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FileConfig {
    /// See `--url`.
    pub url: Option<String>,
    /// See `--username`.
    pub username: Option<String>,
    /// See `--password-file`.
    pub password_file: Option<PathBuf>,
    /// See `--ca-file`.
    pub ca_file: Option<PathBuf>,
    /// See `--pin-sha256`.
    pub pin_sha256: Option<String>,
    /// See `--insecure`.
    pub insecure: Option<bool>,
    /// See `--allow-plain-http`.
    pub allow_plain_http: Option<bool>,
    /// See `--widest-prefix-v4`.
    pub widest_prefix_v4: Option<u8>,
    /// See `--widest-prefix-v6`.
    pub widest_prefix_v6: Option<u8>,
    /// See `--control-token-file`.
    pub control_token_file: Option<PathBuf>,
    /// See `--list`.
    pub list: Option<String>,
    /// See `--list6`.
    pub list6: Option<String>,
    /// See `--tag`.
    pub tag: Option<String>,
    /// See `--state`.
    pub state: Option<PathBuf>,
    /// See `--connect-timeout`.
    pub connect_timeout: Option<String>,
    /// See `--request-timeout`.
    pub request_timeout: Option<String>,
    /// See `--concurrency`.
    pub concurrency: Option<usize>,
    /// Whether `validate` and `list` check the filter rules (default true; `validate --no-rules`).
    pub check_rules: Option<bool>,
    /// See `--write-mode`.
    pub write_mode: Option<String>,
    /// How often the daemon reconciles (`run --interval`).
    pub interval: Option<String>,
    /// The daemon's control API address (`run --control`).
    pub control: Option<SocketAddr>,
    /// `active` (the agent writes the list) or `passive` (the router pulls the feed): `run --mode`.
    pub mode: Option<String>,
    /// Passive mode: where the feed listens (`run --feed-listen`).
    pub feed_listen: Option<SocketAddr>,
    /// Passive mode: the feed's API key file (`--feed-key-file`).
    pub feed_key_file: Option<PathBuf>,
    /// Passive mode: the feed's PEM certificate chain (with `feed_cert_key_file`); otherwise the
    /// daemon makes a CA and certificate of its own.
    pub feed_cert_file: Option<PathBuf>,
    /// Passive mode: the private key of `feed_cert_file`.
    pub feed_cert_key_file: Option<PathBuf>,
    /// Passive mode: host names the made certificate also carries (the router fetches by one).
    pub feed_names: Option<Vec<String>>,
    /// Passive mode: entries the router adds live this many scheduler intervals
    /// (`passive install --fail-closed-multiple`).
    pub fail_closed_multiple: Option<u32>,
    /// A `password` key, refused with its own message; only its position is kept, never its value.
    #[serde(default)]
    password: Option<toml::Spanned<serde::de::IgnoredAny>>,
}

/// A configuration problem, reported before anything is sent.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// How the agent reaches the router: what every command that talks to the router needs.
#[derive(Debug, Clone)]
pub struct RouterConfig {
    /// The router's base URL without `/rest` and without a trailing slash, e.g. `https://192.0.2.1:8443`.
    pub url: RouterUrl,
    /// The service user.
    pub username: String,
    /// Its password.
    pub password: Secret,
    /// How the certificate is checked.
    pub tls: TlsMode,
}

/// The error of a command that needs the router when none is configured.
pub const NO_ROUTER_URL: &str = "no router URL: give --url or set ROUTEROS_URL";

/// The merged configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// How the router is reached. Always set in active mode. In passive mode it is set only when a
    /// URL is given: the daemon and the commands on the grant store never talk to the router there
    /// (the router pulls the feed), so a feed host need not hold the router's password. The commands
    /// that do talk to it take it through [`Config::router`].
    pub router: Option<RouterConfig>,
    /// IPv4 list name.
    pub list_v4: String,
    /// IPv6 list name.
    pub list_v6: String,
    /// Ownership tag.
    pub tag: String,
    /// Grant store path.
    pub state: PathBuf,
    /// Connect and handshake limit.
    pub connect_timeout: Duration,
    /// Whole-request limit.
    pub request_timeout: Duration,
    /// Requests in flight during a reconcile.
    pub concurrency: usize,
    /// How entries are written (`write_mode`).
    pub write_mode: crate::batch::WriteMode,
    /// Daemon reconcile interval.
    pub interval: Duration,
    /// Daemon control API address.
    pub control: SocketAddr,
    /// Whether `http://` to a host that is not this machine is allowed (the password in clear).
    pub allow_plain_http: bool,
    /// The widest prefixes a grant may name.
    pub prefix_limits: PrefixLimits,
    /// The control API token's file as configured; `None` means `<state>.token` (see
    /// [`Config::token_path`]).
    pub control_token_file: Option<PathBuf>,
    /// The control API token from [`TOKEN_ENV`], which wins over any file.
    pub control_token: Option<Secret>,
    /// Whether `validate` and `list` read the filter rules and check that they accept the lists
    /// (`check_rules`, default true): false for setups that manage the rules elsewhere.
    pub check_rules: bool,
    /// Active (the agent writes the list) or passive (the router pulls the feed).
    pub mode: Mode,
    /// The feed's settings (passive mode).
    pub feed: FeedConfig,
}

/// Who keeps the router's list in step with the grants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// The agent writes the list over REST.
    #[default]
    Active,
    /// The agent only serves a feed; a scheduler entry on the router pulls it and writes the list.
    Passive,
}

impl Mode {
    /// `active` or `passive` (absent: active).
    pub fn parse(text: Option<&str>) -> Result<Mode, ConfigError> {
        match text.map(str::trim) {
            None | Some("active") => Ok(Mode::Active),
            Some("passive") => Ok(Mode::Passive),
            Some(other) => Err(err(format!(
                "mode `{other}` is neither `active` nor `passive`"
            ))),
        }
    }
}

/// The feed's settings (passive mode; see `crate::feed`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedConfig {
    /// Where the feed listens; `None`: no feed.
    pub listen: Option<SocketAddr>,
    /// The API key file; `None`: `<state>.feed-key`.
    pub key_file: Option<PathBuf>,
    /// A PEM certificate chain to serve (with `cert_key_file`).
    pub cert_file: Option<PathBuf>,
    /// Its private key.
    pub cert_key_file: Option<PathBuf>,
    /// Extra host names for the certificate the daemon makes.
    pub names: Vec<String>,
    /// The fail-closed multiple from the file, if set.
    pub fail_closed_multiple: Option<u32>,
}

impl Config {
    /// The router's connection settings, or the error a command that talks to the router gives
    /// when none are configured (possible in passive mode only).
    pub fn router(&self) -> Result<&RouterConfig, ConfigError> {
        self.router.as_ref().ok_or_else(|| err(NO_ROUTER_URL))
    }

    /// A path next to the grant store: `<state><suffix>` (`.feed-key`, `.feed-ca.pem`, ...).
    pub fn beside_state(&self, suffix: &str) -> PathBuf {
        let mut name = self
            .state
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| "grants".into());
        name.push(suffix);
        self.state.with_file_name(name)
    }

    /// Where the feed's API key is read from (and, by default, written by the daemon).
    pub fn feed_key_path(&self) -> PathBuf {
        self.feed
            .key_file
            .clone()
            .unwrap_or_else(|| self.beside_state(".feed-key"))
    }
}

/// Defaults, documented in the README.
pub mod defaults {
    /// The list name (both families) and the ownership tag.
    pub const LIST: &str = "routeros-agent";
    /// The ownership tag.
    pub const TAG: &str = "routeros-agent";
    /// The grant store.
    pub const STATE: &str = "routeros-agent-grants.json";
    /// Connect limit.
    pub const CONNECT_TIMEOUT: &str = "5s";
    /// Request limit.
    pub const REQUEST_TIMEOUT: &str = "30s";
    /// Reconcile interval.
    pub const INTERVAL: &str = "1m";
    /// Concurrency: one at a time, as a real router serves one user.
    pub const CONCURRENCY: usize = 1;
    /// The control API.
    pub const CONTROL: &str = "127.0.0.1:7878";
}

fn err(s: impl Into<String>) -> ConfigError {
    ConfigError(s.into())
}

/// Reads and parses a TOML configuration file.
///
/// Errors give the position and the parser's message, never the file's text: toml's own error
/// quotes the offending line, which in this file may be `password = "..."`, or the whole password
/// when a password file is given as `--config` by mistake.
pub fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
    parse_file(&text).map_err(|e| err(format!("{}: {e}", path.display())))
}

/// Parses the text of a configuration file; the error holds no part of the text.
fn parse_file(text: &str) -> Result<FileConfig, String> {
    let file: FileConfig = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| position(text, s.start))
            .unwrap_or_default();
        format!("{at}{}", scrub(e.message()))
    })?;
    if let Some(p) = &file.password {
        // The span is the value's; the line is what a person needs to find the key.
        let line = text
            .get(..p.span().start)
            .unwrap_or(text)
            .matches('\n')
            .count()
            + 1;
        return Err(format!(
            "line {line}: the password never goes in the config file: use password_file or the \
             {PASSWORD_ENV} environment variable"
        ));
    }
    Ok(file)
}

/// `line L, column C: ` of a byte offset (both from 1; the column counts characters).
fn position(text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}: ")
}

/// The parser's message without anything it quoted from the file. Serde's messages quote values
/// (`invalid type: string "...", expected a boolean`) and keys (`unknown field `...``); a key or
/// value there could be a secret. Kept: the names of this file's own keys and quoted punctuation
/// (`expected `=``), which is what makes the message useful.
fn scrub(message: &str) -> String {
    const KEYS: &[&str] = &[
        "url",
        "username",
        "password_file",
        "ca_file",
        "pin_sha256",
        "insecure",
        "list",
        "list6",
        "tag",
        "state",
        "connect_timeout",
        "request_timeout",
        "concurrency",
        "write_mode",
        "interval",
        "control",
        "allow_plain_http",
        "widest_prefix_v4",
        "widest_prefix_v6",
        "control_token_file",
        "check_rules",
    ];
    let mut out = String::with_capacity(message.len());
    // The first quoted word of `unknown field `...`` is the key that was not understood. It is shown
    // when it looks like a key a person typed (lower-case ASCII words), which a misspelt key does and
    // a secret pasted into the file as a key (mixed case, symbols) usually does not.
    let mut unknown_key = message.starts_with("unknown field");
    let mut rest = message;
    while let Some(start) = rest.find(['`', '"', '\'']) {
        let quote = rest[start..].chars().next().expect("found");
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(len) = after.find(quote) else {
            // An unbalanced quote: drop everything after it rather than risk echoing text.
            out.push(quote);
            out.push('…');
            return out;
        };
        let inner = &after[..len];
        let harmless = KEYS.contains(&inner)
            || !inner.chars().any(char::is_alphanumeric)
            || (unknown_key && looks_like_a_key(inner));
        out.push(quote);
        out.push_str(if harmless { inner } else { "…" });
        out.push(quote);
        unknown_key = false;
        rest = &after[len + 1..];
    }
    out.push_str(rest);
    out
}

/// Whether an unknown key looks like a key a person typed: 1 to 32 lower-case ASCII letters, digits,
/// `_` or `-`, starting with a letter.
fn looks_like_a_key(word: &str) -> bool {
    (1..=32).contains(&word.len())
        && word.starts_with(|c: char| c.is_ascii_lowercase())
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Parses a SHA-256 fingerprint written as 64 hex digits, optionally separated by colons.
pub fn parse_pin(text: &str) -> Result<[u8; 32], ConfigError> {
    let hex: String = text.trim().chars().filter(|c| *c != ':').collect();
    let bad = || {
        err(format!(
            "`{text}` is not a SHA-256 fingerprint (64 hex digits)"
        ))
    };
    if hex.len() != 64 || !hex.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// A router's base URL, checked and parsed once: `https://host[:port]` (or `http://` for testing),
/// without credentials, path, query or fragment. A URL that does not parse is a configuration error,
/// found before anything is sent. It shows (and [`RouterUrl::as_str`] gives) the URL without a
/// trailing `/` or `/rest`, e.g. `https://192.0.2.1:8443`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterUrl {
    /// The URL's canonical text, without the trailing `/` the `url` crate writes for an empty path.
    text: String,
    /// The host as it is connected to: a name, or an IP address without IPv6 brackets.
    host: String,
    /// The port, the scheme's own when the URL names none.
    port: u16,
    /// For `https://`: the host as the name TLS verifies.
    server_name: Option<ServerName<'static>>,
}

impl RouterUrl {
    /// Checks a router URL as people write it (a trailing `/` or `/rest` is allowed and dropped).
    pub fn parse(text: &str) -> Result<RouterUrl, ConfigError> {
        let t = text.trim().trim_end_matches('/');
        let t = t.strip_suffix("/rest").unwrap_or(t);
        let (scheme, rest) = t
            .split_once("://")
            .ok_or_else(|| err(format!("URL `{t}` has no scheme; use https://host[:port]")))?;
        if scheme != "https" && scheme != "http" {
            return Err(err(format!(
                "URL scheme `{scheme}` is not https (or http for testing)"
            )));
        }
        if rest.is_empty() || rest.contains('/') || rest.contains('?') || rest.contains('#') {
            return Err(err(format!(
                "URL `{t}` must be https://host[:port] without a path"
            )));
        }
        // Credentials in the URL would end up in logs and error messages; they belong in the password.
        if rest.contains('@') {
            return Err(err(
                "the URL must not contain credentials; use --username and ROUTEROS_PASSWORD or --password-file",
            ));
        }
        let url = url::Url::parse(t).map_err(|e| err(format!("URL `{t}` is not valid: {e}")))?;
        let host = match url.host() {
            Some(url::Host::Domain(name)) => name.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(err(format!("URL `{t}` has no host"))),
        };
        let port = url
            .port_or_known_default()
            .ok_or_else(|| err(format!("URL `{t}` has no port")))?;
        let server_name = if scheme == "https" {
            Some(ServerName::try_from(host.clone()).map_err(|e| {
                err(format!(
                    "URL `{t}`: `{host}` is not a valid TLS server name: {e}"
                ))
            })?)
        } else {
            None
        };
        Ok(RouterUrl {
            text: url.as_str().trim_end_matches('/').to_owned(),
            host,
            port,
            server_name,
        })
    }

    /// The URL, e.g. `https://192.0.2.1:8443`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the host is this machine: a loopback address or `localhost`.
    pub fn is_loopback(&self) -> bool {
        match self.host.parse::<std::net::IpAddr>() {
            Ok(ip) => ip.is_loopback(),
            Err(_) => self.host == "localhost" || self.host.ends_with(".localhost"),
        }
    }

    /// Whether requests go over TLS.
    pub fn is_https(&self) -> bool {
        self.server_name.is_some()
    }

    /// The host to connect to (an IPv6 address without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The name the router's certificate is verified for (`https://` URLs only).
    pub fn server_name(&self) -> Option<ServerName<'static>> {
        self.server_name.clone()
    }
}

impl fmt::Display for RouterUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for RouterUrl {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RouterUrl::parse(s)
    }
}

impl PartialEq<&str> for RouterUrl {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

/// Checks a router URL and returns it without a trailing `/` or `/rest` (see [`RouterUrl`]).
pub fn normalise_url(text: &str) -> Result<String, ConfigError> {
    RouterUrl::parse(text).map(|u| u.text)
}

fn duration_of(name: &str, text: &str) -> Result<Duration, ConfigError> {
    match duration::parse(text) {
        Some(d) if !d.is_zero() => Ok(d),
        _ => Err(err(format!(
            "{name} `{text}` is not a positive duration such as 5s, 1m or 1h30m"
        ))),
    }
}

fn read_password_file(path: &Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        err(format!(
            "cannot read the password file {}: {e}",
            path.display()
        ))
    })?;
    // Only the first line: files written with `echo` end with a newline that is not part of it.
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        return Err(err(format!(
            "the password file {} is empty (its first line is the password)",
            path.display()
        )));
    }
    Ok(Secret::new(line))
}

/// The router's connection settings from flags, environment and file: `url` is the URL given, if
/// any (its absence is the first error).
fn resolve_router(
    args: &GlobalArgs,
    file: &FileConfig,
    url: Option<&str>,
    allow_plain_http: bool,
    env_password: Option<String>,
) -> Result<RouterConfig, ConfigError> {
    let url = RouterUrl::parse(url.ok_or_else(|| err(NO_ROUTER_URL))?)?;
    // Basic authentication sends the password with every request: over http:// anyone on the
    // path reads it. This machine's own loopback is the one place where that is harmless.
    if !url.is_https() && !url.is_loopback() && !allow_plain_http {
        return Err(err(format!(
            "URL `{url}` is plain http:// to another machine: the router password would travel \
             in clear. Use https://, or allow it with --allow-plain-http (allow_plain_http = \
             true in the configuration file)"
        )));
    }
    let username = args
        .username
        .clone()
        .or_else(|| file.username.clone())
        .ok_or_else(|| err("no user name: give --username or set ROUTEROS_USERNAME"))?;
    let password_file = args
        .password_file
        .clone()
        .or_else(|| file.password_file.clone());
    let password = match (password_file, env_password) {
        (Some(path), _) => read_password_file(&path)?,
        (None, Some(p)) => Secret::new(p),
        (None, None) => {
            return Err(err(format!(
                "no password: set {PASSWORD_ENV} or give --password-file"
            )));
        }
    };
    let ca_file = args.ca_file.clone().or_else(|| file.ca_file.clone());
    let pin = args.pin_sha256.clone().or_else(|| file.pin_sha256.clone());
    let insecure = args.insecure || file.insecure.unwrap_or(false);
    let tls = match (ca_file, pin, insecure) {
        (None, None, false) => TlsMode::SystemRoots,
        (Some(ca), None, false) => TlsMode::CaFile(ca),
        (None, Some(pin), false) => TlsMode::Pin(parse_pin(&pin)?),
        (None, None, true) => TlsMode::Insecure,
        _ => return Err(err("choose one of --ca-file, --pin-sha256 and --insecure")),
    };
    Ok(RouterConfig {
        url,
        username,
        password,
        tls,
    })
}

/// The daemon-only settings, which come from `run`'s flags.
#[derive(Debug, Clone, Default)]
pub struct DaemonArgs {
    /// `--interval`.
    pub interval: Option<String>,
    /// `--control`.
    pub control: Option<SocketAddr>,
    /// `--mode`.
    pub mode: Option<String>,
    /// `--feed-listen`.
    pub feed_listen: Option<SocketAddr>,
}

impl Config {
    /// Merges flags (with clap's environment fallbacks), the file and defaults. `env_password` is the
    /// value of `ROUTEROS_PASSWORD`, passed in so that tests do not touch the process environment.
    pub fn resolve(
        args: &GlobalArgs,
        daemon: &DaemonArgs,
        file: &FileConfig,
        env_password: Option<String>,
    ) -> Result<Config, ConfigError> {
        let mode = Mode::parse(daemon.mode.as_deref().or(file.mode.as_deref()))?;
        let allow_plain_http = args.allow_plain_http || file.allow_plain_http.unwrap_or(false);
        // Active mode always talks to the router. Passive mode does only for `passive ...` and
        // `validate`, which ask for it through `Config::router`; a URL given there is checked
        // here all the same, with its user name and password, so that a mistake shows at once.
        let url = args.url.clone().or_else(|| file.url.clone());
        let router = match (url, mode) {
            (None, Mode::Passive) => None,
            (url, _) => Some(resolve_router(
                args,
                file,
                url.as_deref(),
                allow_plain_http,
                env_password,
            )?),
        };
        let list_v4 = args
            .list
            .clone()
            .or_else(|| file.list.clone())
            .unwrap_or_else(|| defaults::LIST.into());
        let list_v6 = args
            .list6
            .clone()
            .or_else(|| file.list6.clone())
            .unwrap_or_else(|| list_v4.clone());
        let tag = args
            .tag
            .clone()
            .or_else(|| file.tag.clone())
            .unwrap_or_else(|| defaults::TAG.into());
        for (name, value) in [("list", &list_v4), ("list6", &list_v6), ("tag", &tag)] {
            if value.trim().is_empty() {
                return Err(err(format!("the {name} must not be empty")));
            }
        }
        let text = |flag: &Option<String>, file: &Option<String>, default: &str| {
            flag.clone()
                .or_else(|| file.clone())
                .unwrap_or_else(|| default.to_owned())
        };
        let connect_timeout = duration_of(
            "connect timeout",
            &text(
                &args.connect_timeout,
                &file.connect_timeout,
                defaults::CONNECT_TIMEOUT,
            ),
        )?;
        let request_timeout = duration_of(
            "request timeout",
            &text(
                &args.request_timeout,
                &file.request_timeout,
                defaults::REQUEST_TIMEOUT,
            ),
        )?;
        let interval = duration_of(
            "interval",
            &text(&daemon.interval, &file.interval, defaults::INTERVAL),
        )?;
        let concurrency = args
            .concurrency
            .or(file.concurrency)
            .unwrap_or(defaults::CONCURRENCY);
        if concurrency == 0 {
            return Err(err("concurrency must be at least 1"));
        }
        let write_mode = match args.write_mode.as_ref().or(file.write_mode.as_ref()) {
            None => crate::batch::WriteMode::default(),
            Some(m) => crate::batch::WriteMode::parse(m).ok_or_else(|| {
                err(format!(
                    "write_mode `{m}` is not one of auto, bulk or single"
                ))
            })?,
        };
        let mut prefix_limits = PrefixLimits::default();
        for (name, value, max, slot) in [
            (
                "widest_prefix_v4",
                args.widest_prefix_v4.or(file.widest_prefix_v4),
                32,
                &mut prefix_limits.v4,
            ),
            (
                "widest_prefix_v6",
                args.widest_prefix_v6.or(file.widest_prefix_v6),
                128,
                &mut prefix_limits.v6,
            ),
        ] {
            match value {
                None => {}
                Some(v) if (1..=max).contains(&v) => *slot = v,
                Some(v) => {
                    return Err(err(format!(
                        "{name} {v} is not a prefix length from 1 to {max} (/0 is never granted)"
                    )));
                }
            }
        }
        let control = daemon
            .control
            .or(file.control)
            .unwrap_or_else(|| defaults::CONTROL.parse().expect("valid default"));
        if !control.ip().is_loopback() {
            return Err(err(format!(
                "the control API must listen on a loopback address, not {control}"
            )));
        }
        Ok(Config {
            router,
            list_v4,
            list_v6,
            tag,
            state: args
                .state
                .clone()
                .or_else(|| file.state.clone())
                .unwrap_or_else(|| defaults::STATE.into()),
            connect_timeout,
            request_timeout,
            concurrency,
            write_mode,
            interval,
            control,
            allow_plain_http,
            prefix_limits,
            control_token_file: args
                .control_token_file
                .clone()
                .or_else(|| file.control_token_file.clone()),
            control_token: None,
            check_rules: file.check_rules.unwrap_or(true),
            mode,
            feed: FeedConfig {
                listen: daemon.feed_listen.or(file.feed_listen),
                key_file: args
                    .feed_key_file
                    .clone()
                    .or_else(|| file.feed_key_file.clone()),
                cert_file: file.feed_cert_file.clone(),
                cert_key_file: file.feed_cert_key_file.clone(),
                names: file.feed_names.clone().unwrap_or_default(),
                fail_closed_multiple: file.fail_closed_multiple,
            },
        })
    }

    /// Where the control API token is read from (and, by default, written by the daemon): the
    /// configured file or `<state>.token`.
    pub fn token_path(&self) -> PathBuf {
        self.control_token_file.clone().unwrap_or_else(|| {
            let mut name = self
                .state
                .file_name()
                .map(|n| n.to_os_string())
                .unwrap_or_else(|| "grants".into());
            name.push(".token");
            self.state.with_file_name(name)
        })
    }

    /// The warnings every command prints on stderr (and puts in its JSON) for this configuration.
    pub fn warnings(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let Some(router) = &self.router else {
            return out;
        };
        if router.tls == TlsMode::Insecure {
            out.push(INSECURE_WARNING);
        }
        if !router.url.is_https() && !router.url.is_loopback() {
            out.push(PLAIN_HTTP_WARNING);
        }
        out
    }

    /// The planner's view of the configuration.
    pub fn plan_config(&self) -> crate::plan::PlanConfig {
        crate::plan::PlanConfig {
            tag: self.tag.clone(),
            list_v4: self.list_v4.clone(),
            list_v6: self.list_v6.clone(),
            tolerance: Duration::from_secs(5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(url: &str) -> GlobalArgs {
        GlobalArgs {
            url: Some(url.into()),
            username: Some("agent".into()),
            ..Default::default()
        }
    }

    fn resolve(a: &GlobalArgs, f: &FileConfig) -> Result<Config, ConfigError> {
        Config::resolve(a, &DaemonArgs::default(), f, Some("s3cret-pw".into()))
    }

    #[test]
    fn defaults_and_list6_follows_list() {
        let c = resolve(
            &GlobalArgs {
                list: Some("vpn".into()),
                ..args("https://r.example/")
            },
            &FileConfig::default(),
        )
        .unwrap();
        assert_eq!(c.router().unwrap().url, "https://r.example");
        assert_eq!(
            (c.list_v4.as_str(), c.list_v6.as_str(), c.tag.as_str()),
            ("vpn", "vpn", "routeros-agent")
        );
        assert_eq!(c.router().unwrap().tls, TlsMode::SystemRoots);
        assert_eq!(c.connect_timeout, Duration::from_secs(5));
        assert_eq!(c.interval, Duration::from_secs(60));
        assert_eq!(c.concurrency, 1);
    }

    #[test]
    fn flags_win_over_the_file() {
        let file: FileConfig = toml::from_str(
            r#"
            url = "https://file.example"
            username = "from-file"
            list = "file-list"
            list6 = "file-list6"
            interval = "5m"
            insecure = false
            control = "127.0.0.1:9000"
            "#,
        )
        .unwrap();
        let c = resolve(
            &GlobalArgs {
                list: Some("flag-list".into()),
                ..args("https://flag.example:8443/rest")
            },
            &file,
        )
        .unwrap();
        assert_eq!(c.router().unwrap().url, "https://flag.example:8443");
        assert_eq!(c.router().unwrap().username, "agent");
        assert_eq!(
            (c.list_v4.as_str(), c.list_v6.as_str()),
            ("flag-list", "file-list6")
        );
        assert_eq!(c.interval, Duration::from_secs(300));
        assert_eq!(c.control, "127.0.0.1:9000".parse().unwrap());
        let only_file = resolve(&GlobalArgs::default(), &file).unwrap();
        assert_eq!(
            (
                only_file.router().unwrap().url.as_str(),
                only_file.router().unwrap().username.as_str()
            ),
            ("https://file.example", "from-file")
        );
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        assert!(parse_file("password = \"x\"").is_err());
        let e = parse_file("url = \"https://r\"\nlst = \"x\"").unwrap_err();
        assert!(
            e.starts_with("line 2, column 1: unknown field `lst`"),
            "{e}"
        );
    }

    #[test]
    fn file_errors_give_the_position_and_never_the_text() {
        let secret = "hunter2-SECRET";
        let dir = tempfile::tempdir().unwrap();
        for (text, at) in [
            // The key the password must never be given as.
            (
                format!("url = \"https://r\"\npassword = \"{secret}\"\n"),
                "line 2: the password never goes in the config file",
            ),
            // A password file passed as --config.
            (format!("{secret}\n"), "line 1"),
            (format!("pass{secret}word\n"), "line 1"),
            // A secret as a value of the wrong type, as an unknown key, in an unterminated string.
            (format!("insecure = \"{secret}\""), "line 1, column 12:"),
            (format!("list = \"a\"\n{secret} = 1"), "line 2, column 1:"),
            (format!("list = \"{secret}"), "line 1"),
            (format!("tag = '{secret}'\ntag = 'x'"), "line 2"),
        ] {
            let path = dir.path().join("agent.toml");
            std::fs::write(&path, &text).unwrap();
            let e = read_file(&path).unwrap_err().to_string();
            assert!(!e.contains("hunter2"), "{text:?}: {e}");
            assert!(e.contains(at), "{text:?}: {e}");
        }
        let e = parse_file(&format!("password = \"{secret}\"")).unwrap_err();
        assert_eq!(
            e,
            "line 1: the password never goes in the config file: use password_file or the \
             ROUTEROS_PASSWORD environment variable"
        );
        // The message still names this file's keys and the punctuation the parser expected.
        let e = parse_file("insecure = \"yes\"").unwrap_err();
        assert!(e.contains("expected a boolean"), "{e}");
        assert_eq!(
            scrub("unknown field `lst`, expected one of `url`, `list`"),
            "unknown field `lst`, expected one of `url`, `list`"
        );
        assert_eq!(
            scrub("unknown field `Hunter2!`, expected one of `url`"),
            "unknown field `…`, expected one of `url`"
        );
        assert_eq!(scrub("expected `=`"), "expected `=`");
        assert_eq!(
            scrub("invalid type: string \"pw\", expected"),
            "invalid type: string \"…\", expected"
        );
        assert_eq!(scrub("it's `open"), "it'…");
    }

    #[test]
    fn plain_http_only_to_this_machine_unless_allowed() {
        for url in [
            "http://127.0.0.1:8080",
            "http://[::1]",
            "http://localhost:80",
        ] {
            let c = resolve(&args(url), &FileConfig::default()).unwrap();
            assert!(c.warnings().is_empty(), "{url}");
        }
        let e = resolve(&args("http://192.0.2.1"), &FileConfig::default()).unwrap_err();
        assert!(
            e.to_string().contains("password would travel in clear")
                && e.to_string().contains("--allow-plain-http"),
            "{e}"
        );
        let file: FileConfig = toml::from_str("allow_plain_http = true").unwrap();
        let c = resolve(&args("http://192.0.2.1"), &file).unwrap();
        assert_eq!(c.warnings(), vec![PLAIN_HTTP_WARNING]);
        assert!(c.check_rules, "the filter rule check is on by default");
        let file: FileConfig = toml::from_str("check_rules = false").unwrap();
        assert!(
            !resolve(&args("https://r.example"), &file)
                .unwrap()
                .check_rules
        );
        let flag = GlobalArgs {
            allow_plain_http: true,
            ..args("http://r.example")
        };
        assert!(resolve(&flag, &FileConfig::default()).is_ok());
    }

    #[test]
    fn prefix_limits_from_file_and_flags() {
        let c = resolve(&args("https://r"), &FileConfig::default()).unwrap();
        assert_eq!(c.prefix_limits, PrefixLimits { v4: 17, v6: 49 });
        let file: FileConfig = toml::from_str("widest_prefix_v4 = 8").unwrap();
        let c = resolve(
            &GlobalArgs {
                widest_prefix_v6: Some(32),
                ..args("https://r")
            },
            &file,
        )
        .unwrap();
        assert_eq!(c.prefix_limits, PrefixLimits { v4: 8, v6: 32 });
        for bad in [
            "widest_prefix_v4 = 0",
            "widest_prefix_v4 = 33",
            "widest_prefix_v6 = 129",
        ] {
            let file: FileConfig = toml::from_str(bad).unwrap();
            assert!(resolve(&args("https://r"), &file).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_empty_password_file_is_a_configuration_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        for text in ["", "\n", "\nsecond-line"] {
            std::fs::write(&path, text).unwrap();
            let e = resolve(
                &GlobalArgs {
                    password_file: Some(path.clone()),
                    ..args("https://r")
                },
                &FileConfig::default(),
            )
            .unwrap_err();
            assert!(e.to_string().contains("is empty"), "{text:?}: {e}");
        }
    }

    #[test]
    fn tls_modes() {
        let pin = "AB:".repeat(31) + "AB";
        let c = resolve(
            &GlobalArgs {
                pin_sha256: Some(pin),
                ..args("https://r")
            },
            &FileConfig::default(),
        )
        .unwrap();
        assert_eq!(c.router().unwrap().tls, TlsMode::Pin([0xab; 32]));
        let c = resolve(
            &GlobalArgs {
                insecure: true,
                ..args("https://r")
            },
            &FileConfig::default(),
        )
        .unwrap();
        assert_eq!(c.router().unwrap().tls, TlsMode::Insecure);
        let both = GlobalArgs {
            insecure: true,
            ca_file: Some("ca.pem".into()),
            ..args("https://r")
        };
        assert!(resolve(&both, &FileConfig::default()).is_err());
        for bad in ["ab", &"zz".repeat(32), &"a".repeat(65)] {
            assert!(parse_pin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_values() {
        for url in [
            "r.example",
            "ftp://r",
            "https://",
            "https://r/x",
            "https://admin:pw@r",
        ] {
            assert!(
                resolve(&args(url), &FileConfig::default()).is_err(),
                "{url}"
            );
        }
        let zero = GlobalArgs {
            connect_timeout: Some("0s".into()),
            ..args("https://r")
        };
        assert!(resolve(&zero, &FileConfig::default()).is_err());
        let far = DaemonArgs {
            control: Some("0.0.0.0:1".parse().unwrap()),
            ..Default::default()
        };
        assert!(
            Config::resolve(
                &args("https://r"),
                &far,
                &FileConfig::default(),
                Some("p".into())
            )
            .is_err()
        );
        let none = Config::resolve(
            &args("https://r"),
            &DaemonArgs::default(),
            &FileConfig::default(),
            None,
        );
        assert!(none.unwrap_err().to_string().contains("ROUTEROS_PASSWORD"));
    }

    #[test]
    fn malformed_urls_are_configuration_errors() {
        for (url, says) in [
            ("https://r:99999", "https://r:99999` is not valid"),
            ("https://exa mple.org", "https://exa mple.org` is not valid"),
            ("https://[::1", "https://[::1` is not valid"),
            ("http://r:port", "http://r:port` is not valid"),
        ] {
            let e = resolve(&args(url), &FileConfig::default()).unwrap_err();
            assert!(
                e.to_string().starts_with("configuration: URL `"),
                "{url}: {e}"
            );
            assert!(e.to_string().contains(says), "{url}: {e}");
        }
        // Parsed once: the host and port the probes connect to, the name TLS verifies.
        let u = RouterUrl::parse("https://[2001:DB8::1]:8443/rest/").unwrap();
        assert_eq!(u, "https://[2001:db8::1]:8443");
        assert_eq!(
            (u.host(), u.port(), u.is_https()),
            ("2001:db8::1", 8443, true)
        );
        let u = RouterUrl::parse("http://Router.example").unwrap();
        assert_eq!(
            (u.as_str(), u.port(), u.is_https()),
            ("http://router.example", 80, false)
        );
        assert_eq!(
            normalise_url("https://r.example:443/").unwrap(),
            "https://r.example"
        );
    }

    #[test]
    fn passive_mode_needs_no_router_until_a_command_talks_to_it() {
        let passive: FileConfig = toml::from_str("mode = \"passive\"").unwrap();
        // A feed host: no URL, no user name, no password.
        let c = Config::resolve(
            &GlobalArgs::default(),
            &DaemonArgs::default(),
            &passive,
            None,
        )
        .unwrap();
        assert_eq!(c.mode, Mode::Passive);
        assert!(c.router.is_none());
        assert!(c.warnings().is_empty());
        assert_eq!(
            c.router().unwrap_err().to_string(),
            "configuration: no router URL: give --url or set ROUTEROS_URL"
        );
        let e = crate::net::RouterClient::new(&c).unwrap_err();
        assert_eq!(
            e.to_string(),
            "configuration: no router URL: give --url or set ROUTEROS_URL"
        );
        // `run --mode passive` on the command line: the same.
        let run = DaemonArgs {
            mode: Some("passive".into()),
            ..Default::default()
        };
        let c =
            Config::resolve(&GlobalArgs::default(), &run, &FileConfig::default(), None).unwrap();
        assert!(c.router.is_none());
        // A URL given in passive mode is resolved whole, with today's errors.
        let c = resolve(&args("https://r.example"), &passive).unwrap();
        assert_eq!(c.router().unwrap().url, "https://r.example");
        let url_only = GlobalArgs {
            url: Some("https://r.example".into()),
            ..Default::default()
        };
        let e = resolve(&url_only, &passive).unwrap_err();
        assert!(e.to_string().contains("no user name"), "{e}");
        let e = Config::resolve(&args("https://r.example"), &run, &passive, None).unwrap_err();
        assert!(e.to_string().contains("no password"), "{e}");
        // Active mode still needs the router.
        let e = Config::resolve(
            &GlobalArgs::default(),
            &DaemonArgs::default(),
            &FileConfig::default(),
            Some("pw".into()),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "configuration: no router URL: give --url or set ROUTEROS_URL"
        );
    }

    #[test]
    fn password_file_first_line_and_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "file-secret\n").unwrap();
        let c = resolve(
            &GlobalArgs {
                password_file: Some(path),
                ..args("https://r")
            },
            &FileConfig::default(),
        )
        .unwrap();
        assert_eq!(c.router().unwrap().password.expose(), "file-secret");
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("file-secret") && shown.contains("Secret(***)"),
            "{shown}"
        );
        let c = resolve(&args("https://r"), &FileConfig::default()).unwrap();
        assert!(!format!("{c:?}").contains("s3cret-pw"));
        let missing = GlobalArgs {
            password_file: Some(dir.path().join("nope")),
            ..args("https://r")
        };
        let e = resolve(&missing, &FileConfig::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("password file") && !e.contains("s3cret"), "{e}");
    }
}
