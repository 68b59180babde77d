//! The DKMS corpus: every `*-dkms` package of Debian's main component plus
//! zfs-dkms (contrib), fetched by tests/support/dkms-corpus.sh with
//! `apt-get download` into a cache (never vendored), imported with
//! `kmodpack spec --from-dkms`. The oracle is DKMS itself (Debian's `dkms`):
//! `dkms build` of the same tree for the installed kernel, in private
//! --dkmstree/--sourcetree directories, gives the modules that must exist;
//! kmodpack's binary kmod RPM (an RHEL-style target mapped onto the installed
//! headers, as the demo does) must hold the same module names with the same
//! `srcversion` (same sources compiled), carry no ksym() Requires for its own
//! modules' exports, and pass `kmodpack kabi check` against the installed
//! kernel.
//!
//! Every kmodpack build signs its modules with a throwaway test key (openssl;
//! `kmodpack build --sign-key/--sign-cert`, the headers' own sign-file), and
//! each module in the RPM must carry that signer (modinfo). From each build a
//! Red Hat driver update disk is made with `kmodpack dud build --from-build`
//! for the target's installer kernel and read back with `kmodpack dud
//! verify`: the disk must verify OK (kABI against the installed headers) and
//! load exactly the RPM's modules. The signature is the module signature; the
//! RPMs themselves carry no GPG signature (rpmsign is the packager's step).
//!
//! `make test` imports every package and builds a small subset that covers
//! the recipe's features (configure in PRE_BUILD with a custom MAKE target,
//! several modules importing each other, `if` blocks, BUILD_EXCLUSIVE_*);
//! `make corpus` builds every package (OpenZFS and LTTng included) and
//! prints the README table. DKMS's results are cached per package version
//! and kernel in the corpus cache.

mod build_util;
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// RHEL-style rpm target mapped onto the installed headers.
const TARGET: &str = "5.14.0-503.11.1.el9_5";

struct Pkg {
    name: String,
    version: String,
    component: String,
    tree: PathBuf,
}

fn cache() -> PathBuf {
    std::env::var_os("KMODPACK_DKMS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/kmodpack-tests/dkms-corpus"))
}

fn corpus() -> Vec<Pkg> {
    let list = cache().join("corpus.tsv");
    let text = std::fs::read_to_string(&list).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: run `bash tests/support/dkms-corpus.sh` (make test does) to fetch the DKMS corpus",
            list.display()
        )
    });
    let pkgs: Vec<Pkg> = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Pkg {
                name: f[0].into(),
                version: f[1].into(),
                component: f[2].into(),
                tree: PathBuf::from(f[3]),
            }
        })
        .collect();
    assert!(
        pkgs.len() >= 25,
        "only {} packages in {}",
        pkgs.len(),
        list.display()
    );
    assert!(pkgs
        .iter()
        .any(|p| p.name == "zfs-dkms" && p.component == "contrib"));
    pkgs
}

fn pkg<'a>(all: &'a [Pkg], name: &str) -> &'a Pkg {
    all.iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("{name} is not in the corpus"))
}

/// The package's dkms.conf (`/usr/src/<module>-<version>/dkms.conf`).
fn conf_of(p: &Pkg) -> PathBuf {
    let src = p.tree.join("usr/src");
    let mut confs: Vec<PathBuf> = std::fs::read_dir(&src)
        .unwrap_or_else(|e| panic!("{}: {e}", src.display()))
        .flatten()
        .map(|e| e.path().join("dkms.conf"))
        .filter(|c| c.is_file())
        .collect();
    confs.sort();
    assert_eq!(confs.len(), 1, "{}: {confs:?}", p.name);
    confs.pop().unwrap()
}

/// Packages whose dkms.conf prints to stdout when sourced (`pushd`/`popd`):
/// imported with --allow-stdout, as DKMS discards that output.
const PRINTS: &[&str] = &["iptables-netflow-dkms"];

