//! Spec-injection checks: a description value can never become spec syntax.
//!
//! Why rejection rather than escaping: rpm expands macros in almost every
//! line of a spec (tags, `%description`, scriptlets) *before* it decides
//! whether the line starts a new section, so `%%` escaping at the start of a
//! line can still turn into a `%files` header, and `%(...)` runs a shell at
//! parse time (`rpmspec -P` included). Each value kind therefore gets the
//! narrowest character set that real packages need, and every rejection
//! says why and what to write instead. Values that reach shell code are
//! additionally single-quoted by the templates, so the set for them excludes
//! the quote and the backslash.

/// What a value is used for, which decides the characters it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// rpm package name part: `[A-Za-z0-9][A-Za-z0-9._+-]*`.
    PackageName,
    /// Kernel module name: `[A-Za-z0-9_-]+`.
    ModuleName,
    /// rpm version or release field: `[A-Za-z0-9._+~^]+`, no `-`.
    RpmVersion,
    /// One line of free text (summary, licence, changelog line).
    Line,
    /// Several lines of free text (`%description`).
    Text,
    /// A URL: one line, no spaces.
    Url,
    /// A file system path used at build time (no quotes, backslashes, spaces).
    Path,
    /// A relative path inside the source tree or an install directory.
    RelPath,
    /// A plain file name (becomes a `SourceN:`/`PatchN:` tag value).
    FileName,
    /// A word rendered single-quoted as is (no quotes or backslashes).
    ShellWord,
    /// A `make` argument: any one-line text, rendered single-quoted with
    /// `'` escaped for the shell (`-DVERSION=\"1.2\"` reaches make as written).
    MakeArg,
    /// An rpm architecture name.
    Arch,
    /// A kernel flavor (`debug`, `rt`, `64k`, SUSE `default`).
    Flavor,
    /// A dependency for Requires/Provides/Conflicts/Obsoletes/BuildRequires.
    Dependency,
}

/// rpm architectures kmodpack knows kernels for.
pub const ARCHES: &[&str] = &[
    "x86_64", "aarch64", "ppc64le", "s390x", "i686", "armv7hl", "riscv64", "ppc64",
];

