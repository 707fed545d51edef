//! Transport failures: what went wrong below HTTP, found in an error's source chain, and its code.
//!
//! The network module hands over the error it got (reqwest's, or the I/O error of `validate`'s own
//! connect and handshake); this module walks the error's sources for I/O, rustls and hyper errors,
//! names the failure as a [`Transport`], and gives it its one code ([`classify_transport`]). Nothing
//! else in the agent decides the code of a failed request: replies are judged by the parent module.

use std::error::Error as StdError;
use std::io;

use crate::error::{Code, Error};

/// How a request failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The TCP connection was refused.
    Refused,
    /// Host or network unreachable.
    Unreachable,
    /// The host name did not resolve.
    NameResolution,
    /// A connect, handshake or response time limit passed.
    Timeout,
    /// Certificate verification failed (including a pin mismatch).
    Certificate,
    /// TLS failed otherwise: alert, no common version or cipher, not TLS at all.
    Handshake,
    /// The connection was reset or closed before a complete response.
    Reset,
    /// The server's reply is not HTTP at all (hyper: `invalid HTTP version parsed`): with an
    /// `http://` URL this is a TLS service answering with a TLS alert.
    NotHttp,
    /// The connection could not be opened for another reason.
    ConnectOther,
}

/// The code of a transport failure.
pub fn classify_transport(failure: Transport) -> Code {
    match failure {
        Transport::Refused | Transport::Unreachable | Transport::ConnectOther => {
            Code::ConnectionRefused
        }
        Transport::NameResolution => Code::NameResolutionFailed,
        Transport::Timeout => Code::TimedOut,
        Transport::Certificate => Code::CertificateNotTrusted,
        Transport::Handshake | Transport::NotHttp => Code::TlsHandshakeFailed,
        Transport::Reset => Code::ConnectionReset,
    }
}

/// The error of a request (`what`, e.g. `GET /rest/system/resource`) that failed below HTTP.
pub fn request_error(what: &str, e: &reqwest::Error) -> Error {
    let t = transport_of(e);
    // The bare hyper message ("invalid HTTP version parsed") does not tell anyone what to change.
    let hint = if t == Transport::NotHttp {
        "; the server did not answer in HTTP: this port may be the TLS (www-ssl) port, so use an https:// URL"
    } else {
        ""
    };
    // reqwest's message names the URL, which holds no credentials (they are refused in the URL).
    Error::new(classify_transport(t), format!("{what}: {}{hint}", chain(e)))
}

/// The error of a connect (`connecting`) or TLS handshake of `validate` that failed with `e`.
pub fn io_error(what: &str, e: &io::Error, connecting: bool) -> Error {
    Error::new(
        classify_transport(transport_of_io(e, connecting)),
        format!("{what}: {e}"),
    )
}

/// The error of a connect or handshake that did not finish in time; `message` says which and when.
pub fn timed_out(message: String) -> Error {
    Error::new(classify_transport(Transport::Timeout), message)
}

/// The messages of an error and its sources, joined, for people.
fn chain(e: &dyn StdError) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}

fn tls_kind(e: &rustls::Error) -> Transport {
    match e {
        rustls::Error::InvalidCertificate(_) => Transport::Certificate,
        _ => Transport::Handshake,
    }
}

/// The transport failure behind an I/O error from a connect or a TLS stream.
pub fn transport_of_io(e: &io::Error, connecting: bool) -> Transport {
    io_specific(e).unwrap_or(if connecting {
        Transport::ConnectOther
    } else {
        Transport::Reset
    })
}

