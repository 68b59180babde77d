//! The kernel-module reader: any era, arch, byte order, compressed or not.
//!
//! [`KernelModule::parse`] takes the bytes of a `.ko` / `.ko.gz` / `.ko.xz` /
//! `.ko.zst` and returns everything kmodpack needs: `.modinfo`, imports with
//! CRCs (`__versions` or extended modversions), undefined symbols, exports
//! with CRCs, kinds and namespaces, and the signature trailer. It never
//! panics on hostile input; every problem is a [`ParseError`].

// A parser of untrusted bytes: no indexing that can panic (issue #15).
#![deny(clippy::indexing_slicing)]

pub mod compression;
pub mod exports;
pub mod modinfo;
pub mod modversions;
pub mod partial;
pub mod signature;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use elf::abi;
use elf::endian::AnyEndian;
use elf::ElfBytes;
use serde::Serialize;

/// The bytes before the first NUL, if there is one (C strings in sections).
pub(crate) fn until_nul(b: &[u8]) -> Option<&[u8]> {
    b.get(..memchr::memchr(0, b)?)
}

pub use compression::Compression;
pub use exports::{Export, ExportKind};
pub use modinfo::Modinfo;
pub use modversions::{Import, ModversionsSource};
pub use signature::{IdType, Signature};

/// Why a module could not be read. Messages are one line and say what is
/// wrong with the file; [`ModuleError`] adds the path.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    /// Empty or too short to hold an ELF header.
    #[error("truncated file ({0} bytes): too short for an ELF header")]
    Truncated(usize),
    /// No ELF magic (and no known compression magic).
    #[error("not an ELF file (no \\x7fELF magic)")]
    NotElf,
    /// gzip/xz/zstd data that does not decode.
    #[error("{0}")]
    Compression(String),
    /// A structural ELF problem (header, section table, symbol table).
    #[error("malformed ELF: {0}")]
    Elf(String),
    /// A section whose data lies outside the file.
    #[error(
        "section {name} (offset {offset}, size {size}) lies past the end of the file ({len} bytes)"
    )]
    SectionPastEnd {
        /// Section name.
        name: String,
        /// `sh_offset`.
        offset: u64,
        /// `sh_size`.
        size: u64,
        /// Length of the ELF image.
        len: usize,
    },
    /// A kernel-module table that does not follow its format.
    #[error("{0}")]
    Table(String),
    /// A malformed signature trailer.
    #[error("{0}")]
    Signature(String),
    /// Only from partial reads ([`partial`]), which then read the whole
    /// file: the parser needed a section that was not read.
    #[error("section {0} was not read")]
    NotRead(String),
}

/// A [`ParseError`] (or I/O error) with the file it came from.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file's contents are not a valid module.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: ParseError,
    },
}

/// ELF identification of a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ElfInfo {
    /// 32 or 64.
    pub bits: u8,
    /// Big-endian (ppc64, s390x, sparc64) or little-endian.
    pub big_endian: bool,
    /// `e_machine`.
    pub machine: u16,
    /// `e_type` (ET_REL for modules).
    pub file_type: u16,
}

impl ElfInfo {
    /// A short architecture name for `e_machine`.
    pub fn arch(&self) -> &'static str {
        match (self.machine, self.bits, self.big_endian) {
            (abi::EM_386, _, _) => "i686",
            (abi::EM_X86_64, _, _) => "x86_64",
            (abi::EM_AARCH64, _, _) => "aarch64",
            (abi::EM_ARM, _, _) => "arm",
            (abi::EM_PPC64, _, true) => "ppc64",
            (abi::EM_PPC64, _, false) => "ppc64le",
            (abi::EM_PPC, _, _) => "ppc",
            (abi::EM_S390, 64, _) => "s390x",
            (abi::EM_S390, _, _) => "s390",
            (abi::EM_SPARCV9, _, _) => "sparc64",
            (abi::EM_SPARC, _, _) => "sparc",
            (abi::EM_RISCV, 64, _) => "riscv64",
            (abi::EM_LOONGARCH, _, _) => "loongarch64",
            (abi::EM_MIPS, _, _) => "mips",
            _ => "unknown",
        }
    }
}

/// An undefined symbol the module needs at load time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UndefinedSymbol {
    /// Symbol name as in `.symtab`.
    pub name: String,
    /// `STB_WEAK`: the loader tolerates it being absent.
    pub weak: bool,
}