/// Checks `value` for its use; the error says what is wrong and why.
pub fn check(value: &str, kind: Check) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty".to_string());
    }
    common(value, kind == Check::Text)?;
    if value.trim().is_empty() {
        return Err("must not be blank".to_string());
    }
    if kind != Check::Text && value.trim() != value {
        return Err(format!(
            "`{value}` has leading or trailing white space, which rpm strips; remove it"
        ));
    }
    if !matches!(kind, Check::Line | Check::Text) {
        if let Some(c) = value.chars().find(|c| matches!(c, '{' | '}')) {
            return Err(format!(
                "`{value}` contains `{c}`; values like this one are rendered inside rpm macros \
                 (`%{{!?name:%global name VALUE}}`), where a brace ends the macro and turns the rest \
                 of the line into spec syntax, so braces are not allowed"
            ));
        }
    }
    let set_err = |allowed: &str| {
        let bad: String = value
            .chars()
            .filter(|c| !allowed_char(*c, kind))
            .take(1)
            .collect();
        Err(format!(
            "`{value}` contains `{bad}`; allowed here: {allowed}"
        ))
    };
    if matches!(kind, Check::PackageName | Check::RpmVersion) && value.contains("..") {
        return Err(format!(
            "`{value}` contains `..`, which rpm refuses in names, versions and releases"
        ));
    }
    match kind {
        Check::PackageName => {
            if !value.chars().all(|c| allowed_char(c, kind)) {
                return set_err("letters, digits and . _ + -");
            }
            if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                return Err(format!("`{value}` must start with a letter or digit"));
            }
        }
        Check::ModuleName => {
            if value.ends_with(".ko") {
                return Err(format!(
                    "give the module name without `.ko`: `{}`",
                    value.trim_end_matches(".ko")
                ));
            }
            if !value.chars().all(|c| allowed_char(c, kind)) {
                return set_err("letters, digits, _ and - (the .ko file name without `.ko`)");
            }
            if value.starts_with('-') {
                return Err(format!(
                    "module name `{value}` must not start with `-` (it would read as an option to install, depmod, modprobe)"
                ));
            }
        }
        Check::RpmVersion => {
            if value.contains('-') {
                return Err(format!(
                    "`{value}` contains `-`, which rpm reserves as the version-release separator; use `.` or `_` instead"
                ));
            }
            if !value.chars().all(|c| allowed_char(c, kind)) {
                return set_err("letters, digits and . _ + ~ ^");
            }
            if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                return Err(format!("`{value}` must start with a letter or digit"));
            }
        }
        Check::Line => {}
        Check::Text => {
            if let Some(l) = value.lines().find(|l| l.trim_start().starts_with('#')) {
                return Err(format!(
                    "the line `{l}` starts with `#`: rpm drops it as a comment; reword it or put text before the `#`"
                ));
            }
        }
        Check::Url => {
            if value.contains(char::is_whitespace) {
                return Err(format!("URL `{value}` contains a space"));
            }
        }
        Check::Path | Check::RelPath => {
            if let Some(c) = value
                .chars()
                .find(|c| matches!(c, '\'' | '"' | '\\' | '`' | '$') || c.is_whitespace())
            {
                return Err(format!(
                    "path `{value}` contains `{}`; paths reach build shell code, so quotes, backslashes, `$`, backquotes and spaces are not allowed",
                    c.escape_default()
                ));
            }
            if kind == Check::RelPath {
                if value.starts_with('/') {
                    return Err(format!(
                        "`{value}` must be relative (inside the source tree or install directory)"
                    ));
                }
                if value.split('/').any(|p| p == "..") {
                    return Err(format!("`{value}` must not leave its directory with `..`"));
                }
            }
            if value.starts_with('-') {
                return Err(format!(
                    "path `{value}` must not start with `-` (it would read as an option)"
                ));
            }
        }
        Check::FileName => {
            if !value.chars().all(|c| allowed_char(c, kind)) || value.starts_with(['.', '-']) {
                return Err(format!(
                    "file name `{value}` becomes a SourceN/PatchN tag; use letters, digits and . _ + - (not leading . or -)"
                ));
            }
        }
        Check::ShellWord => {
            if let Some(c) = value.chars().find(|c| matches!(c, '\'' | '\\')) {
                return Err(format!(
                    "`{value}` contains `{c}`; this value is single-quoted in the spec as is, so quotes and backslashes are not allowed"
                ));
            }
        }
        // Quoted for the shell when rendered; only the common rules apply.
        Check::MakeArg => {}
        Check::Arch => {
            if !ARCHES.contains(&value) {
                let hint = super::suggest::closest(value, ARCHES)
                    .map(|c| format!("did you mean `{c}`? "))
                    .unwrap_or_default();
                return Err(format!(
                    "unknown architecture `{value}`; {hint}use rpm names: {}",
                    ARCHES.join(", ")
                ));
            }
        }
        Check::Flavor => {
            if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "flavor `{value}` must be letters, digits and _ (e.g. debug, rt, 64k, default)"
                ));
            }
        }
        Check::Dependency => {
            if !value.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '/' || c == '(') {
                return Err(format!(
                    "dependency `{value}` must start with a package name, a path or `(`"
                ));
            }
            if value.contains('\\') {
                return Err(format!("dependency `{value}` contains a backslash"));
            }
            dependency(value)?;
        }
    }
    Ok(())
}

fn allowed_char(c: char, kind: Check) -> bool {
    match kind {
        Check::PackageName => c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'),
        Check::ModuleName => c.is_ascii_alphanumeric() || matches!(c, '_' | '-'),
        Check::RpmVersion => c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '~' | '^'),
        Check::FileName => c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'),
        _ => true,
    }
}