/// Imports; Ok(yaml) or Err(one-line error).
fn import(p: &Pkg, dir: &Path) -> Result<PathBuf, String> {
    let yaml = dir.join(format!("{}.yaml", p.name));
    let mut cmd = common::kmodpack();
    cmd.arg("spec")
        .arg("--from-dkms")
        .arg(conf_of(p))
        .args(["--kernel", TARGET, "--license", "GPL-2.0-only", "-o"])
        .arg(&yaml)
        .arg("--force")
        .arg("--kernel-build-dir")
        .arg(common::headers_dir());
    if PRINTS.contains(&p.name.as_str()) {
        cmd.arg("--allow-stdout");
    }
    let (code, _, err) = common::run(&mut cmd);
    if code == 0 {
        Ok(yaml)
    } else {
        Err(err.trim().to_string())
    }
}

/// The module files (`.ko`, `.ko.xz`) under `dir`, sorted.
fn module_files(dir: &Path) -> Vec<PathBuf> {
    let mut v = common::files_below(dir, ".ko");
    v.extend(common::files_below(dir, ".ko.xz"));
    v.sort();
    v
}

/// modinfo name -> srcversion of each module of `kos`.
fn modules_in(kos: &[PathBuf]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for ko in kos {
        let field = |f: &str| {
            let (code, out, err) = common::run(Command::new("modinfo").args(["-F", f]).arg(ko));
            assert_eq!(code, 0, "modinfo {}: {err}", ko.display());
            out.trim().to_string()
        };
        out.insert(field("name"), field("srcversion"));
    }
    out
}

/// DKMS's verdict for a package on the installed kernel: its modules
/// (name -> srcversion) or its error. Cached by package version and kernel.
fn dkms_oracle(p: &Pkg) -> Result<BTreeMap<String, String>, String> {
    let kver = common::kernel_release();
    let key = format!("{}_{}_{kver}", p.name, p.version.replace(':', "%3a"));
    let cached = cache().join("dkms-results").join(format!("{key}.tsv"));
    if let Ok(text) = std::fs::read_to_string(&cached) {
        return match text.strip_prefix("ERROR\t") {
            Some(e) => Err(e.trim().to_string()),
            None => Ok(text
                .lines()
                .filter_map(|l| l.split_once('\t'))
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()),
        };
    }
    let w = tempfile::tempdir().unwrap();
    let (dt, st) = (w.path().join("dkms"), w.path().join("src"));
    std::fs::create_dir_all(&dt).unwrap();
    std::fs::create_dir_all(&st).unwrap();
    let dkms = |args: &[&str]| {
        // sign_file pointing nowhere: DKMS skips signing instead of creating
        // /var/lib/dkms/mok.key (signing does not change srcversion).
        let mut c = Command::new("dkms");
        c.args(args)
            .arg("--dkmstree")
            .arg(&dt)
            .arg("--sourcetree")
            .arg(&st)
            .env("sign_file", w.path().join("no-sign-file"));
        common::run(&mut c)
    };
    let src = conf_of(p).parent().unwrap().to_path_buf();
    let (code, out, err) = dkms(&["add", src.to_str().unwrap()]);
    let result = if code != 0 {
        Err(format!("dkms add: {}", last_error(&out, &err)))
    } else {
        let mv = std::fs::read_dir(&dt)
            .unwrap()
            .flatten()
            .find(|e| e.path().is_dir())
            .and_then(|m| {
                let v = std::fs::read_dir(m.path()).ok()?.flatten().next()?;
                Some((
                    m.file_name().to_string_lossy().into_owned(),
                    v.file_name().to_string_lossy().into_owned(),
                ))
            })
            .expect("dkms add made a module directory");
        let (code, out, err) = dkms(&["build", "-m", &mv.0, "-v", &mv.1, "-k", &kver]);
        if code == 0 {
            Ok(modules_in(&module_files(
                &dt.join(&mv.0).join(&mv.1).join(&kver),
            )))
        } else {
            // DKMS points at its make.log: its first compiler error is the
            // reason worth recording (the log goes with the scratch tree).
            let log = dt.join(&mv.0).join(&mv.1).join("build/make.log");
            let first = std::fs::read_to_string(&log)
                .unwrap_or_default()
                .lines()
                .find(|l| l.contains("error:") || l.contains("Error "))
                .map(|l| {
                    let l = l.trim();
                    // Drop the scratch path before the source file name.
                    let l = l.rsplit_once("/build/").map_or(l, |(_, rest)| rest);
                    format!("; make.log: {l}")
                })
                .unwrap_or_default();
            let mut msg = last_error(&out, &err);
            // "Consult <scratch>/make.log for more information.": gone with it.
            if let Some(i) = msg.find(" Consult ") {
                if let Some(j) = msg[i..].find("for more information.") {
                    msg.replace_range(i..i + j + "for more information.".len(), "");
                }
            }
            Err(format!("{msg}{first}"))
        }
    };
    std::fs::create_dir_all(cached.parent().unwrap()).unwrap();
    let text = match &result {
        Ok(m) => m.iter().map(|(a, b)| format!("{a}\t{b}\n")).collect(),
        Err(e) => format!("ERROR\t{e}\n"),
    };
    std::fs::write(&cached, text).unwrap();
    result
}

