//! The driver-disk checklist: every rule `dud build` and `dud verify` apply,
//! as one enum, so a finding's code is typed, has a section and a default
//! severity, and carries the text `kmodpack dud explain <CODE>` prints.
//!
//! The rules are the installer behaviour collected in the team's
//! driver-update-disks notes (§9), in kmodpack's own words: what anaconda's
//! `dd_list`/`dd_extract` and SUSE's linuxrc actually do with a disk, and why
//! breaking the rule makes the installer ignore it without saying so.
//! The table in `docs/checklist.md` is generated from this enum
//! ([`markdown_table`]) and kept equal to it by a test.

use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The disk would not work: refuse to build (unless forced).
    Error,
    /// Might not work, or works with a caveat the user must know.
    Warning,
    /// Information (what was skipped, what could not be checked).
    Note,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        })
    }
}

/// One checklist section: the letter of a rule's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// A: what the installer runs (its kernel, its version).
    Target,
    /// B: each RPM as anaconda's `dd_list`/`dd_extract` see it.
    Package,
    /// C: each kernel module inside the RPMs.
    Module,
    /// D: the repository metadata on the disk.
    Repodata,
    /// E: the image and its layout.
    Image,
    /// F: installing the kmod on the target system.
    Install,
    /// G: SUSE linuxrc update media.
    Suse,
}

impl Section {
    /// Every section, in checklist order.
    pub const ALL: [Section; 7] = [
        Section::Target,
        Section::Package,
        Section::Module,
        Section::Repodata,
        Section::Image,
        Section::Install,
        Section::Suse,
    ];

    /// The letter its codes start with.
    pub fn letter(self) -> char {
        match self {
            Section::Target => 'A',
            Section::Package => 'B',
            Section::Module => 'C',
            Section::Repodata => 'D',
            Section::Image => 'E',
            Section::Install => 'F',
            Section::Suse => 'G',
        }
    }

    /// A heading for listings.
    pub fn title(self) -> &'static str {
        match self {
            Section::Target => "installer target",
            Section::Package => "per RPM (anaconda)",
            Section::Module => "per kernel module",
            Section::Repodata => "repository metadata",
            Section::Image => "image and layout",
            Section::Install => "install on the target system",
            Section::Suse => "SUSE linuxrc",
        }
    }

    /// Rules about the written disk itself (layout, image, repodata), the
    /// ones `dud build` re-reads its output for.
    pub fn is_disk(self) -> bool {
        matches!(self, Section::Repodata | Section::Image)
    }
}

/// Declares [`Rule`]: each entry's text is both its rustdoc and what
/// [`Rule::text`] returns, so the two cannot drift.
macro_rules! rules {
    ($( $code:ident, $section:ident, $severity:ident, $title:literal, $text:literal; )*) => {
        /// A checklist rule; its name is the code findings print (`B4`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule {
            $(
                #[doc = concat!("**", $title, "** ", $text)]
                $code,
            )*
        }

        impl Rule {
            /// Every rule, in checklist order.
            pub const ALL: &'static [Rule] = &[$(Rule::$code),*];

            /// The code, e.g. `"B4"`.
            pub fn code(self) -> &'static str {
                match self { $(Rule::$code => stringify!($code),)* }
            }

            /// The checklist section.
            pub fn section(self) -> Section {
                match self { $(Rule::$code => Section::$section,)* }
            }

            /// The severity of breaking the rule when nothing softens it
            /// (a finding may be milder, e.g. a note when it could not be checked).
            pub fn severity(self) -> Severity {
                match self { $(Rule::$code => Severity::$severity,)* }
            }

            /// One line: what the rule demands.
            pub fn title(self) -> &'static str {
                match self { $(Rule::$code => $title,)* }
            }

            /// Why the rule exists: what the installer does.
            pub fn text(self) -> &'static str {
                match self { $(Rule::$code => $text,)* }
            }
        }
    };
}