/// Rules for every value: no macro character, no line breaks (except in
/// multi-line text), no control characters.
fn common(value: &str, multiline: bool) -> Result<(), String> {
    if let Some(i) = value.find('%') {
        let what = macro_kind(&value[i..]);
        return Err(format!(
            "contains `%` ({what}); rpm expands `%` in spec lines, so description values may not contain it — write the text without `%`"
        ));
    }
    for (n, c) in value.chars().enumerate() {
        if c == '\n' {
            if multiline {
                continue;
            }
            return Err(format!(
                "contains a line break (after `{}`), which would start a new spec line — a new tag or `%section`; keep it on one line",
                value.chars().take(n).collect::<String>().escape_default()
            ));
        }
        if c == '\r' {
            return Err("contains a carriage return; use plain `\\n` line ends".to_string());
        }
        if invisible(c) {
            return Err(format!(
                "contains the invisible character U+{:04X} (a line/paragraph separator, bidi override or \
                 zero-width mark), which can make the spec read differently from what it does; remove it",
                c as u32
            ));
        }
        if c.is_control() && !(multiline && c == '\t') {
            return Err(format!(
                "contains the control character {}",
                c.escape_default()
            ));
        }
    }
    Ok(())
}

/// Macros a relation's version may use; rpm expands them to this package's
/// own values when the spec is parsed (`Obsoletes: kmod-old < %{version}`,
/// `Provides: old-name = %{version}-%{release}`), which is how real kmod
/// specs rename packages. Nothing else with `%` is accepted.
pub const RELATION_MACROS: &[&str] = &[
    "%{?epoch:%{epoch}:}",
    "%{version}",
    "%{release}",
    "%{?dist}",
];

/// A Requires/Provides/Conflicts/Obsoletes value: a [`Check::Dependency`]
/// that may use [`RELATION_MACROS`] in its version (never in its name).
pub fn relation(value: &str) -> Result<(), String> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    if let [name, op, evr] = parts.as_slice() {
        if evr.contains('%') && !name.contains('%') && !op.contains('%') {
            let mut plain = evr.to_string();
            for m in RELATION_MACROS {
                plain = plain.replace(m, "1");
            }
            if !plain.contains('%') {
                return check(&value.replacen(evr, &plain, 1), Check::Dependency)
                    .map_err(|e| e.replacen(&plain, evr, 1));
            }
            return Err(format!(
                "dependency `{value}`: the version may use only {} of rpm's macros",
                RELATION_MACROS.join(", ")
            ));
        }
    }
    check(value, Check::Dependency)
}

/// An absolute install path for `files[].dest`: a [`Check::Path`] that
/// starts with `/`, has no `..`, `.` or empty component, no glob character
/// (rpm would expand it in `%files`), and is not below the module trees or
/// `/lib/firmware`, which the package lays out itself.
pub fn install_path(value: &str) -> Result<(), String> {
    check(value, Check::Path)?;
    if !value.starts_with('/') {
        return Err(format!(
            "`{value}` must be an absolute path (`/etc/modprobe.d/foo.conf`)"
        ));
    }
    let comps: Vec<&str> = value[1..].split('/').collect();
    if comps
        .iter()
        .any(|c| c.is_empty() || *c == "." || *c == "..")
    {
        return Err(format!(
            "`{value}` has an empty, `.` or `..` component; write the plain path"
        ));
    }
    no_glob(value)?;
    for tree in [
        "lib/modules",
        "usr/lib/modules",
        "lib/firmware",
        "usr/lib/firmware",
    ] {
        if value[1..] == *tree || value[1..].starts_with(&format!("{tree}/")) {
            return Err(format!(
                "`{value}` is below /{tree}, which kmodpack lays out itself (use `modules` or `firmware`)"
            ));
        }
    }
    Ok(())
}

/// No rpm `%files` glob character (`*`, `?`, `[`, `]`, `{`, `}`).
pub fn no_glob(value: &str) -> Result<(), String> {
    match value.chars().find(|c| "*?[]{}".contains(*c)) {
        Some(c) => Err(format!(
            "`{value}` contains `{c}`, which rpm expands as a glob in %files; name the file exactly"
        )),
        None => Ok(()),
    }
}

