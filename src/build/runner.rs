//! The scheduler: runs the planned cells with at most `-j` at a time, in
//! dependency order, and turns every outcome into a [`CellReport`].
//!
//! A failing cell is recorded and the others go on; cells that need its
//! results are skipped with a reason instead of being built against nothing.
//! Results land in `<resultdir>/<package>/<kver>/<arch>[/<flavor>]/` with the
//! full log beside them; scratch `_topdir`s live in fixed, locked work
//! directories (fixed paths, see [`super::workdir`]) removed unless `--keep-work`.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use crate::rpmpkg::{self, RpmPackage};
use crate::symvers;

use super::input::{DepFiles, SpecProvider};
use super::matrix::{self, Cell, PlannedCell};
use super::mock::{self, MockSettings};
use super::progress::Observer;
use super::report::{self, CellReport, CellStatus, PackageReport, Report, Summary};
use super::repro::EpochSource;
use super::rpmbuild::{RpmbuildSettings, Topdir};
use super::sign::{self, SigningRequest};
use super::BuildError;

/// Which tool builds the binary RPMs.
#[derive(Debug, Clone)]
pub enum Backend {
    /// rpmbuild on this machine.
    Rpmbuild,
    /// mock chroots.
    Mock(MockSettings),
}

/// Everything the runner needs besides the inputs.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Backend for the binary RPMs.
    pub backend: Backend,
    /// rpmbuild settings (SRPMs always; binaries with the rpmbuild backend).
    pub rpmbuild: RpmbuildSettings,
    /// Where results go (must be empty or absent).
    pub resultdir: PathBuf,
    /// Cells run at once.
    pub jobs: usize,
    /// Stop after the SRPMs.
    pub srpm_only: bool,
    /// Keep the scratch `_topdir`s (their paths are logged).
    pub keep_work: bool,
    /// Signing asked for on the command line (applies to every package).
    pub signing: Option<SigningRequest>,
    /// `sign-file` to use instead of `<headers>/scripts/sign-file`.
    pub sign_file: Option<PathBuf>,
    /// Where SOURCE_DATE_EPOCH came from (for the report).
    pub epoch_source: EpochSource,
    /// Parent of the per-cell work directories (the same path every run, for
    /// reproducibility, and private: [`super::workdir::default_base`]).
    pub workbase: PathBuf,
    /// Run createrepo_c here (mock: repos of exporter cells).
    pub createrepo: String,
}

/// What a finished cell leaves for the cells that depend on it.
#[derive(Debug, Clone, Default)]
struct Outcome {
    package: String,
    built: bool,
    rpms: Vec<RpmPackage>,
    symvers: Option<PathBuf>,
    result_dir: PathBuf,
}

struct State {
    started: Vec<bool>,
    outcomes: Vec<Option<Outcome>>,
    reports: Vec<Option<CellReport>>,
    done: usize,
}

/// Runs every cell of the matrix. Errors only for problems that stop the
/// whole build before it starts; per-cell problems are in the report.
/// Whether rpmbuild and mock are installed is checked by
/// [`super::pipeline::build_matrix`] before any input is loaded.
pub fn run(
    inputs: &[Box<dyn SpecProvider>],
    opts: &BuildOptions,
    observer: &dyn Observer,
) -> Result<Report, BuildError> {
    let packages: Vec<matrix::Package> = inputs.iter().map(|i| i.package().clone()).collect();
    let plan = matrix::plan(&packages)?;
    refuse_importers_without_devel(inputs)?;
    if matches!(opts.backend, Backend::Mock(_))
        && !opts.srpm_only
        && (opts.signing.is_some() || inputs.iter().any(|i| i.signing().is_some()))
    {
        return Err(BuildError::Usage(
            "signing with the mock backend is not supported: the private key would have to be copied into \
             the chroot. Build with --backend rpmbuild, or let the build system sign (Koji/OBS signing \
             servers) and check the results with `kmodpack inspect`"
                .into(),
        ));
    }
    prepare_resultdir(&opts.resultdir)?;
    let resolved;
    let opts = match &opts.backend {
        Backend::Mock(m) if !opts.srpm_only => {
            resolved = with_kmodpack_repo(opts, m)?;
            &resolved
        }
        _ => opts,
    };
    let total = plan.len();
    let state = Mutex::new(State {
        started: vec![false; total],
        outcomes: vec![None; total],
        reports: vec![None; total],
        done: 0,
    });
    let wake = Condvar::new();
    let jobs = opts.jobs.max(1).min(total.max(1));
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| worker(&plan, inputs, opts, observer, &state, &wake));
        }
    });
    let st = state.into_inner().unwrap_or_else(|p| p.into_inner());
    let cells: Vec<CellReport> = st.reports.into_iter().flatten().collect();
    Ok(Report {
        kmodpack_version: env!("CARGO_PKG_VERSION"),
        backend: match opts.backend {
            Backend::Rpmbuild => "rpmbuild".into(),
            Backend::Mock(_) => "mock".into(),
        },
        srpm_only: opts.srpm_only,
        source_date_epoch: opts.rpmbuild.repro.source_date_epoch,
        source_date_epoch_from: opts.epoch_source,
        resultdir: opts.resultdir.clone(),
        summary: Summary::of(&cells),
        cells,
        dud: None,
    })
}