rules! {
    A1, Target, Error,
    "The installer kernel release is known exactly.",
    "anaconda compares each RPM's `kernel-modules` Provides with the full `uname -r` of the kernel the \
installer boots, not the kernel that ends up installed. A disk is only checked against a release read from \
the real install media (`--installer-iso`: the bzImage version string, `.treeinfo`, the initrd's \
`/lib/modules`) or typed with `--installer-kernel`; rebuilds such as Rocky or Alma can boot a different \
kernel than RHEL. Without it, what the disk would load is unknown.";

    B1, Package, Error,
    "Each RPM provides a versioned `kernel-modules`.",
    "`dd_list` only considers an RPM that has `Provides: kernel-modules OP VERSION` (or \
`installer-enhancement OP VERSION`, compared with 19.0). An unversioned Provides, or none, means the RPM \
is never extracted, with no message.";

    B2, Package, Error,
    "The `kernel-modules` Provides accepts the installer kernel.",
    "`dd_list` compares the Provides' version with the installer's `uname -r` using rpm's version \
comparison. `=` needs the exact release including the `.arch` suffix; `>=` against a newer kernel than \
the installer's rejects the RPM. Each (RPM, target) pair is reported ACCEPTED or IGNORED.";

    B3, Package, Warning,
    "At most one RPM per module matches each installer kernel.",
    "When several RPMs for the same module match one target, all of them go into the install and the \
order they are found in is unsorted, so which module loads is luck. Build one disk per installer kernel \
or use an exact `=` Provides.";

    B4, Package, Error,
    "Modules and firmware sit where `dd_extract` copies from.",
    "Stage 1 extracts only `lib/modules/<kver>/...` and `lib/firmware/...` from the RPM payload: modules \
under `usr/lib/modules` or firmware under `usr/lib/firmware` never reach the installer. A package that \
provides `kernel-modules` must contain at least one `.ko*` file. On a SUSE disk linuxrc loads the \
copies in `modules/` and rpm installs the KMP, so a usrmerged KMP's `usr/lib/modules` (SLE 16, \
Tumbleweed) is fine there.";

    B5, Package, Error,
    "Modules are not compressed for an installer that cannot load them.",
    "anaconda before 34.25.5.11 (RHEL 9), every RHEL 8 and Fedora before 39.32 do not handle `.ko.xz`, \
`.ko.zst`, `.ko.gz` or `.ko.bz2` on a driver disk; ship plain `.ko` files for them. For newer installers \
xz modules must use `--check=crc32`, which the kernel's decompressor needs.";

    B6, Package, Warning,
    "The RPM payload uses a compressor the installer can unpack.",
    "anaconda older than 45.11 (every RHEL branch at the time of writing) unpacks driver-disk payloads \
with tools that do not understand zstd, bzip2 or lzma payloads. Build with `_binary_payload w2.xzdio` for \
those installers.";

    B7, Package, Error,
    "The RPM's architecture matches the installer's.",
    "Binary RPMs go into `rpms/<uname -m>/` and must be built for that arch; noarch RPMs are copied into \
every arch directory. Debuginfo, debugsource and `-devel` packages never belong on a disk, and source \
RPMs go to `src/` only when asked for.";

    B9, Package, Warning,
    "No `%description` line is exactly `---`.",
    "`dd_list` prints package facts separated by `---` lines and anaconda splits its output on them, so \
such a line in a description corrupts the list of packages to install.";

    C2, Module, Error,
    "Every module loads on the installer kernel (kABI).",
    "Each `__versions` CRC must equal the installer kernel's `Module.symvers`, and every undefined \
symbol must be exported by that kernel or by another module on the disk. This is the only check that \
proves a module built for one kernel loads on another. Without the target's symvers it is a note: not \
checked.";

    C3, Module, Warning,
    "Modules are signed for Secure Boot.",
    "A module without the `~Module signature appended~` trailer, or signed with a key the firmware does \
not trust, is refused by a Secure Boot installer unless its key is enrolled (db or MOK) before booting.";

    C4, Module, Error,
    "Some module claims each `--pci-id` device.",
    "For every `--pci-id VVVV:DDDD[:SSSS:SSSS]`, a module on the disk must have a `pci:` alias that \
matches it with modprobe's glob rules; otherwise the disk ships a driver that will not bind to the \
device it is for.";

    C6, Module, Warning,
    "A module that replaces an in-box module can take over.",
    "When the installer kernel already ships a module with the same name, the disk's module cannot \
replace it while the in-box driver is in use, for example when the boot or install media sits behind \
that driver.";

    C7, Module, Error,
    "Each kmod carries the kernel dependency lines of kmodpack's generator.",
    "kmodpack gives every kernel module `Requires` on the kernel it was built for and its symbols. Without \
them dnf and zypper install the kmod on any kernel, and tools that import the package cannot resolve it.";

    D1, Repodata, Warning,
    "Repository metadata is generated last, in a format anaconda reads.",
    "Either leave `repodata/` out (anaconda runs createrepo_c itself) or create it after every RPM is \
final, with gzip compression and sha256 checksums; the zstd default of createrepo_c 1.0 is not \
readable everywhere.";

    D2, Repodata, Error,
    "The repository metadata lists exactly the RPMs on the disk.",
    "anaconda trusts `repodata/` as it is: every RPM must be in `primary.xml` with the right checksum \
and size, and every listed file must exist inside the repository. Stale metadata breaks the install \
midway.";

    D3, Repodata, Error,
    "No RPMs in subdirectories.",
    "`dd_list` does not recurse and stage 2 looks only at `rpms/<arch>/*.rpm`: an RPM one level deeper \
is never seen.";

    E1, Image, Error,
    "The disk has `rhdd3` and `rpms/<uname -m>/`.",
    "anaconda recognises a driver disk by the `rhdd3` file (one line of description) next to `rpms/`, \
whose arch directories must be named exactly as `uname -m`.";

    E2, Image, Error,
    "The ISO has Rock Ridge and the label is right.",
    "Without Rock Ridge file names and modes are mangled. The label defaults to `OEMDRV` (at most 32 \
characters, exact case), which anaconda loads automatically.";

    E4, Image, Warning,
    "No surprise kickstart on an OEMDRV image.",
    "A `ks.cfg` at the root of a disk labelled OEMDRV is used as the kickstart of the install.";

    E5, Image, Note,
    "How to hand the disk to the installer.",
    "An OEMDRV label loads by itself; otherwise boot with `inst.dd=hd:LABEL=<label>` or \
`inst.dd=https://.../name.iso` (the URL must end in `.iso`), never the old `dd=` on RHEL 9 and later, or \
use the kickstart `driverdisk` line.";

    F1, Install, Error,
    "The kmod's Requires resolve on the target system.",
    "Each `Requires` (`kernel >= ...`, `kernel(sym) = crc`, `firmware(...)` and others) must be \
satisfiable from the target's repositories plus the disk, or the install stops with \"nothing provides \
... needed by kmod-...\".";

    F2, Install, Warning,
    "The kmod overrides the in-box driver after reboot.",
    "`%post` should run weak-modules and an `/etc/depmod.d/*.conf` override should exist, so the \
installed system keeps loading the disk's module and not the in-box one.";

    G1, Suse, Warning,
    "`linux/suse/<arch>-<dist>` matches the installer's UpdateDir.",
    "linuxrc reads only the directory named after its UpdateDir (from `linuxrc.config` in the media's \
initrd); any other directory is ignored.";

    G2, Suse, Error,
    "KMPs in `install/`, the flavour's modules in `modules/`.",
    "linuxrc installs the RPMs from `install/` and loads modules only from `modules/`, in the order of \
`module.order`; it does not take `.ko` files out of KMPs, so the installer kernel flavour's modules \
(`-default`) must be on the disk unpacked.";

    G3, Suse, Warning,
    "Each module in `modules/` was built for the media kernel.",
    "linuxrc loads `modules/*.ko` into the installer kernel, so their vermagic must match it (the same \
modversions logic as C2); SLES also checks `modinfo -F supported`.";

    G4, Suse, Warning,
    "The KMP gets installed with the repository method.",
    "When the disk is used as a repository, a KMP is installed only if something requires or selects \
it, or it has `Supplements: modalias(...)`.";
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl serde::Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// `dud explain` was given a code that is not a rule.
#[derive(Debug, thiserror::Error)]
#[error("unknown checklist code `{given}`{}", suggestion_text(.suggestion))]
pub struct UnknownRule {
    /// What was asked for.
    pub given: String,
    /// The nearest rule, if any is close.
    pub suggestion: Option<Rule>,
}

fn suggestion_text(s: &Option<Rule>) -> String {
    match s {
        Some(r) => format!(" (did you mean {r}? `kmodpack dud explain --list` lists all)"),
        None => " (`kmodpack dud explain --list` lists all)".into(),
    }
}

impl std::str::FromStr for Rule {
    type Err = UnknownRule;

    /// Case-insensitive: `b4` is `B4`.
    fn from_str(s: &str) -> Result<Rule, UnknownRule> {
        let want = s.trim().to_ascii_uppercase();
        if let Some(r) = Rule::ALL.iter().find(|r| r.code() == want) {
            return Ok(*r);
        }
        Err(UnknownRule {
            given: s.to_string(),
            suggestion: suggest(&want),
        })
    }
}

/// The nearest code: same section and nearest number, or same number in
/// another section (a typo in one of the two characters).
fn suggest(want: &str) -> Option<Rule> {
    let mut chars = want.chars();
    let letter = chars.next()?;
    let number: u32 = chars.as_str().parse().ok()?;
    let num = |r: &Rule| r.code()[1..].parse::<u32>().unwrap_or(0);
    Rule::ALL
        .iter()
        .filter(|r| r.section().letter() == letter)
        .min_by_key(|r| num(r).abs_diff(number))
        .or_else(|| Rule::ALL.iter().find(|r| num(r) == number))
        .copied()
}

/// The checklist as a Markdown table (the body of `docs/checklist.md`).
pub fn markdown_table() -> String {
    let mut out =
        String::from("| Code | Section | Severity | Rule | Why |\n|---|---|---|---|---|\n");
    for r in Rule::ALL {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.code(),
            r.section().title(),
            r.severity(),
            r.title(),
            r.text().replace('|', "\\|")
        ));
    }
    out
}
