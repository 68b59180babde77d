//! Reading only the parts of a large, plain module that the parser looks at.
//!
//! A module is mostly code, relocations and BTF; everything kmodpack reads
//! (ELF and section headers, `.modinfo`, `__versions`, `.symtab`/`.strtab`,
//! the CRC and namespace sections, the signature trailer) is a few KiB at
//! known offsets. Copying whole files made `kmodpack deps` over a kernel's
//! 4,000 modules slower than `cat` of the same files; reading those ranges
//! only copies a few percent of the bytes.
//!
//! The ranges are read into a buffer that is reused from file to file, so
//! bytes outside them are left over from an earlier file. That is safe
//! because the parser is told which sections were read and fails on any
//! other one ([`super::ParseError::NotRead`]); the header tables, section
//! name table, symbol and string tables and signature trailer are always
//! read. Any failure here (an unusual layout, a hostile file, an I/O error)
//! makes the caller read and parse the whole file instead, so results and
//! error messages are always those of a whole-file read — tests check that
//! on every module of the installed kernel and on mutated modules.

// A parser of untrusted bytes: no indexing that can panic (issue #15).
#![deny(clippy::indexing_slicing)]

use std::io;

use elf::abi;
use elf::endian::AnyEndian;
use elf::ElfBytes;

use super::{signature, Compression, KernelModule};

/// Files at most this long are read whole: for them the extra reads cost
/// more than the bytes they save.
pub const MIN_LEN: u64 = 32 * 1024;

/// Bytes read from the end first: in every layout seen (kbuild, RHEL, SUSE,
/// old and new binutils) this holds the section headers, `.shstrtab`,
/// `.strtab`, usually `.symtab` and the signature.
const TAIL: usize = 16 * 1024;

/// Ranges closer than this are read in one call.
const MERGE_GAP: usize = 4096;

/// Sections read by name (besides symbol, string and name tables).
const NAMED: [&str; 4] = [
    ".modinfo",
    "__versions",
    "__version_ext_crcs",
    "__version_ext_names",
];

/// Sections that `__crc_*`, `__kstrtabns_*` and `__flags_*` point into.
const PREFIXES: [&str; 3] = ["__kcrctab", "__ksymtab_strings", "__kflagstab"];

/// Positioned reads from a file (or, in tests, from bytes).
pub trait ReadAt {
    /// Fills `buf` from `offset`; a short file is an error.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
}

impl ReadAt for std::fs::File {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }
}

impl ReadAt for [u8] {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let src = usize::try_from(offset)
            .ok()
            .and_then(|o| self.get(o..o.checked_add(buf.len())?))
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// The image of a `len`-byte file in `buf` with only the needed ranges read.
struct Image<'b, R: ?Sized> {
    src: &'b R,
    buf: &'b mut [u8],
    /// Sorted, disjoint ranges already read.
    read: Vec<(usize, usize)>,
}

impl<R: ReadAt + ?Sized> Image<'_, R> {
    /// Reads `ranges` (clipped to the file), merging close ones and skipping
    /// what was read before.
    fn load(&mut self, mut ranges: Vec<(usize, usize)>) -> io::Result<()> {
        let len = self.buf.len();
        ranges.retain_mut(|r| {
            r.1 = r.1.min(len);
            r.0 < r.1
        });
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
        for r in ranges {
            match merged.last_mut() {
                Some(last) if r.0 <= last.1.saturating_add(MERGE_GAP) => last.1 = last.1.max(r.1),
                _ => merged.push(r),
            }
        }
        for (start, end) in merged {
            let mut pos = start;
            // Skip and split around what is already there.
            for &(s, e) in &self.read {
                if e <= pos || s >= end {
                    continue;
                }
                if s > pos {
                    let dst = self.buf.get_mut(pos..s).ok_or_else(past_end)?;
                    self.src.read_exact_at(dst, pos as u64)?;
                }
                pos = pos.max(e);
            }
            if pos < end {
                let dst = self.buf.get_mut(pos..end).ok_or_else(past_end)?;
                self.src.read_exact_at(dst, pos as u64)?;
            }
            self.read.push((start, end));
        }
        self.read.sort_unstable();
        Ok(())
    }
}

fn past_end() -> std::io::Error {
    std::io::Error::other("a section lies past the end of the file")
}

