//! The appended module signature:
//! `[ELF][signer][key id][signature][struct module_signature][magic]`.
//!
//! The ELF parser is handed only the bytes before the trailer. For the
//! PKCS#7 form used by every current kernel the signer (issuer CN), key
//! (serial number) and hash algorithm live inside the DER blob, so a small
//! DER walker extracts them the way `modinfo` reports them.

// A parser of untrusted bytes: no indexing that can panic (issue #15).
#![deny(clippy::indexing_slicing)]

use crate::der::{children, tlv};
use serde::Serialize;

/// `"~Module signature appended~\n"`.
pub const MAGIC: &[u8] = b"~Module signature appended~\n";
const INFO_LEN: usize = 12;

/// How the signer is identified (`enum pkey_id_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum IdType {
    /// OpenPGP (never used by mainline).
    #[serde(rename = "PGP")]
    Pgp,
    /// X.509 signer name + key id in the trailer (3.7–4.x era).
    #[serde(rename = "X509")]
    X509,
    /// PKCS#7 / CMS SignedData (all current kernels).
    #[serde(rename = "PKCS#7")]
    Pkcs7,
    /// An id type this reader does not know.
    #[serde(rename = "unknown")]
    Unknown(u8),
}

impl IdType {
    /// The name `modinfo` prints as `sig_id`.
    pub fn as_str(self) -> &'static str {
        match self {
            IdType::Pgp => "PGP",
            IdType::X509 => "X509",
            IdType::Pkcs7 => "PKCS#7",
            IdType::Unknown(_) => "unknown",
        }
    }
}

/// What the trailer says about the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    /// Identification scheme.
    pub id_type: IdType,
    /// Signer name (X.509 subject in the trailer, or the PKCS#7 issuer CN).
    pub signer: Option<String>,
    /// Key identifier as colon-separated uppercase hex (X.509 key id, or the
    /// PKCS#7 issuer serial number), as `modinfo` prints `sig_key`.
    pub key_id: Option<String>,
    /// Hash algorithm (`sha256`, ...).
    pub hash_algo: Option<String>,
    /// Length of the signature blob in bytes.
    pub sig_len: u32,
}

/// The fixed `struct module_signature` that precedes the magic.
struct Info {
    hash: u8,
    id_type: u8,
    signer_len: usize,
    key_id_len: usize,
    sig_len: u32,
    /// Offset of the struct in the file (where the variable parts end).
    at: usize,
}

/// The trailer's fixed struct, or `None` for an unsigned module.
fn read_info(data: &[u8]) -> Result<Option<Info>, String> {
    let Some(before) = data.strip_suffix(MAGIC) else {
        return Ok(None);
    };
    let truncated = "signature trailer truncated (no module_signature struct)";
    let at = before.len().checked_sub(INFO_LEN).ok_or(truncated)?;
    let raw: &[u8; INFO_LEN] = before
        .get(at..)
        .and_then(|s| s.first_chunk())
        .ok_or(truncated)?;
    let [_algo, hash, id_type, signer_len, key_id_len, _, _, _, l0, l1, l2, l3] = *raw;
    Ok(Some(Info {
        hash,
        id_type,
        signer_len: signer_len.into(),
        key_id_len: key_id_len.into(),
        sig_len: u32::from_be_bytes([l0, l1, l2, l3]),
        at,
    }))
}

/// Where the signature trailer starts (the length of the ELF image):
/// `data.len()` for an unsigned module. Reads only the trailer's fixed tail.
pub fn trailer_start(data: &[u8]) -> Result<usize, String> {
    let Some(info) = read_info(data)? else {
        return Ok(data.len());
    };
    let total = info.signer_len + info.key_id_len + info.sig_len as usize;
    info.at.checked_sub(total).ok_or_else(|| {
        format!(
            "signature length {} runs past the start of the file",
            info.sig_len
        )
    })
}

