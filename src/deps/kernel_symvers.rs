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
//!
//! `kabi check` looks in the other order on purpose (the installed
//! kernel's symvers, as weak-modules reads them, before a headers tree):
//! see [`crate::kabi::target::find_symvers`]. Both read the files with the
//! one line parser of [`crate::symvers`].

use rustc_hash::{FxHashMap, FxHashSet};
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
    SEARCH_LIST
        .iter()
        .map(|p| under(sysroot, &p.replace("{kver}", release)))
        .collect()
}

/// Symvers files found by [`locate`], each with the metadata of the stat
/// that found it (`metadata[i]` is that of `paths[i]`).
#[derive(Debug, Default)]
pub struct Located {
    /// The files, in the order given or searched.
    pub paths: Vec<PathBuf>,
    /// Their metadata.
    pub metadata: Vec<std::fs::Metadata>,
}

/// The symvers file(s) to use for `release`: the overrides (each must
/// exist) or the first existing search-list entry, each with its metadata
/// from the stat that found it (the package's ledger keys its index of the
/// files by it: one stat per file and generator call).
pub fn locate(release: &str, overrides: &[String], sysroot: &Path) -> Result<Located, DepsError> {
    let file = |p: &Path| std::fs::metadata(p).ok().filter(|m| m.is_file());
    if !overrides.is_empty() {
        let mut found = Located::default();
        for o in overrides {
            let p = PathBuf::from(o.replace("{kver}", release));
            let Some(m) = file(&p) else {
                return Err(DepsError::SymversIo {
                    path: p,
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "symvers override not found",
                    ),
                });
            };
            found.paths.push(p);
            found.metadata.push(m);
        }
        return Ok(found);
    }
    let tried = candidates(release, sysroot);
    match tried.iter().find_map(|p| Some((p, file(p)?))) {
        Some((p, m)) => Ok(Located {
            paths: vec![p.clone()],
            metadata: vec![m],
        }),
        None => Err(DepsError::SymversNotFound {
            release: release.to_string(),
            tried,
        }),
    }
}