/// An importer build-requires its exporter's `-devel` package (the
/// exporter's Module.symvers); an exporter built in the same run without one
/// (`devel: false`) can never satisfy that, so the build is refused before
/// anything runs instead of failing (or, with --nodeps, passing only here).
fn refuse_importers_without_devel(inputs: &[Box<dyn SpecProvider>]) -> Result<(), BuildError> {
    for imp in inputs {
        for dep in &imp.package().depends_on {
            let Some(exp) = inputs.iter().find(|i| &i.package().name == dep) else {
                continue;
            };
            if !exp.ships_devel() {
                return Err(BuildError::Usage(format!(
                    "{}: {} imports from {dep}, but {} makes no -devel package (devel: false), so its \
                     BuildRequires on {dep}'s -devel package can never resolve; set devel: true there",
                    imp.input().display(),
                    imp.package().name,
                    exp.input().display()
                )));
            }
        }
    }
    Ok(())
}

/// Settles where the mock chroots get kmodpack: the running binary packaged
/// into `<resultdir>/kmodpack-repo` (indexed with createrepo_c), or the
/// repository the user named (`build_matrix` has seen it is indexed).
fn with_kmodpack_repo(opts: &BuildOptions, m: &MockSettings) -> Result<BuildOptions, BuildError> {
    let repo = match &m.kmodpack {
        mock::KmodpackSource::Config => return Ok(opts.clone()),
        mock::KmodpackSource::Repo(dir) => dir.clone(),
        mock::KmodpackSource::SelfPackage(exe) => {
            let dir = opts.resultdir.join("kmodpack-repo");
            super::selfpkg::write(exe, &dir)
                .map_err(|e| BuildError::KmodpackRepo(e.to_string()))?;
            let log = dir.join("createrepo.log");
            run_step(&createrepo(opts, &dir), &log, "createrepo_c")
                .map_err(BuildError::KmodpackRepo)?;
            dir
        }
    };
    let mut out = opts.clone();
    if let Backend::Mock(mm) = &mut out.backend {
        mm.kmodpack = mock::KmodpackSource::Repo(std::path::absolute(&repo).unwrap_or(repo));
    }
    Ok(out)
}

fn prepare_resultdir(dir: &Path) -> Result<(), BuildError> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(super::io_err(dir))?;
        if entries.next().is_some() {
            return Err(BuildError::ResultdirNotEmpty(dir.to_path_buf()));
        }
    }
    std::fs::create_dir_all(dir).map_err(super::io_err(dir))
}

