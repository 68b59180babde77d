//! `dkms.conf` import: a DKMS module becomes a kmod package description, so
//! a driver shipped for DKMS can be built once into a binary kmod RPM for
//! servers that have no compiler and no DKMS.
//!
//! dkms.conf is sourced by bash; we read the assignments a dkms.conf
//! actually uses (`KEY=value`, `KEY[N]=value`, single/double quotes,
//! `$PACKAGE_NAME`/`$PACKAGE_VERSION` references, comments, CRLF line ends)
//! without running it. Anything that only makes sense on the target
//! (`${kernelver}` in MAKE, PRE_BUILD scripts) is reported, never guessed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::description::{Build, Description, Kernel, KmodDependency, Module, Source};
use super::SpecError;

/// What the import needs besides dkms.conf.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Target kernels (dkms.conf names none: DKMS builds for whatever is installed).
    pub kernels: Vec<Kernel>,
    /// Source directory to put in the description (normally the directory of dkms.conf).
    pub source_dir: PathBuf,
    /// Licence (dkms.conf has none).
    pub license: Option<String>,
}

/// The imported description and what could not be carried over.
#[derive(Debug, Clone)]
pub struct Imported {
    pub description: Description,
    /// Human-readable notes about dropped or approximated settings.
    pub notes: Vec<String>,
}

/// Parses dkms.conf text into `KEY` / `KEY[N]` values (variables expanded
/// where they are known), keeping each key's line for errors.
pub fn parse_assignments(
    text: &str,
    origin: &str,
) -> Result<BTreeMap<String, (String, usize)>, SpecError> {
    let mut vars: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim_end_matches('\r').trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim();
        let Some((key, value)) = line.split_once('=') else {
            return Err(SpecError::Dkms {
                origin: origin.to_string(),
                line: line_no,
                message: format!("expected `KEY=value`, found `{line}` (kmodpack reads dkms.conf without running it)"),
            });
        };
        let key = key.trim();
        let valid_key = {
            let (name, idx) = match key.split_once('[') {
                Some((n, rest)) => (n, Some(rest)),
                None => (key, None),
            };
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && idx.is_none_or(|r| {
                    r.strip_suffix(']')
                        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
                })
        };
        if !valid_key {
            return Err(SpecError::Dkms {
                origin: origin.to_string(),
                line: line_no,
                message: format!("`{key}` is not a variable or array element name"),
            });
        }
        let value = unquote(value.trim(), origin, line_no)?;
        let value = expand(&value, &vars);
        let key = normalize_index(key);
        vars.insert(key, (value, line_no));
    }
    Ok(vars)
}

fn normalize_index(key: &str) -> String {
    match key.split_once('[') {
        Some((n, rest)) => {
            let idx: usize = rest.trim_end_matches(']').parse().unwrap_or(0);
            format!("{n}[{idx}]")
        }
        None => key.to_string(),
    }
}

