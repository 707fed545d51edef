//! `validate`'s first two steps: a bare TCP connect and a TLS handshake to the router, made by the
//! agent itself rather than through reqwest, so that each layer's failure is reported on its own.

use crate::classify::transport;
use crate::duration;
use crate::error::Result;

use super::client::RouterClient;
use super::tls::fingerprint;

impl RouterClient {
    /// Opens a TCP connection to the router's port and closes it (the first step of `validate`);
    /// returns the peer's address.
    pub async fn probe_tcp(&self) -> Result<String> {
        let (host, port) = (self.url.host(), self.url.port());
        let what = format!("TCP connect to {host}:{port}");
        let stream = tokio::time::timeout(
            self.connect_timeout,
            tokio::net::TcpStream::connect((host, port)),
        )
        .await
        .map_err(|_| {
            transport::timed_out(format!(
                "{what}: no answer within {}",
                duration::format(self.connect_timeout)
            ))
        })?
        .map_err(|e| transport::io_error(&what, &e, true))?;
        let peer = stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        Ok(peer)
    }

    /// Completes a TLS handshake with the configured verification and returns the certificate's
    /// SHA-256 fingerprint (for `--pin-sha256`); `None` for plain HTTP.
    pub async fn probe_tls(&self) -> Result<Option<String>> {
        // Both are there exactly for an https:// URL, whose host the configuration checked is a
        // valid server name.
        let (Some(tls), Some(name)) = (&self.tls, self.url.server_name()) else {
            return Ok(None);
        };
        let (host, port) = (self.url.host(), self.url.port());
        let what = format!("TLS handshake with {host}:{port}");
        let connector = tokio_rustls::TlsConnector::from(tls.clone());
        let handshake = async {
            let tcp = tokio::net::TcpStream::connect((host, port))
                .await
                .map_err(|e| (e, true))?;
            connector.connect(name, tcp).await.map_err(|e| (e, false))
        };
        let stream = tokio::time::timeout(self.connect_timeout, handshake)
            .await
            .map_err(|_| {
                transport::timed_out(format!(
                    "{what}: not done within {}",
                    duration::format(self.connect_timeout)
                ))
            })?
            .map_err(|(e, connecting)| transport::io_error(&what, &e, connecting))?;
        let (_, conn) = stream.get_ref();
        Ok(conn
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| fingerprint(c.as_ref())))
    }
}
