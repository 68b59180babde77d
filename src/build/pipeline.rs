//! The build pipeline, in cargo-deb's `process` shape (as
//! `dud::pipeline::make_disk` is for disks): a [`BuildRequest`] (what the
//! user asked for, as given) and an [`Observer`] in, the [`Report`] out.
//!
//! Everything that decides a build lives here — which inputs are specs and
//! which descriptions, the kernels and arches of each, the one
//! SOURCE_DATE_EPOCH and where it came from, `--nodeps` on a machine whose
//! rpm database is not the package database, signing asked for with flags
//! or `-D` macros, the backend — so `src/cli/build.rs` only parses
//! arguments and renders the observer's events and the report.

use std::path::{Path, PathBuf};

use super::description::{DescriptionInput, Selection};
use super::input::{SpecFile, SpecProvider};
use super::kernel::{host_arch, KernelTarget};
use super::matrix::{product, BuildTarget};
use super::mock::{KmodpackSource, MockSettings};
use super::progress::Observer;
use super::repro::{epoch_from_env, EpochSource, Reproducibility};
use super::rpmbuild::{host_rpmdb_is_foreign, GeneratorHook, RpmbuildSettings};
use super::sign::SigningRequest;
use super::{runner, Backend, BuildError, BuildOptions, Report};
use crate::dud::pipeline::{precheck, DiskRequest};

/// A `kmodpack build` request: the command line's values, unresolved.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// Descriptions (`.yaml`/`.yml`) and spec files (`.spec`), in any order.
    pub inputs: Vec<PathBuf>,
    /// `--kernel` values: `KVER`, `DIR` or `KVER=DIR`.
    pub kernels: Vec<String>,
    /// `--arch` values (empty: the descriptions' arches, this machine's for specs).
    pub arches: Vec<String>,
    /// `--flavor` values (spec files).
    pub flavors: Vec<String>,
    /// Build the binary RPMs with mock instead of rpmbuild.
    pub mock: bool,
    /// `--mock-config` (required with `mock`).
    pub mock_config: Option<String>,
    /// `--mock-arg` values.
    pub mock_args: Vec<String>,
    /// `--kmodpack-repo` (mock only; `none`: the config's repos).
    pub kmodpack_repo: Option<PathBuf>,
    /// Where results go.
    pub resultdir: PathBuf,
    /// Cells at once (default: the CPUs).
    pub jobs: Option<usize>,
    /// Stop after the SRPMs.
    pub srpm_only: bool,
    /// `--nodeps` asked for.
    pub nodeps: bool,
    /// Never add `--nodeps` automatically.
    pub check_builddeps: bool,
    /// Let `~/.rpmmacros` take part.
    pub user_macros: bool,
    /// `-D 'NAME VALUE'` values.
    pub defines: Vec<String>,
    /// `--with SWITCH` values.
    pub with: Vec<String>,
    /// `--without SWITCH` values.
    pub without: Vec<String>,
    /// `--sign-key`.
    pub sign_key: Option<String>,
    /// `--sign-cert`.
    pub sign_cert: Option<PathBuf>,
    /// `--sign-hash`.
    pub sign_hash: String,
    /// `--sign-file`.
    pub sign_file: Option<PathBuf>,
    /// `--template-dir`.
    pub template_dir: Option<PathBuf>,
    /// `--sources`.
    pub sources: Option<PathBuf>,
    /// `--source-date-epoch`.
    pub source_date_epoch: Option<u64>,
    /// Keep the scratch rpm trees.
    pub keep_work: bool,
    /// The disk to assemble from the results afterwards (`--dud`): checked
    /// before any cell is built, so a bad disk flag does not cost a build.
    pub disk: Option<DiskRequest>,
}

