//! The router's certificate store, behind `/certificate`: certificates imported from PEM files,
//! and which of them `/tool/fetch check-certificate=yes` trusts.
//!
//! On a router a CA reaches the store by uploading a PEM file and running `/certificate import
//! file-name=<file> passphrase=""` (MikroTik manual, Certificates; the flow terraform-provider-routeros
//! drives over REST: `/file` then `POST /rest/certificate/import`). Imported certificates are trusted
//! unless `trusted=no` is given (the `T` flag of the manual's print after an import) [likely for the
//! default]; `set trusted=no` takes the trust away and `remove` deletes them. Fetch trusts exactly the
//! certificates shown `trusted=true`. Rows show what a captured REST print shows of a certificate
//! (terraform-provider-routeros `resource_system_certificate.go`, a 7.x row): no private keys are
//! imported here, so `private-key` is always `false`.

use sha2::Digest;
use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509Certificate};

use super::args::format_id;
use super::failure::Failure;
use super::row::{Row, bool_text};

/// One certificate in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The item's id.
    pub id: u32,
    /// Its name (`<file>_<n>` unless `import name=` gave one).
    pub name: String,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// Whether fetch and other TLS clients trust it.
    pub trusted: bool,
    /// What the row shows, read once at import.
    pub info: Info,
}

/// The fields a row shows, read from the certificate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Info {
    /// Subject common name.
    pub common_name: String,
    /// Issuer common name (or the whole issuer when it has none).
    pub issuer: String,
    /// SHA-256 of the DER, lower-case hex (`fingerprint`).
    pub fingerprint: String,
    /// Serial number, upper-case hex.
    pub serial: String,
    /// Validity, Unix seconds.
    pub not_before: i64,
    /// Validity, Unix seconds.
    pub not_after: i64,
    /// A CA certificate (basic constraints).
    pub ca: bool,
    /// Subject key identifier, hex.
    pub skid: String,
    /// Authority key identifier, hex.
    pub akid: String,
    /// Key usages in RouterOS words.
    pub key_usage: String,
    /// `DNS:name`/`IP:addr` alternative names, comma-separated.
    pub subject_alt_name: String,
    /// `rsa`, `ec`, `ed25519` or `unknown`.
    pub key_type: String,
    /// `sha256`, `sha384`, ... of the signature.
    pub digest: String,
}

/// The store.
#[derive(Debug, Clone, Default)]
pub struct Certificates {
    /// The certificates, in id order.
    pub items: Vec<Certificate>,
    next: u32,
    /// The router's wall time (Unix seconds) at simulated time zero, for `expired` and
    /// `expires-after` (set by every import).
    wall_zero_s: i64,
}

/// What an import did: the counts the router reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Imported {
    /// Certificates added.
    pub certificates: usize,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The fields of a DER certificate, or why it is not one.
