//! The two dependency dialects rpm ecosystems use for kernel modules, and
//! the exact bytes of each dependency.
//!
//! The strings are compared by rpm as EVRs, so they must match what the
//! packages built with the distribution's own scripts carry, byte for byte:
//! - Red Hat (`find-provides.ksyms` / `find-requires.ksyms`, kmod.attr):
//!   `ksym(SYM) = 0x%08x`, `kernel(SYM) = 0x%08x`, `kmod(NAME.ko)`.
//! - SUSE (`find-provides.ksyms` with `ksym-provides`):
//!   `ksym(FLAVOR:SYM) = %x` (no `0x`, no padding), `kmod(NAME)` with `-` → `_`.
//!   SUSE kernels themselves provide `ksym(FLAVOR:SYM)` for vmlinux and all
//!   modules, so that dialect has no `kernel()` form.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::module::{normalize_name, strip_module_suffix};

/// Which distribution family's spelling to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// RHEL, Fedora, CentOS, Rocky, Alma, openEuler...
    #[default]
    Redhat,
    /// SLES, openSUSE.
    Suse,
}

impl Dialect {
    /// `ksym()` for a symbol/CRC; `flavor` is used by SUSE only.
    pub fn ksym(self, flavor: &str, symbol: &str, crc: u32) -> String {
        match self {
            Dialect::Redhat => spelled(&["ksym(", symbol, ") = 0x"], crc, 8),
            Dialect::Suse => spelled(&["ksym(", flavor, ":", symbol, ") = "], crc, 0),
        }
    }

    /// A symbol the target kernel itself exports. SUSE kernels provide
    /// their exports as `ksym(FLAVOR:SYM)`, so that dialect uses the same
    /// spelling as for module exports.
    pub fn kernel(self, flavor: &str, symbol: &str, crc: u32) -> String {
        match self {
            Dialect::Redhat => spelled(&["kernel(", symbol, ") = 0x"], crc, 8),
            Dialect::Suse => self.ksym(flavor, symbol, crc),
        }
    }

    /// `kmod()` for a module file name (`foo-bar.ko.xz`): Red Hat keeps the
    /// name with `.ko` (`kmod(foo-bar.ko)`), SUSE uses the kernel's module
    /// name (`kmod(foo_bar)`).
    pub fn kmod(self, file_name: &str) -> String {
        let stem = strip_module_suffix(file_name);
        match self {
            Dialect::Redhat => format!("kmod({stem}.ko)"),
            Dialect::Suse => format!("kmod({})", normalize_name(stem)),
        }
    }
}

/// `parts`, then `crc` as [`push_hex`] spells it: what `format!` with
/// `{crc:08x}` (`width` 8) or `{crc:x}` (0) prints, without the formatting
/// machinery (a requires call spells one dependency per import).
fn spelled(parts: &[&str], crc: u32, width: u32) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum::<usize>() + 8);
    for p in parts {
        s.push_str(p);
    }
    push_hex(&mut s, u64::from(crc), width);
    s
}

/// Appends `v` in lower-case hex, zero-padded to `width` digits (at most
/// 16; 0: as many digits as `v` needs, at least one).
pub fn push_hex(out: &mut String, v: u64, width: u32) {
    let needed = (64 - v.leading_zeros()).div_ceil(4).max(1);
    for i in (0..needed.max(width.min(16))).rev() {
        out.push(char::from(
            b"0123456789abcdef"[(v >> (4 * i) & 0xf) as usize],
        ));
    }
}

/// The SUSE flavor of a kernel release: its last `-` component
/// (`6.4.0-150600.23.7-default` → `default`). SUSE's scripts use the same
/// rule. `None` when the release has no `-`.
pub fn suse_flavor(kernel_release: &str) -> Option<&str> {
    kernel_release
        .rsplit_once('-')
        .map(|(_, f)| f)
        .filter(|f| !f.is_empty())
}

/// Dependencies of one input file, ready to print.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileDeps {
    /// The path exactly as rpm passed it (buildroot prefix included).
    pub input: String,
    /// Its dependencies, sorted and unique (byte order, independent of
    /// locale). Shared strings: a kernel's modules repeat the same few
    /// hundred `kernel()` requires thousands of times.
    pub deps: BTreeSet<Arc<str>>,
}