/// Everything kmodpack reads from one kernel module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelModule {
    /// Class, byte order, machine.
    pub elf: ElfInfo,
    /// How the file was stored.
    pub compression: Compression,
    /// `.modinfo` entries.
    pub modinfo: Modinfo,
    /// Where [`KernelModule::imports`] came from.
    pub modversions: ModversionsSource,
    /// Versioned imports in file order (extended tables when present).
    pub imports: Vec<Import>,
    /// Undefined `.symtab` symbols (what must resolve at load time).
    pub undefined: Vec<UndefinedSymbol>,
    /// Exports in `.symtab` order.
    pub exports: Vec<Export>,
    /// Appended signature, if any.
    pub signature: Option<Signature>,
    /// Bytes of ELF image (the decompressed file minus the signature).
    pub elf_len: usize,
}

/// Reads and parses a module file.
pub fn read(path: &Path) -> Result<KernelModule, ModuleError> {
    Reader::default().read(path)
}

/// Reads many modules, reusing its buffer; one per thread. Large plain
/// modules are read partially (see [`partial`]), with the same results.
#[derive(Debug)]
pub struct Reader {
    buf: Vec<u8>,
    undefined: bool,
}

impl Default for Reader {
    fn default() -> Reader {
        Reader {
            buf: Vec::new(),
            undefined: true,
        }
    }
}

impl Reader {
    /// A reader that leaves [`KernelModule::undefined`] empty, for callers
    /// that never look at it (the dependency generator): over a kernel's
    /// 4,000 modules that is 185,000 strings not built.
    pub fn without_undefined() -> Reader {
        Reader {
            undefined: false,
            ..Reader::default()
        }
    }

    /// Reads and parses a module file.
    pub fn read(&mut self, path: &Path) -> Result<KernelModule, ModuleError> {
        let file = crate::fsio::open_regular(path).map_err(|source| ModuleError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.read_file(file, path)
    }

    /// Reads and parses a module from a file the caller opened (`path` names
    /// it in errors).
    pub fn read_file(
        &mut self,
        mut file: std::fs::File,
        path: &Path,
    ) -> Result<KernelModule, ModuleError> {
        let io = |source| ModuleError::Io {
            path: path.to_path_buf(),
            source,
        };
        let len = file.metadata().map_err(io)?.len();
        if len > partial::MIN_LEN {
            if let Some(m) = partial::parse(&file, len, &mut self.buf, self.undefined) {
                return Ok(m);
            }
        }
        self.buf.clear();
        file.read_to_end(&mut self.buf).map_err(io)?;
        KernelModule::parse_with(&self.buf, self.undefined).map_err(|source| ModuleError::Parse {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Module file suffixes, longest first.
pub const MODULE_SUFFIXES: [&str; 5] = [".ko.gz", ".ko.xz", ".ko.zst", ".ko.bz2", ".ko"];

/// True for `*.ko`, `*.ko.gz`, `*.ko.xz`, `*.ko.zst`, `*.ko.bz2`.
pub fn is_module_path(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    MODULE_SUFFIXES
        .iter()
        .any(|s| name.ends_with(s) && name.len() > s.len())
}

/// Strips a module suffix from a path string (`a/b/usb-storage.ko.xz` → `a/b/usb-storage`).
pub fn strip_module_suffix(s: &str) -> &str {
    for suffix in MODULE_SUFFIXES {
        if let Some(stem) = s.strip_suffix(suffix) {
            return stem;
        }
    }
    s
}

/// The module's file name without suffix, as on disk (`usb-storage`).
pub fn file_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    strip_module_suffix(&name).to_string()
}

/// A parsed module with the name reports use for it (its path, or
/// `package.rpm:/inner/path`). Shared by the kABI check, alias matching and
/// the disk preflight, so that a module's kernel name has one definition.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// Shown in reports.
    pub label: &'a str,
    /// The parsed module.
    pub module: &'a KernelModule,
}

impl Subject<'_> {
    /// The module's name as the kernel and modprobe see it: `modinfo name=`,
    /// else the label's file stem, with `-` → `_`.
    pub fn kernel_name(&self) -> String {
        match self.module.name() {
            Some(n) => normalize_name(n),
            None => {
                let base = self.label.rsplit('/').next().unwrap_or(self.label);
                normalize_name(strip_module_suffix(base))
            }
        }
    }
}

/// The kernel's notion of a module name: `-` becomes `_`.
pub fn normalize_name(name: &str) -> String {
    name.replace('-', "_")
}

/// What an image says about split debug information: whether it still
/// carries DWARF (`.debug_info` with contents), and the `.gnu_debuglink`
/// naming the separate debug file (name and CRC-32 of that file). Why kmodpack
/// reads it: a `-debuginfo` package is only useful for crash analysis when the
/// shipped module points at its debug file by the right CRC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DebugSections {
    /// `.debug_info` is present with contents (not `SHT_NOBITS`).
    pub debug_info: bool,
    /// `.gnu_debuglink`: the debug file's name and its CRC-32.
    pub debuglink: Option<(String, u32)>,
}

/// Reads [`DebugSections`] of a module or debug file (compressed or not,
/// signed or not).
pub fn debug_sections(bytes: &[u8]) -> Result<DebugSections, ParseError> {
    let plain;
    let data = match compression::decompress(bytes).map_err(ParseError::Compression)? {
        None => bytes,
        Some((_, d)) => {
            plain = d;
            &plain
        }
    };
    if !data.starts_with(b"\x7fELF") {
        return Err(ParseError::NotElf);
    }
    let (elf_len, _) = signature::split(data).map_err(ParseError::Signature)?;
    let image = data.get(..elf_len).unwrap_or(data);
    let file = ElfBytes::<AnyEndian>::minimal_parse(image).map_err(elf_error)?;
    let big_endian = matches!(file.ehdr.endianness, AnyEndian::Big);
    let sections = Sections::load(&file, image.len(), None)?;
    let debug_info = sections
        .names
        .iter()
        .zip(&sections.headers)
        .any(|(n, h)| *n == ".debug_info" && h.sh_type != abi::SHT_NOBITS && h.sh_size > 0);
    let debuglink = match sections.data(".gnu_debuglink")? {
        None => None,
        Some(d) => {
            // The file name, NUL, padding to 4 bytes, then the CRC-32.
            let end = memchr::memchr(0, d)
                .ok_or_else(|| ParseError::Table(".gnu_debuglink: file name without NUL".into()))?;
            let at = (end + 4) & !3;
            let crc: [u8; 4] = d
                .get(at..at + 4)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| ParseError::Table(".gnu_debuglink: no CRC after the name".into()))?;
            let name = String::from_utf8_lossy(d.get(..end).unwrap_or_default()).into_owned();
            let crc = if big_endian {
                u32::from_be_bytes(crc)
            } else {
                u32::from_le_bytes(crc)
            };
            Some((name, crc))
        }
    };
    Ok(DebugSections {
        debug_info,
        debuglink,
    })
}

