//! The agent's stable error codes and its one error type.
//!
//! Every failure the agent reports carries exactly one [`Code`] from the project's contract
//! (`docs/error-codes.md`): a six-digit number that never changes meaning, a short name, a sentence
//! saying when it happens and one saying what to do. The code is for machines (dashboards, support
//! links, tests); the rest is for people and may improve. The set is closed: adding a code means
//! adding a variant here, its row in `docs/error-codes.md` (a test keeps the two equal), an arm in
//! the classification (`classify.rs`) and a conformance scenario.

use std::fmt;

/// One of the documented failure codes. The discriminant is the code's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u32)]
pub enum Code {
    /// No TCP connection could be opened.
    ConnectionRefused = 208000,
    /// HTTP 401 (published as MIKRO001).
    AuthenticationFailed = 208001,
    /// Authenticated but not permitted (published as MIKRO002).
    AuthorizationFailed = 208002,
    /// The router's certificate failed verification.
    CertificateNotTrusted = 208003,
    /// Connecting, the handshake or the response took too long.
    TimedOut = 208004,
    /// The router's host name did not resolve.
    NameResolutionFailed = 208005,
    /// TLS failed for a reason other than the certificate.
    TlsHandshakeFailed = 208006,
    /// The connection was reset or closed before a complete response.
    ConnectionReset = 208007,
    /// Something answered, but not a usable RouterOS REST API.
    RestApiUnavailable = 208008,
    /// RouterOS older than 7.1.
    UnsupportedVersion = 208009,
    /// HTTP 400 `Session closed`.
    SessionClosed = 208010,
    /// Any other 5xx.
    RouterInternalError = 208011,
    /// Passive mode: the router's fetch of the feed could not connect or get an answer.
    FeedUnreachable = 208020,
    /// Passive mode: the feed answered the router's fetch with 401 or 403.
    FeedKeyRefused = 208021,
    /// Passive mode: the router refused the feed's certificate.
    FeedCertificateRefused = 208022,
    /// Reading the managed list failed.
    ListReadFailed = 208100,
    /// Creating an entry was rejected.
    EntryAddFailed = 208101,
    /// Deleting an entry was rejected.
    EntryRemoveFailed = 208102,
    /// Changing an entry was rejected.
    EntryUpdateFailed = 208103,
    /// The address is not a valid host or prefix.
    AddressRejected = 208104,
    /// The address is in the list as an entry the agent does not own.
    EntryNotOwned = 208105,
    /// The router's list does not show what a write should have produced.
    WriteNotConfirmed = 208106,
    /// No enabled filter rule accepts the managed list.
    FilterRuleMissing = 208107,
    /// The only rules accepting the managed list are disabled.
    FilterRuleDisabled = 208108,
    /// An earlier drop or reject catches traffic the list's accepting rule would accept.
    FilterRuleShadowed = 208109,
    /// The filter rules cannot be judged (a matcher the check does not understand).
    FilterRuleUndecidable = 208110,
    /// Reading the filter rules failed with a router error not covered above.
    FilterRulesUnreadable = 208111,
    /// Passive mode: the feed script's last run failed for a reason other than the fetch.
    FeedScriptFailed = 208120,
    /// Passive mode: the router's list differs from the feed.
    FeedOutOfStep = 208121,
    /// Passive mode: the script or scheduler entry is missing, disabled, or has never run.
    PassiveNotInstalled = 208122,
    /// Passive mode: a script or scheduler entry of the agent's name that the agent did not create.
    PassiveNotOwned = 208123,
    /// Passive mode: the router refused to create, change or read the script, scheduler entry,
    /// file or certificate.
    PassiveSetupFailed = 208124,
    /// A body that should be JSON is not.
    NotJson = 208400,
    /// Valid JSON of the wrong kind.
    WrongShape = 208401,
    /// A required key is missing.
    MissingField = 208402,
    /// A value does not parse.
    InvalidValue = 208403,
    /// A status the operation never produces.
    UnexpectedStatus = 208404,
}