/// Checks the request, loads its inputs and runs every cell of the matrix,
/// reporting cells and notes to `observer`. Errors only for problems that
/// stop the whole build before it starts; per-cell problems are in the
/// report.
pub fn build_matrix(req: &BuildRequest, observer: &dyn Observer) -> Result<Report, BuildError> {
    // Flags that contradict each other, and the programs the backend runs:
    // refused before any input, kernel tree or disk flag is looked at.
    if !req.mock && req.kmodpack_repo.is_some() {
        return Err(BuildError::Usage(
            "--kmodpack-repo is for --backend mock (rpmbuild runs this binary directly)".into(),
        ));
    }
    if req.disk.is_some() && req.srpm_only {
        return Err(BuildError::Usage(
            "--dud needs binary RPMs: it cannot be combined with --srpm-only".into(),
        ));
    }
    let mock_config = match (req.mock, &req.mock_config) {
        (true, None) => {
            return Err(BuildError::Usage(
                "--backend mock needs --mock-config CFG".into(),
            ))
        }
        (true, Some(config)) => Some(config),
        (false, _) => None,
    };
    check_programs(req, |p| super::process::which(p).is_some())?;
    let exe = std::env::current_exe().map_err(|e| BuildError::SelfExe(e.to_string()))?;
    let kmodpack = kmodpack_source(req, &exe)?;
    if let Some(d) = &req.disk {
        precheck(d).map_err(|e| BuildError::Disk(Box::new(e)))?;
    }
    let require_headers = !req.mock && !req.srpm_only;
    let kernels: Vec<KernelTarget> = req
        .kernels
        .iter()
        .map(|k| parse_kernel(k, require_headers))
        .collect::<Result<_, _>>()?;
    let arches: Vec<String> = if req.arches.is_empty() {
        vec![host_arch().to_string()]
    } else {
        req.arches.clone()
    };

    let mut defines = parse_defines(&req.defines)?;
    let signing = command_line_signing(req, &mut defines)?;
    let switches = switch_settings(req)?;
    if switches.iter().any(|(n, on)| n == "sign" && !on) && signing.is_some() {
        return Err(BuildError::Usage(
            "--without sign and a signing key on the command line contradict each other; give one of them".into(),
        ));
    }
    defines.extend(switches.iter().map(|(n, on)| match on {
        true => (format!("_with_{n}"), format!("--with-{n}")),
        false => (format!("_without_{n}"), format!("--without-{n}")),
    }));
    let sel = Selection {
        kernels,
        arches: req.arches.clone(),
        require_headers,
        signing: signing.clone(),
        switches,
    };
    let (inputs, first_epoch) = load_inputs(req, &arches, &sel)?;

    // Reproducibility: one timestamp for every cell (and the source tarballs),
    // the first input's changelog date taken from its loaded form.
    let (epoch, epoch_source) = source_date_epoch(
        req.source_date_epoch,
        epoch_from_env(),
        first_epoch,
        &req.inputs,
    );

    let mut nodeps = req.nodeps;
    if !nodeps && !req.check_builddeps && require_headers && host_rpmdb_is_foreign() {
        nodeps = true;
        observer.note("this machine's rpm database does not list rpm itself (not an rpm-based system): passing --nodeps to rpmbuild, BuildRequires (kernel-devel, ...) are not checked; --check-builddeps turns this off");
    }
    let rpmbuild = RpmbuildSettings {
        program: RPMBUILD.into(),
        nodeps,
        user_macros: req.user_macros,
        defines,
        repro: Reproducibility {
            source_date_epoch: epoch,
            buildhost: "kmodpack".into(),
        },
        generator: Some(GeneratorHook {
            kmodpack: exe,
            fileattrs_dir: None,
        }),
    };
    let backend = match mock_config {
        Some(config) => Backend::Mock(MockSettings {
            program: MOCK.into(),
            config: config.clone(),
            defines: rpmbuild.defines.clone(),
            repro: rpmbuild.repro.clone(),
            extra_args: req.mock_args.clone(),
            kmodpack,
        }),
        None => Backend::Rpmbuild,
    };
    let opts = BuildOptions {
        backend,
        rpmbuild,
        resultdir: req.resultdir.clone(),
        jobs: req
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        srpm_only: req.srpm_only,
        keep_work: req.keep_work,
        signing,
        sign_file: req.sign_file.clone(),
        epoch_source,
        createrepo: "createrepo_c".into(),
        workbase: super::workdir::default_base(),
    };
    runner::run(&inputs, &opts, observer)
}

/// The program that makes every SRPM (and, without mock, the binary RPMs).
const RPMBUILD: &str = "rpmbuild";
/// The program of the mock backend.
const MOCK: &str = "mock";

