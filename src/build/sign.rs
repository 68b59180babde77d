//! Signature verification of built modules.
//!
//! Signing itself happens inside the spec (`%install`: strip, then the
//! kernel's `sign-file`, then compress). This module checks the outcome with
//! kmodpack's own module reader: every module of every binary RPM must carry
//! a PKCS#7 signature whose signer, key id (issuer serial) and hash are those
//! of the certificate that was asked for. A build that asked for signing and
//! produced an unsigned or differently signed module has failed — silently
//! skipped signing is the classic way a kmod stops loading under Secure Boot.

use crate::der::{children, tlv};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::module::signature::colon_hex;
use crate::module::KernelModule;

use super::BuildError;

/// What the user asked for: key, certificate, hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningRequest {
    /// Private key (PEM) or PKCS#11 URI given to `sign-file`.
    pub key: String,
    /// X.509 certificate (PEM or DER).
    pub cert: PathBuf,
    /// Hash algorithm (`sha256`, `sha512`, ...).
    pub hash: String,
    /// Who the signature must name, read from the certificate.
    pub expected: CertIdentity,
}

impl SigningRequest {
    /// Reads the certificate and records the identity signatures must carry.
    pub fn new(key: String, cert: &Path, hash: String) -> Result<SigningRequest, BuildError> {
        let bytes = std::fs::read(cert).map_err(super::io_err(cert))?;
        let expected = CertIdentity::parse(&bytes).map_err(|message| BuildError::Certificate {
            path: cert.to_path_buf(),
            message,
        })?;
        Ok(SigningRequest {
            key,
            cert: cert.to_path_buf(),
            hash,
            expected,
        })
    }
}

/// The identity a PKCS#7 module signature made with a certificate carries:
/// the certificate's issuer CN and serial number (what `sign-file` writes
/// into SignerInfo's issuerAndSerialNumber, and `modinfo` shows as
/// signer / sig_key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CertIdentity {
    /// Issuer common name.
    pub signer: Option<String>,
    /// Serial number, colon-separated uppercase hex without a leading 00.
    pub key_id: String,
}

impl CertIdentity {
    /// Parses a PEM or DER X.509 certificate.
    pub fn parse(bytes: &[u8]) -> Result<CertIdentity, String> {
        let der =
            if bytes.starts_with(b"-----BEGIN") || bytes.windows(11).any(|w| w == b"-----BEGIN ") {
                pem_certificate(bytes)?
            } else {
                bytes.to_vec()
            };
        identity_from_der(&der).map_err(|e| format!("not an X.509 certificate: {e}"))
    }
}

/// The base64 body of the first `CERTIFICATE` block.
fn pem_certificate(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "PEM file is not text".to_string())?;
    let start = text
        .find("-----BEGIN CERTIFICATE-----")
        .ok_or("no BEGIN CERTIFICATE block")?;
    let body = &text[start + "-----BEGIN CERTIFICATE-----".len()..];
    let end = body
        .find("-----END CERTIFICATE-----")
        .ok_or("unterminated CERTIFICATE block")?;
    base64_decode(&body[..end]).ok_or_else(|| "CERTIFICATE block is not valid base64".to_string())
}

/// PEM bodies are base64 broken into lines (RFC 7468): the line breaks go,
/// the rest is standard padded base64.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

fn identity_from_der(der: &[u8]) -> Result<CertIdentity, &'static str> {
    let (tag, cert, _) = tlv(der)?;
    if tag != 0x30 {
        return Err("Certificate is not a SEQUENCE");
    }
    let (tag, tbs, _) = tlv(cert)?;
    if tag != 0x30 {
        return Err("tbsCertificate is not a SEQUENCE");
    }
    let mut fields = children(tbs)?.into_iter();
    let mut serial = fields.next().ok_or("empty tbsCertificate")?;
    if serial.0 == 0xa0 {
        serial = fields.next().ok_or("no serial number")?;
    }
    if serial.0 != 0x02 {
        return Err("no serial number INTEGER");
    }
    let _sig_alg = fields.next().ok_or("no signature algorithm")?;
    let (tag, issuer) = fields.next().ok_or("no issuer")?;
    if tag != 0x30 {
        return Err("issuer is not a Name");
    }
    let mut signer = None;
    for (_, rdn) in children(issuer)? {
        for (_, atv) in children(rdn)? {
            if let [(0x06, oid), (_, value)] = children(atv)?.as_slice() {
                if *oid == [0x55, 0x04, 0x03] {
                    signer = Some(String::from_utf8_lossy(value).into_owned());
                }
            }
        }
    }
    let s = match serial.1 {
        [0, rest @ ..] if !rest.is_empty() => rest,
        s => s,
    };
    Ok(CertIdentity {
        signer,
        key_id: colon_hex(s),
    })
}

