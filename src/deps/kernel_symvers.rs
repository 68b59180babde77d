//! Finding and reading the target kernel's export table.
//!
//! Search list, per kernel release `<kver>` taken from each module's
//! vermagic (first match wins; every path is taken relative to `sysroot`,
//! normally `/`):
//!
//! 1. `/usr/src/kernels/<kver>/Module.symvers`   (RHEL/Fedora kernel-devel)
//! 2. `/lib/modules/<kver>/build/Module.symvers` (any distro's headers/devel link)
//! 3. `/boot/symvers-<kver>.gz`, `/boot/symvers-<kver>.xz` (RHEL kernel-core, EL7/EL8)
//! 4. `/lib/modules/<kver>/symvers.gz`, `/lib/modules/<kver>/symvers.xz` (RHEL 8+ kernel-core)
//!
//! Overrides replace the search list: `--symvers FILE` (repeatable), the
//! `KMODPACK_SYMVERS` environment variable or the `%_kmodpack_symvers` rpm
//! macro (colon-separated). `{kver}` in an override is replaced by the
//! release, so one setting serves a multi-kernel spec. All override files
//! are merged (a kernel's symvers plus, say, a provider kmod's), and each must
//! exist. Nothing found is an error: the alternative, silently turning every
//! requirement into `ksym()`, produces packages no Red Hat kernel satisfies.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::DepsError;
use crate::module::compression;

/// The documented search list, `{kver}` standing for the release.
pub const SEARCH_LIST: [&str; 6] = [
    "/usr/src/kernels/{kver}/Module.symvers",
    "/lib/modules/{kver}/build/Module.symvers",
    "/boot/symvers-{kver}.gz",
    "/boot/symvers-{kver}.xz",
    "/lib/modules/{kver}/symvers.gz",
    "/lib/modules/{kver}/symvers.xz",
];

/// Environment variable with override paths (colon-separated, `{kver}` allowed).
pub const ENV_SYMVERS: &str = "KMODPACK_SYMVERS";

fn under(sysroot: &Path, path: &str) -> PathBuf {
    sysroot.join(path.trim_start_matches('/'))
}

/// Candidate paths for `release`, in search order (pure).
pub fn candidates(release: &str, sysroot: &Path) -> Vec<PathBuf> {
    SEARCH_LIST.iter().map(|p| under(sysroot, &p.replace("{kver}", release))).collect()
}

/// The symvers file(s) to use for `release`: the overrides (each must
/// exist) or the first existing search-list entry.
pub fn locate(release: &str, overrides: &[String], sysroot: &Path) -> Result<Vec<PathBuf>, DepsError> {
    if !overrides.is_empty() {
        return overrides
            .iter()
            .map(|o| {
                let p = PathBuf::from(o.replace("{kver}", release));
                if p.is_file() {
                    Ok(p)
                } else {
                    Err(DepsError::SymversIo {
                        path: p,
                        source: std::io::Error::new(std::io::ErrorKind::NotFound, "symvers override not found"),
                    })
                }
            })
            .collect();
    }
    let tried = candidates(release, sysroot);
    match tried.iter().find(|p| p.is_file()) {
        Some(p) => Ok(vec![p.clone()]),
        None => Err(DepsError::SymversNotFound { release: release.to_string(), tried }),
    }
}

/// The exports of a kernel: symbol → CRC, from vmlinux and in-tree modules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelExports {
    crcs: HashMap<String, u32>,
    /// Where the table came from (for messages).
    pub sources: Vec<PathBuf>,
}

impl KernelExports {
    /// True when the kernel exports `name` with exactly `crc`.
    pub fn contains(&self, name: &str, crc: u32) -> bool {
        self.crcs.get(name) == Some(&crc)
    }

    /// Number of symbols indexed.
    pub fn len(&self) -> usize {
        self.crcs.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.crcs.is_empty()
    }