/// The exports of a kernel: symbol → CRC, from vmlinux and in-tree modules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelExports {
    crcs: FxHashMap<String, u32>,
    /// Where the table came from (for messages).
    pub sources: Vec<PathBuf>,
    /// Symbols (of those indexed) listed twice with different CRCs; the
    /// caller warns, since the verdict would otherwise depend on line order.
    pub conflicts: Vec<crate::symvers::Conflict>,
    /// Symbol lines seen (indexed or not): zero means an empty symvers.
    seen: usize,
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
    /// rest cheaply (by name length and first/last byte, then by hash) keeps
    /// one call within a few milliseconds. Every line is still checked by
    /// [`crate::symvers::parse_line`], so `deps` and `kabi` accept the same files.
    pub fn add_symvers(
        &mut self,
        bytes: &[u8],
        wanted: Option<&FxHashSet<&str>>,
    ) -> Result<(), String> {
        let decompressed = compression::decompress(bytes)?;
        let text = match &decompressed {
            Some((_, d)) => d.as_slice(),
            None => bytes,
        };
        let filter = wanted.map(Filter::new);
        self.add_lines(text, 0, filter.as_ref())?;
        Ok(())
    }

    /// Indexes the complete lines of `text` (line numbers continue after
    /// `first_line`); returns the number of lines seen.
    fn add_lines(
        &mut self,
        text: &[u8],
        first_line: usize,
        filter: Option<&Filter<'_>>,
    ) -> Result<usize, String> {
        let mut start = 0;
        let mut n = first_line;
        while start < text.len() {
            n += 1;
            let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i);
            let line = &text[start..end];
            start = end + 1;
            // The one symvers line parser (same strictness as `kabi`): every
            // line is checked, wanted or not.
            let Some(l) = crate::symvers::parse_line(line).map_err(|m| format!("line {n}: {m}"))?
            else {
                continue;
            };
            self.seen += 1;
            if filter.is_some_and(|f| !f.matches(l.name.as_bytes())) {
                continue;
            }
            if let Some(old) = self.crcs.insert(l.name.to_string(), l.crc) {
                if old != l.crc {
                    self.conflicts.push(crate::symvers::Conflict {
                        name: l.name.to_string(),
                        first: old,
                        last: l.crc,
                    });
                }
            }
        }
        Ok(n - first_line)
    }

    /// Reads and merges symvers files. Plain files are streamed through a
    /// small buffer (no 2 MB allocation to fault in on every generator call);
    /// compressed ones are decompressed whole.
    pub fn read(
        paths: &[PathBuf],
        wanted: Option<&FxHashSet<&str>>,
    ) -> Result<KernelExports, DepsError> {
        use std::io::Read;
        let filter = wanted.map(Filter::new);
        let mut k = KernelExports::default();
        for p in paths {
            let io = |source| DepsError::SymversIo {
                path: p.clone(),
                source,
            };
            let parse = |message| DepsError::SymversParse {
                path: p.clone(),
                message,
            };
            let seen_before = k.seen;
            let mut f = crate::fsio::open_regular(p).map_err(io)?;
            let mut buf = vec![0u8; 128 * 1024];
            let mut filled = 0;
            let mut lines = 0;
            let mut first = true;
            loop {
                let got = f.read(&mut buf[filled..]).map_err(io)?;
                filled += got;
                if std::mem::take(&mut first)
                    && compression::Compression::detect(&buf[..filled])
                        != compression::Compression::None
                {
                    let mut all = buf[..filled].to_vec();
                    f.read_to_end(&mut all).map_err(io)?;
                    k.add_symvers(&all, wanted).map_err(parse)?;
                    break;
                }
                if got == 0 {
                    k.add_lines(&buf[..filled], lines, filter.as_ref())
                        .map_err(parse)?;
                    break;
                }
                if filled == buf.len() {
                    // Process complete lines, keep the partial last one.
                    let Some(cut) = memchr::memrchr(b'\n', &buf[..filled]) else {
                        buf.resize(buf.len() * 2, 0);
                        continue;
                    };
                    lines += k
                        .add_lines(&buf[..cut + 1], lines, filter.as_ref())
                        .map_err(parse)?;
                    buf.copy_within(cut + 1..filled, 0);
                    filled -= cut + 1;
                }
            }
            if k.seen == seen_before {
                return Err(parse(
                    "no symbols (empty or only comments); a kernel exports thousands, so this \
                     file is broken or truncated and every requirement would become an unresolvable ksym()"
                        .to_string(),
                ));
            }
            k.sources.push(p.clone());
        }
        Ok(k)
    }
}

/// First line of a kernel exports index ([`KernelExports::index`]).
const INDEX_HEADER: &[u8] = b"kmodpack kernel exports index 1\n";

impl KernelExports {
    /// The whole table as an index that [`lookup_index`](Self::lookup_index)
    /// answers from without reading the symvers again: a header line, then
    /// `name\tcrc\n` lines sorted by name bytes (`crc` as 8 hex digits).
    /// Why: rpm <= 4.19 runs one generator per file, and every requires call
    /// would otherwise scan the whole 1.7 MB symvers for its few dozen
    /// imports; a binary search over the index costs the same whatever the
    /// size of the symvers. `None` for a table with conflicting lines (their
    /// warnings need the lines) or none at all (an error the full read
    /// reports each time).
    pub fn index(&self) -> Option<Vec<u8>> {
        use std::io::Write;
        if !self.conflicts.is_empty() || self.seen == 0 {
            return None;
        }
        let mut entries: Vec<(&String, &u32)> = self.crcs.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let mut out = Vec::with_capacity(INDEX_HEADER.len() + entries.len() * 32);
        out.extend_from_slice(INDEX_HEADER);
        for (name, crc) in entries {
            // Writing to a Vec cannot fail.
            let _ = writeln!(out, "{name}\t{crc:08x}");
        }
        Some(out)
    }