/// Parses the module in `src` (`len` bytes) reading only what the parser
/// needs, using `buf` as scratch space (see [`super::Reader`] for
/// `undefined`). `None` means "read the whole file": a compressed or
/// non-ELF file, an unusual layout, any parse or I/O error.
pub fn parse<R: ReadAt + ?Sized>(
    src: &R,
    len: u64,
    buf: &mut Vec<u8>,
    undefined: bool,
) -> Option<KernelModule> {
    let len = usize::try_from(len).ok()?;
    if buf.capacity() < len {
        // Zeroed by the allocator (fresh pages for a large buffer), not
        // written: the pages of a large module the parser never reads are
        // never touched, where `resize` would fault in and clear them all
        // (one generator call per file under rpm <= 4.19).
        *buf = vec![0; len];
    } else if buf.len() < len {
        buf.resize(len, 0);
    }
    let mut img = Image {
        src,
        buf: buf.get_mut(..len)?,
        read: Vec::new(),
    };
    // Compressed modules (all of RHEL's) must be read whole: look at the
    // magic before reading anything else.
    img.load(vec![(0, 64)]).ok()?;
    if Compression::detect(img.buf) != Compression::None || !img.buf.starts_with(b"\x7fELF") {
        return None;
    }
    img.load(vec![(len.saturating_sub(TAIL), len)]).ok()?;
    let elf_len = signature::trailer_start(img.buf).ok()?;
    img.load(vec![(elf_len, len)]).ok()?;

    // The section header table, then the section name table.
    let ident = elf::file::parse_ident::<AnyEndian>(img.buf.get(..abi::EI_NIDENT)?).ok()?;
    let class = ident.1;
    let ehdr = elf::file::FileHeader::parse_tail(ident, img.buf.get(abi::EI_NIDENT..64)?).ok()?;
    if ehdr.e_shnum == 0 || ehdr.e_phnum == abi::PN_XNUM || ehdr.e_shstrndx == abi::SHN_XINDEX {
        return None; // extended numbering: never in modules
    }
    let entsize = match class {
        elf::file::Class::ELF32 => 40,
        elf::file::Class::ELF64 => 64,
    };
    let shoff = usize::try_from(ehdr.e_shoff).ok()?;
    let phoff = usize::try_from(ehdr.e_phoff).ok()?;
    let phsize = usize::from(ehdr.e_phnum) * usize::from(ehdr.e_phentsize);
    img.load(vec![
        (
            shoff,
            shoff.checked_add(usize::from(ehdr.e_shnum) * entsize)?,
        ),
        (phoff, phoff.checked_add(phsize)?),
    ])
    .ok()?;
    let range = |sh: &elf::section::SectionHeader| -> Option<(usize, usize)> {
        if sh.sh_type == abi::SHT_NOBITS {
            return None;
        }
        let start = usize::try_from(sh.sh_offset).ok()?;
        Some((start, start.checked_add(usize::try_from(sh.sh_size).ok()?)?))
    };
    let shstr = {
        let file = ElfBytes::<AnyEndian>::minimal_parse(img.buf.get(..elf_len)?).ok()?;
        range(
            &file
                .section_headers()?
                .get(usize::from(ehdr.e_shstrndx))
                .ok()?,
        )
    };
    img.load(shstr.into_iter().collect()).ok()?;

    // Every section the parser reads.
    let (wanted, ranges) = {
        let file = ElfBytes::<AnyEndian>::minimal_parse(img.buf.get(..elf_len)?).ok()?;
        let (shdrs, names) = file.section_headers_with_strtab().ok()?;
        let (shdrs, names) = (shdrs?, names?);
        let mut wanted = vec![false; shdrs.len()];
        for (i, sh) in shdrs.iter().enumerate() {
            let name = names.get_raw(sh.sh_name as usize).ok()?;
            let name = std::str::from_utf8(name).unwrap_or("");
            let needed = i == usize::from(ehdr.e_shstrndx)
                || sh.sh_type == abi::SHT_SYMTAB
                || sh.sh_flags & u64::from(abi::SHF_COMPRESSED) != 0
                || NAMED.contains(&name)
                || PREFIXES.iter().any(|p| name.starts_with(p));
            if needed {
                *wanted.get_mut(i)? = true;
                if sh.sh_type == abi::SHT_SYMTAB {
                    *wanted.get_mut(sh.sh_link as usize)? = true;
                }
            }
        }
        let ranges: Vec<(usize, usize)> = shdrs
            .iter()
            .zip(&wanted)
            .filter(|(_, w)| **w)
            .filter_map(|(sh, _)| range(&sh))
            .collect();
        (wanted, ranges)
    };
    img.load(ranges).ok()?;
    KernelModule::parse_image(img.buf, Compression::None, Some(&wanted), undefined).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Module files of the fixtures and of the installed kernel.
    fn modules() -> Vec<std::path::PathBuf> {
        crate::scan::find_modules(&["../shared/kabi-fixtures".into(), "/lib/modules".into()])
            .unwrap()
    }

    /// A scratch buffer full of junk, so that any byte the parser reads
    /// without having loaded it changes the result.
    fn poisoned(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 131 + 7) as u8).collect()
    }

    #[test]
    fn same_result_as_whole_file_on_real_modules() {
        let files = modules();
        assert!(files.len() > 100, "expected fixtures and installed modules");
        let mut partial = 0;
        for p in files {
            let bytes = std::fs::read(&p).unwrap();
            let whole = KernelModule::parse(&bytes);
            let mut buf = poisoned(bytes.len());
            match parse(&bytes[..], bytes.len() as u64, &mut buf, true) {
                Some(m) => {
                    partial += 1;
                    assert_eq!(Ok(m), whole, "{}", p.display());
                }
                None => assert!(
                    Compression::detect(&bytes) != Compression::None || whole.is_err(),
                    "{}: plain module not read partially",
                    p.display()
                ),
            }
        }
        assert!(partial > 100, "only {partial} modules read partially");
    }

    #[test]
    fn mutated_modules_never_differ_from_whole_file() {
        // Flip bytes where the parser looks (ELF header, and the tail with
        // the tables and the signature): a partial read either agrees with
        // the whole-file parse, error or not, or gives up.
        let p = "../shared/kabi-fixtures/debian12-6.1.0-56-amd64/usb-storage.ko";
        let bytes = std::fs::read(p).unwrap();
        let mut buf = poisoned(bytes.len());
        assert!(parse(&bytes[..], bytes.len() as u64, &mut buf, true).is_some());
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let (mut agreed, mut gave_up) = (0, 0);
        for _ in 0..4000 {
            let mut b = bytes.clone();
            for _ in 0..3 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = if seed & 1 == 0 {
                    (seed >> 8) as usize % 64
                } else {
                    b.len() - 1 - (seed >> 8) as usize % TAIL
                };
                b[at] ^= (seed >> 40) as u8 | 1;
            }
            let mut buf = poisoned(b.len());
            match parse(&b[..], b.len() as u64, &mut buf, true) {
                Some(m) => {
                    assert_eq!(Ok(m), KernelModule::parse(&b));
                    agreed += 1;
                }
                None => gave_up += 1,
            }
        }
        assert!(
            agreed > 100 && gave_up > 100,
            "{agreed} agreed, {gave_up} gave up"
        );
    }

    #[test]
    fn reader_matches_whole_file_parse() {
        let dir = std::path::Path::new("../shared/kabi-fixtures");
        for f in [
            "debian12-6.1.0-56-amd64/usb-storage.ko", // partial, signed
            "kmod-rhel6-ext4/ext4-ppc64.ko",          // partial, big-endian
            "debian12-6.1.0-56-amd64/libcrc32c.ko",   // small: whole
            "compressed/libcrc32c.ko.xz",             // compressed: whole
        ] {
            let p = dir.join(f);
            let whole = KernelModule::parse(&std::fs::read(&p).unwrap()).unwrap();
            let mut reader = super::super::Reader::default();
            assert_eq!(reader.read(&p).unwrap(), whole, "{f}");
            let mut lean = super::super::Reader::without_undefined();
            let m = lean.read(&p).unwrap();
            assert!(m.undefined.is_empty() && !whole.undefined.is_empty(), "{f}");
            assert_eq!(
                KernelModule {
                    undefined: whole.undefined.clone(),
                    ..m
                },
                whole,
                "{f}"
            );
        }
    }
}