fn worker(
    plan: &[PlannedCell],
    inputs: &[Box<dyn SpecProvider>],
    opts: &BuildOptions,
    observer: &dyn Observer,
    state: &Mutex<State>,
    wake: &Condvar,
) {
    let total = plan.len();
    loop {
        // Pick the first cell whose prerequisites have all finished.
        let (i, deps) = {
            let mut st = match state.lock() {
                Ok(g) => g,
                Err(_) => return,
            };
            loop {
                if st.started.iter().all(|s| *s) {
                    return;
                }
                let ready = (0..total).find(|&i| {
                    !st.started[i] && plan[i].after.iter().all(|&d| st.outcomes[d].is_some())
                });
                if let Some(i) = ready {
                    st.started[i] = true;
                    let deps: Vec<(usize, Outcome)> = plan[i]
                        .after
                        .iter()
                        .map(|&d| (d, st.outcomes[d].clone().unwrap_or_default()))
                        .collect();
                    break (i, deps);
                }
                st = match wake.wait(st) {
                    Ok(g) => g,
                    Err(_) => return,
                };
            }
        };
        let cell = &plan[i].cell;
        let input = &inputs[plan[i].package_index];
        let (report, outcome) = if let Some((d, _)) = deps.iter().find(|(_, o)| !o.built) {
            skipped(cell, &plan[*d].cell, opts)
        } else {
            observer.started(cell, i + 1, total);
            build_cell(
                cell,
                input.as_ref(),
                &deps.iter().map(|(_, o)| o.clone()).collect::<Vec<_>>(),
                opts,
            )
        };
        let mut st = match state.lock() {
            Ok(g) => g,
            Err(_) => return,
        };
        st.done += 1;
        observer.finished(&report, st.done, total);
        st.outcomes[i] = Some(outcome);
        st.reports[i] = Some(report);
        wake.notify_all();
    }
}

fn cell_dir(opts: &BuildOptions, cell: &Cell) -> PathBuf {
    opts.resultdir.join(cell.id())
}

fn empty_report(
    cell: &Cell,
    opts: &BuildOptions,
    status: CellStatus,
    reason: Option<String>,
) -> CellReport {
    let dir = cell_dir(opts, cell);
    CellReport {
        id: cell.id(),
        package: cell.package.clone(),
        kernel: cell.kernel.release.clone(),
        arch: cell.arch.clone(),
        flavor: cell.flavor.clone(),
        status,
        reason,
        duration_seconds: 0.0,
        // mock writes its own build.log/root.log into the cell directory.
        log: dir.join(match opts.backend {
            Backend::Rpmbuild => "build.log",
            Backend::Mock(_) => "kmodpack.log",
        }),
        result_dir: dir,
        srpm: None,
        rpms: Vec::new(),
        unresolved_ksyms: Vec::new(),
        signature: None,
    }
}

fn skipped(cell: &Cell, failed_dep: &Cell, opts: &BuildOptions) -> (CellReport, Outcome) {
    let r = empty_report(
        cell,
        opts,
        CellStatus::Skipped,
        Some(format!("prerequisite {} did not build", failed_dep.id())),
    );
    (r, Outcome::default())
}

/// Builds one cell; never returns an error (failures are in the report).
fn build_cell(
    cell: &Cell,
    input: &dyn SpecProvider,
    deps: &[Outcome],
    opts: &BuildOptions,
) -> (CellReport, Outcome) {
    let start = Instant::now();
    let mut report = empty_report(cell, opts, CellStatus::Failed, None);
    let result = try_build_cell(cell, input, deps, opts, &mut report);
    report.duration_seconds = (start.elapsed().as_secs_f64() * 10.0).round() / 10.0;
    match result {
        Ok(outcome) => {
            report.status = CellStatus::Built;
            (report, outcome)
        }
        Err(reason) => {
            // A DKMS recipe that excludes this kernel (BUILD_EXCLUSIVE_*) is a
            // skipped cell with DKMS's reason, not a failure.
            match dkms_skip_reason(&report.log) {
                Some(why) => {
                    report.status = CellStatus::Skipped;
                    report.reason = Some(why);
                }
                None => {
                    report.status = CellStatus::Failed;
                    report.reason = Some(reason);
                }
            }
            (report, Outcome::default())
        }
    }
}

/// The `kmodpack: skipped: <reason>` line the DKMS recipe runner prints when
/// dkms.conf excludes the kernel (read from the end of the build log).
fn dkms_skip_reason(log: &Path) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(log).ok()?;
    let len = f.metadata().ok()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)))
        .ok()?;
    let mut buf = Vec::new();
    f.take(64 * 1024).read_to_end(&mut buf).ok()?;
    String::from_utf8_lossy(&buf).lines().rev().find_map(|l| {
        l.trim()
            .strip_prefix("kmodpack: skipped: ")
            .map(str::to_string)
    })
}

