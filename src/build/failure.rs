//! Why rpmbuild failed, from the cell's build.log: the lines that failed
//! (`install: cannot stat 'acme_kore.ko'`, `keys/signing_key.x509 is not
//! readable`), the spec section they failed in, and advice that fits
//! `kmodpack build` users. "rpmbuild --rebuild failed (exit status 1)" alone
//! sends the user into a log of thousands of compiler lines.

/// What the log says went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFailure {
    /// The spec section whose script failed (`%install`), if one did.
    pub section: Option<String>,
    /// The failing lines (at most [`MAX_LINES`]), trimmed.
    pub lines: Vec<String>,
    /// What to do, in kmodpack's terms.
    pub advice: Option<&'static str>,
}

/// How many failing lines a reason quotes.
pub const MAX_LINES: usize = 3;

/// How much of the end of a log is read (bounded memory on huge logs).
pub const TAIL_BYTES: u64 = 256 * 1024;

impl std::fmt::Display for LogFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(s) = &self.section {
            write!(f, " in {s}")?;
        }
        if !self.lines.is_empty() {
            write!(f, ": {}", self.lines.join(" | "))?;
        }
        if let Some(a) = self.advice {
            write!(f, " (hint: {a})")?;
        }
        Ok(())
    }
}

fn looks_failed(l: &str) -> bool {
    let lower = l.to_ascii_lowercase();
    [
        "error",
        "cannot",
        "no such file",
        "not readable",
        "not found",
        "***",
        "undefined",
        "fatal",
        "denied",
        "failed",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// Script noise that is never the failure itself.
fn is_noise(l: &str) -> bool {
    l.is_empty()
        || l.starts_with("+ ")
        || l.starts_with("++ ")
        || l.starts_with("Executing(")
        || l.starts_with("RPM build errors:")
        || l.starts_with("Bad exit status from")
}

fn advice_for(lines: &[String], section: Option<&str>) -> Option<&'static str> {
    let all = lines.join("\n");
    let has = |s: &str| all.contains(s);
    if has("sign") || has(".x509") || has(".pem") || has("not readable") && !has(".ko") {
        Some(
            "check the signing key and certificate: signing.* in a description is relative to the \
             description file, --sign-key/--sign-cert to the current directory",
        )
    } else if (has("cannot stat") || has("File not found")) && has(".ko") {
        Some(
            "a module the package lists was not built: compare the description's modules (or the \
             spec's %install) with the .ko files the make output in build.log shows",
        )
    } else if has("Failed build dependencies") {
        Some(
            "BuildRequires are missing on this machine: install them (dnf builddep on the SRPM), or \
             build in a chroot with --backend mock",
        )
    } else if has("Installed (but unpackaged) file(s) found") {
        Some(
            "the build installs files the package does not list: list them, or do not install them",
        )
    } else if section == Some("%build") {
        Some(
            "the module did not compile against these kernel headers: the compiler's messages are in \
             build.log; --kernel RELEASE=DIR picks other headers",
        )
    } else {
        None
    }
}

/// Reads the failure out of an rpmbuild log (the end of it: the last
/// `Bad exit status from … (%section)` and the output just before it, or
/// rpmbuild's own `error:` lines such as `File not found`).
pub fn explain(log: &str) -> Option<LogFailure> {
    let lines: Vec<&str> = log.lines().map(str::trim).collect();
    let bad = lines
        .iter()
        .rposition(|l| l.starts_with("error: Bad exit status from"));
    let (section, picked) = match bad {
        Some(i) => {
            let section = lines[i]
                .rsplit_once('(')
                .and_then(|(_, s)| s.strip_suffix(')'))
                .map(str::to_string);
            // The failing script's output: back to its `Executing(` line.
            let start = lines[..i]
                .iter()
                .rposition(|l| l.starts_with("Executing("))
                .map_or(0, |s| s + 1);
            let out: Vec<&str> = lines[start..i]
                .iter()
                .copied()
                .filter(|l| !is_noise(l))
                .collect();
            let failed: Vec<&str> = out.iter().copied().filter(|l| looks_failed(l)).collect();
            let chosen = if failed.is_empty() { out } else { failed };
            let tail = chosen.len().saturating_sub(MAX_LINES);
            (section, chosen[tail..].to_vec())
        }
        None => {
            // rpmbuild's own errors (%files, dependencies), with the lines
            // that continue them (indented file or dependency names).
            let first = lines.iter().position(|l| l.starts_with("error: "))?;
            let mut out = vec![lines[first].trim_start_matches("error: ")];
            let raw: Vec<&str> = log.lines().collect();
            for l in raw.iter().skip(first + 1) {
                if out.len() >= MAX_LINES || !(l.starts_with(' ') || l.starts_with('\t')) {
                    break;
                }
                out.push(l.trim());
            }
            (None, out)
        }
    };
    let picked: Vec<String> = picked.into_iter().map(str::to_string).collect();
    let advice = advice_for(&picked, section.as_deref());
    Some(LogFailure {
        section,
        lines: picked,
        advice,
    })
}

/// The end of the log file at `path` (at most [`TAIL_BYTES`]), lossily.
pub fn read_tail(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(TAIL_BYTES)))?;
    let mut buf = Vec::new();
    f.take(TAIL_BYTES).read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_section_failure_names_the_missing_module() {
        let log = "Executing(%build): /bin/sh -e /var/tmp/rpm-tmp.a\n+ make -C /k M=/s modules\n\
                   make: Entering directory '/k'\n\
                   Executing(%install): /bin/sh -e /var/tmp/rpm-tmp.b\n+ umask 022\n\
                   + install -D -m 0644 acme_kore.ko /br/lib/modules/k/extra/acme_kore.ko\n\
                   install: cannot stat 'acme_kore.ko': No such file or directory\n\
                   error: Bad exit status from /var/tmp/rpm-tmp.b (%install)\n\n\
                   RPM build errors:\n    Bad exit status from /var/tmp/rpm-tmp.b (%install)\n";
        let f = explain(log).unwrap();
        assert_eq!(f.section.as_deref(), Some("%install"));
        assert_eq!(
            f.lines,
            ["install: cannot stat 'acme_kore.ko': No such file or directory"]
        );
        assert!(f.advice.unwrap().contains("was not built"));
        assert!(f
            .to_string()
            .starts_with(" in %install: install: cannot stat 'acme_kore.ko'"));
    }

    #[test]
    fn signing_and_plain_output_and_rpmbuild_errors() {
        let log =
            "Executing(%install): /bin/sh -e x\n+ sign\nkeys/signing_key.x509 is not readable\n\
                   error: Bad exit status from x (%install)\n";
        let f = explain(log).unwrap();
        assert_eq!(f.lines, ["keys/signing_key.x509 is not readable"]);
        assert!(f
            .advice
            .unwrap()
            .contains("relative to the description file"));
        // No error-like line: the last lines of the script's output.
        let f = explain("Executing(%build): x\n+ step\none\ntwo\nthree\nfour\nerror: Bad exit status from x (%build)\n").unwrap();
        assert_eq!(f.lines, ["two", "three", "four"]);
        assert_eq!(f.section.as_deref(), Some("%build"));
        // rpmbuild's own error with its continuation lines.
        let f = explain("Processing files: kmod-x\nerror: File not found: /br/lib/modules/k/extra/x.ko\n\n\nRPM build errors:\n    File not found: /br/lib/modules/k/extra/x.ko\n").unwrap();
        assert_eq!(f.section, None);
        assert_eq!(f.lines, ["File not found: /br/lib/modules/k/extra/x.ko"]);
        assert!(f.advice.unwrap().contains("was not built"));
        let f = explain("error: Failed build dependencies:\n\tkernel-devel is needed by kmod-x\n\tgcc is needed by kmod-x\n").unwrap();
        assert_eq!(
            f.lines,
            [
                "Failed build dependencies:",
                "kernel-devel is needed by kmod-x",
                "gcc is needed by kmod-x"
            ]
        );
        assert!(explain("all fine\n").is_none());
    }
}
