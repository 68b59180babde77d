//! What anaconda's `dd_list` decides for one RPM and one installer kernel.
//!
//! The installer never says why it skipped a driver disk, so this module
//! reproduces its selection rule exactly (doc: driver-update-disks.md §2.3)
//! and, unlike the installer, explains each verdict:
//!
//! * only versioned Provides count; an unversioned `kernel-modules` is skipped;
//! * `kernel-modules OP VER` is tested as `rpmvercmp(uname -r, VER)` against
//!   OP; a match flags the package for modules + firmware extraction;
//! * a VER starting with `2.6.32-71` or `2.6.32-131` always matches (RHEL
//!   6.0/6.1 compatibility in anaconda);
//! * `installer-enhancement OP VER` is tested against the fixed `19.0` and
//!   flags binaries + libraries only;
//! * the Provides are OR-combined; with no flag the package is skipped.

use std::cmp::Ordering;

use crate::rpmpkg::{DepOp, RpmDep};

use crate::rpmvercmp::rpmvercmp;

/// The value anaconda passes as `-a` (hard-coded, see the module doc).
pub const ANACONDA_ENHANCEMENT_VERSION: &str = "19.0";

/// What `dd_extract` will take out of an accepted package.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtractFlags {
    /// `*.ko` (and compressed modules on new anacondas).
    pub modules: bool,
    /// `lib/firmware/*`.
    pub firmwares: bool,
    /// `bin/`, `sbin/`, `usr/bin/`, `usr/sbin/`.
    pub binaries: bool,
    /// `lib/`, `lib64/`, `usr/lib/`, `usr/lib64/` (not modules or firmware).
    pub libraries: bool,
}

/// One Provides looked at by `dd_list`, and whether it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvideCheck {
    /// The Provides as rpm prints it.
    pub provide: RpmDep,
    /// Did the installer value satisfy it?
    pub matched: bool,
    /// Why (human readable, one clause).
    pub why: String,
}

/// The installer's verdict for one package on one installer kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Extraction flags; all false = skipped.
    pub flags: ExtractFlags,
    /// The relevant Provides and what happened to each.
    pub checks: Vec<ProvideCheck>,
}

impl Verdict {
    /// The package is extracted at all.
    pub fn accepted(&self) -> bool {
        let f = self.flags;
        f.modules || f.firmwares || f.binaries || f.libraries
    }

