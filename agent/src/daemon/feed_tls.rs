//! The passive feed's certificate: everything in the agent that touches rcgen and rustls' server side.
//!
//! A router's `/tool/fetch check-certificate=yes` trusts only the CAs in its own certificate store
//! (MikroTik manual, "Fetch": "trust chain validation from local certificate store"), so the feed
//! needs a CA the router can import. Either the operator gives a certificate chain and key
//! (`feed_cert_file`, `feed_cert_key_file`) and imports their own CA, or the daemon makes a CA of
//! its own at its first start and keeps it beside the grant store: `<state>.feed-ca.pem` (public;
//! this is what `passive install` uploads and `/certificate/import` trusts) and
//! `<state>.feed-ca.key` (mode 0600). At every start the daemon issues a fresh server certificate
//! from that CA for `localhost`, `127.0.0.1`, `::1`, the listening address and `feed_names`, so a
//! new name needs only a restart, never a new import on the router.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::config::Config;

/// The common name of the CA the daemon makes. The CA's whole name is fixed, so that the issuer of
/// each start's certificate matches the subject of the CA written at the first start.
const CA_NAME: &str = "routeros-agent feed CA";

/// The feed's TLS, ready to serve, and what to tell the operator about it.
pub struct FeedTls {
    /// The acceptor for the feed's listener.
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// The CA file the router must trust (`None` when the operator gave the certificate).
    pub ca_path: Option<PathBuf>,
    /// SHA-256 of the CA certificate (or of the given leaf), lower-case hex with colons.
    pub fingerprint: String,
}

impl std::fmt::Debug for FeedTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedTls")
            .field("ca_path", &self.ca_path)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// SHA-256 of a DER certificate as `ab:cd:...`, the form RouterOS prints in
/// `/certificate print detail` (`fingerprint`) without the colons.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The feed's TLS for `config`: the given certificate, or one issued from the daemon's own CA
/// (made and written beside the grant store on first use). `listen` is the feed's address.
pub fn load_or_make(config: &Config, listen: std::net::SocketAddr) -> Result<FeedTls, String> {
    let (chain, key, ca_path, fp) = match (&config.feed.cert_file, &config.feed.cert_key_file) {
        (Some(cert), Some(key)) => {
            let (chain, key) = read_given(cert, key)?;
            let fp = fingerprint(&chain[0]);
            (chain, key, None, fp)
        }
        (None, None) => {
            let ca = own_ca(config)?;
            let mut names = vec![
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
                "::1".to_owned(),
            ];
            if !listen.ip().is_unspecified() {
                names.push(listen.ip().to_string());
            }
            for n in &config.feed.names {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
            let (chain, key) = issue(&ca, &names)?;
            let fp = fingerprint(&ca.der);
            (chain, key, Some(ca.pem_path), fp)
        }
        _ => {
            return Err(
                "give both feed_cert_file and feed_cert_key_file, or neither (the daemon then makes its own CA)"
                    .into(),
            );
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("feed TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("feed TLS: the certificate or key is not usable: {e}"))?;
    Ok(FeedTls {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)),
        ca_path,
        fingerprint: fp,
    })
}

fn read_given(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let cert_pem = read(cert)?;
    let key_pem = read(key)?;
    let chain: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .filter_map(Result::ok)
        .collect();
    if chain.is_empty() {
        return Err(format!("{} holds no PEM certificate", cert.display()));
    }
    let key = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .ok()
        .flatten()
        .ok_or_else(|| format!("{} holds no PEM private key", key.display()))?;
    Ok((chain, key))
}

/// The daemon's own CA, loaded from beside the grant store or made there now.
struct OwnCa {
    issuer: Issuer<'static, KeyPair>,
    der: CertificateDer<'static>,
    pem_path: PathBuf,
}

fn ca_params() -> Result<CertificateParams, String> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.distinguished_name.push(DnType::CommonName, CA_NAME);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "routeros-agent");
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

fn own_ca(config: &Config) -> Result<OwnCa, String> {
    let pem_path = config.beside_state(".feed-ca.pem");
    let key_path = config.beside_state(".feed-ca.key");
    if pem_path.exists() && key_path.exists() {
        let pem = std::fs::read(&pem_path)
            .map_err(|e| format!("cannot read {}: {e}", pem_path.display()))?;
        let der = rustls_pemfile::certs(&mut pem.as_slice())
            .find_map(Result::ok)
            .ok_or_else(|| format!("{} holds no PEM certificate", pem_path.display()))?;
        let key_pem = std::fs::read_to_string(&key_path)
            .map_err(|e| format!("cannot read {}: {e}", key_path.display()))?;
        let key = KeyPair::from_pem(&key_pem)
            .map_err(|e| format!("{} is not a private key: {e}", key_path.display()))?;
        return Ok(OwnCa {
            issuer: Issuer::new(ca_params()?, key),
            der,
            pem_path,
        });
    }
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let mut params = ca_params()?;
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(3650);
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    // The key first: a CA file without its key would be reused by nobody.
    super::token::write_private(&key_path, key.serialize_pem().trim_end())
        .map_err(|e| format!("cannot write {}: {e}", key_path.display()))?;
    super::token::write_private(&pem_path, cert.pem().trim_end())
        .map_err(|e| format!("cannot write {}: {e}", pem_path.display()))?;
    Ok(OwnCa {
        issuer: Issuer::new(ca_params()?, key),
        der: cert.der().clone(),
        pem_path,
    })
}

fn issue(
    ca: &OwnCa,
    names: &[String],
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let mut params = CertificateParams::new(names.to_vec()).map_err(|e| e.to_string())?;
    params
        .distinguished_name
        .push(DnType::CommonName, names[0].as_str());
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(825);
    let cert = params
        .signed_by(&key, &ca.issuer)
        .map_err(|e| e.to_string())?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((vec![cert.der().clone(), ca.der.clone()], key))
}
