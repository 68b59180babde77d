//! Reading `repodata/` back (repomd.xml and the primary metadata), to check
//! that it lists exactly the RPMs beside it with their real checksums and
//! sizes: anaconda trusts an existing `repodata/` as-is, so stale metadata
//! breaks the install (checklist D2).
//!
//! Read with a real XML parser (`dud verify` promises to read anyone's
//! disk): attribute order, quoting, whitespace, entities and namespace
//! prefixes vary between createrepo_c, createrepo and hand-made repos.
//! Only the few elements needed are looked at.

// A parser of untrusted bytes: no indexing that can panic (issue #15).
#![deny(clippy::indexing_slicing)]

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

/// createrepo_c's namespaces for repomd.xml and primary.xml. Elements are
/// matched by local name in these namespaces (or in none, as some
/// hand-written repositories have it), whatever prefix a tool chose.
const REPO_NS: &str = "http://linux.duke.edu/metadata/repo";
const COMMON_NS: &str = "http://linux.duke.edu/metadata/common";

fn parse<'i>(text: &'i str, what: &str) -> Result<roxmltree::Document<'i>, String> {
    // roxmltree refuses DTDs by default: no entity expansion from a disk.
    roxmltree::Document::parse(text).map_err(|e| format!("{what} is not well-formed XML: {e}"))
}

fn is(node: &roxmltree::Node, ns: &str, name: &str) -> bool {
    let tag = node.tag_name();
    node.is_element() && tag.name() == name && tag.namespace().is_none_or(|n| n == ns)
}

/// The first child element `name` of `node` (in `ns`).
fn child<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    ns: &str,
    name: &str,
) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|c| is(c, ns, name))
}

/// Finds the primary entry in repomd.xml.
pub fn primary_ref(repomd: &str) -> Result<PrimaryRef, String> {
    let doc = parse(repomd, "repomd.xml")?;
    let block = doc
        .root_element()
        .children()
        .find(|c| is(c, REPO_NS, "data") && c.attribute("type") == Some("primary"))
        .ok_or("repomd.xml has no primary data entry")?;
    let href = child(block, REPO_NS, "location")
        .and_then(|l| l.attribute("href"))
        .ok_or("primary entry has no location")?;
    let sum = child(block, REPO_NS, "checksum").ok_or("primary entry has no checksum")?;
    let (checksum_type, checksum) = checksum_of(sum).ok_or("primary entry has no checksum")?;
    Ok(PrimaryRef {
        href: href.to_string(),
        checksum_type,
        checksum,
    })
}

/// `(type, lower-case hex)` of a `<checksum type="...">HEX</checksum>`.
fn checksum_of(node: roxmltree::Node) -> Option<(String, String)> {
    let kind = node.attribute("type")?;
    let hex = node.text()?.trim();
    (!hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| (kind.to_string(), hex.to_lowercase()))
}

