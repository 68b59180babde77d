//! The kmodpack RPM that `kmodpack build --backend mock` offers to its
//! chroots. Every generated spec has `BuildRequires: kmodpack`; a mock
//! chroot only installs packages from repositories, and EL/SLE/Fedora have
//! no kmodpack package of their own. So, with no setup by the user,
//! kmodpack packages the running binary itself — the same files the
//! kmodpack RPM of `make rpm` installs: `/usr/bin/kmodpack`, the fileattrs
//! class and the macros file in `/usr/lib/rpm` — into a local repository
//! passed to mock with `--addrepo`.
//!
//! The package's Requires are what rpmbuild's ELF generator would give the
//! binary: none for the static binary `make build` and `make portable` link
//! (it runs in any chroot), and for a dynamically linked one (a plain
//! `cargo build`) its libraries and glibc versions
//! (`libc.so.6(GLIBC_2.34)(64bit)`, …, read from its dynamic section and
//! version needs), so a chroot whose glibc is too old for that binary
//! refuses it with dnf's own message instead of failing inside rpmbuild.

use std::path::{Path, PathBuf};

/// kmodpack's fileattrs class and macros, binary path to fill in.
const ATTR: &str = include_str!("../../templates/rpm/kmodpack.attr");
const MACROS: &str = include_str!("../../templates/rpm/macros.kmodpack");

/// Where the packaged binary lives in the chroot.
pub const BIN: &str = "/usr/bin/kmodpack";

/// Why the self package could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SelfPackageError {
    /// The running binary could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The running binary is not an ELF executable this reader understands.
    #[error("{0}: not an ELF executable ({1})")]
    NotElf(PathBuf, String),
    /// The rpm writer failed.
    #[error("writing {0}: {1}")]
    Rpm(PathBuf, String),
}

/// The rpm arch of an ELF machine, as `uname -m` names it.
fn arch_of(machine: u16) -> Option<&'static str> {
    match machine {
        elf::abi::EM_X86_64 => Some("x86_64"),
        elf::abi::EM_AARCH64 => Some("aarch64"),
        elf::abi::EM_PPC64 => Some("ppc64le"),
        elf::abi::EM_S390 => Some("s390x"),
        _ => None,
    }
}

/// (arch, sorted Requires) of an ELF executable, as rpm's elfdeps names
/// them for a 64-bit binary: `<soname>()(64bit)` for each DT_NEEDED and
/// `<soname>(<version>)(64bit)` for each version it needs, `rtld(GNU_HASH)`
/// when it has only the GNU hash table; nothing for a statically linked one
/// (no dynamic section) and only that `rtld(GNU_HASH)` for a static-pie one.
pub fn elf_requires(data: &[u8]) -> Result<(&'static str, Vec<String>), String> {
    use elf::endian::AnyEndian;
    let file = elf::ElfBytes::<AnyEndian>::minimal_parse(data).map_err(|e| e.to_string())?;
    let arch = arch_of(file.ehdr.e_machine).ok_or("unsupported machine")?;
    if file.ehdr.e_type != elf::abi::ET_EXEC && file.ehdr.e_type != elf::abi::ET_DYN {
        return Err("not an executable".into());
    }
    if file.dynamic().map_err(|e| e.to_string())?.is_none() {
        return Ok((arch, Vec::new()));
    }
    let suffix = if file.ehdr.class == elf::file::Class::ELF64 {
        "(64bit)"
    } else {
        ""
    };
    let mut needed = Vec::new();
    let (mut hash, mut gnu_hash) = (false, false);
    for d in file
        .dynamic()
        .map_err(|e| e.to_string())?
        .ok_or("no dynamic section")?
        .iter()
    {
        match d.d_tag {
            elf::abi::DT_NEEDED => needed.push(d.d_val() as usize),
            elf::abi::DT_HASH => hash = true,
            elf::abi::DT_GNU_HASH => gnu_hash = true,
            _ => {}
        }
    }
    let mut out = std::collections::BTreeSet::new();
    // A static-pie binary has a dynamic section (for its own relocations)
    // but needs no library and maybe has no .dynsym: the symbol tables are
    // read only when there are names or versions to look up.
    if !needed.is_empty() {
        let (_, dynstr) = file
            .dynamic_symbol_table()
            .map_err(|e| e.to_string())?
            .ok_or("DT_NEEDED entries but no dynamic symbol table")?;
        for at in needed {
            let lib = dynstr.get(at).map_err(|e| e.to_string())?;
            out.insert(format!("{lib}(){suffix}"));
        }
    }
    // Only a loader that knows .gnu.hash can run a binary without .hash.
    if gnu_hash && !hash {
        out.insert("rtld(GNU_HASH)".to_string());
    }
    if let Some(table) = file.symbol_version_table().map_err(|e| e.to_string())? {
        let (syms, _) = file
            .dynamic_symbol_table()
            .map_err(|e| e.to_string())?
            .ok_or("no dynamic symbol table")?;
        for i in 1..syms.len() {
            if let Some(req) = table.get_requirement(i).map_err(|e| e.to_string())? {
                out.insert(format!("{}({}){suffix}", req.file, req.name));
            }
        }
    }
    Ok((arch, out.into_iter().collect()))
}

