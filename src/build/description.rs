//! A package description as build input: rendered per cell by [`crate::spec`].
//!
//! The rendered spec is kept free of host paths so the SRPM rebuilds
//! anywhere: the kernel tree defaults to the distro's kernel-devel path and
//! the exporters' Module.symvers to their `-devel` packages. For the local
//! rpmbuild backend the real locations are passed as `--define`s of the
//! binary build only (`kmodpack_kernel_build_dir`, `kmodpack_symvers_<dep>`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::spec::{self, archive, Description, RenderOptions};

use super::input::{DepFiles, PreparedSpec, SourceFile, SpecProvider};
use super::kernel::KernelTarget;
use super::matrix::{BuildTarget, Cell, Package};
use super::sign::SigningRequest;
use super::BuildError;

/// Where a spec signed on the command line looks for the key when rebuilt
/// elsewhere (override with `--define kmodpack_sign_key ...`).
pub const SRPM_SIGN_KEY: &str = "/etc/pki/kmodpack/signing_key.pem";
/// The matching certificate.
pub const SRPM_SIGN_CERT: &str = "/etc/pki/kmodpack/signing_cert.pem";

/// The description's `signing` as a request: paths relative to the
/// description file, made absolute (rpmbuild runs sign-file from its own
/// build directory). A missing key or certificate is an error that says
/// which file, that it came from the description, and how to give another.
fn description_signing(
    path: &Path,
    base_dir: &Path,
    s: &spec::Signing,
) -> Result<SigningRequest, BuildError> {
    let resolve = |p: &str| {
        if p.starts_with("pkcs11:") {
            p.to_string()
        } else {
            let joined = base_dir.join(p);
            std::path::absolute(&joined)
                .unwrap_or(joined)
                .display()
                .to_string()
        }
    };
    let (key, cert) = (resolve(&s.key), resolve(&s.cert));
    for (what, file) in [("signing.key", &key), ("signing.cert", &cert)] {
        if !file.starts_with("pkcs11:") && !Path::new(file).is_file() {
            return Err(BuildError::Usage(format!(
                "{}: {what} {file}: no such file (the signing key named by this description); give \
                 another key with --sign-key KEY --sign-cert CERT (or -D 'kmodpack_sign_key KEY' \
                 -D 'kmodpack_sign_cert CERT'), or remove `signing:` to build unsigned modules",
                path.display()
            )));
        }
    }
    SigningRequest::new(key, Path::new(&cert), s.hash.clone())
}