pub fn info_of(der: &[u8]) -> Result<Info, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
    let cn = |name: &x509_parser::x509::X509Name<'_>| {
        name.iter_common_name()
            .next()
            .and_then(|a| a.as_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| name.to_string())
    };
    let mut info = Info {
        common_name: cn(cert.subject()),
        issuer: cn(cert.issuer()),
        fingerprint: hex(&sha2::Sha256::digest(der)),
        serial: hex(cert.raw_serial()).to_ascii_uppercase(),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        ca: cert.is_ca(),
        key_type: match cert
            .public_key()
            .algorithm
            .algorithm
            .to_id_string()
            .as_str()
        {
            "1.2.840.113549.1.1.1" => "rsa",
            "1.2.840.10045.2.1" => "ec",
            "1.3.101.112" => "ed25519",
            _ => "unknown",
        }
        .to_owned(),
        digest: match cert.signature_algorithm.algorithm.to_id_string().as_str() {
            "1.2.840.113549.1.1.11" | "1.2.840.10045.4.3.2" => "sha256",
            "1.2.840.113549.1.1.12" | "1.2.840.10045.4.3.3" => "sha384",
            "1.2.840.113549.1.1.13" | "1.2.840.10045.4.3.4" => "sha512",
            "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" => "sha1",
            _ => "unknown",
        }
        .to_owned(),
        ..Info::default()
    };
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => info.skid = hex(k.0),
            ParsedExtension::AuthorityKeyIdentifier(k) => {
                info.akid = k
                    .key_identifier
                    .as_ref()
                    .map(|k| hex(k.0))
                    .unwrap_or_default()
            }
            ParsedExtension::KeyUsage(k) => {
                let words = [
                    (k.digital_signature(), "digital-signature"),
                    (k.non_repudiation(), "content-commitment"),
                    (k.key_encipherment(), "key-encipherment"),
                    (k.data_encipherment(), "data-encipherment"),
                    (k.key_agreement(), "key-agreement"),
                    (k.key_cert_sign(), "key-cert-sign"),
                    (k.crl_sign(), "crl-sign"),
                    (k.encipher_only(), "encipher-only"),
                    (k.decipher_only(), "decipher-only"),
                ];
                info.key_usage = words
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, w)| *w)
                    .collect::<Vec<_>>()
                    .join(",");
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                info.subject_alt_name = san
                    .general_names
                    .iter()
                    .filter_map(|n| match n {
                        GeneralName::DNSName(d) => Some(format!("DNS:{d}")),
                        GeneralName::IPAddress(ip) => match ip.len() {
                            4 => Some(format!(
                                "IP:{}",
                                std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3])
                            )),
                            16 => <[u8; 16]>::try_from(*ip)
                                .ok()
                                .map(|a| format!("IP:{}", std::net::Ipv6Addr::from(a))),
                            _ => None,
                        },
                        _ => None,
                    })
                    .collect::<Vec<_>>()
                    .join(",");
            }
            _ => {}
        }
    }
    Ok(info)
}

impl Certificates {
    /// Remembers the router's wall time `wall_s` at simulated time `now` (milliseconds).
    pub fn set_wall(&mut self, now: u64, wall_s: i64) {
        self.wall_zero_s = wall_s - (now / 1000) as i64;
    }

    /// The router's wall time at simulated time `now`.
    pub fn wall_at(&self, now: u64) -> i64 {
        self.wall_zero_s + (now / 1000) as i64
    }

    /// The DER of every trusted certificate (what fetch's `check-certificate=yes` trusts).
    pub fn trusted_ders(&self) -> Vec<Vec<u8>> {
        self.items
            .iter()
            .filter(|c| c.trusted)
            .map(|c| c.der.clone())
            .collect()
    }

    /// A certificate by id.
    pub fn get_mut(&mut self, id: u32) -> Option<&mut Certificate> {
        self.items.iter_mut().find(|c| c.id == id)
    }

    /// A certificate by name.
    pub fn by_name(&self, name: &str) -> Option<&Certificate> {
        self.items.iter().find(|c| c.name == name)
    }

    /// Imports every certificate of the PEM text `pem` (from the file `file`): each becomes an
    /// item named `name` (with `_<n>` after the first when the file holds several) or
    /// `<file>_<n>` [likely: the router's names for imported certificates], trusted as asked.
    /// A certificate already in the store (same fingerprint) is not added twice. Text without a
    /// certificate, or one that does not parse, imports nothing and is refused [likely: no
    /// capture of the router's text].
    pub fn import_pem(
        &mut self,
        pem: &[u8],
        file: &str,
        name: Option<&str>,
        trusted: bool,
    ) -> Result<Imported, Failure> {
        let mut found = Vec::new();
        for item in rustls_pemfile::certs(&mut &pem[..]) {
            let der = item.map_err(|_| Failure::bad_request(BAD_PEM))?;
            let info = info_of(&der).map_err(|_| Failure::bad_request(BAD_PEM))?;
            found.push((der.to_vec(), info));
        }
        if found.is_empty() {
            return Err(Failure::bad_request(BAD_PEM));
        }
        let mut imported = Imported::default();
        for (n, (der, info)) in found.into_iter().enumerate() {
            if self
                .items
                .iter()
                .any(|c| c.info.fingerprint == info.fingerprint)
            {
                continue;
            }
            let name = match (name, n) {
                (Some(name), 0) => name.to_owned(),
                (Some(name), n) => format!("{name}_{n}"),
                (None, n) => format!("{file}_{n}"),
            };
            self.next += 1;
            self.items.push(Certificate {
                id: self.next,
                name,
                der,
                trusted,
                info,
            });
            imported.certificates += 1;
        }
        Ok(imported)
    }