/// DKMS's own error lines, joined.
fn last_error(out: &str, err: &str) -> String {
    let all = format!("{out}\n{err}");
    let lines: Vec<&str> = all
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("Error!"))
        .unwrap_or(lines.len().saturating_sub(2));
    lines[start..].join(" ").chars().take(300).collect()
}

/// kmodpack's side: import, `kmodpack build`, the RPM's modules, the disk.
struct Built {
    modules: BTreeMap<String, String>,
    rpm: PathBuf,
    /// Imports neither the kernel nor the package exports (nm), per module.
    unresolved: Unresolved,
    /// The driver update disk's verdict (`Err` when it is not right).
    dud: Result<String, String>,
}

/// module name -> symbols it imports that nothing here exports.
type Unresolved = BTreeMap<String, BTreeSet<String>>;

/// Packages with a module that cannot load on the installed kernel (an
/// import the kernel does not export), as DKMS builds it too: kabi check and
/// dud build must refuse exactly that module's unresolved imports (computed
/// with nm, not taken from kmodpack). (package, module, why).
const CANNOT_LOAD: &[(&str, &str, &str)] = &[(
    "dahdi-dkms",
    "dahdi_echocan_oslec",
    "its dkms.conf builds it (MODULES_EXTRA) against OSLEC, the kernel's staging `echo` module, \
     which this kernel does not build (CONFIG_ECHO is not set)",
)];