/// `--with`/`--without` names that `desc` has no switch of: an error naming
/// the switches it has (rpmbuild would ignore an unknown one silently).
fn check_switches(
    path: &Path,
    desc: &Description,
    switches: &[(String, bool)],
) -> Result<(), BuildError> {
    let known = desc.switch_names();
    for (n, on) in switches {
        if !known.contains(&n.as_str()) {
            let hint = crate::spec::closest(n, &known)
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            return Err(BuildError::Usage(format!(
                "{}: --{} {n}: the description has no switch `{n}`; {hint}it has: {}",
                path.display(),
                if *on { "with" } else { "without" },
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
    }
    Ok(())
}

/// Which cells of a description to build, from the command line.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--kernel` releases, each with the headers to compile against (if
    /// given as RELEASE=DIR or as a DIR). Empty: every kernel of the description.
    pub kernels: Vec<KernelTarget>,
    /// `--arch`; empty: the description's arches.
    pub arches: Vec<String>,
    /// Headers are required (rpmbuild backend); otherwise absent headers are fine.
    pub require_headers: bool,
    /// Command-line signing (`--sign-key`/`--sign-cert` or `-D
    /// 'kmodpack_sign_key …'`): replaces the description's `signing`, whose
    /// key and certificate are then never looked at (a build host rarely has
    /// the production key a description names).
    pub signing: Option<SigningRequest>,
    /// `--with`/`--without` switches as (name, on). Each must be one of the
    /// description's switches (`sign` with `signing`, `debuginfo` with
    /// `debuginfo: true`); `--without sign` builds unsigned modules, so the
    /// description's key is not needed.
    pub switches: Vec<(String, bool)>,
}

/// A loaded description.
#[derive(Debug)]
pub struct DescriptionInput {
    path: PathBuf,
    base_dir: PathBuf,
    desc: Description,
    package: Package,
    signing: Option<SigningRequest>,
    template_dir: Option<PathBuf>,
}

impl DescriptionInput {
    /// Loads and validates `path` and works out its cells.
    pub fn load(
        path: &Path,
        sel: &Selection,
        template_dir: Option<&Path>,
    ) -> Result<DescriptionInput, BuildError> {
        let mut desc = Description::load(path).map_err(|e| BuildError::Usage(e.to_string()))?;
        // The description alone decides its switches: checked before any
        // kernel headers are looked for.
        check_switches(path, &desc, &sel.switches)?;
        add_kernels(&mut desc, sel, path)?;
        let base_dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let mut targets = Vec::new();
        for k in &desc.kernels {
            let chosen: Option<&KernelTarget> = if sel.kernels.is_empty() {
                None
            } else {
                match sel.kernels.iter().find(|t| release_matches(&t.release, k)) {
                    Some(t) => Some(t),
                    None => continue,
                }
            };
            let arches: Vec<&String> = k
                .arches
                .iter()
                .filter(|a| sel.arches.is_empty() || sel.arches.contains(a))
                .collect();
            for arch in arches {
                let headers = chosen
                    .and_then(|t| t.headers.clone())
                    .or_else(|| k.build_dir.clone())
                    .or_else(|| local_headers(&k.release, arch, k.flavor.as_deref()));
                if headers.is_none() && sel.require_headers {
                    return Err(BuildError::Usage(format!(
                        "{}: no kernel headers for {}.{arch} on this machine; pass --kernel {}=DIR \
                         to compile against other headers, or use --backend mock; {}",
                        path.display(),
                        k.release,
                        k.release,
                        super::kernel::installed_headers_hint()
                    )));
                }
                targets.push(BuildTarget {
                    kernel: KernelTarget {
                        release: k.release.clone(),
                        headers,
                    },
                    arch: arch.clone(),
                    flavor: k.flavor.clone(),
                });
            }
        }
        if targets.is_empty() {
            let have: Vec<String> = desc
                .kernels
                .iter()
                .map(|k| format!("{} ({})", k.release, k.arches.join(", ")))
                .collect();
            return Err(BuildError::Usage(format!(
                "{}: none of the selected kernels/arches is a target of this description (it lists {})",
                path.display(),
                have.join(", ")
            )));
        }
        let unsigned = sel.switches.iter().any(|(n, on)| n == "sign" && !on);
        let signing = match (&sel.signing, &desc.signing) {
            (Some(_), _) | (None, None) => None,
            (None, Some(_)) if unsigned => None,
            (None, Some(s)) => Some(description_signing(path, &base_dir, s)?),
        };
        let package = Package {
            name: desc.name.clone(),
            depends_on: desc.depends.iter().map(|d| d.name.clone()).collect(),
            targets,
        };
        let mut input = DescriptionInput {
            path: path.to_path_buf(),
            base_dir,
            desc,
            package,
            signing,
            template_dir: template_dir.map(Path::to_path_buf),
        };
        input.set_signing(sel.signing.clone());
        Ok(input)
    }

    /// Replaces the description's signing (command-line `--sign-key`). The
    /// rendered spec then signs too; the key and certificate paths it falls
    /// back to are neutral locations (a build farm's, not this machine's), the
    /// real ones reach only the local build as `--define`s.
    fn set_signing(&mut self, s: Option<SigningRequest>) {
        if let Some(req) = s {
            self.desc.signing = Some(spec::Signing {
                key: SRPM_SIGN_KEY.to_string(),
                cert: SRPM_SIGN_CERT.to_string(),
                hash: req.hash.clone(),
            });
            self.signing = Some(req);
        }
    }

    fn options(&self, cell: &Cell) -> RenderOptions {
        RenderOptions {
            template_dir: self.template_dir.clone(),
            kernel_release: Some(cell.kernel.release.clone()),
            kernel_flavor: Some(cell.flavor.clone()),
            kernel_build_dir: None,
            dependency_symvers: BTreeMap::new(),
            kmodpack_command: None,
        }
    }
}

/// Does `--kernel` value `want` name description kernel `k`? Accepts the
/// release itself and its `uname -r` spellings: `release.<arch>` (Red Hat,
/// `+<flavor>` for a flavor) and `release-<flavor>` (SUSE).
fn release_matches(want: &str, k: &crate::spec::Kernel) -> bool {
    let r = &k.release;
    let flavor = k.flavor.as_deref();
    want == r
        || k.arches.iter().any(|a| {
            want == format!("{r}.{a}") || flavor.is_some_and(|f| want == format!("{r}.{a}+{f}"))
        })
        // SUSE's `uname -r` names the flavor: 5.14.21-150500.55.83-default.
        || flavor.is_some_and(|f| want == format!("{r}-{f}"))
}

/// `--kernel` releases the description does not list are added to it as
/// targets (Fedora-style: a new kernel every few weeks, no edit of the
/// description for each): with the arch its `uname -r` spelling names, else
/// the arches of the description's first kernel; no flavor.
fn add_kernels(desc: &mut Description, sel: &Selection, path: &Path) -> Result<(), BuildError> {
    for t in &sel.kernels {
        if desc.kernels.iter().any(|k| release_matches(&t.release, k)) {
            continue;
        }
        let (release, arches) = match crate::spec::safety::split_arch(&t.release) {
            Some((r, a)) => (r.to_string(), vec![a.to_string()]),
            None => (
                t.release.clone(),
                desc.kernels
                    .first()
                    .map(|k| k.arches.clone())
                    .unwrap_or_else(|| vec![super::kernel::host_arch().to_string()]),
            ),
        };
        crate::spec::safety::kernel_release(&release, &arches).map_err(|m| {
            BuildError::Usage(format!(
                "{}: --kernel {}: not listed in the description, and cannot be added: {m}",
                path.display(),
                t.release
            ))
        })?;
        desc.kernels.push(crate::spec::Kernel {
            release,
            arches,
            flavor: None,
            build_dir: None,
        });
    }
    Ok(())
}

/// Headers of an RHEL-style kernel on this machine, if installed.
fn local_headers(release: &str, arch: &str, flavor: Option<&str>) -> Option<PathBuf> {
    let plus = flavor.map(|f| format!("+{f}")).unwrap_or_default();
    let uname = format!("{release}.{arch}{plus}");
    [
        format!("/usr/src/kernels/{uname}"),
        format!("/lib/modules/{uname}/build"),
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|d| d.join("Makefile").is_file())
}

impl SpecProvider for DescriptionInput {
    fn ships_devel(&self) -> bool {
        self.desc.devel
    }

    fn package(&self) -> &Package {
        &self.package
    }

    fn input(&self) -> &Path {
        &self.path
    }

    fn changelog_epoch(&self) -> Option<u64> {
        super::repro::epoch_from_date(&self.desc.changelog.first()?.date)
    }

    fn prepare(&self, cell: &Cell, source_date_epoch: u64) -> Result<PreparedSpec, String> {
        let opts = self.options(cell);
        let ctx = spec::context(&self.desc, &opts).map_err(|e| e.to_string())?;
        let text = spec::render(&self.desc, &opts).map_err(|e| e.to_string())?;
        let src = spec::source_archive(&self.desc, &self.base_dir);
        let mut sources = Vec::new();
        match (&src.dir, &src.tarball) {
            (_, Some(t)) => sources.push(SourceFile::Copy {
                name: src.file_name.clone(),
                from: spec::confined(&self.base_dir, t)?,
            }),
            (Some(d), None) => {
                let d = spec::source_dir(&self.base_dir, d)?;
                let data = archive::pack_dir(&d, &src.top_dir, source_date_epoch)
                    .map_err(|e| e.to_string())?;
                sources.push(SourceFile::Bytes {
                    name: src.file_name.clone(),
                    data,
                });
            }
            (None, None) => {
                return Err(format!("{}: no source dir or tarball", self.path.display()))
            }
        }
        for p in &src.patches {
            let name = p
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            sources.push(SourceFile::Copy {
                name,
                from: spec::confined(&self.base_dir, p)?,
            });
        }
        if let Some(script) = spec::buildscript::script(&self.desc) {
            sources.push(SourceFile::Bytes {
                name: spec::buildscript::FILE_NAME.to_string(),
                data: script.into_bytes(),
            });
        }
        if let Some((name, data)) = spec::akmod_source(&self.desc, &text) {
            sources.push(SourceFile::Bytes { name, data });
        }
        Ok(PreparedSpec {
            file_name: format!("{}.spec", ctx.spec_name),
            text,
            sources,
        })
    }

    fn signing(&self) -> Option<&SigningRequest> {
        self.signing.as_ref()
    }

    fn local_defines(&self, cell: &Cell, deps: &[DepFiles]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(h) = &cell.kernel.headers {
            out.push(("kmodpack_kernel_build_dir".into(), h.display().to_string()));
        }
        if let Ok(ctx) = spec::context(&self.desc, &self.options(cell)) {
            for d in &ctx.depends {
                let Some(f) = deps.iter().find(|f| f.package == d.name) else {
                    continue;
                };
                if let Some(p) = &f.symvers {
                    out.push((d.symvers_macro.clone(), p.display().to_string()));
                }
                if let Some(p) = &f.devel_dir {
                    out.push((d.devel_macro.clone(), p.display().to_string()));
                }
            }
        }
        out
    }
}
