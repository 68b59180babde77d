//! Man pages: clap's pages (so options never drift from `--help`) with the
//! sections a man page reader expects appended — EXAMPLES per command, EXIT
//! STATUS and FILES — and `kmodpack-description(5)` for the YAML format.

use std::path::Path;

/// Roff for a line of prose with `code` spans (bold) and roff's special
/// characters escaped.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("\\fB{part}\\fR"));
        } else {
            out.push_str(part);
        }
    }
    if out.starts_with('.') || out.starts_with('\'') {
        out.insert_str(0, "\\&");
    }
    out
}

/// Example command lines (and what they do) for the page of `name`.
fn examples(name: &str) -> &'static [(&'static str, &'static str)] {
    match name {
        "kmodpack" => &[
            ("kmodpack spec kpx-zfs.yaml -o kmod-kpx-zfs.spec", "Render a kmod spec from a package description."),
            ("kmodpack build kpx-zfs.yaml kpx-lustre.yaml --resultdir out", "Build both packages for every kernel they list, exporter first."),
            ("kmodpack dud build -o dd.iso --installer-kernel 5.14.0-503.14.1.el9_5.x86_64 out/*/*/*/kmod-*.rpm", "Put the kmods on a driver update disk."),
        ],
        "kmodpack-inspect" => &[
            ("kmodpack inspect /lib/modules/$(uname -r)/kernel/fs/ext4/ext4.ko.xz", "What a module is: vermagic, exports, imports, signature."),
            ("kmodpack inspect --json kmod-foo-1.0-1.x86_64.rpm", "The modules inside an RPM, as JSON."),
        ],
        "kmodpack-symvers" => &[("kmodpack symvers /usr/src/kernels/5.14.0-503.11.1.el9_5.x86_64/Module.symvers", "Read a Module.symvers.")],
        "kmodpack-deps" | "kmodpack-deps-provides" | "kmodpack-deps-requires" | "kmodpack-deps-supplements" => &[
            ("echo /lib/modules/5.14.0-503.11.1.el9_5.x86_64/extra/foo/foo.ko | kmodpack deps provides", "The kmod() and ksym() Provides rpm gets for a module."),
            ("echo $RPM_BUILD_ROOT/lib/modules/5.14.0-503.11.1.el9_5.x86_64/extra/foo/foo.ko | kmodpack deps requires --symvers /usr/src/kernels/5.14.0-503.11.1.el9_5.x86_64/Module.symvers", "Its kernel() and ksym() Requires against that kernel."),
        ],
        "kmodpack-deps-check" => &[
            ("kmodpack deps check --symvers /usr/src/kernels/5.14.0-503.11.1.el9_5.x86_64/Module.symvers kmod-*.rpm", "Resolve every ksym()/kernel() Require before yum does, and say why one does not."),
        ],
        "kmodpack-spec" => &[
            ("kmodpack spec kpx-zfs.yaml --kernel-build-dir /lib/modules/$(uname -r)/build -o kmod-kpx-zfs.spec", "Render a spec that compiles against this machine's headers."),
            ("kmodpack spec --from-dkms /usr/src/foo-1.0 -o foo.yaml", "Import a DKMS tree as a description."),
        ],
        "kmodpack-build" => &[
            ("kmodpack build kpx-zfs.yaml --kernel 5.14.0-503.11.1.el9_5=/lib/modules/$(uname -r)/build --sign-key key.pem --sign-cert cert.pem", "Build and sign against local headers for an RHEL 9.5 target."),
            ("kmodpack build kpx-zfs.yaml kpx-lustre.yaml --backend mock --mock-config 'rhel-9-{arch}'", "Build in mock chroots; kmodpack offers itself to the chroot."),
            ("kmodpack build foo.spec --kernel 6.11.4-301.fc41.x86_64 --srpm-only", "Self-contained SRPMs for Copr, Koji or OBS."),
        ],
        "kmodpack-kabi" | "kmodpack-kabi-check" => &[
            ("kmodpack kabi check --kernel /usr/src/kernels/5.14.0-503.11.1.el9_5.x86_64/Module.symvers kmod-foo-1.0-1.x86_64.rpm", "Would the kernel's loader accept these modules?"),
        ],
        "kmodpack-kabi-diff" => &[
            ("kmodpack kabi diff Module.kabi_x86_64.el8 Module.kabi_x86_64.el9 --used-by foo.ko", "Which symbols foo.ko uses changed between two kABI lists."),
        ],
        "kmodpack-alias" => &[("kmodpack alias --pci 15b3:101b kmod-*.rpm", "Which module drives PCI device 15b3:101b?")],
        "kmodpack-dud" | "kmodpack-dud-build" => &[
            ("kmodpack dud build -o dd.iso --installer-kernel 5.14.0-503.14.1.el9_5.x86_64 --pci-id 15b3:101b kmod-*.rpm", "An anaconda driver update disk, checked before it is written."),
            ("kmodpack dud build --format suse -o dud.iso --installer-kernel 5.14.21-150500.55.83-default kmp-*.rpm", "A SUSE driver update."),
        ],
        "kmodpack-dud-explain" => &[
            ("kmodpack dud explain B4", "What checklist code B4 in a finding means."),
            ("kmodpack dud explain --list", "Every code, with its section and default severity."),
        ],
        "kmodpack-dud-verify" => &[("kmodpack dud verify dd.iso --installer-kernel 5.14.0-503.14.1.el9_5.x86_64", "Read a disk back as the installer would.")],
        _ => &[],
    }
}

