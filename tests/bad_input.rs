//! Hostile and broken modules: one-line errors naming the file and the
//! problem, exit status 2, nothing on stdout, never a panic.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

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

/// Runs `cmd` under `/usr/bin/time -v`; returns (exit code, stderr without
/// time's report, peak RSS in KiB).
fn peak_rss(cmd: &[&std::ffi::OsStr]) -> (i32, String, u64) {
    let out = std::process::Command::new("/usr/bin/time")
        .arg("-v")
        .args(cmd)
        .output()
        .expect("/usr/bin/time (installed by tests/support/system-deps.sh)");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let rss = err
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS in: {err}"));
    let own: String = err
        .lines()
        .take_while(|l| !l.starts_with("\tCommand being timed") && !l.starts_with("Command exited"))
        .map(|l| format!("{l}\n"))
        .collect();
    (out.status.code().unwrap_or(-1), own, rss)
}

/// Issue #16 items 11 and 17: FIFOs and devices are refused at once, named
/// for what they are (they used to hang, or read /dev/zero into 3.4 GB), and
/// a file that is not an RPM is described, never dumped.
#[test]
fn fifos_devices_and_non_rpms_are_named_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let kernel = common::kernel_symvers();
    for name in ["x.ko", "x.rpm"] {
        let c = std::ffi::CString::new(d.join(name).to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    }
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.ko")).unwrap();
    let x_ko = d.join("x.ko");
    let x_rpm = d.join("x.rpm");
    let zero = d.join("zero.ko");
    let runs: Vec<(Vec<&std::ffi::OsStr>, &str)> = vec![
        (vec!["inspect".as_ref(), x_ko.as_os_str()], "a FIFO"),
        (
            vec!["inspect".as_ref(), "/dev/zero".as_ref()],
            "a character device",
        ),
        (
            vec!["inspect".as_ref(), zero.as_os_str()],
            "a character device",
        ),
        (vec!["alias".as_ref(), x_ko.as_os_str()], "a FIFO"),
        (vec!["alias".as_ref(), x_rpm.as_os_str()], "a FIFO"),
        (
            vec![
                "kabi".as_ref(),
                "check".as_ref(),
                x_ko.as_os_str(),
                "--kernel".as_ref(),
                kernel.as_os_str(),
            ],
            "a FIFO",
        ),
        (
            vec![
                "kabi".as_ref(),
                "check".as_ref(),
                x_rpm.as_os_str(),
                "--kernel".as_ref(),
                kernel.as_os_str(),
            ],
            "a FIFO",
        ),
        (
            vec!["deps".as_ref(), "check".as_ref(), x_rpm.as_os_str()],
            "a FIFO",
        ),
    ];
    for (args, what) in runs {
        let (code, out, err) = run(Command::new("timeout")
            .arg("20")
            .arg(env!("CARGO_BIN_EXE_kmodpack"))
            .args(&args));
        assert_eq!(code, 2, "{args:?}: exit {code} (124 = hung): {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.contains(what) && err.contains("not a regular file"),
            "{args:?}: {err}"
        );
    }
    // `deps provides` under rpm: a device or FIFO named like a module is no module.
    let br = d.join("br");
    let m = br.join("lib/modules/6.1.0-1-amd64/extra");
    std::fs::create_dir_all(&m).unwrap();
    std::os::unix::fs::symlink("/dev/zero", m.join("dev.ko")).unwrap();
    let c = std::ffi::CString::new(m.join("fifo.ko").to_str().unwrap()).unwrap();
    // SAFETY: as above.
    assert_eq!(
        unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o644, libc::makedev(1, 5)) },
        0
    );
    let mut child = Command::new("timeout")
        .args(["20", env!("CARGO_BIN_EXE_kmodpack"), "deps", "provides"])
        .env("RPM_BUILD_ROOT", &br)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(
        child.stdin.take().unwrap(),
        "{}\n{}",
        m.join("dev.ko").display(),
        m.join("fifo.ko").display()
    )
    .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Not an RPM: said what it is, no raw bytes.
    for (name, bytes, what) in [
        (
            "text.rpm",
            b"hello, I am text\n".to_vec(),
            "a text file, not an RPM",
        ),
        ("elf.rpm", good(), "an ELF file"),
        (
            "bad.rpm",
            b"\xed\xab\xee\xdb\x03\x00garbage".to_vec(),
            "corrupt or truncated RPM header",
        ),
    ] {
        let p = d.join(name);
        std::fs::write(&p, &bytes).unwrap();
        let (code, _, err) = run(kmodpack().args(["deps", "check"]).arg(&p));
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(what), "{name}: {err}");
        assert!(
            !err.contains("whole input") && !err.contains("garbage") && err.len() < 300,
            "{name}: dumps bytes: {err}"
        );
    }
}