    /// The rows, with validity shown for the router's wall time `wall_s`.
    pub fn rows(&self, iso: bool, wall_s: i64) -> impl Iterator<Item = (u32, Row<'_>)> {
        self.items.iter().map(move |c| {
            let i = &c.info;
            let expired = wall_s >= i.not_after;
            let mut row = Row::with_capacity(22);
            row.push(".id", format_id(c.id));
            row.push("akid", i.akid.as_str());
            row.push("authority", bool_text(i.ca));
            row.push("common-name", i.common_name.as_str());
            row.push("crl", "false");
            row.push("digest-algorithm", i.digest.as_str());
            row.push("expired", bool_text(expired));
            if !expired {
                let left = u64::try_from(i.not_after - wall_s).unwrap_or(0) * 1000;
                row.push("expires-after", super::duration::format_ms(left));
            }
            row.push("fingerprint", i.fingerprint.as_str());
            row.push("invalid-after", super::timestamp::format(i.not_after, iso));
            row.push(
                "invalid-before",
                super::timestamp::format(i.not_before, iso),
            );
            row.push("issuer", i.issuer.as_str());
            row.push("key-type", i.key_type.as_str());
            row.push("key-usage", i.key_usage.as_str());
            row.push("name", c.name.as_str());
            row.push("private-key", "false");
            row.push("serial-number", i.serial.as_str());
            row.push("skid", i.skid.as_str());
            row.push("smart-card-key", "false");
            row.push("subject-alt-name", i.subject_alt_name.as_str());
            row.push("trusted", bool_text(c.trusted));
            (c.id, row)
        })
    }
}

/// The refusal of a file without a usable certificate [likely].
pub const BAD_PEM: &str = "failure: no certificates found in the file";

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_pem() -> String {
        crate::tls::Authority::new("Feed CA").expect("a CA").ca_pem
    }

    #[test]
    fn imports_name_trust_and_refuse_as_the_router_does() {
        let mut store = Certificates::default();
        let pem = ca_pem();
        let got = store
            .import_pem(pem.as_bytes(), "feed-ca.pem", None, true)
            .expect("imports");
        assert_eq!(got.certificates, 1);
        let c = &store.items[0];
        assert_eq!(c.name, "feed-ca.pem_0");
        assert!(c.trusted && c.info.ca);
        assert_eq!(c.info.common_name, "Feed CA");
        assert_eq!(c.info.fingerprint.len(), 64);
        assert_eq!(store.trusted_ders().len(), 1);
        // The same certificate again adds nothing.
        let again = store
            .import_pem(pem.as_bytes(), "x.pem", Some("other"), true)
            .expect("imports");
        assert_eq!(again.certificates, 0);
        // Not trusted when asked so.
        store
            .import_pem(ca_pem().as_bytes(), "b.pem", Some("b"), false)
            .expect("imports");
        assert_eq!(store.trusted_ders().len(), 1);
        assert_eq!(store.by_name("b").map(|c| c.trusted), Some(false));
        for bad in [
            "",
            "hello",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ] {
            let e = store
                .import_pem(bad.as_bytes(), "bad.pem", None, true)
                .expect_err("refused");
            assert_eq!(e, Failure::bad_request(BAD_PEM), "{bad:?}");
        }
        let rows: Vec<_> = store.rows(true, c_wall()).collect();
        assert_eq!(rows.len(), 2);
        let row = &rows[0].1;
        assert_eq!(row.get("trusted"), Some("true"));
        assert_eq!(row.get("expired"), Some("false"));
        assert!(row.get("invalid-after").is_some_and(|t| t.contains('-')));
    }

    fn c_wall() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}
