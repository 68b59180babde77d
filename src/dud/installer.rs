//! Reading the installer's own facts from an install ISO, instead of
//! trusting a typed value (checklist A1/A2): the kernel release from the
//! bzImage header of `images/pxeboot/vmlinuz` (or `isolinux/vmlinuz`), the
//! architecture from `.treeinfo`, and the anaconda version from the
//! `anaconda-dracut`/`anaconda-core` RPM header when the ISO carries one.

use std::path::Path;

use super::{bzimage, iso, DudError};

/// What an install ISO says about its installer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallerFacts {
    /// `uname -r` of the installer kernel.
    pub uname_r: String,
    /// Architecture, if the ISO names it (`.treeinfo`).
    pub arch: Option<String>,
    /// anaconda version, if an anaconda RPM is on the ISO.
    pub anaconda: Option<String>,
    /// `ISO:member` the release was read from.
    pub source: String,
}

/// Kernel images an install ISO boots, in the order they are tried.
pub const KERNEL_PATHS: &[&str] = &[
    "/images/pxeboot/vmlinuz",
    "/isolinux/vmlinuz",
    "/boot/x86_64/loader/linux",
];

/// The `arch` of `.treeinfo` (`[general]` or `[tree]` section).
pub fn treeinfo_arch(text: &str) -> Option<String> {
    let mut section = "";
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.trim_matches(|c| c == '[' || c == ']');
            continue;
        }
        if section == "general" || section == "tree" {
            if let Some((k, v)) = line.split_once('=') {
                if k.trim() == "arch" && !v.trim().is_empty() {
                    return Some(v.trim().to_string());
                }
            }
        }
    }
    None
}

/// The anaconda RPM on the ISO (`anaconda-dracut` preferred), from a file list.
pub fn anaconda_rpm(files: &[String]) -> Option<&str> {
    let base = |f: &str| f.rsplit('/').next().unwrap_or(f).to_string();
    ["anaconda-dracut-", "anaconda-core-", "anaconda-"]
        .iter()
        .find_map(|prefix| {
            files
                .iter()
                .filter(|f| {
                    let b = base(f);
                    b.starts_with(prefix)
                        && b.ends_with(".rpm")
                        && b[prefix.len()..].starts_with(|c: char| c.is_ascii_digit())
                })
                .min()
                .map(String::as_str)
        })
}

/// The kernel package on the ISO whose files the installer kernel came
/// from (`kernel-core-<uname -r>.rpm`, or `kernel-<uname -r>.rpm` on older
/// media, `kernel-default-...` on SUSE): its symvers gives the kABI check
/// the installer kernel's real CRCs.
pub fn kernel_rpm<'a>(files: &'a [String], uname_r: &str) -> Option<&'a str> {
    let want: Vec<String> = ["kernel-core-", "kernel-", "kernel-default-"]
        .iter()
        .map(|p| format!("{p}{uname_r}.rpm"))
        .collect();
    files.iter().map(String::as_str).find(|f| {
        let base = f.rsplit('/').next().unwrap_or(f);
        want.iter().any(|w| w == base)
    })
}

/// Extracts the installer kernel's package from the ISO into `dest`, if
/// the ISO carries it. Returns its path.
pub fn extract_kernel_rpm(
    iso_path: &Path,
    uname_r: &str,
    dest: &Path,
) -> Result<Option<std::path::PathBuf>, DudError> {
    let files = iso::list(iso_path)?;
    let Some(member) = kernel_rpm(&files, uname_r) else {
        return Ok(None);
    };
    iso::extract_members(iso_path, &[member], dest)?;
    let p = dest.join(member.rsplit('/').next().unwrap_or(member));
    Ok(p.is_file().then_some(p))
}

/// Reads the installer facts from an install ISO.
pub fn read_install_iso(path: &Path) -> Result<InstallerFacts, DudError> {
    let bad = |message: String| DudError::Image {
        path: path.to_path_buf(),
        message,
    };
    iso::read_facts(path)?;
    let files = iso::list(path)?;
    let tmp = super::scratch_dir(None)?;
    let kernel = KERNEL_PATHS
        .iter()
        .find(|k| files.iter().any(|f| f == *k))
        .ok_or_else(|| {
            bad(format!(
                "no installer kernel on the ISO (looked for {})",
                KERNEL_PATHS.join(", ")
            ))
        })?;
    let mut members = vec![*kernel, "/.treeinfo"];
    let ana = anaconda_rpm(&files).map(str::to_string);
    if let Some(a) = &ana {
        members.push(a);
    }
    let members: Vec<&str> = members
        .into_iter()
        .filter(|m| files.iter().any(|f| f == m))
        .collect();
    iso::extract_members(path, &members, tmp.path())?;
    let name = |m: &str| tmp.path().join(m.rsplit('/').next().unwrap_or(m));
    let kbytes =
        std::fs::read(name(kernel)).map_err(|e| bad(format!("{kernel}: cannot extract: {e}")))?;
    let uname_r = bzimage::kernel_release(&kbytes).map_err(|e| bad(format!("{kernel}: {e}")))?;
    let arch = std::fs::read_to_string(name("/.treeinfo"))
        .ok()
        .as_deref()
        .and_then(treeinfo_arch);
    let anaconda = match &ana {
        Some(a) => {
            let pkg = crate::rpmpkg::read_header(&name(a)).map_err(|e| bad(format!("{a}: {e}")))?;
            Some(pkg.version)
        }
        None => None,
    };
    Ok(InstallerFacts {
        uname_r,
        arch,
        anaconda,
        source: format!("{}:{kernel}", path.display()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn treeinfo() {
        let t = "[header]\ntype = productmd.treeinfo\n[general]\narch = x86_64\nfamily = Rocky\n";
        assert_eq!(treeinfo_arch(t).as_deref(), Some("x86_64"));
        assert_eq!(
            treeinfo_arch("[tree]\narch=aarch64\n").as_deref(),
            Some("aarch64")
        );
        assert_eq!(treeinfo_arch("[images-x86_64]\narch = x\n"), None);
    }

    #[test]
    fn finds_the_installer_kernel_package() {
        let f: Vec<String> = [
            "/BaseOS/Packages/k/kernel-core-5.14.0-503.14.1.el9_5.x86_64.rpm",
            "/BaseOS/Packages/k/kernel-devel-5.14.0-503.14.1.el9_5.x86_64.rpm",
            "/BaseOS/Packages/k/kernel-core-5.14.0-503.11.1.el9_5.x86_64.rpm",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            kernel_rpm(&f, "5.14.0-503.14.1.el9_5.x86_64"),
            Some(f[0].as_str())
        );
        assert_eq!(kernel_rpm(&f, "5.14.0-503.20.1.el9_5.x86_64"), None);
    }

    #[test]
    fn picks_anaconda_dracut() {
        let f: Vec<String> = [
            "/BaseOS/Packages/a/anaconda-core-34.25.3.8-1.el9.x86_64.rpm",
            "/BaseOS/Packages/a/anaconda-dracut-34.25.3.8-1.el9.x86_64.rpm",
            "/BaseOS/Packages/a/anaconda-widgets-devel-34.25.3.8-1.el9.x86_64.rpm",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            anaconda_rpm(&f),
            Some("/BaseOS/Packages/a/anaconda-dracut-34.25.3.8-1.el9.x86_64.rpm")
        );
    }
}
