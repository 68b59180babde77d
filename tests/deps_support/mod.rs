//! Synthetic kernel modules for the deps tests, assembled with the real GNU
//! `as` (x86-64, i386) and `llvm-mc` (s390x, big-endian) from the layouts of
//! `rpm-ksym-generators.md` §10: `.modinfo` with vermagic, `__ksymtab`
//! entries, `__crc_*` absolute or in a data section, `__versions` records
//! (8+56 or 4+60 bytes, target byte order), extended modversions.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where a CRC lives.
pub enum Crc {
    /// `.set __crc_X, V` (SHN_ABS), global.
    Abs(&'static str, u32),
    /// A label in a data section: (section, flags, symbol, value, global).
    InSection(&'static str, &'static str, &'static str, u32, bool),
}

#[derive(Clone, Copy, PartialEq)]
pub enum Target {
    X86_64,
    I386,
    S390x,
}

pub struct Synth {
    pub target: Target,
    pub vermagic: &'static str,
    pub crcs: Vec<Crc>,
    pub versions: Vec<(&'static str, u32)>,
    pub ext: Vec<(&'static str, u32)>,
}

impl Synth {
    pub fn new(vermagic: &'static str) -> Synth {
        Synth {
            target: Target::X86_64,
            vermagic,
            crcs: vec![],
            versions: vec![],
            ext: vec![],
        }
    }

    pub fn asm(&self) -> String {
        let mut s = String::new();
        s += &format!(
            ".section .modinfo,\"a\"\n.asciz \"vermagic={}\"\n.asciz \"license=GPL\"\n",
            self.vermagic
        );
        // One __ksymtab entry per export (real modules always have one).
        s += ".section __ksymtab,\"a\"\n";
        let names: Vec<&str> = self
            .crcs
            .iter()
            .map(|c| match c {
                Crc::Abs(n, _) | Crc::InSection(_, _, n, _, _) => *n,
            })
            .collect();
        for n in &names {
            s += &format!("__ksymtab_{n}:\n.long 0\n.long 0\n.long 0\n");
        }
        for c in &self.crcs {
            match c {
                Crc::Abs(n, v) => s += &format!(".globl __crc_{n}\n.set __crc_{n}, {v:#x}\n"),
                Crc::InSection(sec, flags, n, v, global) => {
                    s += &format!(".section {sec},\"{flags}\"\n");
                    if *global {
                        s += &format!(".globl __crc_{n}\n");
                    }
                    s += &format!("__crc_{n}:\n.long {v:#x}\n");
                }
            }
        }
        if !self.versions.is_empty() {
            let (crc_dir, width) = if self.target == Target::I386 {
                (".long", 60)
            } else {
                (".quad", 56)
            };
            s += ".section __versions,\"a\"\n";
            for (n, v) in &self.versions {
                s += &format!(
                    "{crc_dir} {v:#x}\n.ascii \"{n}\"\n.fill {}, 1, 0\n",
                    width - n.len()
                );
            }
        }
        if !self.ext.is_empty() {
            s += ".section __version_ext_crcs,\"a\"\n";
            for (_, v) in &self.ext {
                s += &format!(".long {v:#x}\n");
            }
            s += ".section __version_ext_names,\"a\"\n";
            for (n, _) in &self.ext {
                s += &format!(".asciz \"{n}\"\n");
            }
        }
        s
    }

    /// Assembles into `dir/<rel>` (creating directories).
    pub fn build(&self, dir: &Path, rel: &str) -> PathBuf {
        let out = dir.join(rel.trim_start_matches('/'));
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let src = out.with_extension("s");
        std::fs::write(&src, self.asm()).unwrap();
        let mut cmd = match self.target {
            Target::X86_64 => {
                let mut c = Command::new("as");
                c.arg("--64");
                c
            }
            Target::I386 => {
                let mut c = Command::new("as");
                c.arg("--32");
                c
            }
            Target::S390x => {
                let mut c = Command::new("llvm-mc");
                c.args(["-triple=s390x-linux-gnu", "-filetype=obj"]);
                c
            }
        };
        let o = cmd
            .arg("-o")
            .arg(&out)
            .arg(&src)
            .output()
            .expect("assembler missing: run `make test` (binutils, llvm)");
        assert!(
            o.status.success(),
            "assembling {}: {}",
            src.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        std::fs::remove_file(&src).unwrap();
        out
    }
}

/// TV1 provA.ko (absolute CRCs; imports incl. one it provides itself).
pub fn tv1() -> Synth {
    let mut s = Synth::new("5.14.0-1.el9.x86_64 SMP mod_unload modversions ");
    s.crcs = vec![
        Crc::Abs("prov_sym_a", 0xabcd),
        Crc::Abs("prov_sym_b", 0x89abcdef),
    ];
    s.versions = vec![
        ("printk", 0x1111aaaa),
        ("kmalloc", 0x2222),
        ("zfs_sym", 0x33334444),
        ("prov_sym_b", 0x89abcdef),
        ("same_name_diff_crc", 0xdeadbeef),
        ("ns_sym", 0x55556666),
    ];
    s
}

/// TV7 modB.ko: imports prov_sym_a from provA.
pub fn tv7_mod_b() -> Synth {
    let mut s = Synth::new("5.14.0-1.el9.x86_64 SMP mod_unload modversions ");
    s.versions = vec![("printk", 0x1111aaaa), ("prov_sym_a", 0xabcd)];
    s
}