const EXIT_STATUS: &str = ".SH \"EXIT STATUS\"\n.TP\n0\nSuccess: everything asked for was done and every check passed.\n\
.TP\n1\nThe command ran and found problems: unresolved dependencies (\\fBdeps check\\fR), modules the kernel \
would refuse (\\fBkabi check\\fR), cells that failed (\\fBbuild\\fR), a disk that would not load (\\fBdud\\fR).\n\
.TP\n2\nBad input or usage: one line on standard error naming the file and the problem; nothing half\\-written.\n";

const FILES: &str = ".SH FILES\n.TP\n/usr/lib/rpm/fileattrs/kmodpack.attr\nrpm's fileattrs class that runs \\fBkmodpack deps\\fR \
for every packaged kernel module (installed by make install or the kmodpack RPM).\n\
.TP\n/usr/lib/rpm/macros.d/macros.kmodpack\n%_kmodpack_bin and the %kmodpack_* macros for specs that hook kmodpack into their own class.\n\
.TP\n/usr/share/kmodpack/templates\nThe spec templates (copies of the built-in ones; \\fB\\-\\-template\\-dir\\fR replaces them).\n\
.TP\n/usr/src/kernels/\\fIkver\\fR/Module.symvers, /lib/modules/\\fIkver\\fR/build/Module.symvers, /boot/symvers\\-\\fIkver\\fR.gz\n\
Where a kernel's symbol versions are looked up (\\fB\\-\\-symvers\\fR or KMODPACK_SYMVERS instead).\n\
.TP\n/etc/pki/kmodpack/signing_key.pem, signing_cert.pem\nThe signing key and certificate SRPMs name by default \
(the build host's paths are never written into an SRPM).\n\
.SH \"SEE ALSO\"\nkmodpack\\-description(5), rpmbuild(8), mock(1)\n";

/// The sections appended to the page of `name`.
pub fn extras(name: &str) -> String {
    let mut out = String::new();
    let ex = examples(name);
    if !ex.is_empty() {
        out.push_str(".SH EXAMPLES\n");
        for (cmd, what) in ex {
            out.push_str(&format!(
                ".PP\n{}\n.PP\n.RS 4\n.nf\n{}\n.fi\n.RE\n",
                roff(what),
                cmd.replace('\\', "\\e").replace('-', "\\-")
            ));
        }
    }
    out.push_str(EXIT_STATUS);
    out.push_str(FILES);
    out
}

/// kmodpack-description(5): the YAML package description.
pub fn description_page(version: &str) -> String {
    let mut out = format!(
        ".TH kmodpack-description 5 \"\" \"kmodpack {version}\" \"File Formats\"\n.SH NAME\n\
         kmodpack\\-description \\- the YAML package description read by kmodpack spec and kmodpack build\n\
         .SH DESCRIPTION\nA description says what to package: the module sources, how they build, which \
         kernels and arches to target, and how the kmod packages look. Paths are relative to the \
         description file. Unknown keys are errors; every value is checked before a spec is rendered, \
         and an error names the file, the line and the key.\n.SH KEYS\n"
    );
    for (key, meaning) in DESCRIPTION_KEYS {
        out.push_str(&format!(".TP\n{}\n{}\n", roff(key), roff(meaning)));
    }
    out.push_str(
        ".SH EXAMPLE\n.nf\nname: kpx\\-zfs\nversion: 2.2.6\nsummary: Storage pool module\nlicense: GPL\\-2.0\\-only\n\
         source:\n  dir: src\nmodules:\n  \\- name: kpx_zfs\nkernels:\n  \\- release: 5.14.0\\-503.11.1.el9_5\n    \
         arches: [x86_64]\ndevel: true\n.fi\n",
    );
    out.push_str(".SH \"SEE ALSO\"\nkmodpack\\-spec(1), kmodpack\\-build(1)\n");
    out
}

