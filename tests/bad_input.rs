//! Hostile and broken modules: one-line errors naming the file and the
//! problem, exit status 2, nothing on stdout, never a panic.

mod common;

use std::path::{Path, PathBuf};

use common::{fixtures, kmodpack, run};

fn good() -> Vec<u8> {
    std::fs::read(fixtures().join("debian12-6.1.0-56-amd64/libcrc32c.ko")).unwrap()
}

fn u16_at(b: &[u8], o: usize) -> usize {
    u16::from_le_bytes([b[o], b[o + 1]]) as usize
}
fn u64_at(b: &[u8], o: usize) -> usize {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap()) as usize
}

/// Section header offsets of an ELF64 LE image, with names.
fn sections(b: &[u8]) -> Vec<(String, usize)> {
    let shoff = u64_at(b, 0x28);
    let shnum = u16_at(b, 0x3c);
    let shstrndx = u16_at(b, 0x3e);
    let strtab_off = u64_at(b, shoff + shstrndx * 64 + 24);
    (0..shnum)
        .map(|i| {
            let h = shoff + i * 64;
            let name_off = u32::from_le_bytes(b[h..h + 4].try_into().unwrap()) as usize;
            let start = strtab_off + name_off;
            let end = start + b[start..].iter().position(|&c| c == 0).unwrap();
            (String::from_utf8_lossy(&b[start..end]).into_owned(), h)
        })
        .collect()
}

fn header_of(b: &[u8], name: &str) -> usize {
    sections(b).into_iter().find(|(n, _)| n == name).unwrap().1
}

/// Strips the signature so edits inside the ELF image are what the reader sees.
fn unsigned() -> Vec<u8> {
    let mut b = good();
    b.truncate(7704);
    b
}

fn expect_error(dir: &Path, name: &str, bytes: &[u8], needle: &str) {
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    for args in [
        vec!["inspect"],
        vec!["inspect", "--json"],
        vec!["inspect", "--modversions"],
        vec!["symvers"],
    ] {
        let (code, out, err) = run(kmodpack().args(&args).arg(&path));
        assert_eq!(code, 2, "{name} {args:?}: exit {code}, stderr {err}");
        assert!(out.is_empty(), "{name}: partial output {out:?}");
        assert_eq!(err.lines().count(), 1, "{name}: not one line: {err:?}");
        assert!(err.starts_with("kmodpack: error: "), "{name}: {err}");
        assert!(
            err.contains(&path.display().to_string()),
            "{name}: error does not name the file: {err}"
        );
        assert!(err.contains(needle), "{name}: expected {needle:?} in {err}");
    }
}

#[test]
fn broken_modules_get_one_line_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let g = good();
    expect_error(d, "empty.ko", &[], "truncated file (0 bytes)");
    expect_error(d, "short.ko", &g[..40], "truncated file (40 bytes)");
    expect_error(d, "cut.ko", &g[..2000], "section header table");
    expect_error(
        d,
        "text.ko",
        b"this is not a kernel module\n",
        "not an ELF file",
    );

    // A section whose data lies past the end of the file.
    let mut b = unsigned();
    let h = header_of(&b, ".modinfo");
    b[h + 24..h + 32].copy_from_slice(&(1u64 << 20).to_le_bytes());
    expect_error(d, "past-end.ko", &b, "section .modinfo");

    // Section names: the last name in .shstrtab loses its terminator.
    let mut b = unsigned();
    let shstrndx = u16_at(&b, 0x3e);
    let sh = u64_at(&b, 0x28) + shstrndx * 64;
    let (off, size) = (u64_at(&b, sh + 24), u64_at(&b, sh + 32));
    b[off + size - 1] = b'X';
    expect_error(d, "no-nul.ko", &b, "without NUL terminator");

    // A __versions name that fills its slot with no NUL.
    let mut b = unsigned();
    let h = header_of(&b, "__versions");
    let v = u64_at(&b, h + 24);
    for byte in &mut b[v + 8..v + 64] {
        *byte = b'A';
    }
    expect_error(
        d,
        "versions.ko",
        &b,
        "__versions: entry 0 has a name without NUL terminator",
    );

    // __versions with a size that is no multiple of the record size.
    let mut b = unsigned();
    let h = header_of(&b, "__versions");
    let size = u64_at(&b, h + 32) as u64;
    b[h + 32..h + 40].copy_from_slice(&(size - 3).to_le_bytes());
    expect_error(d, "versions-size.ko", &b, "not a multiple of 64");

    // A CRC label pointing outside its section.
    let mut b = unsigned();
    let h = header_of(&b, "__kcrctab");
    b[h + 32..h + 40].copy_from_slice(&2u64.to_le_bytes());
    expect_error(d, "crc.ko", &b, "__crc_crc32c");

    // A signature trailer claiming more bytes than the file has.
    let mut b = good();
    let n = b.len();
    let info = n - 28 - 12;
    b[info + 8..info + 12].copy_from_slice(&0x00ff_ffffu32.to_be_bytes());
    expect_error(d, "sig.ko", &b, "signature length");

    // Corrupt compression, by content (the names lie).
    for (src, needle) in [
        ("libcrc32c.ko.xz", "corrupt xz data"),
        ("libcrc32c.ko.gz", "corrupt gzip data"),
        ("libcrc32c.ko.zst", "corrupt zstd data"),
    ] {
        let c = std::fs::read(fixtures().join("compressed").join(src)).unwrap();
        expect_error(d, &format!("cut-{src}"), &c[..c.len() / 2], needle);
    }
}

#[test]
fn missing_file_and_directory_errors_name_the_path() {
    let (code, out, err) = run(kmodpack().args(["inspect", "/nonexistent/x.ko"]));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("/nonexistent/x.ko") && err.contains("No such file"),
        "{err}"
    );
    let (code, _, err) = run(kmodpack().args(["symvers", "/nonexistent-dir"]));
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent-dir"), "{err}");
}

/// Every single-byte corruption of a small real module's headers is either
/// read or rejected with an error, never a panic (a cheap, deterministic
/// complement to the cargo-fuzz target in fuzz/).
#[test]
fn byte_flips_never_panic() {
    let base = unsigned();
    let limit = 64 + 64 * 37; // ELF header + every section header (they follow at e_shoff)
    let shoff = u64_at(&base, 0x28);
    let positions: Vec<usize> = (0..64)
        .chain(shoff..(shoff + limit - 64).min(base.len()))
        .collect();
    for pos in positions {
        for val in [0x00u8, 0xff, 0x7f, 0x80] {
            let mut b = base.clone();
            b[pos] = val;
            let r = std::panic::catch_unwind(|| kmodpack::module::KernelModule::parse(&b));
            assert!(r.is_ok(), "panic with byte {pos:#x} = {val:#x}");
        }
    }
}