fn unquote(v: &str, origin: &str, line: usize) -> Result<String, SpecError> {
    // Strip a trailing comment outside quotes and join quoted pieces.
    let mut out = String::new();
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                let mut closed = false;
                for d in chars.by_ref() {
                    if d == c {
                        closed = true;
                        break;
                    }
                    out.push(d);
                }
                if !closed {
                    return Err(SpecError::Dkms {
                        origin: origin.to_string(),
                        line,
                        message: format!(
                            "unterminated {c} quote (multi-line values are not supported)"
                        ),
                    });
                }
            }
            '#' if out.is_empty() || out.ends_with(' ') => break,
            ' ' | '\t' => {
                // Unquoted whitespace ends the assignment (`A=b c` runs command c in bash).
                if chars.peek().is_some_and(|n| *n != '#') && !out.is_empty() {
                    let rest: String = chars.collect();
                    if !rest.trim().is_empty() && !rest.trim_start().starts_with('#') {
                        return Err(SpecError::Dkms {
                            origin: origin.to_string(),
                            line,
                            message: format!("unquoted space in value `{v}`; quote it"),
                        });
                    }
                }
                break;
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// Expands `$NAME` / `${NAME}` for variables already assigned; others stay as written.
fn expand(v: &str, vars: &BTreeMap<String, (String, usize)>) -> String {
    let re = regex::Regex::new(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
        .expect("static regex");
    re.replace_all(v, |c: &regex::Captures| {
        let name = c.get(1).or(c.get(2)).map(|m| m.as_str()).unwrap_or("");
        match vars.get(name) {
            Some((val, _)) => val.clone(),
            None => c[0].to_string(),
        }
    })
    .into_owned()
}

/// Variables dkms.conf documents that this import understands or reports.
const HANDLED: &[&str] = &[
    "PACKAGE_NAME",
    "PACKAGE_VERSION",
    "BUILT_MODULE_NAME",
    "BUILT_MODULE_LOCATION",
    "DEST_MODULE_NAME",
    "DEST_MODULE_LOCATION",
    "MAKE",
    "MAKE_MATCH",
    "CLEAN",
    "STRIP",
    "PATCH",
    "PATCH_MATCH",
    "AUTOINSTALL",
    "NO_WEAK_MODULES",
    "REMAKE_INITRD",
    "BUILD_DEPENDS",
    "BUILD_DEPENDS_REBUILD",
    "BUILD_EXCLUSIVE_KERNEL",
    "BUILD_EXCLUSIVE_KERNEL_MIN",
    "BUILD_EXCLUSIVE_KERNEL_MAX",
    "BUILD_EXCLUSIVE_ARCH",
    "BUILD_EXCLUSIVE_CONFIG",
    "PRE_BUILD",
    "POST_BUILD",
    "POST_ADD",
    "POST_INSTALL",
    "POST_REMOVE",
    "PRE_INSTALL",
    "OBSOLETE_BY",
    "MODULES_CONF",
    "MODULES_CONF_ALIAS_TYPE",
    "MODULES_CONF_OBSOLETES",
    "MODULES_CONF_OBSOLETE_ONLY",
];

/// Imports a dkms.conf. `origin` names it in errors.
pub fn import(text: &str, origin: &Path, opts: &ImportOptions) -> Result<Imported, SpecError> {
    let o = origin.display().to_string();
    let vars = parse_assignments(text, &o)?;
    let err = |line: usize, message: String| SpecError::Dkms {
        origin: o.clone(),
        line,
        message,
    };
    let get = |k: &str| vars.get(k).map(|(v, l)| (v.as_str(), *l));
    let mut notes = Vec::new();

    let (name, _) = get("PACKAGE_NAME").ok_or_else(|| err(0, "PACKAGE_NAME is missing".into()))?;
    let (version, vline) = get("PACKAGE_VERSION")
        .filter(|(v, _)| !v.is_empty())
        .ok_or_else(|| {
            err(
                get("PACKAGE_VERSION").map(|x| x.1).unwrap_or(0),
                "PACKAGE_VERSION is missing or empty".into(),
            )
        })?;
    let version = if version.contains('-') {
        let fixed = version.replace('-', "_");
        notes.push(format!("line {vline}: PACKAGE_VERSION `{version}` contains `-` (rpm's version-release separator); using `{fixed}`"));
        fixed
    } else {
        version.to_string()
    };

    // Arrays by index.
    let array = |base: &str| -> BTreeMap<usize, (String, usize)> {
        vars.iter()
            .filter_map(|(k, v)| {
                let idx = k
                    .strip_prefix(base)?
                    .strip_prefix('[')?
                    .strip_suffix(']')?
                    .parse()
                    .ok()?;
                Some((idx, v.clone()))
            })
            .collect()
    };
    let built = array("BUILT_MODULE_NAME");
    let mut modules = Vec::new();
    if built.is_empty() {
        // DKMS: with one module, BUILT_MODULE_NAME defaults to PACKAGE_NAME.
        notes.push(format!("BUILT_MODULE_NAME[0] not set: using PACKAGE_NAME `{name}` as the module name, as DKMS does"));
        modules.push(Module {
            name: name.to_string(),
            path: location(&array("BUILT_MODULE_LOCATION"), 0),
            install_dir: None,
        });
    }
    let dest_names = array("DEST_MODULE_NAME");
    let dest_locs = array("DEST_MODULE_LOCATION");
    let locs = array("BUILT_MODULE_LOCATION");
    for (idx, (m, line)) in &built {
        if m.is_empty() {
            return Err(err(*line, format!("BUILT_MODULE_NAME[{idx}] is empty")));
        }
        let m = m.trim_end_matches(".ko");
        if let Some((d, l)) = dest_names.get(idx) {
            if d != m {
                notes.push(format!(
                    "line {l}: DEST_MODULE_NAME[{idx}] `{d}` renames the module at install; kmod packages keep the built name `{m}`"
                ));
            }
        }
        if let Some((d, l)) = dest_locs.get(idx) {
            notes.push(format!(
                "line {l}: DEST_MODULE_LOCATION[{idx}] `{d}` is not used: kmods install to extra/<name>/ (Red Hat) or updates/ (SUSE)"
            ));
        }
        if modules.iter().any(|x: &Module| x.name == m) {
            return Err(err(
                *line,
                format!("module `{m}` is listed twice in BUILT_MODULE_NAME"),
            ));
        }
        modules.push(Module {
            name: m.to_string(),
            path: location(&locs, *idx),
            install_dir: None,
        });
    }

    // DKMS builds where the modules are; with one common location that is kbuild's M= directory.
    let mut subdir = None;
    let locations: std::collections::BTreeSet<Option<String>> =
        modules.iter().map(|m| m.path.clone()).collect();
    if locations.len() == 1 {
        if let Some(Some(l)) = locations.into_iter().next() {
            for m in &mut modules {
                m.path = None;
            }
            subdir = Some(l);
        }
    }
    let mut make_args = Vec::new();
    if let Some((cmd, line)) = get("MAKE[0]").or(get("MAKE")) {
        for tok in cmd.split_whitespace() {
            let standard = tok == "make"
                || tok == "-C"
                || tok.starts_with("-j")
                || tok.starts_with("M=")
                || tok.starts_with("SUBDIRS=")
                || tok.contains("kernel_source_dir")
                || tok == "modules";
            if standard {
                continue;
            }
            if tok.contains('$') || tok.contains('`') {
                notes.push(format!(
                    "line {line}: MAKE argument `{tok}` depends on the build host (`$...`); dropped — kmodpack runs `make -C <kernel tree> M=<dir> modules`"
                ));
            } else if tok.contains('=') && !tok.starts_with('-') {
                make_args.push(tok.to_string());
            } else {
                notes.push(format!(
                    "line {line}: MAKE argument `{tok}` dropped (not a VAR=value)"
                ));
            }
        }
    }
    for (idx, (_, line)) in array("MAKE") {
        if idx > 0 {
            notes.push(format!(
                "line {line}: MAKE[{idx}] (per-kernel MAKE_MATCH command) is not imported"
            ));
        }
    }
    let strip = !vars
        .iter()
        .any(|(k, (v, _))| k.starts_with("STRIP[") && v.eq_ignore_ascii_case("no"));
    // DKMS keeps patches in <source>/patches/; absolute, like source.dir, so the
    // description can be saved anywhere.
    let patches: Vec<PathBuf> = array("PATCH")
        .into_values()
        .map(|(p, _)| opts.source_dir.join("patches").join(p))
        .collect();
    if !array("PATCH_MATCH").is_empty() {
        notes.push("PATCH_MATCH is not imported: every PATCH[] is applied for every kernel".into());
    }
    let mut description = Description {
        name: name.to_string(),
        version,
        release: "1".to_string(),
        summary: format!("{name} kernel module{} (imported from DKMS)", if modules.len() > 1 { "s" } else { "" }),
        license: opts.license.clone().unwrap_or_else(|| {
            notes.push("dkms.conf has no licence: `license` set to GPL-2.0-only; check the module's MODULE_LICENSE".into());
            "GPL-2.0-only".to_string()
        }),
        url: None,
        description: None,
        style: Default::default(),
        source: Source { dir: Some(opts.source_dir.clone()), tarball: None, top_dir: None, patches },
        build: Build { subdir, make_args },
        modules,
        kernels: opts.kernels.clone(),
        depends: array("BUILD_DEPENDS")
            .into_values()
            .map(|(n, _)| KmodDependency { name: n, version: None, symvers: None })
            .collect(),
        devel: false,
        firmware: Vec::new(),
        signing: None,
        compress: Default::default(),
        strip,
        requires: Vec::new(),
        provides: Vec::new(),
        conflicts: Vec::new(),
        obsoletes: Vec::new(),
        build_requires: Vec::new(),
        scriptlets: Default::default(),
        kabi: Default::default(),
        changelog: Vec::new(),
    };
    if let Some((v, _)) = get("NO_WEAK_MODULES") {
        if v.eq_ignore_ascii_case("yes") {
            description.scriptlets.weak_modules = false;
        }
    }
    if let Some((arch_re, line)) = get("BUILD_EXCLUSIVE_ARCH") {
        match regex::Regex::new(&format!("^(?:{arch_re})$")) {
            Ok(re) => {
                for k in &mut description.kernels {
                    let before = k.arches.clone();
                    k.arches.retain(|a| re.is_match(a));
                    if k.arches.is_empty() {
                        return Err(err(
                            line,
                            format!("BUILD_EXCLUSIVE_ARCH `{arch_re}` excludes every requested arch ({})", before.join(", ")),
                        ));
                    }
                }
            }
            Err(_) => notes.push(format!("line {line}: BUILD_EXCLUSIVE_ARCH `{arch_re}` is not a regex kmodpack can read; ignored")),
        }
    }
    for k in [
        "BUILD_EXCLUSIVE_KERNEL",
        "BUILD_EXCLUSIVE_KERNEL_MIN",
        "BUILD_EXCLUSIVE_KERNEL_MAX",
        "BUILD_EXCLUSIVE_CONFIG",
    ] {
        if let Some((v, line)) = get(k) {
            notes.push(format!(
                "line {line}: {k} `{v}` is not checked; make sure the listed kernels satisfy it"
            ));
        }
    }
    for k in [
        "PRE_BUILD",
        "POST_BUILD",
        "POST_ADD",
        "POST_INSTALL",
        "POST_REMOVE",
        "PRE_INSTALL",
        "OBSOLETE_BY",
    ] {
        if let Some((v, line)) = get(k) {
            notes.push(format!(
                "line {line}: {k} `{v}` is not imported (scripts run by DKMS on the target)"
            ));
        }
    }
    for (k, (_, line)) in &vars {
        let base = k.split('[').next().unwrap_or(k);
        if !HANDLED.contains(&base) {
            notes.push(format!(
                "line {line}: {base} is not a dkms.conf setting kmodpack knows; ignored"
            ));
        }
    }
    description.validate().map_err(|v| {
        err(
            0,
            format!(
                "imported description is invalid: `{}`: {}",
                v.key, v.message
            ),
        )
    })?;
    Ok(Imported { description, notes })
}

fn location(locs: &BTreeMap<usize, (String, usize)>, idx: usize) -> Option<String> {
    locs.get(&idx)
        .map(|(l, _)| l.trim_end_matches('/').to_string())
        .filter(|l| !l.is_empty() && l != ".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_shell_assignments() {
        let v = parse_assignments("# c\r\nPACKAGE_NAME=\"foo\"\r\nPACKAGE_VERSION='1.2'  # x\r\nBUILT_MODULE_NAME[0]=$PACKAGE_NAME\r\nMAKE[0]=\"make -C ${kernel_source_dir} M=${dkms_tree}/${PACKAGE_NAME}\"\n", "t").unwrap();
        assert_eq!(v["PACKAGE_NAME"].0, "foo");
        assert_eq!(v["PACKAGE_VERSION"].0, "1.2");
        assert_eq!(v["BUILT_MODULE_NAME[0]"].0, "foo");
        assert_eq!(
            v["MAKE[0]"].0,
            "make -C ${kernel_source_dir} M=${dkms_tree}/foo"
        );
        assert_eq!(v["MAKE[0]"].1, 5);
    }

    #[test]
    fn rejects_unparseable_lines() {
        let e = parse_assignments("PACKAGE_NAME=foo\nif true; then\n", "d.conf").unwrap_err();
        assert!(e.to_string().starts_with("d.conf:2: "), "{e}");
        let e = parse_assignments("A=\"open\n", "d.conf").unwrap_err();
        assert!(e.to_string().contains("unterminated"), "{e}");
    }
}