/// Writes every page into `dir`: `kmodpack.1`, one per subcommand
/// (`kmodpack-deps-check.1`, as clap_mangen names them) and
/// `kmodpack-description.5`.
pub fn write_pages(cmd: clap::Command, dir: &Path) -> std::io::Result<()> {
    fn walk(cmd: clap::Command, dir: &Path) -> std::io::Result<()> {
        for sub in cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
            .cloned()
        {
            walk(sub, dir)?;
        }
        let man = clap_mangen::Man::new(cmd);
        let mut page = Vec::new();
        man.render(&mut page)?;
        let name = man.get_filename();
        let stem = name.trim_end_matches(".1");
        page.extend_from_slice(extras(stem).as_bytes());
        std::fs::write(dir.join(&name), page)
    }
    let mut cmd = cmd;
    cmd.build();
    let version = cmd.get_version().unwrap_or_default().to_string();
    walk(cmd, dir)?;
    std::fs::write(
        dir.join("kmodpack-description.5"),
        description_page(&version),
    )
}

/// The keys of a package description and what they mean (README.md's
/// "Package description reference" table, which tests/manpages.rs keeps equal).
pub const DESCRIPTION_KEYS: &[(&str, &str)] = &[
    ("`name`", "base name: `kmod-<name>` / `<name>-kmp-<flavor>` (required)"),
    ("`version`, `release`", "package version (required) and release (`1`); rpm characters, no `-`"),
    ("`epoch`", "rpm Epoch of every package (only when a version went backwards)"),
    ("`release_from_kernel`", "redhat-kabi: Release gets the target kernel's dist tag (`1.el9_5` for `5.14.0-503.11.1.el9_5`, also when retargeted with `kmod_kernel_version`; the `dist` macro for a kernel without one) instead of `%{?dist}`, which is `.el9` on every RHEL 9 builder: builds for several minor releases never share an NVRA (`true` for redhat-kabi; `false` gives `<release>%{?dist}`)"),
    ("`summary`, `license`, `url`, `description`", "package metadata; summary and license required; one line each except `description`"),
    ("`style`", "`redhat-kabi` (default), `per-kernel`, `suse-kmp`"),
    ("`source.dir` / `source.tarball`", "module sources: a directory (packed as `<name>-<version>.tar.gz`) or a tarball (one of them)"),
    ("`source.top_dir`", "top directory in the tarball (`<name>-<version>`)"),
    ("`source.patches`", "patches applied with `-p1`, in order"),
    ("`build.subdir`", "directory of the sources where `make -C <kernel> M=<dir> modules` runs (`.`)"),
    ("`build.make_args`", "extra `make` arguments, e.g. `CONFIG_FOO=m`"),
    ("`build.commands`", "ordered shell steps run instead of kbuild (see above); modules come from `modules[].path`"),
    ("`build.dkms.conf`, `.module`, `.version`", "run this dkms.conf's DKMS recipe in `%build` (written by `--from-dkms`; `module`/`version` are DKMS's `$module`/`$module_version`)"),
    ("`modules[].name`", "module file name without `.ko` (required)"),
    ("`modules[].path`", "where kbuild leaves the `.ko`, relative to the source top (`build.subdir`)"),
    ("`modules[].install_dir`", "directory under `extra/` or `updates/` (the package `name`; for a module of `packages[]`, `<name>-<suffix>`)"),
    ("`packages[].name`, `.modules`", "a further kmod package `kmod-<name>-<name of the entry>` of the same build, shipping these modules (names from `modules`); the others stay in `kmod-<name>` (suse-kmp: `<name>-<entry>-kmp-<flavor>` beside `<name>-kmp-<flavor>`; per-kernel: `kmod-<name>-<entry>-<uname -r>` per kernel plus the metapackage `kmod-<name>-<entry>`)"),
    ("`packages[].summary`, `.description`", "its metadata (the description's summary with the suffix)"),
    ("`packages[].requires`, `.provides`, `.conflicts`, `.obsoletes`", "relations of that package only; its ksym() Requires/Provides are generated from its own modules"),
    ("`packages[].scriptlets`", "its scriptlet policy (the top-level `scriptlets`)"),
    ("`packages[].switch`", "a `switches[].name`: the package, its modules and files are built only with that switch on (Lustre's `--without zfs`)"),
    ("`files[].source`, `.dest`, `.mode`, `.package`", "file in the sources installed as the absolute `dest` (not below the module or firmware trees, no `..`, globs or macros) with octal `mode` (`\"0644\"`, quoted; no set-id bits), in the main package or the named `packages[]` entry; under `/etc` it is `%config(noreplace)`"),
    ("`modprobe.blacklist`, `.options[].module`/`.options`, `.softdeps[].module`/`.pre`/`.post`", "written as `/etc/modprobe.d/kmod-<name>.conf` (`blacklist`, `options`, `softdep` lines; SUSE `<name>.conf`)"),
    ("`modules_load`", "modules loaded at boot: `/etc/modules-load.d/kmod-<name>.conf`"),
    ("`dracut.add_drivers`", "drivers forced into the initramfs (boot-critical storage): `add_drivers+=` in `/etc/dracut.conf.d/kmod-<name>.conf`"),
    ("`license_files`, `doc_files`", "files of the sources packaged as `%license` / `%doc` of the main package"),
    ("`kernels[].release`", "rpm kernel version-release, e.g. `5.14.0-503.11.1.el9_5` (required); the `uname -r` spelling `5.14.0-503.11.1.el9_5.x86_64` is the same kernel when its arch is in `arches` (stored without it). `build --kernel` takes either spelling, and adds a release the description does not list"),
    ("`kernels[].arches`", "rpm arches (`[x86_64]`)"),
    ("`kernels[].flavor`", "`debug`, `rt`, `64k`…; SUSE `default` (none / `default`)"),
    ("`kernels[].build_dir`", "kernel tree to compile against (`/usr/src/kernels/<uname -r>`, SUSE `/usr/src/linux-<release>-obj/<arch>/<flavor>`)"),
    ("`depends[].name`, `.version`", "a kmod this one is built against and requires (`kmod-<name> >= <version>`)"),
    ("`depends[]` in suse-kmp", "`BuildRequires: <name>-kmp-<flavor>-devel [>= version]` and `Requires: <name>-kmp-<flavor> [>= version]` per flavor"),
    ("`depends[].symvers`", "its Module.symvers at build time (from its `-devel` package); `{kver}` is the target kernel's uname -r"),
    ("`devel`", "also build the `-devel` package with this kmod's Module.symvers (`false`)"),
    ("`akmod`", "per-kernel: also build `akmod-<name>` carrying the SRPM under `/usr/src/akmods/` for akmods to rebuild on the target (`false`)"),
    ("`devel_files`", "files/directories of the built tree (generated config headers, `include/`) the `-devel` package installs under `/usr/src/<name>-<version>/` (per-kernel: `/usr/src/<name>-<version>/<uname -r>/`; not suse-kmp)"),
    ("`firmware[].source`, `.dest`", "file in the sources, installed as `/lib/firmware/<dest>`"),
    ("`signing.key`, `.cert`, `.hash`", "sign modules with `sign-file` (key may be a `pkcs11:` URI; hash `sha256`)"),
    ("`compress`", "`none` (default) or `xz`"),
    ("`strip`", "strip debug info before signing (`true`)"),
    ("`debuginfo`", "redhat-kabi: also build `kmod-<name>-debuginfo`: each module's debug info split off before it is stripped, signed and compressed, as `/usr/lib/debug/lib/modules/<kver>/extra/<dir>/<module>.ko.debug` (Red Hat's kernel-debuginfo layout), the module naming it in `.gnu_debuglink`; needs `strip` (`false`)"),
    ("`switches[].name`, `.default`, `.summary`, `.make_args`", "build switches, `rpmbuild --with NAME` / `--without NAME` (and `kmodpack build --with/--without`): `%bcond_without NAME` when `default: true` (on unless `--without`), else `%bcond_with NAME`; `make_args` are added to kbuild's make when on; `build.commands` see `KMODPACK_WITH_<NAME>=1` or `0`. `sign` (with `signing`) and `debuginfo` (with `debuginfo: true`) are declared by kmodpack, on by default"),
    ("`requires`, `provides`, `conflicts`, `obsoletes`", "extra relations of the kmod packages (the main package with `packages`); the version may use `%{version}`, `%{release}`, `%{?epoch:%{epoch}:}`, `%{?dist}`"),
    ("`metapackage.requires`, `.provides`, `.conflicts`, `.obsoletes`", "relations of per-kernel's metapackage `kmod-<name>` (the package installed by name, so the one that obsoletes older names); other styles refuse it"),
    ("`build_requires`", "extra BuildRequires"),
    ("`scriptlets.weak_modules`, `.depmod`", "call weak-modules / depmod (`true`)"),
    ("`scriptlets.initramfs`", "`auto`: rebuild each affected kernel's initramfs once; `never`"),
    ("`kabi.greylist`", "write `greylist.txt` of kernel symbols not on the kABI stablelist (`true`)"),
    ("`changelog[].date`, `.author`, `.version`, `.changes`", "`%changelog` entries"),
    ("`suse.target`", "suse-kmp only: `sle15` (default; `/lib/modules`, weak-modules2), `sle16` or `tumbleweed` (usrmerged `/usr/lib/modules`, kernel-scriptlets, `.ko.zst`)"),
    ("`suse.supported`", "support status written to `Module.supported` for modpost: `external` (default), `yes` (SUSE's own KMPs), `no` (no file)"),
    ("`suse.flavors.<flavor>.requires`, `.provides`, `.conflicts`, `.obsoletes`", "per-flavor preamble: relations of `<name>-kmp-<flavor>` only; the flavor must be in `kernels`"),
];
