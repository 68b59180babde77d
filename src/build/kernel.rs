//! `--kernel KVER|DIR`: which kernel a cell builds for and where its headers are.
//!
//! A release alone is enough for mock (the chroot installs `kernel-devel`);
//! the rpmbuild backend needs the headers on this machine, so the lookup
//! records where they are (or that they are absent) instead of guessing.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::BuildError;

/// One kernel of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelTarget {
    /// `uname -r` of the target kernel (`5.14.0-503.11.1.el9_5.x86_64`, `6.1.0-56-amd64`).
    pub release: String,
    /// The configured headers / build tree (`/lib/modules/<kver>/build`), if
    /// present on this machine.
    pub headers: Option<PathBuf>,
}

impl KernelTarget {
    /// Resolves a `--kernel` argument. A value containing `/` (or naming an
    /// existing directory) is a headers directory whose release is read from
    /// it; anything else is a release, looked up in the usual places. A
    /// release without local headers is kept (`headers: None`) when
    /// `require_headers` is false (mock builds install kernel-devel in the
    /// chroot).
    pub fn resolve(arg: &str, require_headers: bool) -> Result<KernelTarget, BuildError> {
        let as_path = Path::new(arg);
        if arg.contains('/') || (as_path.is_dir() && !arg.is_empty()) {
            let dir = std::fs::canonicalize(as_path).map_err(super::io_err(as_path))?;
            let release = release_of(&dir)
                .ok_or_else(|| BuildError::NotKernelHeaders(as_path.to_path_buf()))?;
            return Ok(KernelTarget {
                release,
                headers: Some(dir),
            });
        }
        if arg.is_empty() || arg.chars().any(|c| c.is_whitespace() || c == '%') {
            return Err(BuildError::Usage(format!(
                "--kernel {arg:?}: not a kernel release or directory"
            )));
        }
        let headers = candidates(arg)
            .into_iter()
            .find(|d| d.join("Makefile").is_file());
        if headers.is_none() && require_headers {
            return Err(BuildError::KernelNotFound(
                arg.to_string(),
                installed_headers_hint(),
            ));
        }
        Ok(KernelTarget {
            release: arg.to_string(),
            headers,
        })
    }

    /// The release as `uname -r` spells it on `arch`, the name of its
    /// `/lib/modules` directory: an RHEL-style release given without its arch
    /// (`5.14.0-503.11.1.el9_5`) gets `.<arch>`; one that has it, or a
    /// Debian-style release (`6.1.0-56-amd64`), is kept.
    pub fn uname(&self, arch: &str) -> String {
        let r = &self.release;
        if !self.is_rpm_version_safe() || crate::spec::safety::split_arch(r).is_some() {
            r.clone()
        } else {
            format!("{r}.{arch}")
        }
    }

    /// Is this a Debian-style release (`6.1.0-56-amd64`)? rpm versions may not
    /// contain `-`, so a spec can only use such a release in paths, never in
    /// `Provides: kernel-modules >= ...`.
    pub fn is_rpm_version_safe(&self) -> bool {
        // An RHEL-style release is `<version>-<release>.<arch>`: exactly one '-'.
        self.release.matches('-').count() == 1
    }
}

/// The kernel header trees installed on this machine (`/lib/modules/*/build`,
/// `/usr/src/kernels/*` with a Makefile), sorted: what a "no headers" error
/// offers instead of a generic `$(uname -r)`.
pub fn installed_headers() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for (base, sub) in [("/lib/modules", "build"), ("/usr/src/kernels", "")] {
        let Ok(entries) = std::fs::read_dir(base) else {
            continue;
        };
        for e in entries.flatten() {
            let dir = e.path().join(sub);
            if dir.join("Makefile").is_file() {
                found.push(if sub.is_empty() { e.path() } else { dir });
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// `installed_headers()` for a message: the list, or that there is none.
pub fn installed_headers_hint() -> String {
    let found = installed_headers();
    if found.is_empty() {
        "no kernel headers are installed (/lib/modules/*/build, /usr/src/kernels/*): install kernel-devel \
         (Fedora/EL), kernel-default-devel (SUSE) or linux-headers-<flavor> (Debian)"
            .into()
    } else {
        let list: Vec<String> = found.iter().map(|p| p.display().to_string()).collect();
        format!("installed header trees: {}", list.join(", "))
    }
}

/// Where distributions put the headers of release `kver`.
fn candidates(kver: &str) -> Vec<PathBuf> {
    vec![
        PathBuf::from(format!("/lib/modules/{kver}/build")),
        PathBuf::from(format!("/usr/src/kernels/{kver}")),
    ]
}

/// The release a configured kernel tree was built as: `UTS_RELEASE` from
/// `include/generated/utsrelease.h` (authoritative: Debian's
/// `include/config/kernel.release` holds the upstream version instead).
pub fn release_of(dir: &Path) -> Option<String> {
    if let Ok(text) = std::fs::read_to_string(dir.join("include/generated/utsrelease.h")) {
        if let Some(r) = parse_utsrelease(&text) {
            return Some(r);
        }
    }
    let text = std::fs::read_to_string(dir.join("include/config/kernel.release")).ok()?;
    let r = text.trim();
    (!r.is_empty()).then(|| r.to_string())
}

/// `#define UTS_RELEASE "6.1.0-56-amd64"` → `6.1.0-56-amd64`.
pub fn parse_utsrelease(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let rest = l
            .trim()
            .strip_prefix("#define")?
            .trim_start()
            .strip_prefix("UTS_RELEASE")?;
        let v = rest.trim().strip_prefix('"')?.strip_suffix('"')?;
        (!v.is_empty()).then(|| v.to_string())
    })
}

/// The rpm architecture name of the machine kmodpack runs on (the default
/// `--arch`).
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "x86" => "i686",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utsrelease_is_parsed() {
        assert_eq!(
            parse_utsrelease("#define UTS_RELEASE \"6.1.0-56-amd64\"\n").as_deref(),
            Some("6.1.0-56-amd64")
        );
        assert_eq!(parse_utsrelease("#define UTS_VERSION \"x\"\n"), None);
        assert_eq!(parse_utsrelease("#define UTS_RELEASE \"\"\n"), None);
    }

    #[test]
    fn rpm_safety_of_releases() {
        let k = |r: &str| KernelTarget {
            release: r.into(),
            headers: None,
        };
        assert!(k("5.14.0-503.11.1.el9_5.x86_64").is_rpm_version_safe());
        assert!(!k("6.1.0-56-amd64").is_rpm_version_safe());
    }

    #[test]
    fn bad_release_strings_are_refused() {
        assert!(KernelTarget::resolve("6.1 %{x}", false).is_err());
        assert!(KernelTarget::resolve("", false).is_err());
        let k = KernelTarget::resolve("5.14.0-1.el9.x86_64", false).unwrap();
        assert_eq!(k.headers, None);
        assert!(matches!(
            KernelTarget::resolve("5.14.0-1.el9.x86_64", true),
            Err(BuildError::KernelNotFound(..))
        ));
    }
}