/// Licenses the kernel treats as GPL-compatible (`license_is_gpl_compatible`).
pub fn license_is_gpl_compatible(license: &str) -> bool {
    matches!(
        license,
        "GPL"
            | "GPL v2"
            | "GPL and additional rights"
            | "Dual BSD/GPL"
            | "Dual MIT/GPL"
            | "Dual MPL/GPL"
    )
}

impl KernelModule {
    /// Parses a module image (compressed or not).
    pub fn parse(bytes: &[u8]) -> Result<KernelModule, ParseError> {
        Self::parse_with(bytes, true)
    }

    /// [`KernelModule::parse`], optionally without undefined symbols.
    fn parse_with(bytes: &[u8], undefined: bool) -> Result<KernelModule, ParseError> {
        match compression::decompress(bytes).map_err(ParseError::Compression)? {
            None => Self::parse_image(bytes, Compression::None, None, undefined),
            Some((kind, data)) => Self::parse_image(&data, kind, None, undefined),
        }
    }

    /// Parses an uncompressed image. With `read`, only the sections marked
    /// there hold the file's bytes (besides the header tables, section name,
    /// symbol and string tables and the signature trailer, which always do);
    /// needing another one is [`ParseError::NotRead`]. Without `undefined`,
    /// [`KernelModule::undefined`] is left empty.
    fn parse_image(
        data: &[u8],
        compression: Compression,
        read: Option<&[bool]>,
        undefined: bool,
    ) -> Result<KernelModule, ParseError> {
        if !data.starts_with(b"\x7fELF") {
            if data.len() < 4 && b"\x7fELF".starts_with(data) {
                return Err(ParseError::Truncated(data.len()));
            }
            return Err(ParseError::NotElf);
        }
        if data.len() < 52 {
            return Err(ParseError::Truncated(data.len()));
        }
        let (elf_len, signature) = signature::split(data).map_err(ParseError::Signature)?;
        let image = data.get(..elf_len).unwrap_or(data);
        let file = ElfBytes::<AnyEndian>::minimal_parse(image).map_err(|e| match e {
            // Only the file header and the header tables are read here.
            elf::ParseError::SliceReadError((start, end)) => ParseError::Elf(format!(
                "section header table (bytes {start}..{end}) lies past the end of the file ({} bytes)",
                image.len()
            )),
            other => elf_error(other),
        })?;
        let big_endian = matches!(file.ehdr.endianness, AnyEndian::Big);
        let is_64 = matches!(file.ehdr.class, elf::file::Class::ELF64);
        let elf = ElfInfo {
            bits: if is_64 { 64 } else { 32 },
            big_endian,
            machine: file.ehdr.e_machine,
            file_type: file.ehdr.e_type,
        };
        let sections = Sections::load(&file, image.len(), read)?;

        let modinfo = match sections.data(".modinfo")? {
            Some(d) => Modinfo::parse(d),
            None => Modinfo::default(),
        };

        let ext = match (
            sections.data("__version_ext_crcs")?,
            sections.data("__version_ext_names")?,
        ) {
            (Some(c), Some(n)) => {
                Some(modversions::parse_extended(c, n, big_endian).map_err(ParseError::Table)?)
            }
            (None, None) => None,
            _ => {
                return Err(ParseError::Table(
                    "only one of __version_ext_crcs / __version_ext_names is present".into(),
                ))
            }
        };
        let (modversions, imports) = match (ext, sections.data("__versions")?) {
            (Some(ext), _) => (ModversionsSource::Extended, ext),
            (None, Some(v)) => {
                modversions::parse_versions(v, is_64, big_endian).map_err(ParseError::Table)?
            }
            (None, None) => (ModversionsSource::None, Vec::new()),
        };

        let (undefined, exports) = symbols(&file, &sections, big_endian, undefined)?;

        Ok(KernelModule {
            elf,
            compression,
            modinfo,
            modversions,
            imports,
            undefined,
            exports,
            signature,
            elf_len,
        })
    }