impl Code {
    /// Every code, in numeric order. The documentation test walks this list.
    pub const ALL: [Code; 37] = [
        Code::ConnectionRefused,
        Code::AuthenticationFailed,
        Code::AuthorizationFailed,
        Code::CertificateNotTrusted,
        Code::TimedOut,
        Code::NameResolutionFailed,
        Code::TlsHandshakeFailed,
        Code::ConnectionReset,
        Code::RestApiUnavailable,
        Code::UnsupportedVersion,
        Code::SessionClosed,
        Code::RouterInternalError,
        Code::FeedUnreachable,
        Code::FeedKeyRefused,
        Code::FeedCertificateRefused,
        Code::ListReadFailed,
        Code::EntryAddFailed,
        Code::EntryRemoveFailed,
        Code::EntryUpdateFailed,
        Code::AddressRejected,
        Code::EntryNotOwned,
        Code::WriteNotConfirmed,
        Code::FilterRuleMissing,
        Code::FilterRuleDisabled,
        Code::FilterRuleShadowed,
        Code::FilterRuleUndecidable,
        Code::FilterRulesUnreadable,
        Code::FeedScriptFailed,
        Code::FeedOutOfStep,
        Code::PassiveNotInstalled,
        Code::PassiveNotOwned,
        Code::PassiveSetupFailed,
        Code::NotJson,
        Code::WrongShape,
        Code::MissingField,
        Code::InvalidValue,
        Code::UnexpectedStatus,
    ];

    /// The six-digit number, e.g. `208001`.
    pub fn number(self) -> u32 {
        self as u32
    }