/// The packages of a (decompressed) primary.xml.
pub fn packages(primary: &str) -> Result<Vec<Listed>, String> {
    let doc = parse(primary, "primary.xml")?;
    let root = doc.root_element();
    let mut out = Vec::new();
    for p in root
        .children()
        .filter(|c| is(c, COMMON_NS, "package") && c.attribute("type") == Some("rpm"))
    {
        let n = child(p, COMMON_NS, "name")
            .and_then(|e| e.text())
            .unwrap_or_default()
            .to_string();
        let href = child(p, COMMON_NS, "location")
            .and_then(|l| l.attribute("href"))
            .ok_or_else(|| format!("package {n} has no location"))?;
        let (checksum_type, checksum) = child(p, COMMON_NS, "checksum")
            .and_then(checksum_of)
            .ok_or_else(|| format!("package {n} has no checksum"))?;
        let size = child(p, COMMON_NS, "size")
            .and_then(|z| z.attribute("package"))
            .ok_or_else(|| format!("package {n} has no size"))?;
        out.push(Listed {
            href: href.to_string(),
            checksum_type,
            checksum,
            size: size
                .parse()
                .map_err(|_| format!("package {n}: bad package size"))?,
            name: n,
        });
    }
    let declared = root
        .attribute("packages")
        .and_then(|d| d.parse::<usize>().ok());
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
        // As createrepo_c 1.x writes them (namespaces, XML declaration, rpm:
        // elements beside the common ones).
        let repomd = r#"<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1700000000</revision>
  <data type="filelists">
    <checksum type="sha256">0000</checksum>
    <location href="repodata/0000-filelists.xml.gz"/>
  </data>
  <data type="primary">
    <checksum type="sha256">AB12</checksum>
    <open-checksum type="sha256">cd34</open-checksum>
    <location href="repodata/ab12-primary.xml.gz"/>
    <timestamp>1700000000</timestamp>
  </data>
</repomd>"#;
        let p = primary_ref(repomd).unwrap();
        assert_eq!(p.href, "repodata/ab12-primary.xml.gz");
        assert_eq!(p.checksum_type, "sha256");
        assert_eq!(p.checksum, "ab12");
        let primary = r#"<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="1">
<package type="rpm">
  <name>kmod-a</name>
  <arch>x86_64</arch>
  <checksum type="sha256" pkgid="YES">FF00</checksum>
  <size package="42" installed="1" archive="2"/>
  <location href="kmod-a&amp;b.rpm"/>
  <format><rpm:license>GPL</rpm:license><rpm:provides><rpm:entry name="kmod(a.ko)"/></rpm:provides></format>
</package>
</metadata>"#;
        let l = packages(primary).unwrap();
        assert_eq!(
            l,
            vec![Listed {
                name: "kmod-a".into(),
                href: "kmod-a&b.rpm".into(),
                checksum_type: "sha256".into(),
                checksum: "ff00".into(),
                size: 42,
            }]
        );
    }

    #[test]
    fn attribute_order_quoting_and_prefixes_do_not_matter() {
        // Single quotes, attributes in another order, xml:base first, a
        // prefixed default namespace, whitespace inside tags and text, an
        // entity for a character: all the same metadata.
        let repomd = "<r:repomd xmlns:r='http://linux.duke.edu/metadata/repo'>\
            <r:data  type = 'primary' ><r:location xml:base='.' href='repodata/p.xml.gz' />\
            <r:checksum type='sha256'>\n  ab12\n</r:checksum></r:data></r:repomd>";
        let p = primary_ref(repomd).unwrap();
        assert_eq!(
            (p.href.as_str(), p.checksum.as_str()),
            ("repodata/p.xml.gz", "ab12")
        );
        let primary = "<c:metadata packages='2' xmlns:c='http://linux.duke.edu/metadata/common'>\
            <c:package type='rpm'><c:size archive='2' package='7'/>\
            <c:location xml:base='media:' href='a.rpm'/><c:checksum pkgid='YES' type='sha512'>AA</c:checksum>\
            <c:name>a&#45;b</c:name></c:package>\
            <c:package type=\"rpm\"><c:name>plain</c:name><c:checksum type=\"sha256\">bb</c:checksum>\
            <c:size package=\"8\"/><c:location href=\"b.rpm\"/></c:package></c:metadata>";
        let l = packages(primary).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(
            (
                l[0].name.as_str(),
                l[0].href.as_str(),
                l[0].checksum_type.as_str(),
                l[0].size
            ),
            ("a-b", "a.rpm", "sha512", 7)
        );
        assert_eq!(
            (l[1].name.as_str(), l[1].checksum.as_str(), l[1].size),
            ("plain", "bb", 8)
        );
    }

    #[test]
    fn elements_of_other_namespaces_are_not_taken_for_ours() {
        // A <name> from another vocabulary inside the package is not its name.
        let primary = r#"<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:x="urn:other" packages="1">
<package type="rpm"><x:name>wrong</x:name><name>right</name><checksum type="sha256">aa</checksum>
<size package="1"/><location href="r.rpm"/></package></metadata>"#;
        assert_eq!(packages(primary).unwrap()[0].name, "right");
    }

    #[test]
    fn broken_or_inconsistent_metadata_is_an_error() {
        assert!(primary_ref("<repomd><data type=\"primary\">")
            .unwrap_err()
            .contains("not well-formed"));
        assert_eq!(
            primary_ref("<repomd xmlns='http://linux.duke.edu/metadata/repo'/>").unwrap_err(),
            "repomd.xml has no primary data entry"
        );
        // A DTD (and with it entity expansion) is refused.
        let bomb = "<!DOCTYPE m [<!ENTITY a \"aaaa\">]><metadata packages='0'>&a;</metadata>";
        assert!(packages(bomb).is_err());
        let short = "<metadata packages='2'><package type='rpm'><name>a</name>\
            <checksum type='sha256'>aa</checksum><size package='1'/><location href='a.rpm'/></package></metadata>";
        assert_eq!(
            packages(short).unwrap_err(),
            "primary.xml declares 2 packages but lists 1"
        );
        let nosize =
            "<metadata><package type='rpm'><name>a</name><checksum type='sha256'>aa</checksum>\
            <location href='a.rpm'/></package></metadata>";
        assert_eq!(packages(nosize).unwrap_err(), "package a has no size");
    }
}