/// The programs the request will run, checked before any input work so a
/// machine without them is told in one line, with nothing loaded or
/// written: rpmbuild always (the SRPMs), mock for mock's binary builds.
/// `on_path` says whether a program is found (PATH lookup in
/// [`build_matrix`]).
fn check_programs(req: &BuildRequest, on_path: impl Fn(&str) -> bool) -> Result<(), BuildError> {
    if !on_path(RPMBUILD) {
        return Err(BuildError::ToolMissing {
            program: RPMBUILD.into(),
            hint: "install rpm-build (Fedora/EL) or rpm (Debian/Ubuntu)".into(),
        });
    }
    if req.mock && !req.srpm_only && !on_path(MOCK) {
        return Err(super::mock::missing());
    }
    Ok(())
}

/// Where mock chroots get kmodpack (`--kmodpack-repo`): this binary `exe`
/// packaged, the config's repositories (`none`), or a repository that must
/// be indexed already — refused with the flag checks, before any input is
/// read or the result directory is created (only where mock runs).
fn kmodpack_source(req: &BuildRequest, exe: &Path) -> Result<KmodpackSource, BuildError> {
    Ok(match &req.kmodpack_repo {
        None => KmodpackSource::SelfPackage(exe.to_path_buf()),
        Some(p) if p.as_os_str() == "none" => KmodpackSource::Config,
        Some(dir) if req.mock && !req.srpm_only && !dir.join("repodata/repomd.xml").is_file() => {
            return Err(BuildError::KmodpackRepo(format!(
                "{}: not a repository (no repodata/repomd.xml; run createrepo_c on it)",
                dir.display()
            )))
        }
        Some(dir) => KmodpackSource::Repo(dir.clone()),
    })
}

/// The loaded inputs of a build, as the runner takes them.
type Inputs = Vec<Box<dyn SpecProvider>>;

/// The inputs as spec providers: descriptions in the order given, then the
/// spec files (whose `BuildRequires:` on each other are resolved once all
/// are read); and the first input's changelog date (`None`: no input, or
/// no changelog).
fn load_inputs(
    req: &BuildRequest,
    arches: &[String],
    sel: &Selection,
) -> Result<(Inputs, Option<u64>), BuildError> {
    let kernels = &sel.kernels;
    let mut specs: Vec<SpecFile> = Vec::new();
    let mut inputs: Inputs = Vec::new();
    let mut first_epoch = None;
    // Every spec file builds the same cells.
    let spec_targets: Vec<BuildTarget> = product(kernels, arches, &req.flavors);
    for (n, input) in req.inputs.iter().enumerate() {
        let ext = input.extension().and_then(|e| e.to_str()).unwrap_or("");
        match ext {
            "spec" => {
                if kernels.is_empty() {
                    return Err(BuildError::Usage(format!(
                        "{}: a spec file needs at least one --kernel (descriptions list their kernels, specs do not)",
                        input.display()
                    )));
                }
                let s = SpecFile::read(input, req.sources.as_deref(), spec_targets.clone())?;
                if n == 0 {
                    first_epoch = s.changelog_epoch();
                }
                specs.push(s);
            }
            "yaml" | "yml" => {
                let d = DescriptionInput::load(input, sel, req.template_dir.as_deref())?;
                if n == 0 {
                    first_epoch = d.changelog_epoch();
                }
                inputs.push(Box::new(d));
            }
            _ => {
                return Err(BuildError::Usage(format!(
                    "{}: not a description (.yaml) or spec file (.spec)",
                    input.display()
                )))
            }
        }
    }
    let names: Vec<(String, Vec<String>)> = specs
        .iter()
        .map(|s| (s.package().name.clone(), s.binary_names()))
        .collect();
    for s in &mut specs {
        s.resolve_dependencies(&names);
    }
    inputs.extend(
        specs
            .into_iter()
            .map(|s| Box::new(s) as Box<dyn SpecProvider>),
    );
    Ok((inputs, first_epoch))
}

/// A `--kernel` value: `KVER`, `DIR`, or `KVER=DIR` (target KVER, compile
/// against DIR).
fn parse_kernel(arg: &str, require_headers: bool) -> Result<KernelTarget, BuildError> {
    if let Some((rel, dir)) = arg.split_once('=') {
        let headers = KernelTarget::resolve(dir, true)?;
        if rel.is_empty()
            || rel
                .chars()
                .any(|c| c.is_whitespace() || c == '%' || c == '/')
        {
            return Err(BuildError::Usage(format!(
                "--kernel {arg:?}: bad release before '='"
            )));
        }
        return Ok(KernelTarget {
            release: rel.to_string(),
            headers: headers.headers,
        });
    }
    KernelTarget::resolve(arg, require_headers)
}