/// What an I/O error says for sure, looking through nested I/O errors (hyper-util wraps the TLS
/// stream's `InvalidData` error, which carries the rustls error, in another `Other` error, and
/// `io::Error::source` skips the wrapped error itself, so it must be unwrapped by hand).
fn io_specific(e: &io::Error) -> Option<Transport> {
    if let Some(inner) = e.get_ref() {
        if let Some(r) = inner.downcast_ref::<rustls::Error>() {
            return Some(tls_kind(r));
        }
        if let Some(nested) = inner.downcast_ref::<io::Error>()
            && let Some(t) = io_specific(nested)
        {
            return Some(t);
        }
    }
    match e.kind() {
        io::ErrorKind::ConnectionRefused => Some(Transport::Refused),
        io::ErrorKind::HostUnreachable
        | io::ErrorKind::NetworkUnreachable
        | io::ErrorKind::AddrNotAvailable => Some(Transport::Unreachable),
        io::ErrorKind::TimedOut => Some(Transport::Timeout),
        io::ErrorKind::InvalidData => Some(Transport::Handshake),
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => Some(Transport::Reset),
        _ if e.to_string().contains("failed to lookup address") => Some(Transport::NameResolution),
        _ => None,
    }
}

/// The transport failure behind a reqwest error, found by walking its source chain.
pub fn transport_of(e: &reqwest::Error) -> Transport {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return tls_kind(r);
        }
        if let Some(t) = err.downcast_ref::<io::Error>().and_then(io_specific) {
            return t;
        }
        if let Some(h) = err.downcast_ref::<hyper::Error>() {
            if h.is_timeout() {
                return Transport::Timeout;
            }
            // A reply that does not even start with `HTTP/1.x`: hyper has no finer test than its
            // message. With an `http://` URL this is a TLS server's alert record; retrying cannot help.
            if h.is_parse() && h.to_string().contains("invalid HTTP version") {
                return Transport::NotHttp;
            }
            if h.is_incomplete_message() || h.is_canceled() {
                return Transport::Reset;
            }
        }
        // hyper-util reports resolver failures as a ConnectError whose message is "dns error".
        if err.to_string().starts_with("dns error") {
            return Transport::NameResolution;
        }
        cur = err.source();
    }
    if e.is_timeout() {
        Transport::Timeout
    } else if e.is_connect() {
        Transport::ConnectOther
    } else {
        Transport::Reset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_failures() {
        for (t, code) in [
            (Transport::Refused, Code::ConnectionRefused),
            (Transport::Unreachable, Code::ConnectionRefused),
            (Transport::ConnectOther, Code::ConnectionRefused),
            (Transport::NameResolution, Code::NameResolutionFailed),
            (Transport::Timeout, Code::TimedOut),
            (Transport::Certificate, Code::CertificateNotTrusted),
            (Transport::Handshake, Code::TlsHandshakeFailed),
            (Transport::NotHttp, Code::TlsHandshakeFailed),
            (Transport::Reset, Code::ConnectionReset),
        ] {
            assert_eq!(classify_transport(t), code, "{t:?}");
        }
    }

    #[test]
    fn io_errors() {
        use io::ErrorKind::*;
        for (kind, t) in [
            (ConnectionRefused, Transport::Refused),
            (HostUnreachable, Transport::Unreachable),
            (NetworkUnreachable, Transport::Unreachable),
            (TimedOut, Transport::Timeout),
            (ConnectionReset, Transport::Reset),
            (UnexpectedEof, Transport::Reset),
            (InvalidData, Transport::Handshake),
        ] {
            assert_eq!(transport_of_io(&io::Error::from(kind), true), t, "{kind:?}");
        }
        assert_eq!(
            transport_of_io(&io::Error::other("x"), true),
            Transport::ConnectOther
        );
        assert_eq!(
            transport_of_io(&io::Error::other("x"), false),
            Transport::Reset
        );
        let cert = io::Error::new(
            InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert_eq!(transport_of_io(&cert, false), Transport::Certificate);
        // As hyper-util hands it over: wrapped once more.
        let wrapped = io::Error::other(cert);
        assert_eq!(transport_of_io(&wrapped, true), Transport::Certificate);
        let alert = io::Error::new(
            InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
        );
        assert_eq!(transport_of_io(&alert, false), Transport::Handshake);
    }
}