    /// `modinfo name=` if present (the kernel's name, `-` already `_`).
    pub fn name(&self) -> Option<&str> {
        self.modinfo.get("name")
    }

    /// The full vermagic string.
    pub fn vermagic(&self) -> Option<&str> {
        self.modinfo.get("vermagic")
    }

    /// The kernel release the module was built for (first vermagic word).
    pub fn kernel_release(&self) -> Option<&str> {
        self.vermagic().and_then(|v| v.split_whitespace().next())
    }

    /// `license=`.
    pub fn license(&self) -> Option<&str> {
        self.modinfo.get("license")
    }

    /// True if the module carries CRCs for its imports (MODVERSIONS).
    pub fn has_modversions(&self) -> bool {
        self.modversions != ModversionsSource::None
    }

    /// CRC the module recorded for `symbol`, if any.
    pub fn import_crc(&self, symbol: &str) -> Option<u32> {
        self.imports
            .iter()
            .find(|i| i.name == symbol)
            .map(|i| i.crc)
    }
}

fn elf_error(e: elf::ParseError) -> ParseError {
    use elf::ParseError as E;
    match e {
        E::BadMagic(_) => ParseError::NotElf,
        E::SliceReadError((start, end)) => ParseError::Elf(format!(
            "data range {start}..{end} lies past the end of the file"
        )),
        E::StringTableMissingNul(off) => {
            ParseError::Elf(format!("string at offset {off} has no NUL terminator"))
        }
        other => ParseError::Elf(other.to_string()),
    }
}

/// Section headers and names, validated against the image once so later
/// lookups cannot fail. Modules have a few dozen sections and kmodpack looks
/// up four by name, so a linear search beats hashing every name.
struct Sections<'a> {
    names: Vec<&'a str>,
    headers: Vec<elf::section::SectionHeader>,
    datas: Vec<&'a [u8]>,
    /// Which sections hold the file's bytes (see [`KernelModule::parse_image`]).
    read: Option<&'a [bool]>,
}