    /// The table an [`index`](Self::index) holds, restricted to `wanted`
    /// (every entry without), read from `sources`. `None` when `index` is
    /// not one (the caller then reads the symvers again): a lookup reads
    /// only the lines its binary search lands on.
    pub fn lookup_index(
        index: &[u8],
        wanted: Option<&FxHashSet<&str>>,
        sources: &[PathBuf],
    ) -> Option<KernelExports> {
        let body = index.strip_prefix(INDEX_HEADER)?;
        if body.last().is_some_and(|&b| b != b'\n') {
            return None;
        }
        let mut k = KernelExports {
            sources: sources.to_vec(),
            ..KernelExports::default()
        };
        match wanted {
            Some(names) => {
                k.crcs.reserve(names.len());
                for name in names {
                    if let Some(crc) = index_find(body, name.as_bytes())? {
                        k.crcs.insert((*name).to_string(), crc);
                    }
                }
            }
            None => {
                for line in body.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                    let (name, crc) = index_line(line)?;
                    k.crcs.insert(String::from_utf8(name.to_vec()).ok()?, crc);
                }
            }
        }
        // Not an empty symvers: the index is only written for a table
        // with symbols.
        k.seen = 1;
        Some(k)
    }
}

/// One `name\tcrc` line of an index.
fn index_line(line: &[u8]) -> Option<(&[u8], u32)> {
    let (name, crc) = split_index_line(line)?;
    Some((name, index_crc(crc)?))
}

/// The name and the CRC field of an index line (`None`: no tab).
fn split_index_line(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let tab = memchr::memchr(b'\t', line)?;
    Some((&line[..tab], &line[tab + 1..]))
}

/// The CRC field of an index line: exactly 8 hex digits. By hand, not
/// `from_str_radix` over a checked `str`: a requires call parses one per
/// import it looks up.
fn index_crc(field: &[u8]) -> Option<u32> {
    if field.len() != 8 {
        return None;
    }
    field.iter().try_fold(0u32, |crc, &b| {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return None,
        };
        Some(crc << 4 | u32::from(digit))
    })
}

/// Binary search of the sorted index `body` for `name`: `Some(None)` when
/// absent, `None` when a line it lands on is malformed (no tab, or, on the
/// line of `name`, no valid CRC). Only the names are compared on the way:
/// the CRC is parsed on the line found.
fn index_find(body: &[u8], name: &[u8]) -> Option<Option<u32>> {
    // `lo` and `hi` are always line starts.
    let (mut lo, mut hi) = (0, body.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let start = memchr::memrchr(b'\n', body.get(lo..mid)?).map_or(lo, |i| lo + i + 1);
        let end = memchr::memchr(b'\n', body.get(start..)?).map_or(body.len(), |i| start + i);
        let (found, crc) = split_index_line(body.get(start..end)?)?;
        match found.cmp(name) {
            std::cmp::Ordering::Equal => return index_crc(crc).map(Some),
            std::cmp::Ordering::Less => lo = end + 1,
            std::cmp::Ordering::Greater => hi = start,
        }
    }
    Some(None)
}

/// Cheap rejection of symvers names nobody asked for.
struct Filter<'a> {
    names: FxHashSet<&'a [u8]>,
    lens: [bool; 256],
    ends: Vec<bool>,
}

impl<'a> Filter<'a> {
    fn new(wanted: &FxHashSet<&'a str>) -> Filter<'a> {
        let mut f = Filter {
            names: FxHashSet::default(),
            lens: [false; 256],
            ends: vec![false; 1 << 16],
        };
        for n in wanted
            .iter()
            .map(|n| n.as_bytes())
            .filter(|n| !n.is_empty())
        {
            f.lens[n.len().min(255)] = true;
            f.ends[Self::key(n)] = true;
            f.names.insert(n);
        }
        f
    }

    fn key(name: &[u8]) -> usize {
        (name[0] as usize) << 8 | name[name.len() - 1] as usize
    }

    fn matches(&self, name: &[u8]) -> bool {
        self.lens[name.len().min(255)] && self.ends[Self::key(name)] && self.names.contains(name)
    }
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
        let wanted: FxHashSet<&str> = ["kmalloc"].into_iter().collect();
        let mut k = KernelExports::default();
        k.add_symvers(FAKE.as_bytes(), Some(&wanted)).unwrap();
        assert_eq!(k.len(), 1);
        assert!(k.contains("kmalloc", 0x2222));
    }

