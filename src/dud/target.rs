//! The installer a disk is built for: its kernel `uname -r`, its
//! architecture and (when known) its anaconda version, plus the feature
//! gates that depend on that version.
//!
//! The thresholds come from the anaconda branches (driver-update-disks.md
//! §2.4): compressed modules are extracted only from rhel-9 34.25.5.11,
//! master 39.32 and rhel-10 on; the rhel-8 line never got the fix. zstd,
//! bzip2 and lzma payloads are mapped to the right decompressor only from
//! 45.11 on.

use std::cmp::Ordering;

use super::ddlist::arch_suffix;
use crate::rpmvercmp::rpmvercmp;

/// Where a target fact came from (printed so users know what to trust).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Typed on the command line.
    CommandLine,
    /// Read from an installer ISO (the path and the member it came from).
    InstallerIso(String),
}

/// One installer kernel to build (or verify) a disk for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Full `uname -r` of the installer kernel.
    pub uname_r: String,
    /// `uname -m` of the installer (the `rpms/<arch>` directory name).
    pub arch: String,
    /// anaconda version of the installer, if known.
    pub anaconda: Option<String>,
    /// Where `uname_r` came from.
    pub origin: Origin,
}

/// A kernel release that cannot be an installer `uname -r`.
#[derive(Debug, thiserror::Error)]
#[error("installer kernel `{release}`: {problem}")]
pub struct TargetError {
    /// What was given.
    pub release: String,
    /// Why it is unusable.
    pub problem: String,
}

impl Target {
    /// A target from a typed release; the arch is the release's `.arch`
    /// suffix unless `arch` is given.
    pub fn new(
        uname_r: &str,
        arch: Option<&str>,
        anaconda: Option<&str>,
        origin: Origin,
    ) -> Result<Target, TargetError> {
        let bad = |problem: String| TargetError {
            release: uname_r.to_string(),
            problem,
        };
        if uname_r.is_empty() || uname_r.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("not a kernel release (empty or contains spaces)".into()));
        }
        // A flavored RHEL kernel is `<release>.<arch>+<flavor>` (`+rt`, `+debug`, `+64k`).
        let base = uname_r.split_once('+').map_or(uname_r, |(b, _)| b);
        let arch = match (arch, arch_suffix(base)) {
            (Some(a), Some(s)) if a != s => {
                return Err(bad(format!("ends in `.{s}` but the architecture was given as `{a}`")));
            }
            (Some(a), _) => a.to_string(),
            (None, Some(s)) => s.to_string(),
            (None, None) => {
                return Err(bad(
                    "has no `.<arch>` suffix: anaconda compares against the full `uname -r` of a RHEL-style \
                     kernel such as 5.14.0-503.14.1.el9_5.x86_64 (give --arch if this really is the installer's release)"
                        .into(),
                ))
            }
        };
        Ok(Target {
            uname_r: uname_r.to_string(),
            arch,
            anaconda: anaconda.map(str::to_string),
            origin,
        })
    }
}

fn major(v: &str) -> Option<u32> {
    v.split('.').next()?.parse().ok()
}

fn at_least(v: &str, min: &str) -> bool {
    rpmvercmp(v, min) != Ordering::Less
}

/// Does this anaconda extract `.ko.xz`/`.ko.zst`/`.ko.gz`/`.ko.bz2` from a
/// driver disk? (rhel-8: never; rhel-9: from 34.25.5.11; Fedora/master:
/// from 39.32; 40 (rhel-10) and later: yes.)
pub fn extracts_compressed_modules(anaconda: &str) -> bool {
    match major(anaconda) {
        Some(m) if m <= 33 => false,
        Some(34) => at_least(anaconda, "34.25.5.11"),
        Some(35..=38) => false,
        Some(39) => at_least(anaconda, "39.32"),
        Some(_) => true,
        None => false,
    }
}

/// Does this anaconda decompress zstd/bzip2/lzma RPM payloads correctly in
/// `dd_extract`? (Fixed in 45.11; xz and gzip always work.)
pub fn handles_payload(anaconda: Option<&str>, compressor: &str) -> bool {
    match compressor {
        "gzip" | "xz" | "none" => true,
        _ => anaconda.is_some_and(|a| at_least(a, "45.11")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates() {
        assert!(!extracts_compressed_modules("34.25.3"));
        assert!(!extracts_compressed_modules("34.25.5.10"));
        assert!(extracts_compressed_modules("34.25.5.11"));
        assert!(!extracts_compressed_modules("33.16.10.5"));
        assert!(!extracts_compressed_modules("39.31"));
        assert!(extracts_compressed_modules("39.32.1"));
        assert!(extracts_compressed_modules("40.22.3.57"));
        assert!(!handles_payload(Some("34.25.7.19"), "zstd"));
        assert!(handles_payload(Some("45.21"), "zstd"));
        assert!(handles_payload(None, "xz"));
    }
}