impl<'a> Sections<'a> {
    fn load(
        file: &ElfBytes<'a, AnyEndian>,
        len: usize,
        read: Option<&'a [bool]>,
    ) -> Result<Sections<'a>, ParseError> {
        let (shdrs, strtab) = file.section_headers_with_strtab().map_err(elf_error)?;
        let shdrs = shdrs.ok_or_else(|| ParseError::Elf("no section header table".into()))?;
        let strtab =
            strtab.ok_or_else(|| ParseError::Elf("no section name string table".into()))?;
        let mut s = Sections {
            names: Vec::with_capacity(shdrs.len()),
            headers: Vec::with_capacity(shdrs.len()),
            datas: Vec::with_capacity(shdrs.len()),
            read,
        };
        for (i, sh) in shdrs.iter().enumerate() {
            let raw = strtab.get_raw(sh.sh_name as usize).map_err(|e| match e {
                elf::ParseError::StringTableMissingNul(_) => {
                    ParseError::Elf(format!("section {i}: name without NUL terminator"))
                }
                _ => ParseError::Elf(format!(
                    "section {i}: name offset {} outside the string table",
                    sh.sh_name
                )),
            })?;
            let name = std::str::from_utf8(raw).unwrap_or("");
            let data: &'a [u8] = if sh.sh_type == abi::SHT_NOBITS || sh.sh_type == abi::SHT_NULL {
                &[]
            } else {
                match file.section_data(&sh) {
                    Ok((d, _)) => d,
                    Err(_) => {
                        return Err(ParseError::SectionPastEnd {
                            name: if name.is_empty() {
                                format!("#{i}")
                            } else {
                                name.to_string()
                            },
                            offset: sh.sh_offset,
                            size: sh.sh_size,
                            len,
                        })
                    }
                }
            };
            s.names.push(name);
            s.headers.push(sh);
            s.datas.push(data);
        }
        Ok(s)
    }

    /// The bytes of section `index`.
    fn data_at(&self, index: usize) -> Result<Option<&'a [u8]>, ParseError> {
        let Some(&d) = self.datas.get(index) else {
            return Ok(None);
        };
        if self
            .read
            .is_some_and(|r| !r.get(index).copied().unwrap_or(false))
        {
            let name = self.names.get(index).copied().unwrap_or("?");
            return Err(ParseError::NotRead(name.to_string()));
        }
        Ok(Some(d))
    }

    /// The bytes of the first section called `name`.
    fn data(&self, name: &str) -> Result<Option<&'a [u8]>, ParseError> {
        match self.names.iter().position(|n| *n == name) {
            Some(i) => self.data_at(i),
            None => Ok(None),
        }
    }

    fn name(&self, index: usize) -> Option<&str> {
        self.names.get(index).copied()
    }
}

#[derive(Default)]
struct ExportParts {
    kind: Option<ExportKind>,
    crc: Option<u32>,
    namespace: Option<String>,
    gpl_flag: Option<bool>,
}

/// Prefixes of the `.symtab` labels that describe exports (see [`exports`]).
const EXPORT_LABELS: [&[u8]; 4] = [b"__ksymtab_", b"__crc_", b"__kstrtabns_", b"__flags_"];