/// A file mode: three octal digits, optionally after `0` (`0644`, `755`).
/// Set-id and sticky bits are refused: a kmod has no business installing
/// set-id files, and root runs the build.
pub fn file_mode(value: &str) -> Result<(), String> {
    let digits = value
        .strip_prefix('0')
        .filter(|d| d.len() == 3)
        .unwrap_or(value);
    if digits.len() == 3 && digits.chars().all(|c| ('0'..='7').contains(&c)) {
        return Ok(());
    }
    if value.len() == 4 && value.chars().all(|c| ('0'..='7').contains(&c)) {
        return Err(format!(
            "mode `{value}` sets set-user-ID, set-group-ID or sticky bits; use three octal digits like `0644`"
        ));
    }
    Err(format!(
        "mode `{value}` is not an octal file mode; write it quoted, e.g. \"0644\" or \"0755\""
    ))
}

/// Words of a config line written into a generated file (`options` of a
/// modprobe.d line): one line, no quote-breaking or escaping characters.
pub fn config_words(value: &str) -> Result<(), String> {
    check(value, Check::Line)?;
    if let Some(c) = value.chars().find(|c| matches!(c, '\\' | '`' | '$' | '#')) {
        return Err(format!(
            "`{value}` contains `{c}`, which the generated config file would not keep literally"
        ));
    }
    Ok(())
}

/// One rpm dependency, as rpm's `parseRCPOT` will read it: `NAME` or
/// `NAME OP EVR`, or a rich dependency in parentheses. Anything else would
/// either make rpmbuild fail later or be split into several dependencies.
fn dependency(value: &str) -> Result<(), String> {
    if value.starts_with('(') {
        let mut depth = 0i32;
        for (i, c) in value.char_indices() {
            depth += match c {
                '(' => 1,
                ')' => -1,
                _ => 0,
            };
            if depth == 0 && i + 1 != value.len() {
                return Err(format!(
                    "rich dependency `{value}` must be one parenthesised expression"
                ));
            }
        }
        if depth != 0 {
            return Err(format!(
                "rich dependency `{value}` has unbalanced parentheses"
            ));
        }
        return Ok(());
    }
    let parts: Vec<&str> = value.split_whitespace().collect();
    let name_ok = |n: &str| {
        n.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-' | '/' | '(' | ')' | ':')
        })
    };
    let evr_ok = |v: &str| {
        !v.contains("..")
            && v.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-' | ':' | '~' | '^')
            })
    };
    let ok = match parts.as_slice() {
        [name] => name_ok(name),
        [name, op, evr] => {
            name_ok(name)
                && !name.starts_with('/')
                && matches!(*op, "<" | "<=" | "=" | ">=" | ">")
                && evr_ok(evr)
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "dependency `{value}` is not one rpm dependency: write `NAME`, `NAME OP VERSION` \
             (OP one of < <= = >= >, NAME of letters, digits and . _ + - / ( ) :, VERSION of \
             letters, digits and . _ + - : ~ ^) or a rich dependency in parentheses"
        ))
    }
}

/// Unicode line separators, bidi controls and zero-width characters
/// ("Trojan Source"): not control characters to `char::is_control`, but
/// they reorder or hide text in an editor and in `rpm -qi`.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

fn macro_kind(s: &str) -> &'static str {
    if s.starts_with("%(") {
        "`%(...)` would run a shell command when the spec is parsed"
    } else if s.starts_with("%{") || s.starts_with("%[") {
        "`%{...}` is a macro expansion"
    } else if s.starts_with("%%") {
        "`%%` can turn into a `%` directive after expansion"
    } else if s[1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
        "a `%` directive, macro or section header"
    } else {
        "the rpm macro character"
    }
}