fn try_build_cell(
    cell: &Cell,
    input: &dyn SpecProvider,
    deps: &[Outcome],
    opts: &BuildOptions,
    report: &mut CellReport,
) -> Result<Outcome, String> {
    let dir = report.result_dir.clone();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let log = report.log.clone();
    let mut work = super::workdir::Workdir::acquire(&opts.workbase, &cell.slug()).map_err(|e| {
        format!(
            "cannot create the work directory in {}: {e}",
            opts.workbase.display()
        )
    })?;
    let result = build_in(cell, input, deps, opts, report, work.path(), &dir, &log);
    if opts.keep_work {
        work.keep();
        append_log(
            &log,
            &format!(
                "kmodpack: scratch _topdir kept in {}",
                work.path().display()
            ),
        );
    }
    result
}

#[allow(clippy::too_many_arguments)]
fn build_in(
    cell: &Cell,
    input: &dyn SpecProvider,
    deps: &[Outcome],
    opts: &BuildOptions,
    report: &mut CellReport,
    work: &Path,
    dir: &Path,
    log: &Path,
) -> Result<Outcome, String> {
    let io = |what: &Path| {
        let what = what.to_path_buf();
        move |e: std::io::Error| format!("{}: {e}", what.display())
    };
    // 1. The spec of this cell, staged in a private tree, and its SRPM.
    let spec = input.prepare(cell, opts.rpmbuild.repro.source_date_epoch)?;
    let top1 = Topdir::create(&work.join("srpm")).map_err(io(work))?;
    let spec_path = top1
        .stage(&spec)
        .map_err(|e| format!("staging sources: {e}"))?;
    run_step(&opts.rpmbuild.srpm(&top1, &spec_path), log, "rpmbuild -bs")?;
    let srpm_built = top1
        .outputs("SRPMS", ".src.rpm")
        .into_iter()
        .next()
        .ok_or("rpmbuild -bs produced no SRPM")?;
    let srpm = copy_into(&srpm_built, dir)?;
    let srpm_pkg = rpmpkg::read_header(&srpm).map_err(|e| e.to_string())?;
    report.srpm = Some(PackageReport::from_package(&srpm_pkg));
    if opts.srpm_only {
        return Ok(Outcome {
            package: cell.package.clone(),
            built: true,
            rpms: Vec::new(),
            symvers: None,
            result_dir: dir.to_path_buf(),
        });
    }

    // 2. Host-only facts for the binary build. A mock chroot cannot see host
    //    paths: there the headers come from kernel-devel and the exporters'
    //    symbols from their -devel packages (through --addrepo).
    let signing = input.signing().or(opts.signing.as_ref());
    let local = match opts.backend {
        Backend::Mock(_) => Vec::new(),
        Backend::Rpmbuild => host_defines(cell, input, deps, opts, signing, work)?,
    };

    // 3. The binary RPMs.
    let rpms: Vec<PathBuf> = match &opts.backend {
        Backend::Rpmbuild => {
            let top2 = Topdir::create(&work.join("rpm")).map_err(io(work))?;
            let mut settings = opts.rpmbuild.clone();
            if let Some(g) = &mut settings.generator {
                let dir = work.join("fileattrs");
                super::rpmbuild::prepare_fileattrs(&dir, &g.kmodpack).map_err(io(&dir))?;
                g.fileattrs_dir = Some(dir);
            }
            run_step(
                &settings.binary(&top2, &srpm, &cell.arch, &local),
                log,
                "rpmbuild --rebuild",
            )?;
            let mut out = Vec::new();
            for r in top2.outputs("RPMS", ".rpm") {
                out.push(copy_into(&r, dir)?);
            }
            out
        }
        Backend::Mock(m) => {
            let mock_dir = dir.to_path_buf();
            let repos: Vec<PathBuf> = deps.iter().map(|d| d.result_dir.clone()).collect();
            let inv = m.rebuild(&srpm, &mock_dir, &cell.arch, &cell.slug(), &repos, &local);
            let res = run_step(&inv, log, "mock --rebuild");
            let collected = mock::collect(&mock_dir).map_err(io(&mock_dir))?;
            if let Some(b) = collected.build_log() {
                report.log = b.to_path_buf();
            }
            if let Err(e) = res {
                return Err(match mock::failure_reason(&mock_dir) {
                    Some(why) => format!("{e}: {why}"),
                    None => e,
                });
            }
            collected.rpms
        }
    };
    if rpms.is_empty() {
        return Err("the build produced no binary RPMs".into());
    }

    // 4. What came out: NEVRAs, dependencies, signatures. Each RPM is read
    //    once; its modules serve all three checks and Module.symvers.
    let mut pkgs = Vec::new();
    let mut modules = Vec::new();
    let mut broken = Vec::new();
    for r in &rpms {
        let (pkg, mods) = rpmpkg::read_modules(r).map_err(|e| e.to_string())?;
        broken.extend(crate::deps::invariant::describe(
            &pkg.nevra(),
            &crate::deps::invariant::check(&pkg, &mods),
        ));
        pkgs.push(pkg);
        modules.push(mods);
    }
    report.rpms = pkgs.iter().map(PackageReport::from_package).collect();
    let available: Vec<RpmPackage> = deps.iter().flat_map(|d| d.rpms.iter().cloned()).collect();
    report.unresolved_ksyms = report::unresolved_ksyms(&pkgs, &available);
    if !broken.is_empty() {
        for line in &broken {
            append_log(log, &format!("kmodpack: {line}"));
        }
        let mut why = broken.join("; ");
        if let Backend::Mock(_) = opts.backend {
            // kmodpack cannot reach into the chroot: its rpm must know the class.
            why.push_str(" — in mock the chroot needs kmodpack's generator: BuildRequires: kmodpack (its kmodpack.attr registers the class)");
        }
        return Err(why);
    }
    let sig = sign::verify(
        rpms.iter()
            .map(PathBuf::as_path)
            .zip(modules.iter().map(Vec::as_slice)),
        signing,
    );
    let sig_failure = sig.failure();
    report.signature = Some(sig);
    if let Some(f) = sig_failure {
        return Err(f);
    }

    // 5. Module.symvers of the built modules, for kmods built against this one.
    let symvers = write_symvers(modules.iter().flatten(), dir)?;
    if let Backend::Mock(_) = opts.backend {
        run_step(&createrepo(opts, dir), log, "createrepo_c")?;
    }
    Ok(Outcome {
        package: cell.package.clone(),
        built: true,
        rpms: pkgs,
        symvers,
        result_dir: dir.to_path_buf(),
    })
}