    /// Adds the exports listed in symvers text (plain, gzip, xz or zstd).
    /// With `wanted`, only those names are indexed: a single generator call
    /// looks up a few dozen imports in a 25 000-line file, and skipping the
    /// rest keeps one call within a few milliseconds. Only the first two
    /// columns are read — they are the same in every symvers layout.
    pub fn add_symvers(&mut self, bytes: &[u8], wanted: Option<&HashSet<String>>) -> Result<(), String> {
        let decompressed = compression::decompress(bytes)?;
        let text = match &decompressed {
            Some((_, d)) => d.as_slice(),
            None => bytes,
        };
        for (n, line) in text.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let mut fields = line.splitn(3, |&b| b == b'\t');
            let (Some(crc), Some(name)) = (fields.next(), fields.next()) else {
                return Err(format!("line {}: expected tab-separated `CRC<TAB>symbol<TAB>...`", n + 1));
            };
            let Ok(name) = std::str::from_utf8(name) else {
                return Err(format!("line {}: symbol name is not UTF-8", n + 1));
            };
            if wanted.is_some_and(|w| !w.contains(name)) {
                continue;
            }
            let crc = parse_crc(crc).ok_or_else(|| {
                format!("line {}: bad CRC {:?}", n + 1, String::from_utf8_lossy(crc))
            })?;
            self.crcs.insert(name.to_string(), crc);
        }
        Ok(())
    }

    /// Reads and merges symvers files.
    pub fn read(paths: &[PathBuf], wanted: Option<&HashSet<String>>) -> Result<KernelExports, DepsError> {
        let mut k = KernelExports::default();
        for p in paths {
            let bytes = std::fs::read(p).map_err(|source| DepsError::SymversIo { path: p.clone(), source })?;
            k.add_symvers(&bytes, wanted)
                .map_err(|message| DepsError::SymversParse { path: p.clone(), message })?;
            k.sources.push(p.clone());
        }
        Ok(k)
    }
}

fn parse_crc(s: &[u8]) -> Option<u32> {
    let s = std::str::from_utf8(s).ok()?;
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if hex.is_empty() || hex.len() > 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok().map(|v| v as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAKE: &str = "0x1111aaaa\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n0x00002222\tkmalloc\tvmlinux\tEXPORT_SYMBOL\t\n0x12121212\tsame_name_diff_crc\tdrivers/foo/foo\tEXPORT_SYMBOL_GPL\t\n0x55556666\tns_sym\tvmlinux\tEXPORT_SYMBOL_GPL\tSOME_NS\n";

    #[test]
    fn exact_pairs_only() {
        let mut k = KernelExports::default();
        k.add_symvers(FAKE.as_bytes(), None).unwrap();
        assert!(k.contains("printk", 0x1111aaaa));
        assert!(k.contains("same_name_diff_crc", 0x12121212));
        assert!(!k.contains("same_name_diff_crc", 0xdeadbeef));
        assert!(!k.contains("zfs_sym", 0x33334444));
        assert_eq!(k.len(), 4);
    }

    #[test]
    fn selective_index() {
        let wanted: HashSet<String> = ["kmalloc".to_string()].into();
        let mut k = KernelExports::default();
        k.add_symvers(FAKE.as_bytes(), Some(&wanted)).unwrap();
        assert_eq!(k.len(), 1);
        assert!(k.contains("kmalloc", 0x2222));
    }

    #[test]
    fn garbage_is_an_error() {
        let mut k = KernelExports::default();
        assert!(k.add_symvers(b"hello world\n", None).unwrap_err().contains("line 1"));
        assert!(k.add_symvers(b"zz\tsym\tvmlinux\n", None).unwrap_err().contains("bad CRC"));
    }

    #[test]
    fn search_list_order_and_sysroot() {
        let c = candidates("5.14.0-1.el9.x86_64", Path::new("/sr"));
        let c: Vec<String> = c.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            c,
            [
                "/sr/usr/src/kernels/5.14.0-1.el9.x86_64/Module.symvers",
                "/sr/lib/modules/5.14.0-1.el9.x86_64/build/Module.symvers",
                "/sr/boot/symvers-5.14.0-1.el9.x86_64.gz",
                "/sr/boot/symvers-5.14.0-1.el9.x86_64.xz",
                "/sr/lib/modules/5.14.0-1.el9.x86_64/symvers.gz",
                "/sr/lib/modules/5.14.0-1.el9.x86_64/symvers.xz",
            ]
        );
    }

    #[test]
    fn locate_first_existing_then_error() {
        let d = tempfile::tempdir().unwrap();
        let err = locate("9.9.9-x", &[], d.path()).unwrap_err();
        assert!(matches!(&err, DepsError::SymversNotFound { tried, .. } if tried.len() == 6));
        assert!(err.to_string().contains("no symvers for kernel 9.9.9-x"));
        let boot = d.path().join("boot");
        std::fs::create_dir_all(&boot).unwrap();
        std::fs::write(boot.join("symvers-9.9.9-x.xz"), b"").unwrap();
        std::fs::create_dir_all(d.path().join("lib/modules/9.9.9-x")).unwrap();
        std::fs::write(d.path().join("lib/modules/9.9.9-x/symvers.gz"), b"").unwrap();
        assert_eq!(locate("9.9.9-x", &[], d.path()).unwrap(), [boot.join("symvers-9.9.9-x.xz")]);
        let o = format!("{}/lib/modules/{{kver}}/symvers.gz", d.path().display());
        assert_eq!(locate("9.9.9-x", &[o], Path::new("/")).unwrap(), [d.path().join("lib/modules/9.9.9-x/symvers.gz")]);
        assert!(locate("9.9.9-y", &["/nonexistent/{kver}".into()], Path::new("/")).is_err());
    }
}