/// The verdict for one module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ModuleSignature {
    /// The binary RPM (file name).
    pub rpm: String,
    /// Path of the module inside the package.
    pub path: String,
    /// Signer read from the module (None: unsigned).
    pub signer: Option<String>,
    /// Key id read from the module.
    pub key_id: Option<String>,
    /// Hash algorithm read from the module.
    pub hash_algo: Option<String>,
    /// `verified`, `unsigned`, or `mismatch: <what>`.
    pub verdict: String,
}

/// The signature status of one cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SignatureReport {
    /// Whether the package asked for signing.
    pub requested: bool,
    /// `verified` (all modules signed as asked), `failed`, `unsigned` (not
    /// requested and not signed), `signed` (not requested but signed, e.g.
    /// by a build system), `no-modules`.
    pub status: String,
    /// What was expected, if signing was requested.
    pub expected: Option<CertIdentity>,
    /// Every module, in package order.
    pub modules: Vec<ModuleSignature>,
}

impl SignatureReport {
    /// A one-line reason when verification failed.
    pub fn failure(&self) -> Option<String> {
        (self.status == "failed").then(|| {
            let bad: Vec<String> = self
                .modules
                .iter()
                .filter(|m| m.verdict != "verified")
                .map(|m| format!("{}:{} {}", m.rpm, m.path, m.verdict))
                .collect();
            format!("signing was requested but {}", bad.join("; "))
        })
    }
}

/// Checks every module of the binary packages against `request`: each
/// package's file with the modules read from it (the runner reads each RPM
/// once, for this, its dependency check and Module.symvers).
pub fn verify<'a>(
    rpms: impl IntoIterator<Item = (&'a Path, &'a [(String, KernelModule)])>,
    request: Option<&SigningRequest>,
) -> SignatureReport {
    let mut modules = Vec::new();
    for (rpm, mods) in rpms {
        let file = rpm
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (path, m) in mods {
            let sig = m.signature.as_ref();
            let verdict = match (sig, request) {
                (None, _) => "unsigned".to_string(),
                (Some(_), None) => "signed".to_string(),
                (Some(s), Some(req)) => {
                    let mut wrong = Vec::new();
                    if s.signer != req.expected.signer {
                        wrong.push(format!(
                            "signer {:?} != {:?}",
                            s.signer, req.expected.signer
                        ));
                    }
                    if s.key_id.as_deref() != Some(req.expected.key_id.as_str()) {
                        wrong.push(format!("key id {:?} != {}", s.key_id, req.expected.key_id));
                    }
                    if s.hash_algo.as_deref() != Some(req.hash.as_str()) {
                        wrong.push(format!("hash {:?} != {}", s.hash_algo, req.hash));
                    }
                    if wrong.is_empty() {
                        "verified".to_string()
                    } else {
                        format!("mismatch: {}", wrong.join(", "))
                    }
                }
            };
            modules.push(ModuleSignature {
                rpm: file.clone(),
                path: path.clone(),
                signer: sig.and_then(|s| s.signer.clone()),
                key_id: sig.and_then(|s| s.key_id.clone()),
                hash_algo: sig.and_then(|s| s.hash_algo.clone()),
                verdict,
            });
        }
    }
    let status = if modules.is_empty() {
        if request.is_some() {
            "failed"
        } else {
            "no-modules"
        }
    } else if request.is_some() {
        if modules.iter().all(|m| m.verdict == "verified") {
            "verified"
        } else {
            "failed"
        }
    } else if modules.iter().all(|m| m.verdict == "signed") {
        "signed"
    } else {
        "unsigned"
    };
    let mut report = SignatureReport {
        requested: request.is_some(),
        status: status.to_string(),
        expected: request.map(|r| r.expected.clone()),
        modules,
    };
    if report.requested && report.modules.is_empty() {
        report.modules.push(ModuleSignature {
            rpm: String::new(),
            path: String::new(),
            signer: None,
            key_id: None,
            hash_algo: None,
            verdict: "no kernel modules in the binary RPMs".into(),
        });
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip_of_known_value() {
        assert_eq!(base64_decode("aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
        assert_eq!(base64_decode("aGVs\nbG8=").unwrap(), b"hello");
        assert!(base64_decode("a$b").is_none());
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(CertIdentity::parse(b"hello").is_err());
        assert!(CertIdentity::parse(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
        )
        .is_err());
        assert!(CertIdentity::parse(
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        )
        .is_err());
    }
}