/// Renders generator output.
///
/// Singlefile (rpm ≤ 4.19, batch use): the union of all files' dependencies,
/// sorted, unique, one per line. Multifile (rpm ≥ 4.20
/// `%__NAME_protocol multifile`): for every file that has dependencies, a
/// `;<path as given>` marker line followed by its dependencies, files in
/// input order — rpm rejects out-of-order markers.
pub fn render(files: &[FileDeps], multifile: bool) -> String {
    let mut out = String::new();
    if multifile {
        for f in files.iter().filter(|f| !f.deps.is_empty()) {
            out.push(';');
            out.push_str(&f.input);
            out.push('\n');
            for d in &f.deps {
                out.push_str(d);
                out.push('\n');
            }
        }
    } else {
        // Batch runs repeat the same kernel() lines thousands of times:
        // deduplicate by hash first, then sort the few distinct ones.
        let distinct: rustc_hash::FxHashSet<&str> = files
            .iter()
            .flat_map(|f| f.deps.iter().map(|d| &**d))
            .collect();
        let mut all: Vec<&str> = distinct.into_iter().collect();
        all.sort_unstable();
        for d in all {
            out.push_str(d);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redhat_is_zero_padded_lowercase() {
        assert_eq!(
            Dialect::Redhat.ksym("x", "prov_sym_a", 0xabcd),
            "ksym(prov_sym_a) = 0x0000abcd"
        );
        assert_eq!(
            Dialect::Redhat.kernel("x", "kmalloc", 0x2222),
            "kernel(kmalloc) = 0x00002222"
        );
        assert_eq!(
            Dialect::Redhat.ksym("x", "s", 0x89ABCDEF),
            "ksym(s) = 0x89abcdef"
        );
    }

    #[test]
    fn suse_has_flavor_no_prefix_no_padding() {
        assert_eq!(
            Dialect::Suse.ksym("default", "kmalloc", 0x2222),
            "ksym(default:kmalloc) = 2222"
        );
        assert_eq!(
            Dialect::Suse.kernel("default", "printk", 0x1111aaaa),
            "ksym(default:printk) = 1111aaaa"
        );
        assert_eq!(
            Dialect::Suse.ksym("desktop", "mutex_trylock", 0x418482),
            "ksym(desktop:mutex_trylock) = 418482"
        );
    }

    /// The hand-made hex is what `format!` prints, digit for digit.
    #[test]
    fn spelled_crcs_are_formats() {
        for crc in [
            0,
            1,
            0xf,
            0x10,
            0xabc,
            0x0012_3456,
            0x8000_0000,
            0xdead_beef,
            u32::MAX,
        ] {
            let r = Dialect::Redhat;
            assert_eq!(r.ksym("", "s", crc), format!("ksym(s) = 0x{crc:08x}"));
            assert_eq!(r.kernel("", "s", crc), format!("kernel(s) = 0x{crc:08x}"));
            let suse = Dialect::Suse.kernel("default", "s", crc);
            assert_eq!(suse, format!("ksym(default:s) = {crc:x}"));
        }
        for v in [0u64, 0x1234_5678_9abc_def0, u64::MAX] {
            let mut s = String::new();
            push_hex(&mut s, v, 16);
            assert_eq!(s, format!("{v:016x}"));
        }
    }

    #[test]
    fn kmod_names() {
        assert_eq!(Dialect::Redhat.kmod("foo-bar.ko.xz"), "kmod(foo-bar.ko)");
        assert_eq!(Dialect::Redhat.kmod("ext4.ko"), "kmod(ext4.ko)");
        assert_eq!(Dialect::Suse.kmod("foo-bar.ko.zst"), "kmod(foo_bar)");
        assert_eq!(Dialect::Suse.kmod("provS_old.ko"), "kmod(provS_old)");
    }

    #[test]
    fn flavors() {
        assert_eq!(suse_flavor("4.4.180-94-default"), Some("default"));
        assert_eq!(suse_flavor("6.4.0-150600.23.7-64kb"), Some("64kb"));
        assert_eq!(suse_flavor("6.9.0"), None);
    }

    #[test]
    fn multifile_markers_in_input_order() {
        let f = |input: &str, deps: &[&str]| FileDeps {
            input: input.into(),
            deps: deps.iter().map(|&s| Arc::from(s)).collect(),
        };
        let files = [
            f("/br/b.ko", &["kmod(b.ko)"]),
            f("/br/x.txt", &[]),
            f("/br/a.ko", &["kmod(a.ko)", "ksym(a) = 0x00000001"]),
        ];
        assert_eq!(
            render(&files, true),
            ";/br/b.ko\nkmod(b.ko)\n;/br/a.ko\nkmod(a.ko)\nksym(a) = 0x00000001\n"
        );
        assert_eq!(
            render(&files, false),
            "kmod(a.ko)\nkmod(b.ko)\nksym(a) = 0x00000001\n"
        );
    }
}
