//! Reading `repodata/` back (repomd.xml and the primary metadata), to check
//! that it lists exactly the RPMs beside it with their real checksums and
//! sizes: anaconda trusts an existing `repodata/` as-is, so stale metadata
//! breaks the install (checklist D2).
//!
//! Only the few elements needed are read; the files are the ones
//! createrepo_c writes, not arbitrary XML.

use regex::Regex;

/// The primary metadata entry of repomd.xml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryRef {
    /// `repodata/...-primary.xml.gz`.
    pub href: String,
    /// Checksum type (`sha256`).
    pub checksum_type: String,
    /// Checksum of the compressed file.
    pub checksum: String,
}

/// One package listed in primary.xml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Package name.
    pub name: String,
    /// Path relative to the repo directory.
    pub href: String,
    /// Checksum type.
    pub checksum_type: String,
    /// Checksum of the RPM file.
    pub checksum: String,
    /// Size of the RPM file in bytes.
    pub size: u64,
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn re(p: &str) -> Regex {
    // The patterns are literals in this file; a bad one is a bug caught by the tests.
    Regex::new(p).unwrap_or_else(|e| panic!("bad built-in pattern {p}: {e}"))
}

/// Finds the primary entry in repomd.xml.
pub fn primary_ref(repomd: &str) -> Result<PrimaryRef, String> {
    let data = re(r#"(?s)<data\s+type="primary"\s*>(.*?)</data>"#);
    let block = data
        .captures(repomd)
        .ok_or("repomd.xml has no primary data entry")?;
    let block = &block[1];
    let loc = re(r#"<location\s+href="([^"]+)""#)
        .captures(block)
        .ok_or("primary entry has no location")?;
    let sum = re(r#"<checksum\s+type="([^"]+)"\s*>([0-9a-fA-F]+)</checksum>"#)
        .captures(block)
        .ok_or("primary entry has no checksum")?;
    Ok(PrimaryRef {
        href: unescape(&loc[1]),
        checksum_type: sum[1].to_string(),
        checksum: sum[2].to_lowercase(),
    })
}

/// The packages of a (decompressed) primary.xml.
pub fn packages(primary: &str) -> Result<Vec<Listed>, String> {
    let pkg = re(r#"(?s)<package\s+type="rpm"\s*>(.*?)</package>"#);
    let name = re(r#"<name>([^<]*)</name>"#);
    let loc = re(r#"<location\s+(?:xml:base="[^"]*"\s+)?href="([^"]+)""#);
    let sum = re(r#"<checksum\s+type="([^"]+)"[^>]*>([0-9a-fA-F]+)</checksum>"#);
    let size = re(r#"<size\s+package="(\d+)""#);
    let mut out = Vec::new();
    for c in pkg.captures_iter(primary) {
        let b = &c[1];
        let n = name
            .captures(b)
            .map(|m| unescape(&m[1]))
            .unwrap_or_default();
        let l = loc
            .captures(b)
            .ok_or_else(|| format!("package {n} has no location"))?;
        let s = sum
            .captures(b)
            .ok_or_else(|| format!("package {n} has no checksum"))?;
        let z = size
            .captures(b)
            .ok_or_else(|| format!("package {n} has no size"))?;
        out.push(Listed {
            name: n,
            href: unescape(&l[1]),
            checksum_type: s[1].to_string(),
            checksum: s[2].to_lowercase(),
            size: z[1].parse().map_err(|_| "bad package size")?,
        });
    }
    let declared = re(r#"<metadata[^>]*\spackages="(\d+)""#)
        .captures(primary)
        .and_then(|c| c[1].parse::<usize>().ok());
    if let Some(d) = declared {
        if d != out.len() {
            return Err(format!(
                "primary.xml declares {d} packages but lists {}",
                out.len()
            ));
        }
    }
    Ok(out)
}

/// Hex digest of `data` for a repodata checksum type.
pub fn digest(kind: &str, data: &[u8]) -> Option<String> {
    use sha2::Digest;
    match kind {
        "sha256" => Some(hex::encode(sha2::Sha256::digest(data))),
        "sha512" => Some(hex::encode(sha2::Sha512::digest(data))),
        "sha224" => Some(hex::encode(sha2::Sha224::digest(data))),
        "sha384" => Some(hex::encode(sha2::Sha384::digest(data))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shape_createrepo_writes() {
        let repomd = r#"<repomd><data type="primary">
  <checksum type="sha256">AB12</checksum>
  <location href="repodata/ab12-primary.xml.gz"/></data></repomd>"#;
        let p = primary_ref(repomd).unwrap();
        assert_eq!(p.href, "repodata/ab12-primary.xml.gz");
        assert_eq!(p.checksum, "ab12");
        let primary = r#"<metadata packages="1"><package type="rpm"><name>kmod-a</name>
<checksum type="sha256" pkgid="YES">ff00</checksum><size package="42" installed="1" archive="2"/>
<location href="kmod-a&amp;b.rpm"/></package></metadata>"#;
        let l = packages(primary).unwrap();
        assert_eq!(l[0].href, "kmod-a&b.rpm");
        assert_eq!(l[0].size, 42);
    }
}