/// `--define`s that point the local binary build at this machine's files.
fn host_defines(
    cell: &Cell,
    input: &dyn SpecProvider,
    deps: &[Outcome],
    opts: &BuildOptions,
    signing: Option<&SigningRequest>,
    work: &Path,
) -> Result<Vec<(String, String)>, String> {
    let mut dep_files = Vec::new();
    for d in deps {
        dep_files.push(DepFiles {
            package: d.package.clone(),
            symvers: d.symvers.clone(),
            devel_dir: unpack_devel(d, &work.join("devel").join(&d.package))?,
        });
    }
    let mut local = input.local_defines(cell, &dep_files);
    if let Some(h) = &cell.kernel.headers {
        local.push(("kmodpack_kdir".into(), h.display().to_string()));
        let symvers = h.join("Module.symvers");
        if symvers.is_file() {
            // The kernel() vs ksym() split of kmodpack's generator uses the
            // headers the modules were compiled against.
            local.push(("_kmodpack_symvers".into(), symvers.display().to_string()));
        }
    }
    if let Some(req) = signing {
        local.push(("kmodpack_sign_key".into(), req.key.clone()));
        local.push(("kmodpack_sign_cert".into(), req.cert.display().to_string()));
        local.push(("kmodpack_sign_hash".into(), req.hash.clone()));
        let sign_file = opts.sign_file.clone().or_else(|| {
            cell.kernel
                .headers
                .as_ref()
                .map(|h| h.join("scripts/sign-file"))
        });
        if let Some(sf) = sign_file {
            local.push(("kmodpack_sign_file".into(), sf.display().to_string()));
        }
    }
    let dep_symvers: Vec<String> = deps
        .iter()
        .filter_map(|d| d.symvers.as_ref())
        .map(|p| p.display().to_string())
        .collect();
    if !dep_symvers.is_empty() {
        local.push(("kmodpack_extra_symbols".into(), dep_symvers.join(" ")));
    }
    Ok(local)
}

