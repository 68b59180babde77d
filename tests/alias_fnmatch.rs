//! kmodpack's own fnmatch against glibc's `fnmatch(3)` with flags 0 (what
//! libkmod calls), as the independent oracle: thousands of generated
//! pattern/string pairs over an alphabet rich in metacharacters, plus the
//! real alias patterns of the fixtures against real device strings. glibc is
//! reached through python3's ctypes in one batch process.

use std::io::Write;
use std::process::{Command, Stdio};

use kmodpack::alias::fnmatch;

/// Small deterministic PRNG (xorshift) so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn glibc(pairs: &[(String, String)]) -> Vec<bool> {
    let script = r#"
import ctypes, sys
libc = ctypes.CDLL("libc.so.6")
libc.fnmatch.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
out = []
for line in sys.stdin.buffer.read().split(b"\n"):
    if not line:
        continue
    p, s = line.split(b"\x01")
    out.append("1" if libc.fnmatch(p, s, 0) == 0 else "0")
sys.stdout.write("".join(out))
"#;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed to reach glibc's fnmatch");
    let mut input = Vec::new();
    for (p, s) in pairs {
        input.extend_from_slice(p.as_bytes());
        input.push(1);
        input.extend_from_slice(s.as_bytes());
        input.push(b'\n');
    }
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.len(), pairs.len());
    text.bytes().map(|b| b == b'1').collect()
}

#[test]
fn generated_patterns_agree_with_glibc() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let pat_atoms = [
        "a",
        "b",
        "c",
        "A",
        "0",
        "9",
        "-",
        "_",
        ":",
        "*",
        "*",
        "?",
        "[ab]",
        "[!a]",
        "[^b]",
        "[a-c]",
        "[]a]",
        "[!]]",
        "[0-9A-F]",
        "[[:digit:]]",
        "[[:upper:]]",
        "\\*",
        "\\a",
        "[",
        "]",
        "[a-]",
        "[-a]",
        "[\\]]",
        "!",
        "^",
    ];
    let text_atoms = [
        "a", "b", "c", "A", "0", "9", "-", "_", ":", "*", "?", "[", "]", "!", "^", "\\",
    ];
    let mut pairs = Vec::new();
    for _ in 0..6000 {
        let pn = 1 + rng.next() % 6;
        let atoms: Vec<&str> = (0..pn).map(|_| rng.pick(&pat_atoms)).collect();
        let p: String = atoms.concat();
        let t: String = if rng.next().is_multiple_of(2) {
            let tn = rng.next() % 7;
            (0..tn).map(|_| rng.pick(&text_atoms)).collect()
        } else {
            // A text shaped by the pattern, so that matches are common.
            atoms
                .iter()
                .map(|a| match *a {
                    "*" => (0..rng.next() % 3)
                        .map(|_| rng.pick(&text_atoms))
                        .collect::<String>(),
                    "?" => rng.pick(&text_atoms).to_string(),
                    a if a.starts_with('[') && a.len() > 1 => rng
                        .pick(&["a", "b", "c", "0", "A", "]", "-", "!", "\\"])
                        .to_string(),
                    a => a.trim_start_matches('\\').to_string(),
                })
                .collect()
        };
        pairs.push((p, t));
    }
    let want = glibc(&pairs);
    let mut matched = 0;
    for ((p, t), w) in pairs.iter().zip(&want) {
        assert_eq!(fnmatch(p, t), *w, "fnmatch({p:?}, {t:?}): glibc says {w}");
        matched += *w as usize;
    }
    // The generator must exercise both outcomes substantially.
    assert!(
        matched > 300 && matched < pairs.len() - 300,
        "matched {matched} of {}",
        pairs.len()
    );
}

#[test]
fn fixture_aliases_agree_with_glibc() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/kabi-fixtures");
    let mut patterns = Vec::new();
    for m in [
        "kmod-playground-4.0.3/mod-fake-hpsa.ko",
        "kmod-playground-4.0.3/mod-fake-cciss.ko",
        "debian12-6.1.0-56-amd64/xhci-pci.ko",
        "debian12-6.1.0-56-amd64/uas.ko",
        "debian12-6.1.0-56-amd64/usb-storage.ko",
        "debian12-6.1.0-56-amd64/virtio_mmio.ko",
    ] {
        let module = kmodpack::module::read(&root.join(m)).unwrap();
        patterns.extend(module.modinfo.get_all("alias").map(str::to_string));
    }
    assert!(patterns.len() > 100);
    let devices = [
        "pci:v0000103Cd0000323Asv0000103Csd00003241bc01sc04i00",
        "pci:v0000103Cd00003230sv0000103Csd00003223bc01sc04i00",
        "pci:v00008086d0000A36Dsv00001028sd00000869bc0Csc03i30",
        "pci:v00001912d00000014sv00000000sd00000000bc0Csc03i30",
        "usb:v054Cp0010d0100dc00dsc00dp00ic08isc06ip50in00",
        "usb:v0BC2p3320d0100dc00dsc00dp00ic08isc06ip62in00",
        "usb:v152Dp0567d0114dc00dsc00dp00ic08isc06ip62in00",
        "usb:v04E6p0002d0200dc00dsc00dp00ic08isc06ip50in00",
        "of:NvirtioTmmioCvirtio,mmio",
        "acpi:LNRO0005:",
    ];
    let pairs: Vec<(String, String)> = patterns
        .iter()
        .flat_map(|p| devices.iter().map(move |d| (p.clone(), d.to_string())))
        .collect();
    let want = glibc(&pairs);
    for ((p, t), w) in pairs.iter().zip(&want) {
        assert_eq!(fnmatch(p, t), *w, "fnmatch({p:?}, {t:?})");
    }
    assert!(want.iter().filter(|w| **w).count() >= 8);
}