    #[test]
    fn garbage_is_an_error() {
        let mut k = KernelExports::default();
        assert!(k
            .add_symvers(b"hello world\n", None)
            .unwrap_err()
            .contains("line 1"));
        assert!(k
            .add_symvers(b"zz\tsym\tvmlinux\n", None)
            .unwrap_err()
            .contains("bad CRC"));
    }

    #[test]
    fn the_index_answers_as_the_symvers_does() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("Module.symvers");
        let text = format!("# comment\n{FAKE}0x0000abcd\tns2\tNS\tvmlinux\tEXPORT_SYMBOL\r\n");
        std::fs::write(&p, &text).unwrap();
        let sources = std::slice::from_ref(&p);
        let full = KernelExports::read(sources, None).unwrap();
        let index = full.index().unwrap();
        assert!(index.starts_with(INDEX_HEADER));
        // Every name, and names absent from the kernel, before and after
        // each line, as the filtered read of the symvers answers them.
        for name in [
            "kmalloc",
            "ns_sym",
            "ns2",
            "printk",
            "same_name_diff_crc",
            "absent",
            "a",
            "zzz",
            "kmallo",
            "kmallocc",
            "",
        ] {
            let wanted: FxHashSet<&str> = [name].into_iter().collect();
            let from_index = KernelExports::lookup_index(&index, Some(&wanted), sources).unwrap();
            let from_symvers = KernelExports::read(sources, Some(&wanted)).unwrap();
            assert_eq!(from_index.crcs, from_symvers.crcs, "{name}");
            assert_eq!(from_index.sources, from_symvers.sources);
        }
        let all = KernelExports::lookup_index(&index, None, sources).unwrap();
        assert_eq!(all.crcs, full.crcs);
        assert_eq!(all.len(), 5);
        // Not an index: the caller reads the symvers again.
        assert!(KernelExports::lookup_index(b"0x1\tprintk\n", None, sources).is_none());
        let mut cut = index.clone();
        cut.pop();
        assert!(KernelExports::lookup_index(&cut, None, sources).is_none());
        let mut bad = INDEX_HEADER.to_vec();
        bad.extend_from_slice(b"kmalloc\tnothex!!\n");
        let wanted: FxHashSet<&str> = ["kmalloc"].into_iter().collect();
        assert!(KernelExports::lookup_index(&bad, Some(&wanted), sources).is_none());
        // Conflicting lines have warnings to give: no index.
        std::fs::write(
            &p,
            format!("{FAKE}0x00000001\tkmalloc\tvmlinux\tEXPORT_SYMBOL\t\n"),
        )
        .unwrap();
        let conflicting = KernelExports::read(sources, None).unwrap();
        assert_eq!(conflicting.conflicts.len(), 1);
        assert!(conflicting.index().is_none());
    }

    #[test]
    fn streamed_read_equals_in_memory_parse_across_buffer_boundaries() {
        let d = tempfile::tempdir().unwrap();
        let mut text = String::new();
        for i in 0..20_000u32 {
            text += &format!(
                "0x{:08x}\tsym_{i}_{}\tvmlinux\tEXPORT_SYMBOL\t\n",
                i.wrapping_mul(2654435761),
                "x".repeat((i % 40) as usize)
            );
        }
        let plain = d.path().join("Module.symvers");
        std::fs::write(&plain, &text).unwrap();
        let gz = d.path().join("symvers.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, text.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let mut whole = KernelExports::default();
        whole.add_symvers(text.as_bytes(), None).unwrap();
        assert_eq!(whole.len(), 20_000);
        for p in [&plain, &gz] {
            let k = KernelExports::read(std::slice::from_ref(p), None).unwrap();
            assert_eq!(k.crcs, whole.crcs, "{}", p.display());
        }
        let long = "sym_19999_".to_string() + &"x".repeat(39);
        let wanted: FxHashSet<&str> = [long.as_str(), "sym_7_xxxxxxx", "nope"]
            .into_iter()
            .collect();
        let k = KernelExports::read(std::slice::from_ref(&plain), Some(&wanted)).unwrap();
        assert_eq!(k.len(), 2);
        assert!(k.contains("sym_7_xxxxxxx", 7u32.wrapping_mul(2654435761)));
        // Errors carry the right line number past the first buffer.
        std::fs::write(&plain, format!("{text}garbage line\n")).unwrap();
        let e = KernelExports::read(&[plain], None).unwrap_err().to_string();
        assert!(e.contains("line 20001"), "{e}");
    }

    /// The differential test across callers: `kabi` (Symvers::parse), the
    /// generator's in-memory and streamed readers, with or without a name
    /// filter, accept exactly the same mutated files and see the same CRCs.
    #[test]
    fn every_reader_agrees_on_mutated_symvers() {
        let base = [
            "0x1111aaaa\tprintk\tvmlinux\tEXPORT_SYMBOL\t",
            "0x00002222\tkmalloc\tvmlinux\tEXPORT_SYMBOL_GPL\tNS",
            "0x33334444\tfoo\tdrivers/foo\tEXPORT_SYMBOL",
            "0x55556666\tbar\tNS2\tdrivers/bar\tEXPORT_SYMBOL_GPL",
            "0x7777\tbaz\tvmlinux",
        ];
        let pieces = [
            "\t",
            "",
            "0x",
            "zz",
            "1ffffffff",
            "EXPORT_WHATEVER",
            "\u{feff}",
            " ",
            "\r",
            "#",
            "\n",
            "ffffffff",
            "\u{e9}",
            "\t\t",
        ];
        let d = tempfile::tempdir().unwrap();
        let mut rng = 0x1234_5678_9abc_def0u64;
        let mut next = |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        let (mut ok, mut bad) = (0, 0);
        for case in 0..3000 {
            let mut lines: Vec<String> = base.iter().map(|l| l.to_string()).collect();
            for _ in 0..next(3) {
                let l = next(lines.len());
                let p = pieces[next(pieces.len())];
                let line = &mut lines[l];
                let at = (0..=line.len())
                    .filter(|i| line.is_char_boundary(*i))
                    .nth(next(line.chars().count() + 1))
                    .unwrap();
                line.insert_str(at, p);
            }
            if next(4) == 0 {
                lines.truncate(next(lines.len() + 1));
            }
            let text = lines.join("\n") + "\n";
            let kabi = crate::symvers::Symvers::parse(text.as_bytes());
            let mut mem = KernelExports::default();
            let mem_r = mem.add_symvers(text.as_bytes(), None);
            let f = d.path().join("s");
            std::fs::write(&f, &text).unwrap();
            let streamed = KernelExports::read(std::slice::from_ref(&f), None);
            let wanted: FxHashSet<&str> = ["printk", "bar"].into_iter().collect();
            let filtered = KernelExports::read(std::slice::from_ref(&f), Some(&wanted));
            let what = format!("case {case}: {text:?}");
            assert_eq!(
                kabi.is_ok(),
                streamed.is_ok(),
                "{what}: kabi {kabi:?} vs deps {streamed:?}"
            );
            assert_eq!(streamed.is_ok(), filtered.is_ok(), "{what}");
            // add_symvers alone does not know about files (emptiness is per file).
            if kabi.is_ok() {
                assert!(mem_r.is_ok(), "{what}");
            }
            match (kabi, streamed) {
                (Ok(k), Ok(s)) => {
                    ok += 1;
                    assert_eq!(s.crcs, mem.crcs, "{what}");
                    let want: FxHashMap<String, u32> =
                        k.entries.iter().map(|e| (e.name.clone(), e.crc)).collect();
                    assert_eq!(s.crcs, want, "{what}");
                    assert_eq!(s.conflicts, k.conflicts(), "{what}");
                }
                _ => bad += 1,
            }
        }
        assert!(ok > 100 && bad > 100, "ok {ok}, bad {bad}");
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
        let paths = |l: Located| l.paths;
        assert_eq!(
            paths(locate("9.9.9-x", &[], d.path()).unwrap()),
            [boot.join("symvers-9.9.9-x.xz")]
        );
        let o = format!("{}/lib/modules/{{kver}}/symvers.gz", d.path().display());
        assert_eq!(
            paths(locate("9.9.9-x", &[o], Path::new("/")).unwrap()),
            [d.path().join("lib/modules/9.9.9-x/symvers.gz")]
        );
        assert!(locate("9.9.9-y", &["/nonexistent/{kver}".into()], Path::new("/")).is_err());
    }
}
