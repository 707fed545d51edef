//! Certificates and TLS settings: everything that touches rcgen and rustls' server side.
//!
//! At start the simulator makes its own certificate authority and a leaf certificate for the names it
//! serves (localhost, 127.0.0.1, ::1 and any others asked for), as an administrator would assign one
//! to `www-ssl`. Clients trust the CA (its PEM is written out and available in-process) instead of
//! turning verification off. A user-supplied certificate and key can be used instead.
//!
//! The same authority issues the deliberately wrong certificates used by TLS faults: expired, for
//! another name, or from a different CA. The server reads its TLS configuration through [`TlsState`]
//! on every handshake, so swapping the certificate takes effect on the next connection.
//!
//! One crypto provider serves the whole workspace: `ring`, passed explicitly rather than installed
//! process-wide so that an embedding program keeps its own choice.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use sha2::{Digest, Sha256};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use time::{Duration, OffsetDateTime};

/// A certificate problem at start.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen could not make a certificate.
    #[error("could not generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the certificate or key.
    #[error("the certificate or key is not usable: {0}")]
    Rustls(#[from] rustls::Error),
    /// A certificate or key file could not be read.
    #[error("could not read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file held no certificate or key.
    #[error("{0} holds no PEM certificate or private key")]
    Empty(String),
}

/// A certificate chain with its key, ready to serve.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key (PKCS#8 DER).
    key: Arc<PrivateKeyDer<'static>>,
}

impl Identity {
    fn certified_key(&self) -> Result<Arc<CertifiedKey>, TlsError> {
        let provider = provider();
        let signing = provider
            .key_provider
            .load_private_key(self.key.clone_key())?;
        Ok(Arc::new(CertifiedKey::new(self.chain.clone(), signing)))
    }

    /// Loads a PEM certificate chain and private key from files.
    pub fn from_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| TlsError::Read {
                path: p.display().to_string(),
                source,
            })
        };
        let cert_pem = read(cert)?;
        let key_pem = read(key)?;
        let chain: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut cert_pem.as_slice())
            .filter_map(Result::ok)
            .collect();
        if chain.is_empty() {
            return Err(TlsError::Empty(cert.display().to_string()));
        }
        let key = rustls_pemfile::private_key(&mut key_pem.as_slice())
            .ok()
            .flatten()
            .ok_or_else(|| TlsError::Empty(key.display().to_string()))?;
        let id = Self {
            chain,
            key: Arc::new(key),
        };
        id.certified_key()?;
        Ok(id)
    }
}

/// A certificate authority that issues leaf certificates.
pub struct Authority {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate as PEM, for clients to trust.
    pub ca_pem: String,
    /// The CA certificate as DER.
    pub ca_der: CertificateDer<'static>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

impl Authority {
    /// A new CA with the given common name.
    pub fn new(common_name: &str) -> Result<Self, TlsError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "RouterOS simulator");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(3650);
        let cert = params.self_signed(&key)?;
        Ok(Self {
            ca_pem: cert.pem(),
            ca_der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        })
    }

    /// A leaf for `names`, valid from `not_before` to `not_after`.
    pub fn issue(
        &self,
        names: &[String],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Identity, TlsError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names.to_vec())?;
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().map(String::as_str).unwrap_or("router"),
        );
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.not_before = not_before;
        params.not_after = not_after;
        let cert = params.signed_by(&key, &self.issuer)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Ok(Identity {
            chain: vec![cert.der().clone(), self.ca_der.clone()],
            key: Arc::new(key),
        })
    }

    /// A leaf for `names` valid from yesterday for ten years.
    pub fn issue_current(&self, names: &[String]) -> Result<Identity, TlsError> {
        let now = OffsetDateTime::now_utc();
        self.issue(names, now - Duration::days(1), now + Duration::days(3650))
    }
}

/// The names every generated leaf carries, plus `extra`.
pub fn leaf_names(extra: &[String]) -> Vec<String> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    for n in extra {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    names
}

/// The crypto provider of the whole workspace.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The TLS side of `www-ssl`: which certificate is served and which versions are offered.
#[derive(Debug)]
pub struct TlsState {
    identity: RwLock<Identity>,
    config: RwLock<Arc<ServerConfig>>,
    tls13: bool,
    /// Configurations serving the deliberately wrong certificates of TLS faults, made on first use.
    fault_configs: Mutex<HashMap<TlsFault, Arc<ServerConfig>>>,
}

/// A wrong certificate to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsFault {
    /// From the simulator's CA, expired yesterday.
    Expired,
    /// From the simulator's CA, for `wrong-name.invalid` only.
    WrongName,
    /// For the right names, from a CA nobody was given.
    Untrusted,
}

/// The SHA-256 fingerprint of a DER certificate, lower-case hex.
pub fn sha256_hex(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl TlsState {
    /// TLS settings serving `identity`; TLS 1.3 is offered only when `tls13` (RouterOS documents 1.2).
    pub fn new(identity: Identity, tls13: bool) -> Result<Self, TlsError> {
        let config = Self::build(&identity, tls13)?;
        Ok(Self {
            identity: RwLock::new(identity),
            config: RwLock::new(config),
            tls13,
            fault_configs: Mutex::new(HashMap::new()),
        })
    }

    /// A configuration serving `identity`. (`certificate=none` never reaches rustls: the server
    /// answers the ClientHello with a `handshake_failure` alert itself, as a router does.)
    fn build(identity: &Identity, tls13: bool) -> Result<Arc<ServerConfig>, TlsError> {
        let versions: &[&rustls::SupportedProtocolVersion] = if tls13 {
            &[&rustls::version::TLS12, &rustls::version::TLS13]
        } else {
            &[&rustls::version::TLS12]
        };
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(versions)?
            .with_no_client_auth()
            .with_single_cert(identity.chain.clone(), identity.key.clone_key())?;
        // RouterOS speaks HTTP/1.1 only.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// The configuration for the next handshake.
    pub fn config(&self) -> Arc<ServerConfig> {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Serves `identity` from the next handshake on.
    pub fn replace(&self, identity: Identity) -> Result<(), TlsError> {
        let config = Self::build(&identity, self.tls13)?;
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = config;
        *self.identity.write().unwrap_or_else(|e| e.into_inner()) = identity;
        Ok(())
    }

    /// The served leaf certificate (DER).
    pub fn leaf_der(&self) -> CertificateDer<'static> {
        self.identity
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .chain[0]
            .clone()
    }

    /// The configuration serving the wrong certificate of a TLS fault.
    pub fn fault_config(
        &self,
        fault: TlsFault,
        authority: &Authority,
        names: &[String],
    ) -> Result<Arc<ServerConfig>, TlsError> {
        let mut cache = self.fault_configs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.get(&fault) {
            return Ok(c.clone());
        }
        let now = OffsetDateTime::now_utc();
        let identity = match fault {
            TlsFault::Expired => {
                authority.issue(names, now - Duration::days(30), now - Duration::days(1))?
            }
            TlsFault::WrongName => authority.issue_current(&["wrong-name.invalid".to_owned()])?,
            TlsFault::Untrusted => Authority::new("Untrusted CA")?.issue_current(names)?,
        };
        let config = Self::build(&identity, self.tls13)?;
        cache.insert(fault, config.clone());
        Ok(config)
    }
}
