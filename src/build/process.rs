//! External commands as values: built (and unit-tested) as an [`Invocation`],
//! run with all output appended to the cell's log file.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A command line plus the environment changes it runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Program (a name looked up on PATH, or a path).
    pub program: String,
    /// Arguments.
    pub args: Vec<String>,
    /// Variables set (on top of the inherited environment).
    pub env: Vec<(String, String)>,
    /// Variables removed from the inherited environment.
    pub env_remove: Vec<String>,
}

impl Invocation {
    /// A command with no arguments yet.
    pub fn new(program: impl Into<String>) -> Invocation {
        Invocation {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            env_remove: Vec::new(),
        }
    }

    /// Appends one argument.
    pub fn arg(&mut self, a: impl Into<String>) -> &mut Self {
        self.args.push(a.into());
        self
    }

    /// Appends `--define "NAME VALUE"`.
    pub fn define(&mut self, name: &str, value: &str) -> &mut Self {
        self.args.push("--define".into());
        self.args.push(format!("{name} {value}"));
        self
    }

    /// The value of `--define NAME ...`, if present (for tests and reports).
    pub fn defined(&self, name: &str) -> Option<&str> {
        self.args
            .windows(2)
            .filter(|w| w[0] == "--define")
            .find_map(|w| w[1].strip_prefix(name)?.strip_prefix(' '))
    }

    /// The command as a shell line (logged at the top of each step).
    pub fn display(&self) -> String {
        let mut parts: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .collect();
        parts.push(quote(&self.program));
        parts.extend(self.args.iter().map(|a| quote(a)));
        parts.join(" ")
    }

    /// Runs the command, appending its stdout and stderr to `log`. Returns
    /// the exit code (`None` if killed by a signal).
    pub fn run_logged(&self, log: &Path) -> std::io::Result<Option<i32>> {
        let mut file = OpenOptions::new().create(true).append(true).open(log)?;
        writeln!(file, "+ {}", self.display())?;
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file.try_clone()?);
        for k in &self.env_remove {
            cmd.env_remove(k);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let status = crate::cleanup::status(&mut cmd).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot run {}: {e}", self.program))
        })?;
        writeln!(
            file,
            "+ exit status: {}",
            status
                .code()
                .map_or("killed by a signal".to_string(), |c| c.to_string())
        )?;
        Ok(status.code())
    }
}

/// POSIX shell quoting, only where needed.
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The full path of `program` on PATH, if it is there.
pub fn which(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return is_executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_defines() {
        let mut i = Invocation::new("rpmbuild");
        i.define("_topdir", "/srv/rpm build/a b").arg("x.spec");
        assert_eq!(
            i.display(),
            "rpmbuild --define '_topdir /srv/rpm build/a b' x.spec"
        );
        assert_eq!(i.defined("_topdir"), Some("/srv/rpm build/a b"));
        assert_eq!(i.defined("_top"), None);
        assert_eq!(quote("it's"), "'it'\\''s'");
    }
}
