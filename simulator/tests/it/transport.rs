//! Transport (ROUTEROS-REST.md section 1): TLS versions, certificate names, HTTP/1.1 keep-alive and
//! `Connection: close`.
//!
//! The router's `www-ssl` offers TLS 1.2 (1.3 only when asked for), speaks HTTP/1.1 only, keeps
//! connections alive and honours a client's `Connection: close`. Its certificate is issued by the
//! simulator's CA for `localhost`, `127.0.0.1` and `::1`, so a client that verifies properly succeeds
//! for those names and fails for any other name or without the CA.

use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{BOUND, basic, client_config, parse_reply, start, start_with};
use simulator::Simulator;

/// Handshakes with `config` for `name` and returns the TLS result.
async fn handshake(
    addr: std::net::SocketAddr,
    config: rustls::ClientConfig,
    name: &str,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = ServerName::try_from(name.to_owned()).expect("a server name");
    tokio::time::timeout(BOUND, connector.connect(name, tcp))
        .await
        .expect("the handshake ends within the bound")
}

fn rustls_error(e: &std::io::Error) -> &rustls::Error {
    e.get_ref()
        .and_then(|i| i.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("not a TLS error: {e}"))
}

#[tokio::test]
async fn tls_1_2_by_default_and_1_3_only_when_asked() {
    let s = start().await;
    let tls = handshake(
        s.sim.https_addr(),
        client_config(s.sim.ca_pem()),
        "localhost",
    )
    .await
    .unwrap();
    assert_eq!(
        tls.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    let s = start_with(Simulator::builder().tls13(true)).await;
    let tls = handshake(
        s.sim.https_addr(),
        client_config(s.sim.ca_pem()),
        "localhost",
    )
    .await
    .unwrap();
    assert_eq!(
        tls.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
}

#[tokio::test]
async fn http_2_is_not_offered() {
    let s = start().await;
    let mut config = client_config(s.sim.ca_pem());
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tls = handshake(s.sim.https_addr(), config, "localhost")
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
}

#[tokio::test]
async fn the_certificate_is_valid_for_the_loopback_names_only_with_the_ca() {
    let s = start().await;
    let addr = s.sim.https_addr();
    for name in ["localhost", "127.0.0.1", "::1"] {
        assert!(
            handshake(addr, client_config(s.sim.ca_pem()), name)
                .await
                .is_ok(),
            "{name}"
        );
    }
    let e = handshake(addr, client_config(s.sim.ca_pem()), "router.example.com")
        .await
        .expect_err("another name fails");
    assert!(
        matches!(
            rustls_error(&e),
            rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName)
                | rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForNameContext { .. }
                )
        ),
        "{e}"
    );
    // Another simulator's CA does not vouch for this one.
    let other = start().await;
    let e = handshake(addr, client_config(other.sim.ca_pem()), "localhost")
        .await
        .expect_err("a foreign CA fails");
    assert!(
        matches!(rustls_error(&e), rustls::Error::InvalidCertificate(_)),
        "{e}"
    );
}

/// Reads exactly one HTTP reply (headers and `Content-Length` body) from `stream`.
async fn read_one<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> crate::support::RawReply {
    let read = async {
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().unwrap());
                if buf.len() >= end + 4 + len {
                    let reply = parse_reply(&buf[..end + 4 + len]).unwrap();
                    buf.drain(..end + 4 + len);
                    return reply;
                }
            }
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "closed before a whole reply");
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(BOUND, read)
        .await
        .expect("a reply within the bound")
}

#[tokio::test]
async fn keep_alive_serves_many_requests_and_connection_close_is_honoured() {
    let s = start().await;
    let mut tls = crate::support::tls_connect(s.sim.https_addr(), s.sim.ca_pem())
        .await
        .unwrap();
    let auth = basic("admin", "admin");
    let mut buf = Vec::new();
    for i in 0..5 {
        let req = format!(
            "GET /rest/system/identity HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\n\r\n"
        );
        tls.write_all(req.as_bytes()).await.unwrap();
        let r = read_one(&mut tls, &mut buf).await;
        assert_eq!(
            (r.status, r.text()),
            (200, r#"{"name":"MikroTik"}"#.to_owned()),
            "request {i}"
        );
    }
    // An error reply keeps the connection too.
    tls.write_all(
        format!("GET /rest/nosuch HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(read_one(&mut tls, &mut buf).await.status, 400);
    let req = format!(
        "GET /rest/system/identity HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n"
    );
    tls.write_all(req.as_bytes()).await.unwrap();
    assert_eq!(read_one(&mut tls, &mut buf).await.status, 200);
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(BOUND, tls.read_to_end(&mut rest))
        .await
        .expect("the server closes after Connection: close");
    assert!(
        closed.is_ok()
            || closed
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::UnexpectedEof),
        "{closed:?}"
    );
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
}