/// Splits a module image into its ELF length and signature, if any.
pub fn split(data: &[u8]) -> Result<(usize, Option<Signature>), String> {
    let start = trailer_start(data)?;
    let Some(info) = read_info(data)? else {
        return Ok((start, None));
    };
    // trailer_start checked that the three parts fit before the struct.
    let parts = data.get(start..info.at).unwrap_or_default();
    let (signer, rest) = parts.split_at_checked(info.signer_len).unwrap_or_default();
    let (key_id, blob) = rest.split_at_checked(info.key_id_len).unwrap_or_default();
    let (hash, id_type, sig_len) = (info.hash, info.id_type, info.sig_len);
    let id_type = match id_type {
        0 => IdType::Pgp,
        1 => IdType::X509,
        2 => IdType::Pkcs7,
        n => IdType::Unknown(n),
    };
    let sig = match id_type {
        IdType::Pkcs7 => {
            let p =
                pkcs7_signer_info(blob).map_err(|e| format!("malformed PKCS#7 signature: {e}"))?;
            Signature {
                id_type,
                signer: p.issuer_cn,
                key_id: p.serial.map(|s| colon_hex(&s)),
                hash_algo: p.digest.map(str::to_string),
                sig_len,
            }
        }
        _ => Signature {
            id_type,
            signer: (!signer.is_empty()).then(|| String::from_utf8_lossy(signer).into_owned()),
            key_id: (!key_id.is_empty()).then(|| colon_hex(key_id)),
            hash_algo: legacy_hash_name(hash).map(str::to_string),
            sig_len,
        },
    };
    Ok((start, Some(sig)))
}

fn legacy_hash_name(h: u8) -> Option<&'static str> {
    [
        "md4", "md5", "sha1", "rmd160", "sha256", "sha384", "sha512", "sha224", "sm3",
    ]
    .get(h as usize)
    .copied()
}

/// `AB:CD:...` uppercase, as modinfo prints keys.
pub fn colon_hex(bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

struct SignerInfo {
    issuer_cn: Option<String>,
    serial: Option<Vec<u8>>,
    digest: Option<&'static str>,
}

const OID_CN: &[u8] = &[0x55, 0x04, 0x03];

fn digest_name(oid: &[u8]) -> Option<&'static str> {
    const NIST: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02];
    if oid == [0x2b, 0x0e, 0x03, 0x02, 0x1a] {
        return Some("sha1");
    }
    if oid == [0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x11] {
        return Some("sm3");
    }
    match oid.strip_prefix(NIST)? {
        [0x01] => Some("sha256"),
        [0x02] => Some("sha384"),
        [0x03] => Some("sha512"),
        [0x04] => Some("sha224"),
        [0x08] => Some("sha3-256"),
        [0x09] => Some("sha3-384"),
        [0x0a] => Some("sha3-512"),
        _ => None,
    }
}

fn pkcs7_signer_info(blob: &[u8]) -> Result<SignerInfo, &'static str> {
    let (tag, content_info, _) = tlv(blob)?;
    if tag != 0x30 {
        return Err("ContentInfo is not a SEQUENCE");
    }
    let ci = children(content_info)?;
    let explicit = ci
        .iter()
        .find(|(t, _)| *t == 0xa0)
        .ok_or("no SignedData content")?
        .1;
    let (tag, signed_data, _) = tlv(explicit)?;
    if tag != 0x30 {
        return Err("SignedData is not a SEQUENCE");
    }
    let sd = children(signed_data)?;
    // version, digestAlgorithms, contentInfo, [0] certs?, [1] crls?, signerInfos
    let signer_infos = sd
        .iter()
        .rev()
        .find(|(t, _)| *t == 0x31)
        .ok_or("no signerInfos")?
        .1;
    let (tag, si, _) = tlv(signer_infos)?;
    if tag != 0x30 {
        return Err("SignerInfo is not a SEQUENCE");
    }
    let si = children(si)?;
    let mut out = SignerInfo {
        issuer_cn: None,
        serial: None,
        digest: None,
    };
    if let Some((0x30, ias)) = si.get(1) {
        let ias = children(ias)?;
        if let Some((0x30, name)) = ias.first() {
            for (_, rdn) in children(name)? {
                for (_, atv) in children(rdn)? {
                    let atv = children(atv)?;
                    if let [(0x06, oid), (_, value)] = atv.as_slice() {
                        if *oid == OID_CN {
                            out.issuer_cn = Some(String::from_utf8_lossy(value).into_owned());
                        }
                    }
                }
            }
        }
        if let Some((0x02, serial)) = ias.get(1) {
            let s = match serial {
                [0, rest @ ..] if !rest.is_empty() => rest,
                s => s,
            };
            out.serial = Some(s.to_vec());
        }
    } else if let Some((0x80, ski)) = si.get(1) {
        out.serial = Some(ski.to_vec());
    }
    if let Some((0x30, alg)) = si.get(2) {
        if let Some((0x06, oid)) = children(alg)?.first() {
            out.digest = digest_name(oid);
        }
    }
    Ok(out)
}