/// Writes `kmodpack-<version>-0.local.<arch>.rpm` holding `exe` into `dir`
/// (created) and returns its path.
pub fn write(exe: &Path, dir: &Path) -> Result<PathBuf, SelfPackageError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SelfPackageError::Io { path, source }
    };
    let data = std::fs::read(exe).map_err(io(exe))?;
    let (arch, requires) =
        elf_requires(&data).map_err(|e| SelfPackageError::NotElf(exe.to_path_buf(), e))?;
    let version = env!("CARGO_PKG_VERSION");
    let fill = |t: &str| t.replace("@KMODPACK@", BIN).into_bytes();
    let out = dir.join(format!("kmodpack-{version}-0.local.{arch}.rpm"));
    let rpm_err = |e: rpm::Error| SelfPackageError::Rpm(out.clone(), e.to_string());
    let mut b = rpm::PackageBuilder::new(
        "kmodpack",
        version,
        "MIT OR Apache-2.0",
        arch,
        "kmodpack for rpmbuild in a build chroot (the running binary, packaged by kmodpack build)",
    );
    b.using_config(rpm::BuildConfig::v4().compression(rpm::CompressionType::Gzip))
        .release("0.local")
        .description(
            "The kmodpack binary that ran `kmodpack build --backend mock`, with its rpm \
             fileattrs class and macros, offered to the mock chroot so that the generated \
             specs' BuildRequires: kmodpack resolves.",
        )
        .with_file_contents(data, rpm::FileOptions::new(BIN).permissions(0o755))
        .map_err(rpm_err)?
        .with_file_contents(
            fill(ATTR),
            rpm::FileOptions::new("/usr/lib/rpm/fileattrs/kmodpack.attr").permissions(0o644),
        )
        .map_err(rpm_err)?
        .with_file_contents(
            fill(MACROS),
            rpm::FileOptions::new("/usr/lib/rpm/macros.d/macros.kmodpack").permissions(0o644),
        )
        .map_err(rpm_err)?;
    for r in requires {
        b.requires(rpm::Dependency::any(r));
    }
    let pkg = b.build().map_err(rpm_err)?;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    pkg.write_file(&out).map_err(rpm_err)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_test_binary_is_read_and_garbage_is_refused() {
        // Which Requires a binary gets is checked against rpm's own elfdeps,
        // for a dynamic and the static binary, in tests/portable.rs.
        let exe = std::env::current_exe().unwrap();
        let (arch, _) = elf_requires(&std::fs::read(exe).unwrap()).unwrap();
        assert_eq!(arch, std::env::consts::ARCH);
        assert!(elf_requires(b"not an elf").is_err());
    }

    /// `gcc -static-pie` of `int main(void)` with `--hash-style=STYLE`, in `dir`.
    fn static_pie(dir: &std::path::Path, style: &str) -> Option<Vec<u8>> {
        let src = dir.join("t.c");
        std::fs::write(&src, "int main(void) { return 0; }\n").unwrap();
        let exe = dir.join(format!("t-{style}"));
        let built = duct::cmd!(
            "gcc",
            "-static-pie",
            format!("-Wl,--hash-style={style}"),
            "-o",
            &exe,
            &src
        )
        .stdout_null()
        .stderr_null()
        .unchecked()
        .run();
        match built {
            Ok(o) if o.status.success() => Some(std::fs::read(&exe).unwrap()),
            _ => None,
        }
    }

    /// rpm's own answer: `/usr/lib/rpm/elfdeps --requires` on `data`, sorted.
    fn elfdeps(dir: &std::path::Path, data: &[u8]) -> Vec<String> {
        let f = dir.join("elfdeps-input");
        std::fs::write(&f, data).unwrap();
        let out = duct::cmd!("/usr/lib/rpm/elfdeps", "--requires")
            .stdin_bytes(format!("{}\n", f.display()))
            .read()
            .expect("rpm's /usr/lib/rpm/elfdeps (tests/support/system-deps.sh installs rpm)");
        let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
        lines.sort();
        lines
    }

    /// A static-pie binary has a dynamic section but no DT_NEEDED: no
    /// library Requires, as rpm's elfdeps says, also when it has no .dynsym
    /// (made here by turning that section's type into SHT_PROGBITS).
    #[test]
    fn static_pie_binaries_require_what_rpms_elfdeps_says() {
        let dir = tempfile::tempdir().unwrap();
        let Some(gnu) = static_pie(dir.path(), "gnu") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "gcc -static-pie failed (glibc's static-pie support, libc6-dev, is needed)"
            );
            eprintln!("skipped: gcc cannot link -static-pie here");
            return;
        };
        let sysv = static_pie(dir.path(), "sysv").expect("gcc -static-pie --hash-style=sysv");
        for (style, data) in [("gnu", gnu), ("sysv", sysv)] {
            let (_, ours) = elf_requires(&data).unwrap();
            assert_eq!(ours, elfdeps(dir.path(), &data), "hash style {style}");
            let mut no_dynsym = data.clone();
            let file = elf::ElfBytes::<elf::endian::AnyEndian>::minimal_parse(&data).unwrap();
            let at = file
                .section_headers()
                .unwrap()
                .iter()
                .position(|h| h.sh_type == elf::abi::SHT_DYNSYM)
                .expect(".dynsym");
            let sh_type = file.ehdr.e_shoff as usize + at * file.ehdr.e_shentsize as usize + 4;
            let progbits = match data[elf::abi::EI_DATA] {
                elf::abi::ELFDATA2LSB => elf::abi::SHT_PROGBITS.to_le_bytes(),
                _ => elf::abi::SHT_PROGBITS.to_be_bytes(),
            };
            no_dynsym[sh_type..sh_type + 4].copy_from_slice(&progbits);
            let (_, ours) = elf_requires(&no_dynsym)
                .unwrap_or_else(|e| panic!("hash style {style}, no .dynsym: {e}"));
            assert_eq!(
                ours,
                elfdeps(dir.path(), &no_dynsym),
                "hash style {style}, no .dynsym"
            );
        }
    }
}