/// Issue #16 item 10: RPM payloads are streamed. An RPM holding a sparse
/// 600 MB "module" and a 1 GB non-module file (a few KB compressed) used to
/// be read into memory whole (4.2 GB peak for a 3 GB file); now unselected
/// files are skipped while streaming and a selected file over the 512 MiB
/// limit is refused before it is allocated. Peak RSS, measured with
/// `/usr/bin/time -v`, stays under 150 MB.
#[test]
fn rpm_payload_bombs_are_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let top = tmp.path();
    let spec = top.join("bomb.spec");
    std::fs::write(
        &spec,
        "Name: kpx-bomb\nVersion: 1\nRelease: 1\nSummary: bomb\nLicense: MIT\nAutoReqProv: no\n\
         %global __os_install_post %{nil}\n%global _binary_payload w1.zstdio\n\
         %description\nbomb\n%install\n\
         mkdir -p %{buildroot}/lib/modules/6.1.0-1-amd64/extra %{buildroot}/usr/share/kpx\n\
         truncate -s 600M %{buildroot}/lib/modules/6.1.0-1-amd64/extra/bomb.ko\n\
         truncate -s 1G %{buildroot}/usr/share/kpx/filler\n\
         %files\n/lib/modules/6.1.0-1-amd64/extra/bomb.ko\n/usr/share/kpx/filler\n",
    )
    .unwrap();
    let (code, _, err) = run(Command::new("rpmbuild")
        .arg("-bb")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .arg(&spec));
    assert_eq!(code, 0, "rpmbuild: {err}");
    let rpm = top.join("RPMS/x86_64/kpx-bomb-1-1.x86_64.rpm");
    assert!(std::fs::metadata(&rpm).unwrap().len() < 10 << 20);
    let kernel = common::kernel_symvers();
    let bin = std::ffi::OsStr::new(env!("CARGO_BIN_EXE_kmodpack"));
    for args in [
        vec![
            bin,
            "kabi".as_ref(),
            "check".as_ref(),
            rpm.as_os_str(),
            "--kernel".as_ref(),
            kernel.as_os_str(),
        ],
        vec![bin, "alias".as_ref(), rpm.as_os_str()],
    ] {
        let (code, err, rss) = peak_rss(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains("bomb.ko is 629145600 bytes, over the 512 MiB limit"),
            "{err}"
        );
        assert!(rss < 150_000, "{args:?}: peak RSS {rss} KiB");
    }
}

/// Issue #16 item 10: decompression bombs are bounded per process, not per
/// module. Four hard links to one zstd-compressed 1 GiB of zeros (36 KB on
/// disk) given to `deps provides -j 4` used to be decompressed side by side
/// (4.2 GB peak for 2 GB bombs); now each stops at the 512 MiB module limit
/// and only one decompression at a time may pass 64 MiB, so the peak RSS
/// stays under 1 GiB (measured with `/usr/bin/time -v`).
#[test]
fn decompression_bombs_are_bounded_per_process() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.ko.zst");
    let (code, _, err) = run(Command::new("sh").arg("-c").arg(format!(
        "head -c 1073741824 /dev/zero | zstd -q -1 > '{}'",
        a.display()
    )));
    assert_eq!(code, 0, "zstd: {err}");
    let mut list = format!("{}\n", a.display());
    for x in ["b", "c", "d"] {
        let p = tmp.path().join(format!("{x}.ko.zst"));
        std::fs::hard_link(&a, &p).unwrap();
        list += &format!("{}\n", p.display());
    }
    let paths = tmp.path().join("paths");
    std::fs::write(&paths, list).unwrap();
    let (code, err, rss) = peak_rss(&[
        "sh".as_ref(),
        "-c".as_ref(),
        "exec \"$0\" deps provides -j 4 < \"$1\"".as_ref(),
        env!("CARGO_BIN_EXE_kmodpack").as_ref(),
        paths.as_os_str(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("expands to more than 512 MiB"), "{err}");
    assert!(rss < 1 << 20, "peak RSS {rss} KiB");
}