/// The unresolved imports of the modules `kos` (binutils' nm, an oracle
/// independent of kmodpack): undefined symbols that neither the headers'
/// Module.symvers nor any module of the package (`__ksymtab_*`) exports.
fn unresolved_in(kos: &[PathBuf]) -> Unresolved {
    static KERNEL: std::sync::OnceLock<BTreeSet<String>> = std::sync::OnceLock::new();
    let kernel = KERNEL.get_or_init(|| {
        std::fs::read_to_string(common::kernel_symvers())
            .unwrap()
            .lines()
            .filter_map(|l| l.split('\t').nth(1).map(str::to_string))
            .collect()
    });
    let nm = |args: &[&str], f: &Path| {
        let (code, out, err) = common::run(Command::new("nm").args(args).arg(f));
        assert_eq!(code, 0, "nm {}: {err}", f.display());
        out
    };
    // nm reads ELF: an xz-compressed module is decompressed beside the others.
    let plain = tempfile::tempdir().unwrap();
    let kos: Vec<PathBuf> = kos
        .iter()
        .cloned()
        .filter_map(|f| {
            let name = f.file_name()?.to_string_lossy().into_owned();
            if name.ends_with(".ko") {
                return Some(f);
            }
            let stem = name.strip_suffix(".xz").filter(|n| n.ends_with(".ko"))?;
            let out = plain.path().join(stem);
            let file = std::fs::File::create(&out).unwrap();
            let (code, _, err) = common::run(Command::new("xz").arg("-dc").arg(&f).stdout(file));
            assert_eq!(code, 0, "xz -d {}: {err}", f.display());
            Some(out)
        })
        .collect();
    let own: BTreeSet<String> = kos
        .iter()
        .flat_map(|f| {
            nm(&["--defined-only"], f)
                .lines()
                .filter_map(|l| l.split_whitespace().nth(2)?.strip_prefix("__ksymtab_"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut out = Unresolved::new();
    for f in &kos {
        let missing: BTreeSet<String> = nm(&["-u"], f)
            .lines()
            // `U sym` (a weak `w` import need not resolve).
            .filter_map(|l| l.trim().strip_prefix("U "))
            .map(str::trim)
            .filter(|s| !kernel.contains(*s) && !own.contains(*s))
            .map(str::to_string)
            .collect();
        if !missing.is_empty() {
            let name = f.file_name().unwrap().to_string_lossy();
            out.insert(name.trim_end_matches(".ko").replace('-', "_"), missing);
        }
    }
    out
}

/// `(module, symbol)` pairs of `...<module>.ko...: unknown symbol <sym>`
/// lines, and the other lines that report a problem.
fn unknown_symbols(text: &str) -> (Unresolved, Vec<String>) {
    let mut found = Unresolved::new();
    let mut other = Vec::new();
    for l in text.lines() {
        let Some((head, sym)) = l.rsplit_once(": unknown symbol ") else {
            other.push(l.trim().to_string());
            continue;
        };
        // `  mod: unknown symbol s` (kabi check) or `…/mod.ko: would not
        // load on K: unknown symbol s` (dud build).
        let module = head
            .split(".ko:")
            .next()
            .unwrap_or(head)
            .trim()
            .rsplit('/')
            .next()
            .unwrap_or("")
            .trim_end_matches(':')
            .replace('-', "_");
        found
            .entry(module)
            .or_default()
            .insert(sym.trim().to_string());
    }
    (found, other)
}

/// A package checked against DKMS.
enum Outcome {
    /// DKMS itself cannot build it here (its reason): not counted.
    Skipped(String),
    /// Modules equal to DKMS's (note) and the disk verified (its note).
    Equal { note: String, dud: String },
}

/// How far a failing package got, for the table's columns.
enum Stage {
    /// Import or `kmodpack build` failed.
    Build,
    /// Built, but its modules or RPM differ from what DKMS builds.
    Compare,
    /// Equal to DKMS, but the signatures or the driver update disk are wrong.
    Dud,
}

struct Failure {
    stage: Stage,
    why: String,
}

impl Failure {
    fn at(stage: Stage) -> impl FnOnce(String) -> Failure {
        move |why| Failure { stage, why }
    }
}

/// The throwaway module signing key of this run (key, cert, signer),
/// made once in `dir`.
fn signing_key(dir: &Path) -> (PathBuf, PathBuf, String) {
    let key = dir.join("signing_key.pem");
    let cert = dir.join("signing_cert.pem");
    if key.is_file() && cert.is_file() {
        return (key, cert, "kmodpack test signer".to_string());
    }
    let (key, cert, cn, _) = build_util::throwaway_key(dir);
    (key, cert, cn)
}

fn kmodpack_build(p: &Pkg, dir: &Path) -> Result<Built, String> {
    let yaml = import(p, dir)?;
    let (key, cert, signer) = signing_key(dir);
    let (_t, run) = build_util::build(
        &[
            yaml.to_str().unwrap(),
            &format!(
                "--kernel={TARGET}.x86_64={}",
                common::headers_dir().display()
            ),
            "--sign-key",
            key.to_str().unwrap(),
            "--sign-cert",
            cert.to_str().unwrap(),
        ],
        |_| {},
    );
    let cell = &run.report["cells"][0];
    if cell["status"] != "built" {
        let log = std::fs::read_to_string(cell["log"].as_str().unwrap_or("")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        return Err(format!(
            "{}: {}\n{}",
            cell["status"],
            cell["reason"],
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
    }
    let rpm = cell["rpms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| PathBuf::from(r["file"].as_str().unwrap()))
        .find(|f| !f.to_string_lossy().contains("-devel-"))
        .unwrap();
    let unpacked = tempfile::tempdir_in(dir).unwrap();
    common::rpm_unpack(&rpm, unpacked.path());
    let keep = dir.join(rpm.file_name().unwrap());
    std::fs::copy(&rpm, &keep).unwrap();
    let kos = module_files(unpacked.path());
    let modules = modules_in(&kos);
    let unresolved = unresolved_in(&kos);
    let dud = signed_by(&kos, &signer)
        .and_then(|()| driver_update_disk(p, dir, &run.resultdir, &modules, &unresolved));
    Ok(Built {
        modules,
        rpm: keep,
        unresolved,
        dud,
    })
}

/// Every module of `kos` carries a signature by `signer` (modinfo).
fn signed_by(kos: &[PathBuf], signer: &str) -> Result<(), String> {
    for ko in kos {
        let n = ko.file_name().unwrap().to_string_lossy();
        let (code, out, err) = common::run(Command::new("modinfo").args(["-F", "signer"]).arg(ko));
        if code != 0 || out.trim() != signer {
            return Err(format!(
                "{n} is not signed by {signer:?}: modinfo says {:?} {}",
                out.trim(),
                err.trim()
            ));
        }
    }
    Ok(())
}

/// `kmodpack dud build --from-build` for the target's installer kernel, then
/// `kmodpack dud verify` of the image: it must verify OK and load exactly
/// the modules of the RPM (by module name). A package with a module that
/// cannot load (`unresolved`) must be refused, naming exactly those imports,
/// with no image written.
fn driver_update_disk(
    p: &Pkg,
    dir: &Path,
    resultdir: &Path,
    modules: &BTreeMap<String, String>,
    unresolved: &Unresolved,
) -> Result<String, String> {
    let iso = dir.join(format!("{}.iso", p.name));
    let installer = format!("{TARGET}.x86_64");
    let symvers = common::kernel_symvers();
    let dud = |args: &[&str]| {
        common::run(
            common::kmodpack()
                .arg("dud")
                .args(args)
                .args(["--installer-kernel", &installer, "--target-symvers"])
                .arg(&symvers),
        )
    };
    let one_line = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (code, out, err) = dud(&[
        "build",
        "--from-build",
        resultdir.to_str().unwrap(),
        "-o",
        iso.to_str().unwrap(),
    ]);
    if !unresolved.is_empty() {
        let (named, _) = unknown_symbols(&out);
        let errors: Vec<&str> = out.lines().filter(|l| l.contains("error[")).collect();
        let total: usize = unresolved.values().map(BTreeSet::len).sum();
        return if code == 2 && !iso.exists() && &named == unresolved && errors.len() == total {
            Ok(format!(
                "refused, as it must be: {} cannot load here",
                unresolved.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        } else {
            Err(format!(
                "dud build exit {code}, image written: {}; it names {named:?}, nm finds {unresolved:?}: {}",
                iso.exists(),
                one_line(&err)
            ))
        };
    }
    if code != 0 || !iso.is_file() {
        return Err(format!(
            "dud build exit {code}: {}",
            one_line(&format!("{err} {out}"))
        ));
    }
    let (code, out, err) = dud(&["verify", iso.to_str().unwrap(), "--json"]);
    let j: serde_json::Value = serde_json::from_str(&out)
        .map_err(|e| format!("dud verify --json: {e}: {}", one_line(&err)))?;
    if code != 0 || j["result"] != "OK" {
        return Err(format!(
            "dud verify exit {code}, result {}: {}",
            j["result"],
            one_line(&j["findings"].to_string())
        ));
    }
    // `acpi_call.ko (kmod-acpi-call-….rpm)` -> acpi_call (modinfo's name).
    let loads: Vec<String> = j["loads"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| l["target"] == installer.as_str())
        .flat_map(|l| l["modules"].as_array().cloned().unwrap_or_default())
        .filter_map(|m| {
            let file = m.as_str()?.split(' ').next()?.to_string();
            let stem = file.split(".ko").next()?.replace('-', "_");
            Some(stem)
        })
        .collect();
    let mut loads_sorted = loads.clone();
    loads_sorted.sort();
    let want: Vec<String> = modules.keys().cloned().collect();
    if loads_sorted != want {
        return Err(format!(
            "the disk loads {loads:?} on {installer}, the RPM holds {want:?}"
        ));
    }
    std::fs::remove_file(&iso).ok();
    Ok(format!("verified OK, loads {}", loads.len()))
}

/// Checks one package against DKMS, then its signatures and its disk.
fn compare(p: &Pkg, dir: &Path) -> Result<Outcome, Failure> {
    let oracle = match dkms_oracle(p) {
        Ok(m) => m,
        Err(e) => {
            return Ok(Outcome::Skipped(format!(
                "skipped: DKMS cannot build it here: {e}"
            )))
        }
    };
    let built = kmodpack_build(p, dir).map_err(Failure::at(Stage::Build))?;
    let path_dependent = PATH_DEPENDENT.iter().find(|(n, _)| *n == p.name);
    let note = if let Some((_, why)) = path_dependent {
        // srcversion hashes a generated file that records the build directory.
        let names = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>();
        if names(&built.modules) != names(&oracle) {
            return Err(Failure::at(Stage::Compare)(format!(
                "module names differ from DKMS's: dkms {:?}, kmodpack {:?}",
                names(&oracle),
                names(&built.modules)
            )));
        }
        format!(
            "{} module(s), names equal; srcversion not comparable: {why}",
            oracle.len()
        )
    } else if built.modules != oracle {
        return Err(Failure::at(Stage::Compare)(format!(
            "modules differ from DKMS's:\n  dkms:     {oracle:?}\n  kmodpack: {:?}",
            built.modules
        )));
    } else {
        format!("{} module(s), srcversion equal", oracle.len())
    };
    let cannot_load = CANNOT_LOAD.iter().find(|(n, ..)| *n == p.name);
    let note = match (cannot_load, built.unresolved.keys().collect::<Vec<_>>()) {
        (None, m) if m.is_empty() => note,
        (Some((_, module, why)), m) if m == [module] => format!(
            "{note}; {module} cannot load on this kernel: {why}; kabi check and dud build name its {} unresolved imports",
            built.unresolved[*module].len()
        ),
        (_, _) => {
            return Err(Failure::at(Stage::Compare)(format!(
                "unresolved imports (nm) {:?}, declared in CANNOT_LOAD: {cannot_load:?}",
                built.unresolved
            )))
        }
    };
    check_rpm(&built).map_err(Failure::at(Stage::Compare))?;
    let dud = built.dud.map_err(Failure::at(Stage::Dud))?;
    Ok(Outcome::Equal { note, dud })
}

/// No ksym() Requires for the package's own exports; kabi check passes.
fn check_rpm(built: &Built) -> Result<(), String> {
    // Intra-package imports are satisfied inside the package.
    let provides = common::rpm_qp(&built.rpm, &["--provides"]);
    let own: Vec<&str> = provides
        .iter()
        .filter(|p| p.starts_with("ksym("))
        .map(|p| p.split(' ').next().unwrap())
        .collect();
    let requires = common::rpm_qp(&built.rpm, &["--requires"]);
    if let Some(r) = requires
        .iter()
        .find(|r| own.contains(&r.split(' ').next().unwrap()))
    {
        return Err(format!("Requires its own export {r}"));
    }
    let (code, out, err) = common::run(
        common::kmodpack()
            .args(["kabi", "check", "--kernel"])
            .arg(common::headers_dir())
            .arg(&built.rpm),
    );
    if built.unresolved.is_empty() {
        if code != 0 {
            return Err(format!("kabi check: {out}{err}"));
        }
        return Ok(());
    }
    // A module that cannot load: kabi check fails, naming exactly the
    // imports nm finds unresolved, and nothing else.
    let (named, other) = unknown_symbols(&out);
    let other: Vec<&String> = other
        .iter()
        .filter(|l| !l.is_empty() && !l.ends_with(": compatible") && !l.ends_with(": INCOMPATIBLE"))
        .collect();
    if code == 0 || named != built.unresolved || !other.is_empty() {
        return Err(format!(
            "kabi check exit {code} names {named:?} (and {other:?}), nm finds {:?}",
            built.unresolved
        ));
    }
    Ok(())
}

/// Packages whose srcversion depends on the build directory, and why.
const PATH_DEPENDENT: &[(&str, &str)] = &[(
    "iptables-netflow-dkms",
    "its configure writes compile-test logs with the build directory into compat_def.h",
)];

/// dkms.conf files that the import refuses, and why (a decision, checked).
const REFUSED: &[(&str, &str)] = &[(
    // Reads another DKMS module's state (/var/lib/dkms/xtables-addons) while
    // being sourced; DKMS itself cannot build it without xtables-addons-dkms
    // installed through DKMS.
    "west-chamber-dkms",
    "sourcing it with bash wrote to stderr (a dkms.conf must only set variables): find: '/var/lib/dkms/xtables-addons': No such file or directory",
)];

#[test]
fn every_corpus_package_imports() {
    let all = corpus();
    let dir = tempfile::tempdir().unwrap();
    let mut wrong = Vec::new();
    for p in &all {
        let got = import(p, dir.path());
        let want = REFUSED.iter().find(|(n, _)| *n == p.name).map(|(_, e)| *e);
        match (&got, want) {
            (Ok(_), None) => {}
            (Err(e), Some(w)) if e.contains(w) && e.lines().count() == 1 => {}
            _ => wrong.push(format!("{}: {got:?} (expected {want:?})", p.name)),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The in-suite subset: configure in PRE_BUILD + custom MAKE target + STRIP
/// (iptables-netflow), several modules importing each other (jool, ddcci),
/// `if` blocks and BUILD_EXCLUSIVE_ARCH (ddcci), BUILD_EXCLUSIVE_CONFIG
/// (acpi-call).
const SUBSET: &[&str] = &[
    "iptables-netflow-dkms",
    "acpi-call-dkms",
    "ddcci-dkms",
    "jool-dkms",
];

#[test]
fn a_representative_subset_builds_the_modules_dkms_builds() {
    let all = corpus();
    let dir = tempfile::tempdir().unwrap();
    let mut bad = Vec::new();
    for name in SUBSET {
        let p = pkg(&all, name);
        // Every package of the subset is one DKMS builds here.
        if let Err(e) = dkms_oracle(p) {
            bad.push(format!("{name}: DKMS itself fails: {e}"));
            continue;
        }
        if let Err(e) = compare(p, dir.path()) {
            bad.push(format!("{name}: {}", e.why));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// `make corpus`: every package against DKMS, and the README table.
#[test]
#[ignore = "make corpus: builds all ~31 packages (OpenZFS, LTTng: tens of minutes on 2 cores)"]
fn corpus_table() {
    // KMODPACK_DKMS_CORPUS_ONLY=a-dkms,b-dkms limits the run to those packages.
    let only: Option<Vec<String>> = std::env::var("KMODPACK_DKMS_CORPUS_ONLY")
        .ok()
        .map(|v| v.split(',').map(str::to_string).collect());
    let all: Vec<Pkg> = corpus()
        .into_iter()
        .filter(|p| only.as_ref().is_none_or(|o| o.contains(&p.name)))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut rows = vec![
        "| package | version | imported | built | modules equal to DKMS | DUD | notes |"
            .to_string(),
        "|---|---|---|---|---|---|---|".to_string(),
    ];
    let mut failures = 0;
    for p in &all {
        let t0 = std::time::Instant::now();
        let cell = |s: &str| s.lines().next().unwrap_or("").replace('|', "/");
        let row = match import(p, dir.path()) {
            Err(e) => {
                let dk = dkms_oracle(p)
                    .err()
                    .map(|e| format!("; DKMS: {e}"))
                    .unwrap_or_default();
                format!(
                    "| {} | {} | no | – | – | – | {}{dk} |",
                    p.name,
                    p.version,
                    cell(&e)
                )
            }
            Ok(_) => match compare(p, dir.path()) {
                Ok(Outcome::Skipped(n)) => format!(
                    "| {} | {} | yes | skipped | – | – | {} |",
                    p.name,
                    p.version,
                    cell(&n)
                ),
                Ok(Outcome::Equal { note, dud }) => format!(
                    "| {} | {} | yes | yes, signed | yes | {dud} | {note}; {:.0} s |",
                    p.name,
                    p.version,
                    t0.elapsed().as_secs_f64()
                ),
                Err(Failure { stage, why }) => {
                    failures += 1;
                    let (built, equal, dud) = match stage {
                        Stage::Build => ("no", "–", "–"),
                        Stage::Compare => ("yes", "no", "–"),
                        Stage::Dud => ("yes", "yes", "no"),
                    };
                    format!(
                        "| {} | {} | yes | {built} | {equal} | {dud} | {} |",
                        p.name,
                        p.version,
                        cell(&why)
                    )
                }
            },
        };
        eprintln!("{row}");
        rows.push(row);
    }
    let table = rows.join("\n") + "\n";
    let out = common::repo().join("target/dkms-corpus.md");
    std::fs::write(&out, &table).unwrap();
    println!("{table}");
    assert_eq!(failures, 0, "{table}");
}
