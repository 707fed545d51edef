//! TLS for the agent's client: rustls with the `ring` provider passed explicitly (the workspace never
//! compiles aws-lc-rs), and the four ways of trusting a router's certificate.
//!
//! By default the certificate is verified against the system trust store; otherwise against a CA
//! file, or accepted by a pinned SHA-256 fingerprint (how people trust a router's self-signed
//! certificate); unverified only with `--insecure`, which logs a warning every time.

use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use sha2::{Digest, Sha256};

use crate::config::{ConfigError, TlsMode};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A certificate check for the two modes without a CA: `pin` accepts exactly one certificate, by
/// the SHA-256 of its DER encoding; `None` (`--insecure`) accepts any. Both still check that the
/// handshake was signed by the presented certificate's key, so a pin cannot be replayed by someone
/// without the key. Names and dates are not checked: a pin says "this very certificate", which is
/// how people trust a router's self-signed certificate.
#[derive(Debug)]
struct KeyVerifier {
    pin: Option<[u8; 32]>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

/// The SHA-256 fingerprint of a DER certificate, as lower-case hex with colons.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

impl ServerCertVerifier for KeyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .pin
            .is_none_or(|pin| Sha256::digest(end_entity.as_ref()).as_slice() == pin)
        {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            m,
            c,
            d,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            m,
            c,
            d,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The rustls client configuration for a TLS mode.
pub fn tls_config(mode: &TlsMode) -> Result<rustls::ClientConfig, ConfigError> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError(format!("TLS set-up: {e}")))?;
    let config = match mode {
        TlsMode::SystemRoots => {
            let verifier = rustls_platform_verifier::Verifier::new(provider).map_err(|e| {
                ConfigError(format!(
                    "cannot load the system's trusted certificates: {e}"
                ))
            })?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth()
        }
        TlsMode::CaFile(path) => {
            let pem = std::fs::read(path).map_err(|e| {
                ConfigError(format!("cannot read the CA file {}: {e}", path.display()))
            })?;
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert = cert.map_err(|e| {
                    ConfigError(format!("the CA file {} is not PEM: {e}", path.display()))
                })?;
                roots.add(cert).map_err(|e| {
                    ConfigError(format!(
                        "the CA file {} holds an unusable certificate: {e}",
                        path.display()
                    ))
                })?;
            }
            if roots.is_empty() {
                return Err(ConfigError(format!(
                    "the CA file {} holds no certificate",
                    path.display()
                )));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        TlsMode::Pin(pin) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(KeyVerifier {
                pin: Some(*pin),
                provider,
            }))
            .with_no_client_auth(),
        TlsMode::Insecure => {
            tracing::warn!(
                "TLS certificate verification is OFF (--insecure): anyone on the path can read the router password"
            );
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(KeyVerifier {
                    pin: None,
                    provider,
                }))
                .with_no_client_auth()
        }
    };
    Ok(config)
}

/// A TLS configuration that trusts nothing, for an HTTP client that only ever speaks plain HTTP
/// on loopback (the command line talking to the daemon's control API): reqwest needs one, and with
/// the `ring` provider passed explicitly no process-wide provider has to be installed.
pub fn no_trust_config() -> rustls::ClientConfig {
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_hex_with_colons() {
        let f = fingerprint(b"abc");
        assert!(f.starts_with("ba:78:16:bf"), "{f}");
        assert_eq!(f.len(), 32 * 3 - 1);
    }
}