fn parse_defines(defs: &[String]) -> Result<Vec<(String, String)>, BuildError> {
    defs.iter()
        .map(|d| {
            let (k, v) = d
                .trim()
                .split_once(char::is_whitespace)
                .unwrap_or((d.trim(), ""));
            if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(BuildError::Usage(format!(
                    "--define {d:?}: expected 'NAME VALUE'"
                )));
            }
            Ok((k.to_string(), v.trim().to_string()))
        })
        .collect()
}

/// `--with`/`--without` as (switch, on), in the order given. rpmbuild's own
/// `--with NAME` is an alias of `--define '_with_NAME --with-NAME'`; the
/// switches are handed to rpmbuild (and mock) as those defines, which also
/// reach the rebuild of the SRPM.
fn switch_settings(req: &BuildRequest) -> Result<Vec<(String, bool)>, BuildError> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for (names, on) in [(&req.with, true), (&req.without, false)] {
        for n in names {
            let ok = n.starts_with(|c: char| c.is_ascii_alphabetic())
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok {
                return Err(BuildError::Usage(format!(
                    "--{} {n:?}: a switch name is letters, digits and `_`",
                    if on { "with" } else { "without" },
                )));
            }
            if out.iter().any(|(m, o)| m == n && *o != on) {
                return Err(BuildError::Usage(format!(
                    "--with {n} and --without {n} contradict each other"
                )));
            }
            out.push((n.clone(), on));
        }
    }
    Ok(out)
}

/// The signing asked for on the command line: `--sign-key`/`--sign-cert`
/// (with `--sign-hash`), or the spec macros `-D 'kmodpack_sign_key KEY'` and
/// `-D 'kmodpack_sign_cert CERT'` (with `kmodpack_sign_hash`), which are taken
/// out of `defines` and become the same request — so either way the
/// description's own key is not needed and the signatures are verified.
/// Paths are relative to the current directory, made absolute: rpmbuild runs
/// sign-file from its own build directory.
fn command_line_signing(
    req: &BuildRequest,
    defines: &mut Vec<(String, String)>,
) -> Result<Option<SigningRequest>, BuildError> {
    let mut take = |name: &str| {
        let found = defines.iter().rposition(|(k, _)| k == name);
        let value = found.and_then(|i| defines.get(i)).map(|(_, v)| v.clone());
        defines.retain(|(k, _)| k != name);
        value
    };
    let (d_key, d_cert, d_hash) = (
        take("kmodpack_sign_key"),
        take("kmodpack_sign_cert"),
        take("kmodpack_sign_hash"),
    );
    let (key, cert, hash) = match (&req.sign_key, &req.sign_cert) {
        (Some(k), Some(c)) => (k.clone(), c.display().to_string(), req.sign_hash.clone()),
        _ => match (d_key, d_cert) {
            (Some(k), Some(c)) => (k, c, d_hash.unwrap_or_else(|| req.sign_hash.clone())),
            (None, None) => return Ok(None),
            (Some(_), None) | (None, Some(_)) => {
                return Err(BuildError::Usage(
                    "-D 'kmodpack_sign_key KEY' and -D 'kmodpack_sign_cert CERT' go together \
                     (or use --sign-key KEY --sign-cert CERT)"
                        .into(),
                ))
            }
        },
    };
    let absolute = |p: &str| {
        std::path::absolute(p).map_err(|source| BuildError::Io {
            path: p.into(),
            source,
        })
    };
    let key = if key.starts_with("pkcs11:") {
        key
    } else {
        let abs = absolute(&key)?;
        if !abs.is_file() {
            return Err(BuildError::Usage(format!(
                "{key}: signing key given on the command line: no such file"
            )));
        }
        abs.display().to_string()
    };
    let cert = absolute(&cert)?;
    Ok(Some(SigningRequest::new(key, &cert, hash)?))
}