    /// The code with this number, if there is one.
    pub fn from_number(number: u32) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.number() == number)
    }

    /// The vendor's published alias, for the two codes that have one.
    pub fn alias(self) -> Option<&'static str> {
        match self {
            Code::AuthenticationFailed => Some("MIKRO001"),
            Code::AuthorizationFailed => Some("MIKRO002"),
            _ => None,
        }
    }

    /// A short name, as in the contract's tables.
    pub fn name(self) -> &'static str {
        match self {
            Code::ConnectionRefused => "connection refused",
            Code::AuthenticationFailed => "authentication failed",
            Code::AuthorizationFailed => "authorization failed",
            Code::CertificateNotTrusted => "certificate not trusted",
            Code::TimedOut => "timed out",
            Code::NameResolutionFailed => "name resolution failed",
            Code::TlsHandshakeFailed => "TLS handshake failed",
            Code::ConnectionReset => "connection reset",
            Code::RestApiUnavailable => "REST API unavailable",
            Code::UnsupportedVersion => "unsupported RouterOS version",
            Code::SessionClosed => "router session closed",
            Code::RouterInternalError => "router internal error",
            Code::ListReadFailed => "address-list read failed",
            Code::EntryAddFailed => "entry add failed",
            Code::EntryRemoveFailed => "entry remove failed",
            Code::EntryUpdateFailed => "entry update failed",
            Code::AddressRejected => "address rejected",
            Code::EntryNotOwned => "entry not owned",
            Code::WriteNotConfirmed => "write not confirmed",
            Code::FilterRuleMissing => "filter rule missing",
            Code::FilterRuleDisabled => "filter rule disabled",
            Code::FilterRuleShadowed => "filter rule shadowed",
            Code::FilterRuleUndecidable => "filter rule undecidable",
            Code::FilterRulesUnreadable => "filter rules unreadable",
            Code::FeedUnreachable => "feed unreachable from the router",
            Code::FeedKeyRefused => "feed refused the router's key",
            Code::FeedCertificateRefused => "feed certificate refused",
            Code::FeedScriptFailed => "feed script failed",
            Code::FeedOutOfStep => "list out of step with the feed",
            Code::PassiveNotInstalled => "passive mode not installed",
            Code::PassiveNotOwned => "script or scheduler entry not owned",
            Code::PassiveSetupFailed => "passive setup failed",
            Code::NotJson => "response is not JSON",
            Code::WrongShape => "response has the wrong shape",
            Code::MissingField => "response lacks a field",
            Code::InvalidValue => "response has an invalid value",
            Code::UnexpectedStatus => "unexpected status",
        }
    }

    /// What happened, for people. Where the router cannot tell causes apart, all are named.
    pub fn when(self) -> &'static str {
        match self {
            Code::ConnectionRefused => {
                "No TCP connection could be opened to the router: refused, or host or network \
                 unreachable (the www-ssl service is disabled, the port is wrong, or the router is down)."
            }
            Code::AuthenticationFailed => {
                "The router answered HTTP 401. Either the user name or password is wrong (or the user \
                 is disabled, or its allowed address excludes the agent), or the user's group lacks the \
                 `rest-api` policy: RouterOS answers both the same way."
            }
            Code::AuthorizationFailed => {
                "The router accepted the credentials but refused the operation: HTTP 403, or HTTP 500 \
                 with `not enough permissions` or `not allowed` (the user's group lacks the `read`, \
                 `write` or `api` policy)."
            }
            Code::CertificateNotTrusted => {
                "The router's TLS certificate failed verification: unknown issuer or self-signed \
                 without trust, expired or not yet valid, a name mismatch, or a pinned fingerprint \
                 mismatch."
            }
            Code::TimedOut => {
                "Connecting, the TLS handshake, or waiting for the response took longer than the \
                 configured limit."
            }
            Code::NameResolutionFailed => "The router's host name did not resolve.",
            Code::TlsHandshakeFailed => {
                "TLS failed for a reason other than the certificate: the router has no certificate \
                 assigned to www-ssl, no common protocol version or cipher, a plain-HTTP server \
                 answers on the TLS port, or an `http://` URL points at a TLS port."
            }
            Code::ConnectionReset => {
                "The connection was accepted, then reset or closed before a complete response arrived \
                 (for example the service's `available-from` list excludes the agent)."
            }
            Code::RestApiUnavailable => {
                "An HTTP server answered, but it is not a usable RouterOS REST API: 404 or an HTML page \
                 for `/rest/system/resource`, a redirect, or REST switched off."
            }
            Code::UnsupportedVersion => "The router reports a RouterOS version older than 7.1.",
            Code::SessionClosed => {
                "The router answered HTTP 400 `Session closed`: it cut the command at its 60-second limit."
            }
            Code::RouterInternalError => "The router answered with a 5xx status not covered above.",
            Code::ListReadFailed => {
                "Reading the managed address-list failed with a router error not covered above."
            }
            Code::EntryAddFailed => "The router rejected the creation of an address-list entry.",
            Code::EntryRemoveFailed => "The router rejected the deletion of an address-list entry.",
            Code::EntryUpdateFailed => {
                "The router rejected a change (timeout or comment) to an address-list entry."
            }
            Code::AddressRejected => {
                "The address is not a valid IPv4 or IPv6 host or prefix (checked before sending), or \
                 the router refused it (`invalid value for argument address`)."
            }
            Code::EntryNotOwned => {
                "The address is already in the list as an entry the agent does not own (no agent tag \
                 in its comment, or a static entry); the agent leaves it untouched."
            }
            Code::FilterRuleMissing => {
                "`validate` found no enabled filter rule with an accepting action and \
                 `src-address-list=<list>` in the router's filter table, so a grant opens nothing."
            }
            Code::FilterRuleDisabled => {
                "`validate` found filter rules that accept the managed list, but all of them \
                 are disabled."
            }
            Code::FilterRuleShadowed => {
                "`validate` found the rule that accepts the managed list, but an earlier drop \
                 or reject rule of the same chain (or of a chain it jumps to) catches the traffic it \
                 would accept."
            }
            Code::FilterRuleUndecidable => {
                "`validate` cannot tell whether the filter accepts the managed list: a rule \
                 on the way uses a matcher the check does not understand. A warning unless \
                 `--strict-rules` is given."
            }
            Code::FilterRulesUnreadable => {
                "Reading `/ip/firewall/filter` or `/ipv6/firewall/filter` failed with a router error \
                 not covered above (transport, authentication and permission failures keep their own \
                 codes)."
            }
            Code::FeedUnreachable => {
                "`passive status`: the feed script's last run could not fetch the feed: the \
                 connection was refused or timed out, the name did not resolve, or the feed answered \
                 with an error status other than 401 and 403 (the router's text is shown)."
            }
            Code::FeedKeyRefused => {
                "`passive status`: the feed answered the router's fetch with HTTP 401 or 403: the key \
                 in the router's script is not the feed's key."
            }
            Code::FeedCertificateRefused => {
                "`passive status`: the router refused the feed's TLS certificate (`failure: SSL: ...`): \
                 its CA is not in the router's certificate store, or the certificate is expired or \
                 does not name the feed URL's host."
            }
            Code::FeedScriptFailed => {
                "`passive status`: the feed script's last run failed for a reason other than the \
                 fetch (a syntax error, a missing policy, a router error); the router's log line is \
                 shown."
            }
            Code::FeedOutOfStep => {
                "`passive status`: the router's list differs from the feed after the script's last \
                 successful run: addresses granted before that run are missing, or entries the feed no \
                 longer holds are still there."
            }
            Code::PassiveNotInstalled => {
                "`passive status`: the agent's script or scheduler entry is missing or disabled, or \
                 the scheduler has not run the script yet."
            }
            Code::PassiveNotOwned => {
                "`passive install`, `uninstall` or `status` found a script or scheduler entry with the \
                 agent's name whose comment is not the agent's tag; the agent leaves it untouched."
            }
            Code::PassiveSetupFailed => {
                "The router refused to create, change, remove or read the agent's script, scheduler \
                 entry, CA file or certificate (transport, authentication and permission failures \
                 keep their own codes)."
            }
            Code::WriteNotConfirmed => {
                "After a write the router's list does not show the expected result (entry missing, a \
                 different address, or a wrong timeout)."
            }
            Code::NotJson => {
                "A body that should be JSON is not: HTML, empty, truncated, invalid UTF-8 or bad \
                 syntax; or a body longer than the 256 MiB the agent reads (a 100,000-entry list is \
                 about 20 MB)."
            }
            Code::WrongShape => {
                "The body is valid JSON of the wrong kind: an object where an array belongs, or an \
                 error envelope without `error`."
            }
            Code::MissingField => {
                "A required key is missing (`.id`, `list` or `address` in a row; `version` in \
                 `/system/resource`)."
            }
            Code::InvalidValue => {
                "A value does not parse: an address that is not an address, an `.id` not of the \
                 `*HEX` form, a duration or version that does not parse, or a value that is not a string."
            }
            Code::UnexpectedStatus => {
                "The router answered with a status the operation never produces (1xx, an unexpected \
                 3xx or 2xx)."
            }
        }
    }

    /// What to do about it, for people.
    pub fn remediation(self) -> &'static str {
        match self {
            Code::ConnectionRefused => {
                "Check the URL and port; on the router enable the service (`/ip service enable \
                 www-ssl`) and check that no firewall rule drops the agent's connection."
            }
            Code::AuthenticationFailed => {
                "Check the user name and password; on the router check that the user is enabled and \
                 allowed from the agent's address (`/user print detail`) and that its group has the \
                 `rest-api` policy (`/user group print`)."
            }
            Code::AuthorizationFailed => {
                "Give the user's group the `api, rest-api, read, write` policies (`/user group set \
                 <group> policy=api,rest-api,read,write,policy`); a policy change may take up to ten \
                 minutes to reach a logged-in REST user."
            }
            Code::CertificateNotTrusted => {
                "Give the agent the router's CA (`--ca-file`) or pin its certificate \
                 (`--pin-sha256`); check the certificate's validity dates and that the URL's host name \
                 is in the certificate."
            }
            Code::TimedOut => {
                "Check the network path to the router and its load; raise the connect or request \
                 timeout if the router is slow (large lists take seconds)."
            }
            Code::NameResolutionFailed => {
                "Check the host name in the URL and the agent's DNS settings, or use the router's IP \
                 address."
            }
            Code::TlsHandshakeFailed => {
                "Assign a certificate to the www-ssl service (`/ip service set www-ssl \
                 certificate=<name>`), check `tls-version`, and check that the URL's port is the \
                 www-ssl port and not the plain www port; for the www-ssl port use an `https://` URL."
            }
            Code::ConnectionReset => {
                "Check the service's `available-from` (`address` before 7.24) list on the router and \
                 any firewall or proxy between the agent and the router."
            }
            Code::RestApiUnavailable => {
                "Check that the URL points at the router itself (no proxy, no redirect), that \
                 RouterOS is 7.1 or newer, and that the REST API is enabled in the web server settings."
            }
            Code::UnsupportedVersion => {
                "Upgrade RouterOS to 7.1 or newer: earlier versions have no REST API."
            }
            Code::SessionClosed => {
                "The router is overloaded or the list is very large: retry later, lower the agent's \
                 concurrency, or shorten the list."
            }
            Code::RouterInternalError => {
                "Retry later; if it persists, check the router's log (`/log print`) and resources."
            }
            Code::ListReadFailed => {
                "Check the list name and the router's log; the router's message is shown with the error."
            }
            Code::EntryAddFailed => {
                "Read the router's message shown with the error; check the list name and the timeout."
            }
            Code::EntryRemoveFailed => {
                "Read the router's message shown with the error; the entry may be locked by another tool."
            }
            Code::EntryUpdateFailed => {
                "Read the router's message shown with the error; check that the group has the `write` \
                 policy (RouterOS answers PATCH without it with `missing or invalid resource identifier`)."
            }
            Code::AddressRejected => {
                "Give an IPv4 or IPv6 host or prefix such as `192.0.2.10`, `192.0.2.0/24` or \
                 `2001:db8::1`."
            }
            Code::EntryNotOwned => {
                "Someone else manages this address in the list: remove or retag that entry on the \
                 router if the agent should manage it, or leave it as it is."
            }
            Code::FilterRuleMissing => {
                "Add the rule the message shows (an accept for `src-address-list=<list>` above the \
                 chain's first drop), on the router's console."
            }
            Code::FilterRuleDisabled => {
                "Enable the rule with the command the message shows (`/ip firewall filter enable <id>`)."
            }
            Code::FilterRuleShadowed => {
                "Move the accepting rule above the drop with the command the message shows \
                 (`/ip firewall filter move <id> destination=<id>`)."
            }
            Code::FilterRuleUndecidable => {
                "Read the reasons in the message and check those rules by hand; the agent's list works \
                 only if traffic from a granted address reaches the accepting rule."
            }
            Code::FilterRulesUnreadable => {
                "Read the router's message shown with the error; check that the agent's group has the \
                 `read` policy and that the router has the filter menu."
            }
            Code::FeedUnreachable => {
                "Check that the daemon runs with `--mode passive --feed-listen ...`, that the feed URL \
                 given to `passive install` reaches it from the router (routes, firewall), and the \
                 router's log (`/log print where message~\"feed\"`)."
            }
            Code::FeedKeyRefused => {
                "Run `passive install` again with the daemon's feed key (`--feed-key-file`), which \
                 rewrites the script with it."
            }
            Code::FeedCertificateRefused => {
                "Run `passive install` again so that it imports the feed's CA (`<state>.feed-ca.pem`), \
                 and check that the feed URL's host is one of the certificate's names (`feed_names`)."
            }
            Code::FeedScriptFailed => {
                "Read the router's log line shown with the error; check the policies of the \
                 scheduler's owner (`read, write, test, policy`; see the README) and run `passive \
                 install` again."
            }
            Code::FeedOutOfStep => {
                "Wait one interval and check again (a grant or revoke since the last run shows here \
                 until the next); if it persists, read the router's log for the script's warnings."
            }
            Code::PassiveNotInstalled => {
                "Run `routeros-agent passive install --feed-url <URL>`; if it is installed, enable \
                 the scheduler entry or wait one interval for its first run."
            }
            Code::PassiveNotOwned => {
                "Rename or remove that script or scheduler entry on the router, or give the agent \
                 another `--tag`."
            }
            Code::PassiveSetupFailed => {
                "Read the router's message shown with the error; for passive mode the agent's group \
                 needs `read`, `write` and `test` besides `api` and `rest-api` (see the README)."
            }
            Code::WriteNotConfirmed => {
                "Another tool or script may be changing the list at the same time; check the router's \
                 log. The agent retries at its next reconcile."
            }
            Code::NotJson => {
                "Check that the URL points at the router's REST API and not at a proxy or login page; \
                 retry if the connection is unreliable."
            }
            Code::WrongShape | Code::MissingField | Code::InvalidValue => {
                "Check the RouterOS version; if the router is 7.1 or newer, report it with the router's \
                 reply shown with the error."
            }
            Code::UnexpectedStatus => {
                "Check that the URL points at the router itself and not at a proxy; report it with the \
                 status shown with the error."
            }
        }
    }

    /// Whether a later attempt may succeed without anyone changing anything: these are retried
    /// with backoff. Authentication, authorization and certificate failures are never retried, so
    /// that a locked-out account or a man in the middle is reported at once. 208400 is not
    /// transient as a code: an HTML login page comes back the same every time; the network module
    /// retries it only when the body is JSON cut short.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Code::ConnectionRefused
                | Code::TimedOut
                | Code::ConnectionReset
                | Code::SessionClosed
                | Code::RouterInternalError
        )
    }

    /// The code as printed: `208001 (MIKRO001)` or `208104`.
    pub fn label(self) -> String {
        match self.alias() {
            Some(alias) => format!("{} ({alias})", self.number()),
            None => self.number().to_string(),
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// A failure with its code and what the agent was doing. The context never holds a secret: it is
/// built from methods, paths, statuses and the router's own `detail` text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("error {}: {}: {context}. {}", code.label(), code.name(), code.remediation())]
pub struct Error {
    /// The stable code.
    pub code: Code,
    /// What was being done and what came back, e.g. `GET /rest/system/resource: HTTP 401`.
    pub context: String,
}

impl Error {
    /// A failure with this code and context.
    pub fn new(code: Code, context: impl Into<String>) -> Self {
        Error {
            code,
            context: context.into(),
        }
    }
}

impl Error {
    /// The machine-readable form used by `--json` and the control API.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.code.number(),
            "alias": self.code.alias(),
            "name": self.code.name(),
            "context": self.context,
            "message": self.to_string(),
            "remediation": self.code.remediation(),
        })
    }
}

