//! Build steps as values: an [`Invocation`] is built (and unit-tested) here
//! and run through the one process runner, [`crate::process`], with all its
//! output appended to the cell's log file.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::process::ExitStatus;

pub use crate::process::{quote, which};
use crate::process::{ProcessError, Sink};

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
        self.command().display()
    }

    /// The command as a [`crate::process::Command`] (output still captured).
    pub fn command(&self) -> crate::process::Command {
        let mut cmd = crate::process::Command::new(&self.program).args(&self.args);
        for k in &self.env_remove {
            cmd = cmd.env_remove(k);
        }
        for (k, v) in &self.env {
            cmd = cmd.env(k, v);
        }
        cmd
    }

    /// Runs the command, appending its stdout and stderr to `log` between a
    /// `+ command` and a `+ exit status` line. Returns how it ended; a
    /// non-zero exit is for the caller to explain (from the log).
    pub fn run_logged(&self, log: &Path) -> Result<ExitStatus, ProcessError> {
        let log_err = |source: std::io::Error| ProcessError::Io {
            command: self.display(),
            source: std::io::Error::new(
                source.kind(),
                format!("cannot write the log {}: {source}", log.display()),
            ),
        };
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(log_err)?;
        writeln!(file, "+ {}", self.display()).map_err(log_err)?;
        let out = self
            .command()
            .stdout(Sink::File(file.try_clone().map_err(log_err)?))
            .stderr(Sink::File(file.try_clone().map_err(log_err)?))
            .run_unchecked()?;
        writeln!(
            file,
            "+ exit status: {}",
            out.status
                .code()
                .map_or("killed by a signal".to_string(), |c| c.to_string())
        )
        .map_err(log_err)?;
        Ok(out.status)
    }
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