/// Checks an rpm-facing kernel release (`5.14.0-503.11.1.el9_5`): it becomes
/// the version in `Requires: kernel >= …`, `Provides: kernel-modules >= …`
/// and `BuildRequires: kernel-devel = …`, so it must be exactly one rpm
/// `version-release` pair, without the arch (that goes in `arches`).
pub fn kernel_release(release: &str, arches: &[String]) -> Result<(), String> {
    if release.is_empty() {
        return Err("must not be empty".to_string());
    }
    common(release, false)?;
    let dashes = release.matches('-').count();
    if dashes != 1 {
        let why = if dashes == 0 {
            "it has no `-` between the kernel version and its package release".to_string()
        } else {
            format!("it has {dashes} `-` characters and rpm allows exactly one (between version and release)")
        };
        return Err(format!(
            "kernel release `{release}` is not a valid rpm version-release: {why}, so `Requires: kernel >= {release}` and \
             `Provides: kernel-modules >= {release}` could never be built or satisfied. Give the rpm release of the \
             kernel you target (e.g. `5.14.0-503.11.1.el9_5` for RHEL 9.5, without the arch) and set `build_dir` to the \
             kernel tree to compile against (e.g. a Debian `/lib/modules/<uname -r>/build`)"
        ));
    }
    let (ver, rel) = release.split_once('-').unwrap_or((release, ""));
    for (part, what) in [(ver, "version"), (rel, "release")] {
        if part.is_empty() {
            return Err(format!(
                "kernel release `{release}` has an empty {what} part"
            ));
        }
        if let Some(c) = part
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '~' | '^')))
        {
            return Err(format!(
                "kernel release `{release}` contains `{c}`, which rpm does not allow in a {what}"
            ));
        }
    }
    if !ver.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "kernel release `{release}` must start with the kernel version (a digit)"
        ));
    }
    for a in arches
        .iter()
        .map(String::as_str)
        .chain(ARCHES.iter().copied())
    {
        if let Some(stripped) = release.strip_suffix(&format!(".{a}")) {
            return Err(format!(
                "kernel release `{release}` ends with the arch `.{a}`; give `{stripped}` and list `{a}` under `arches`"
            ));
        }
    }
    if rel.contains('+') {
        return Err(format!("kernel release `{release}` contains a `+flavor` suffix; give the flavor under `flavor`"));
    }
    Ok(())
}

/// `5.14.0-1.el9.x86_64` → (`5.14.0-1.el9`, `x86_64`) for the arches rpm
/// knows; `None` when the release ends with no arch.
pub fn split_arch(release: &str) -> Option<(&str, &str)> {
    ARCHES.iter().find_map(|a| {
        release
            .strip_suffix(a)
            .and_then(|r| r.strip_suffix('.'))
            .map(|r| (r, *a))
    })
}

/// Checks a `%changelog` date (`Sat Nov 21 2026`): rpm refuses to build a
/// spec whose changelog date it cannot parse, and warns on a wrong weekday.
pub fn changelog_date(date: &str) -> Result<(), String> {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let bad = || {
        format!("`{date}` is not an rpm changelog date like `Sat Nov 21 2026` (weekday, month, day, year)")
    };
    let parts: Vec<&str> = date.split_whitespace().collect();
    let [wd, mon, day, year] = parts.as_slice() else {
        return Err(bad());
    };
    let wd = DAYS.iter().position(|d| d == wd).ok_or_else(bad)?;
    let m = MONTHS.iter().position(|x| x == mon).ok_or_else(bad)? as i64 + 1;
    let d: i64 = day.parse().map_err(|_| bad())?;
    let y: i64 = year.parse().map_err(|_| bad())?;
    if !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return Err(bad());
    }
    // Sakamoto's day-of-week algorithm (0 = Sunday).
    const T: [i64; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let yy = if m < 3 { y - 1 } else { y };
    let real = ((yy + yy / 4 - yy / 100 + yy / 400 + T[(m - 1) as usize] + d) % 7) as usize;
    if real != wd {
        return Err(format!(
            "`{date}`: {mon} {d} {y} is a {}, not a {}",
            DAYS[real], DAYS[wd]
        ));
    }
    Ok(())
}