/// Results of the agent.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The Markdown table in `docs/error-codes.md`, generated from the enum so the two cannot drift.
pub fn markdown_table() -> String {
    let mut out = String::from("| Code | Name | When | What to do |\n|---|---|---|---|\n");
    for code in Code::ALL {
        let name = match code.alias() {
            Some(alias) => format!("{} ({alias})", code.name()),
            None => code.name().to_owned(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            code.number(),
            name,
            code.when().replace('|', "\\|"),
            code.remediation().replace('|', "\\|"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_in_the_documented_ranges_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            let n = code.number();
            assert!(
                (208000..=208049).contains(&n)
                    || (208100..=208149).contains(&n)
                    || (208400..=208449).contains(&n),
                "{n} outside the ranges"
            );
            assert!(seen.insert(n), "{n} twice");
            assert_eq!(Code::from_number(n), Some(code));
        }
        assert_eq!(Code::from_number(208012), None);
        assert_eq!(Code::from_number(208023), None);
    }

    #[test]
    fn display_shows_code_alias_and_what_to_do() {
        let e = Error::new(
            Code::AuthenticationFailed,
            "GET /rest/system/resource: HTTP 401",
        );
        let text = e.to_string();
        assert!(text.starts_with("error 208001 (MIKRO001): authentication failed: GET /rest/system/resource: HTTP 401. "), "{text}");
        assert!(text.contains("rest-api"), "{text}");
        let e = Error::new(Code::AddressRejected, "`nope`");
        assert!(
            e.to_string()
                .starts_with("error 208104: address rejected: `nope`. ")
        );
        assert_eq!(Code::AuthorizationFailed.label(), "208002 (MIKRO002)");
    }

    #[test]
    fn authentication_message_names_both_causes() {
        let when = Code::AuthenticationFailed.when();
        assert!(
            when.contains("password") && when.contains("rest-api"),
            "{when}"
        );
    }

    #[test]
    fn only_transport_and_router_hiccups_are_transient() {
        for code in [
            Code::AuthenticationFailed,
            Code::AuthorizationFailed,
            Code::CertificateNotTrusted,
            Code::TlsHandshakeFailed,
            Code::RestApiUnavailable,
            Code::NotJson,
        ] {
            assert!(!code.is_transient(), "{code}");
        }
        for code in [
            Code::ConnectionRefused,
            Code::TimedOut,
            Code::ConnectionReset,
            Code::SessionClosed,
            Code::RouterInternalError,
        ] {
            assert!(code.is_transient(), "{code}");
        }
    }

    /// `docs/error-codes.md` holds the generated table between two markers; it must equal the enum.
    #[test]
    fn documentation_matches_the_enum() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/error-codes.md");
        let doc = std::fs::read_to_string(path).expect("docs/error-codes.md is readable");
        let start = doc.find("<!-- codes:begin -->\n").expect("begin marker")
            + "<!-- codes:begin -->\n".len();
        let end = doc.find("<!-- codes:end -->").expect("end marker");
        let table = markdown_table();
        // `AGENT_BLESS_DOCS=1 cargo test -p agent documentation` rewrites the table after a change.
        if std::env::var_os("AGENT_BLESS_DOCS").is_some() {
            let updated = format!("{}{table}{}", &doc[..start], &doc[end..]);
            std::fs::write(path, updated).expect("docs/error-codes.md is writable");
            return;
        }
        assert!(
            doc[start..end] == table,
            "docs/error-codes.md is out of date; replace the table between the markers with:\n{table}"
        );
    }
}