fn symbols(
    file: &ElfBytes<'_, AnyEndian>,
    sections: &Sections<'_>,
    big_endian: bool,
    want_undefined: bool,
) -> Result<(Vec<UndefinedSymbol>, Vec<Export>), ParseError> {
    let Some((symtab, _)) = file.symbol_table().map_err(elf_error)? else {
        return Ok((Vec::new(), Vec::new()));
    };
    // The same string table `symbol_table` checked (the first SHT_SYMTAB's
    // link), searched with memchr: names are looked up for every symbol.
    let strtab = sections
        .headers
        .iter()
        .find(|h| h.sh_type == abi::SHT_SYMTAB)
        .and_then(|h| sections.datas.get(h.sh_link as usize))
        .copied()
        .unwrap_or_default();
    let is_exec = file.ehdr.e_type == abi::ET_EXEC;
    let sparc = matches!(file.ehdr.e_machine, abi::EM_SPARC | abi::EM_SPARCV9);
    let mut undefined = Vec::new();
    let mut order: Vec<String> = Vec::new();
    let mut parts: HashMap<String, ExportParts> = HashMap::new();

    // Bytes at a symbol's location inside its section.
    let at = |sym: &elf::symbol::Symbol, what: &str, name: &str| -> Result<&[u8], ParseError> {
        let idx = sym.st_shndx as usize;
        let data = sections.data_at(idx)?.ok_or_else(|| {
            ParseError::Table(format!("{what}{name}: section index {idx} does not exist"))
        })?;
        let base = match sections.headers.get(idx) {
            Some(h) if is_exec => h.sh_addr,
            _ => 0,
        };
        let off = sym
            .st_value
            .checked_sub(base)
            .and_then(|o| usize::try_from(o).ok());
        off.and_then(|o| data.get(o..)).ok_or_else(|| {
            ParseError::Table(format!(
                "{what}{name}: offset {:#x} lies outside section {}",
                sym.st_value,
                sections.name(idx).unwrap_or("?")
            ))
        })
    };

    for (i, sym) in symtab.iter().enumerate() {
        if i == 0 || sym.st_name == 0 {
            continue;
        }
        let raw = strtab
            .get(sym.st_name as usize..)
            .and_then(until_nul)
            .ok_or_else(|| {
                ParseError::Elf(format!(
                    "symbol {i}: name offset {} invalid or without NUL terminator",
                    sym.st_name
                ))
            })?;
        if sym.st_shndx == abi::SHN_UNDEF {
            if sparc && sym.st_symtype() == 13 {
                continue; // STT_REGISTER
            }
            if !want_undefined {
                continue;
            }
            if let Ok(name) = std::str::from_utf8(raw) {
                undefined.push(UndefinedSymbol {
                    name: name.to_string(),
                    weak: sym.st_bind() == abi::STB_WEAK,
                });
            }
            continue;
        }
        // Most defined symbols are the module's own functions and data:
        // only the export labels matter, so test the prefix before UTF-8.
        if !EXPORT_LABELS.iter().any(|p| raw.starts_with(p)) {
            continue;
        }
        let Ok(name) = std::str::from_utf8(raw) else {
            continue;
        };
        if let Some(rest) = name.strip_prefix("__ksymtab_") {
            let section = sections.name(sym.st_shndx as usize).unwrap_or("");
            if let Some(kind) = ExportKind::from_section(section) {
                // 5.4 only: `__ksymtab_<sym>.<NS>`.
                let (sym_name, ns) = match rest.split_once('.') {
                    Some((s, ns)) => (s, Some(ns.to_string())),
                    None => (rest, None),
                };
                let p = parts.entry(sym_name.to_string()).or_default();
                if p.kind.is_none() {
                    order.push(sym_name.to_string());
                }
                p.kind = Some(kind);
                if p.namespace.is_none() {
                    p.namespace = ns;
                }
            }
        } else if let Some(sym_name) = name.strip_prefix("__crc_") {
            let crc = if sym.st_shndx == abi::SHN_ABS {
                sym.st_value as u32
            } else {
                let b = at(&sym, "__crc_", sym_name)?;
                let b: [u8; 4] = b.get(..4).and_then(|b| b.try_into().ok()).ok_or_else(|| {
                    ParseError::Table(format!(
                        "__crc_{sym_name}: CRC runs past the end of its section"
                    ))
                })?;
                if big_endian {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                }
            };
            parts.entry(sym_name.to_string()).or_default().crc = Some(crc);
        } else if let Some(sym_name) = name.strip_prefix("__kstrtabns_") {
            let b = at(&sym, "__kstrtabns_", sym_name)?;
            let ns = until_nul(b).ok_or_else(|| {
                ParseError::Table(format!(
                    "__kstrtabns_{sym_name}: namespace without NUL terminator"
                ))
            })?;
            if !ns.is_empty() {
                parts.entry(sym_name.to_string()).or_default().namespace =
                    Some(String::from_utf8_lossy(ns).into_owned());
            }
        } else if let Some(sym_name) = name.strip_prefix("__flags_") {
            if sections.name(sym.st_shndx as usize) == Some("__kflagstab") {
                let b = at(&sym, "__flags_", sym_name)?;
                if let Some(&flags) = b.first() {
                    parts.entry(sym_name.to_string()).or_default().gpl_flag = Some(flags & 1 == 1);
                }
            }
        }
    }

    let exports = order
        .into_iter()
        .filter_map(|name| {
            let p = parts.remove(&name)?;
            let mut kind = p.kind?;
            if let Some(gpl) = p.gpl_flag {
                kind = if gpl {
                    ExportKind::Gpl
                } else {
                    ExportKind::Plain
                };
            }
            Some(Export {
                name,
                crc: p.crc,
                kind,
                namespace: p.namespace,
            })
        })
        .collect();
    Ok((undefined, exports))
}