/// Unpacks the `/usr/src/<package>-<version>/` tree of a prerequisite's
/// -devel RPM (headers, generated config headers, per-kernel
/// Module.symvers) into `into`, a fresh directory of this cell's private
/// work tree — what installing the -devel package would give a build host,
/// without touching the host. Only regular files are written (the payload's
/// symlinks are not recreated), each under `into`. None when the exporter
/// ships no such tree.
fn unpack_devel(d: &Outcome, into: &Path) -> Result<Option<PathBuf>, String> {
    let mut found = None;
    for pkg in &d.rpms {
        if crate::rpmrole::classify(pkg) != crate::rpmrole::RpmRole::Devel {
            continue;
        }
        let top = format!("usr/src/{}-{}", d.package, pkg.version);
        let prefix = format!("/{top}/");
        let (_, files) = rpmpkg::read_with_files(&pkg.path, |p| p.starts_with(&prefix))
            .map_err(|e| e.to_string())?;
        for (path, data) in files {
            let rel = path.trim_start_matches('/');
            if rel
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..")
            {
                return Err(format!(
                    "{}: payload path {path} is not a plain path",
                    pkg.path.display()
                ));
            }
            let dest = into.join(rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            std::fs::write(&dest, data).map_err(|e| format!("{}: {e}", dest.display()))?;
            found = Some(into.join(&top));
        }
    }
    Ok(found)
}

fn createrepo(opts: &BuildOptions, dir: &Path) -> super::process::Invocation {
    let mut inv = super::process::Invocation::new(&opts.createrepo);
    inv.arg("--no-database").arg(dir.display().to_string());
    inv
}

/// Runs one step; a non-zero exit is the cell's failure reason. For
/// rpmbuild the reason quotes the log lines that failed (and where), with
/// advice ([`super::failure`]).
fn run_step(inv: &super::process::Invocation, log: &Path, what: &str) -> Result<(), String> {
    match inv.run_logged(log) {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => match status.code() {
            Some(code) => {
                let why = what
                    .starts_with("rpmbuild")
                    .then(|| super::failure::read_tail(log).ok())
                    .flatten()
                    .and_then(|t| super::failure::explain(&t))
                    .map(|f| f.to_string())
                    .unwrap_or_default();
                Err(format!("{what} failed (exit status {code}){why}"))
            }
            None => Err(format!("{what} was killed by a signal")),
        },
        Err(e) => Err(format!("{what}: {e}")),
    }
}

fn append_log(log: &Path, line: &str) {
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        let _ = writeln!(f, "{line}");
    }
}

fn copy_into(file: &Path, dir: &Path) -> Result<PathBuf, String> {
    let name = file
        .file_name()
        .ok_or_else(|| format!("{}: no file name", file.display()))?;
    let dest = dir.join(name);
    if dest != file {
        std::fs::copy(file, &dest)
            .map_err(|e| format!("{} -> {}: {e}", file.display(), dest.display()))?;
    }
    Ok(dest)
}

/// Writes `Module.symvers` for the exports of the built `modules` (payload
/// path and module; CRCs read from the built modules themselves, so an
/// importer builds against exactly what was packaged). None when nothing is
/// exported.
fn write_symvers<'a>(
    modules: impl IntoIterator<Item = &'a (String, crate::module::KernelModule)>,
    dir: &Path,
) -> Result<Option<PathBuf>, String> {
    let mut lines = Vec::new();
    for (path, m) in modules {
        let column = crate::module::strip_module_suffix(path.trim_start_matches('/')).to_string();
        lines.extend(
            symvers::module_entries(m, &column)
                .iter()
                .map(|e| e.to_line()),
        );
    }
    if lines.is_empty() {
        return Ok(None);
    }
    lines.sort();
    let path = dir.join("Module.symvers");
    std::fs::write(&path, lines.concat()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some(path))
}