/// The one SOURCE_DATE_EPOCH of a build and where it came from: the flag,
/// else `env` (`$SOURCE_DATE_EPOCH`), else `first` (the newest changelog
/// entry of the first input, as loaded), else the newest mtime of `inputs`.
fn source_date_epoch(
    flag: Option<u64>,
    env: Option<u64>,
    first: Option<u64>,
    inputs: &[PathBuf],
) -> (u64, EpochSource) {
    if let Some(e) = flag {
        return (e, EpochSource::Flag);
    }
    if let Some(e) = env {
        return (e, EpochSource::Environment);
    }
    if let Some(e) = first {
        return (e, EpochSource::Changelog);
    }
    let newest = inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok()?.modified().ok())
        .filter_map(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .max()
        .unwrap_or(0);
    (newest, EpochSource::InputMtime)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request for `inputs` with every flag at its command-line default.
    fn request(inputs: Vec<PathBuf>, resultdir: PathBuf) -> BuildRequest {
        BuildRequest {
            inputs,
            kernels: Vec::new(),
            arches: Vec::new(),
            flavors: Vec::new(),
            mock: false,
            mock_config: None,
            mock_args: Vec::new(),
            kmodpack_repo: None,
            resultdir,
            jobs: Some(1),
            srpm_only: false,
            nodeps: false,
            check_builddeps: false,
            user_macros: false,
            defines: Vec::new(),
            with: Vec::new(),
            without: Vec::new(),
            sign_key: None,
            sign_cert: None,
            sign_hash: "sha256".into(),
            sign_file: None,
            template_dir: None,
            sources: None,
            source_date_epoch: Some(0),
            keep_work: false,
            disk: None,
        }
    }

    /// Records the notes; a cell event here would be a bug (nothing runs).
    #[derive(Default)]
    struct Recorder(std::sync::Mutex<Vec<String>>);

    impl Observer for Recorder {
        fn started(&self, cell: &super::super::Cell, _: usize, _: usize) {
            panic!("a refused request started {}", cell.id());
        }
        fn finished(&self, r: &super::super::CellReport, _: usize, _: usize) {
            panic!("a refused request finished {}", r.id);
        }
        fn note(&self, message: &str) {
            self.0.lock().unwrap().push(message.to_string());
        }
    }

    #[test]
    fn a_refused_request_builds_nothing_and_writes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let results = tmp.path().join("results");
        let spec = tmp.path().join("x.spec");
        std::fs::write(&spec, "Name: x\n").unwrap();
        let text = tmp.path().join("x.txt");
        std::fs::write(&text, "x").unwrap();
        let disk = DiskRequest {
            format: crate::dud::preflight::Format::RedHat,
            output: tmp.path().join("dd.iso"),
            label: "OEMDRV".into(),
            dist: None,
            include_srpms: false,
            force: false,
            pci_ids: Vec::new(),
            installer_kernels: vec!["5.14.0-503.11.1.el9_5.x86_64".into()],
            installer_isos: Vec::new(),
            anaconda: None,
            arch: None,
            target_symvers: None,
        };
        let cases: Vec<(BuildRequest, String)> = vec![
            (
                BuildRequest {
                    kmodpack_repo: Some("repo".into()),
                    ..request(vec![spec.clone()], results.clone())
                },
                "--kmodpack-repo is for --backend mock".into(),
            ),
            (
                BuildRequest {
                    srpm_only: true,
                    disk: Some(disk.clone()),
                    ..request(vec![spec.clone()], results.clone())
                },
                "--dud needs binary RPMs".into(),
            ),
            (
                BuildRequest {
                    disk: Some(DiskRequest {
                        output: tmp.path().join("dd.cpio.gz"),
                        ..disk
                    }),
                    ..request(vec![spec.clone()], results.clone())
                },
                "a Red Hat driver disk is an ISO image".into(),
            ),
            (
                request(vec![spec.clone()], results.clone()),
                format!(
                    "{}: a spec file needs at least one --kernel",
                    spec.display()
                ),
            ),
            (
                request(vec![text.clone()], results.clone()),
                format!(
                    "{}: not a description (.yaml) or spec file (.spec)",
                    text.display()
                ),
            ),
            (
                BuildRequest {
                    defines: vec!["kmodpack_sign_key k.pem".into()],
                    ..request(vec![spec.clone()], results.clone())
                },
                "-D 'kmodpack_sign_key KEY' and -D 'kmodpack_sign_cert CERT' go together".into(),
            ),
        ];
        for (req, want) in cases {
            let notes = Recorder::default();
            let e = build_matrix(&req, &notes).unwrap_err();
            assert!(e.to_string().contains(&want), "{want}: {e}");
            assert!(
                !results.exists(),
                "{want}: the result directory was created"
            );
            assert!(!tmp.path().join("dd.iso").exists());
        }
    }

    #[test]
    fn rpmbuild_then_mock_must_be_on_path() {
        let req = request(Vec::new(), PathBuf::from("results"));
        let e = check_programs(&req, |_| false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "rpmbuild not found on PATH: install rpm-build (Fedora/EL) or rpm (Debian/Ubuntu)"
        );
        assert!(check_programs(&req, |p| p == "rpmbuild").is_ok());
        let mock = BuildRequest {
            mock: true,
            ..req.clone()
        };
        let e = check_programs(&mock, |p| p == "rpmbuild").unwrap_err();
        assert!(e.to_string().starts_with("mock not found on PATH: "), "{e}");
        // SRPMs only: mock never runs, rpmbuild still does.
        let srpms = BuildRequest {
            srpm_only: true,
            ..mock
        };
        assert!(check_programs(&srpms, |p| p == "rpmbuild").is_ok());
        let e = check_programs(&srpms, |_| false).unwrap_err();
        assert!(e.to_string().starts_with("rpmbuild not found"), "{e}");
    }

    #[test]
    fn defines_are_name_value_pairs() {
        assert_eq!(
            parse_defines(&[" dist .el9 ".into(), "flag".into()]).unwrap(),
            vec![
                ("dist".to_string(), ".el9".to_string()),
                ("flag".to_string(), String::new())
            ]
        );
        let e = parse_defines(&["bad-name x".into()]).unwrap_err();
        assert!(e.to_string().contains("expected 'NAME VALUE'"), "{e}");
    }

    #[test]
    fn a_release_before_equals_must_be_a_plain_word() {
        let tmp = tempfile::tempdir().unwrap();
        let gen = tmp.path().join("include/generated");
        std::fs::create_dir_all(&gen).unwrap();
        std::fs::write(
            gen.join("utsrelease.h"),
            "#define UTS_RELEASE \"6.1.0-test\"\n",
        )
        .unwrap();
        let dir = tmp.path().display().to_string();
        let t = parse_kernel(&format!("5.14.0-1.el9.x86_64={dir}"), true).unwrap();
        assert_eq!(t.release, "5.14.0-1.el9.x86_64");
        assert_eq!(t.headers, Some(std::fs::canonicalize(tmp.path()).unwrap()));
        for bad in ["", "a b", "%{x}", "a/b"] {
            let e = parse_kernel(&format!("{bad}={dir}"), true).unwrap_err();
            assert!(e.to_string().contains("bad release before '='"), "{e}");
        }
    }

    #[test]
    fn the_epoch_flag_wins_then_the_first_inputs_changelog_then_mtimes() {
        let tmp = tempfile::tempdir().unwrap();
        let spec = tmp.path().join("x.spec");
        std::fs::write(
            &spec,
            "Name: x\n%changelog\n* Thu Jan 01 2015 A <a@b> - 1-1\n- x\n",
        )
        .unwrap();
        let loaded = SpecFile::read(&spec, None, Vec::new()).unwrap();
        assert_eq!(
            source_date_epoch(Some(7), Some(8), loaded.changelog_epoch(), &[]),
            (7, EpochSource::Flag)
        );
        assert_eq!(
            source_date_epoch(None, Some(8), loaded.changelog_epoch(), &[]),
            (8, EpochSource::Environment)
        );
        let (e, src) = source_date_epoch(
            None,
            None,
            loaded.changelog_epoch(),
            std::slice::from_ref(&spec),
        );
        assert_eq!(src, EpochSource::Changelog);
        // `date -d '2015-01-01 UTC' +%s`
        assert_eq!(e, 1_420_070_400);
        let plain = tmp.path().join("y.spec");
        std::fs::write(&plain, "Name: y\n").unwrap();
        let loaded = SpecFile::read(&plain, None, Vec::new()).unwrap();
        let mtime = std::fs::metadata(&plain)
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(
            source_date_epoch(None, None, loaded.changelog_epoch(), &[plain]),
            (mtime, EpochSource::InputMtime)
        );
    }
}