    /// One line: the matching Provides, or why nothing matched.
    pub fn reason(&self) -> String {
        if let Some(c) = self.checks.iter().find(|c| c.matched) {
            return format!("{} ({})", c.provide, c.why);
        }
        if self.checks.is_empty() {
            return "no versioned `kernel-modules` Provides: dd_list skips the package".to_string();
        }
        self.checks
            .iter()
            .map(|c| format!("{}: {}", c.provide, c.why))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// rpm's flag test: does `cmp` (installer value vs VER) satisfy `op`?
fn satisfies(cmp: Ordering, op: DepOp) -> bool {
    match op {
        DepOp::Any => false,
        DepOp::Lt => cmp == Ordering::Less,
        DepOp::Le => cmp != Ordering::Greater,
        DepOp::Eq => cmp == Ordering::Equal,
        DepOp::Ge => cmp != Ordering::Less,
        DepOp::Gt => cmp == Ordering::Greater,
    }
}

fn relation(cmp: Ordering) -> &'static str {
    match cmp {
        Ordering::Less => "older than",
        Ordering::Equal => "equal to",
        Ordering::Greater => "newer than",
    }
}

/// Evaluates the Provides of one package against the installer kernel
/// release `uname_r` (the full `uname -r`, e.g. `5.14.0-503.14.1.el9_5.x86_64`).
pub fn evaluate(provides: &[RpmDep], uname_r: &str) -> Verdict {
    let mut flags = ExtractFlags::default();
    let mut checks = Vec::new();
    for p in provides {
        let is_kmod = p.name == "kernel-modules";
        let is_enh = p.name == "installer-enhancement";
        if !is_kmod && !is_enh {
            continue;
        }
        if p.op == DepOp::Any || p.version.is_empty() {
            checks.push(ProvideCheck {
                provide: p.clone(),
                matched: false,
                why: "unversioned Provides are ignored by dd_list".to_string(),
            });
            continue;
        }
        if is_enh {
            let cmp = rpmvercmp(ANACONDA_ENHANCEMENT_VERSION, &p.version);
            let matched = satisfies(cmp, p.op);
            if matched {
                flags.binaries = true;
                flags.libraries = true;
            }
            checks.push(ProvideCheck {
                provide: p.clone(),
                matched,
                why: format!(
                    "tested against anaconda's fixed {ANACONDA_ENHANCEMENT_VERSION}, {} {}",
                    relation(cmp),
                    p.version
                ),
            });
            continue;
        }
        if p.version.starts_with("2.6.32-71") || p.version.starts_with("2.6.32-131") {
            flags.modules = true;
            flags.firmwares = true;
            checks.push(ProvideCheck {
                provide: p.clone(),
                matched: true,
                why: "RHEL 6.0/6.1 compatibility: anaconda accepts 2.6.32-71/-131 unconditionally"
                    .to_string(),
            });
            continue;
        }
        let cmp = rpmvercmp(uname_r, &p.version);
        let matched = satisfies(cmp, p.op);
        let mut why = format!(
            "installer kernel {uname_r} is {} {}",
            relation(cmp),
            p.version
        );
        if !matched {
            if p.op == DepOp::Eq
                && arch_suffix(uname_r).is_some()
                && arch_suffix(&p.version).is_none()
            {
                why.push_str(&format!(
                    "; an `=` Provides must carry the `.{}` suffix of `uname -r`",
                    arch_suffix(uname_r).unwrap_or_default()
                ));
            } else if cmp == Ordering::Less && matches!(p.op, DepOp::Ge | DepOp::Gt | DepOp::Eq) {
                why.push_str("; the kmod was built for a newer kernel than the installer runs");
            } else if p.op == DepOp::Eq {
                why.push_str(
                    "; `=` ties the disk to exactly one installer kernel (use `>=` and rely on kABI, or build one disk per installer)",
                );
            }
        }
        if matched {
            flags.modules = true;
            flags.firmwares = true;
        }
        checks.push(ProvideCheck {
            provide: p.clone(),
            matched,
            why,
        });
    }
    Verdict { flags, checks }
}

/// The `.arch` suffix of a RHEL-style kernel release (`x86_64` in
/// `5.14.0-503.14.1.el9_5.x86_64`), if it has a known one.
pub fn arch_suffix(release: &str) -> Option<&str> {
    const ARCHES: &[&str] = &[
        "x86_64", "aarch64", "ppc64le", "s390x", "i686", "ppc64", "riscv64", "armv7hl",
    ];
    let (_, last) = release.rsplit_once('.')?;
    ARCHES.iter().copied().find(|a| *a == last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(op: DepOp, v: &str) -> RpmDep {
        RpmDep {
            name: "kernel-modules".into(),
            op,
            version: v.into(),
            internal: false,
        }
    }

    #[test]
    fn user_story() {
        let k = "5.14.0-503.14.1.el9_5.x86_64";
        assert!(evaluate(&[dep(DepOp::Ge, "5.14.0-503.11.1.el9_5.x86_64")], k).accepted());
        let v = evaluate(&[dep(DepOp::Eq, "5.14.0-503.11.1.el9_5.x86_64")], k);
        assert!(!v.accepted());
        assert!(v.reason().contains("newer than"), "{}", v.reason());
        let v = evaluate(&[dep(DepOp::Eq, "5.14.0-503.14.1.el9_5")], k);
        assert!(
            !v.accepted() && v.reason().contains(".x86_64"),
            "{}",
            v.reason()
        );
        assert!(!evaluate(&[dep(DepOp::Any, "")], k).accepted());
        assert!(evaluate(&[dep(DepOp::Eq, "2.6.32-71.el6")], k).accepted());
    }
}
