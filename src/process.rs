//! The one way kmodpack runs an external program (rpmbuild, mock,
//! createrepo_c, xorriso, rpm, bash for dkms.conf): a [`Command`] value run
//! through `duct`, with one typed error, [`ProcessError`], that names the
//! command line and carries the exit status and the end of what the program
//! wrote to stderr.
//!
//! Why one runner: the rules for a child are the same everywhere and easy to
//! get wrong one call site at a time. Every child here
//! - runs in its own process group, registered with [`crate::cleanup`] so a
//!   SIGINT/SIGTERM ends its whole tree (rpmbuild's shells, make, gcc);
//! - has its group ended when it exits (what it left in the background is
//!   not ours to leave running, and would hold our pipes open), when its
//!   time bound passes, and when the runner unwinds;
//! - has stdin closed, and its captured output bounded in memory (stdout up
//!   to a limit that fails the command, stderr as a bounded tail).
//!
//! The group is ended after the child has exited but before it is reaped
//! (`waitid(WNOWAIT)`), so its pid — the group id — cannot have been reused.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Default bound on captured stdout (xorriso's listing of a large image is
/// a few MiB).
pub const DEFAULT_STDOUT_LIMIT: usize = 64 << 20;

/// How much of stderr is kept (the end of it: where programs say why).
pub const STDERR_TAIL: usize = 16 << 10;

/// Why a command did not run to a successful end.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program is not on PATH (or the path does not exist).
    #[error("cannot run {command}: {program} is not installed")]
    NotFound {
        /// The program as given.
        program: String,
        /// The command line, shell-quoted.
        command: String,
    },
    /// The program exists but could not be started.
    #[error("cannot run {command}: {source}")]
    Spawn {
        /// The command line, shell-quoted.
        command: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The program ran and exited unsuccessfully (or was killed by a signal).
    #[error("{command} failed ({status}){}", tail_suffix(stderr_tail))]
    Failed {
        /// The command line, shell-quoted.
        command: String,
        /// How it ended.
        status: ExitStatus,
        /// The end of its stderr (empty when stderr was not captured).
        stderr_tail: String,
    },
    /// The time bound passed; the command's process group was killed.
    #[error("{command} did not finish within {} s and was stopped", limit.as_secs())]
    TimedOut {
        /// The command line, shell-quoted.
        command: String,
        /// The bound that passed.
        limit: Duration,
    },
    /// Stdout grew past the capture limit; the process group was killed.
    #[error("{command} wrote more than {limit} bytes to stdout and was stopped")]
    OutputTooLarge {
        /// The command line, shell-quoted.
        command: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// Waiting for the child or reading its output failed.
    #[error("{command}: {source}")]
    Io {
        /// The command line, shell-quoted.
        command: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl ProcessError {
    /// The last non-empty line the program wrote to stderr, if captured.
    pub fn last_stderr_line(&self) -> Option<&str> {
        match self {
            ProcessError::Failed { stderr_tail, .. } => stderr_tail
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| !l.is_empty()),
            _ => None,
        }
    }
}

fn tail_suffix(tail: &str) -> String {
    match tail.lines().rev().map(str::trim).find(|l| !l.is_empty()) {
        Some(l) => format!(": {l}"),
        None => String::new(),
    }
}

/// Where one of the child's output streams goes.
#[derive(Debug)]
pub enum Sink {
    /// Collected in memory (stdout up to its limit, stderr as a tail).
    Capture,
    /// Discarded.
    Null,
    /// Written to an open file (e.g. a log opened for appending).
    File(File),
}

/// What a finished command produced.
#[derive(Debug)]
pub struct Output {
    /// How it ended (always success from [`Command::run`]).
    pub status: ExitStatus,
    /// Captured stdout (empty unless stdout was [`Sink::Capture`]).
    pub stdout: Vec<u8>,
    /// The end of captured stderr (empty unless stderr was [`Sink::Capture`]).
    pub stderr_tail: Vec<u8>,
}

/// A program, its arguments and environment, and how to run it. Built as a
/// value so the command line can be shown (logged, tested) before it runs.
#[derive(Debug)]
pub struct Command {
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    env_remove: Vec<OsString>,
    env_clear: bool,
    dir: Option<PathBuf>,
    timeout: Option<Duration>,
    stdout: Sink,
    stderr: Sink,
    stdout_limit: usize,
}

impl Command {
    /// A command with no arguments; stdout and stderr captured.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            program: program.as_ref().to_os_string(),
            args: Vec::new(),
            env: Vec::new(),
            env_remove: Vec::new(),
            env_clear: false,
            dir: None,
            timeout: None,
            stdout: Sink::Capture,
            stderr: Sink::Capture,
            stdout_limit: DEFAULT_STDOUT_LIMIT,
        }
    }

    /// Appends one argument.
    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Command {
        self.args.push(a.as_ref().to_os_string());
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Sets a variable on top of the inherited (or cleared) environment.
    pub fn env(mut self, k: impl AsRef<OsStr>, v: impl AsRef<OsStr>) -> Command {
        self.env
            .push((k.as_ref().to_os_string(), v.as_ref().to_os_string()));
        self
    }

    /// Removes a variable from the inherited environment.
    pub fn env_remove(mut self, k: impl AsRef<OsStr>) -> Command {
        self.env_remove.push(k.as_ref().to_os_string());
        self
    }

    /// Starts from an empty environment (only what [`Command::env`] sets).
    pub fn env_clear(mut self) -> Command {
        self.env_clear = true;
        self
    }

    /// Runs the program in `dir`.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Command {
        self.dir = Some(dir.into());
        self
    }

    /// Kills the command's process group if it runs longer than `limit`.
    pub fn timeout(mut self, limit: Duration) -> Command {
        self.timeout = Some(limit);
        self
    }

    /// Where stdout goes (default: captured).
    pub fn stdout(mut self, sink: Sink) -> Command {
        self.stdout = sink;
        self
    }

    /// Where stderr goes (default: its tail captured).
    pub fn stderr(mut self, sink: Sink) -> Command {
        self.stderr = sink;
        self
    }

    /// Bound on captured stdout; more fails the command.
    pub fn stdout_limit(mut self, bytes: usize) -> Command {
        self.stdout_limit = bytes;
        self
    }

    /// The command as a shell line (environment settings first).
    pub fn display(&self) -> String {
        let mut parts: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| format!("{}={}", k.to_string_lossy(), quote(&v.to_string_lossy())))
            .collect();
        parts.push(quote(&self.program.to_string_lossy()));
        parts.extend(self.args.iter().map(|a| quote(&a.to_string_lossy())));
        parts.join(" ")
    }

    /// Runs the command to its end; an unsuccessful exit is
    /// [`ProcessError::Failed`].
    pub fn run(self) -> Result<Output, ProcessError> {
        let command = self.display();
        let out = self.run_unchecked()?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(ProcessError::Failed {
                command,
                status: out.status,
                stderr_tail: String::from_utf8_lossy(&out.stderr_tail).into_owned(),
            })
        }
    }

    /// Runs the command to its end and returns how it ended, successful or
    /// not (for callers that explain a failure from a log themselves).
    pub fn run_unchecked(self) -> Result<Output, ProcessError> {
        let command = self.display();
        let io_err = |source: std::io::Error| ProcessError::Io {
            command: command.clone(),
            source,
        };
        let mut expr = duct::cmd(&self.program, &self.args)
            .unchecked()
            .stdin_null()
            .before_spawn(|c| {
                use std::os::unix::process::CommandExt;
                c.process_group(0);
                Ok(())
            });
        if self.env_clear {
            expr = expr.full_env(self.env.iter().cloned());
        } else {
            for (k, v) in &self.env {
                expr = expr.env(k, v);
            }
            for k in &self.env_remove {
                expr = expr.env_remove(k);
            }
        }
        if let Some(d) = &self.dir {
            expr = expr.dir(d);
        }
        let overflow = Arc::new(AtomicBool::new(false));
        let mut stdout_reader = None;
        expr = match self.stdout {
            Sink::Null => expr.stdout_null(),
            Sink::File(f) => expr.stdout_file(f),
            Sink::Capture => {
                let (r, w) = std::io::pipe().map_err(io_err)?;
                stdout_reader = Some(read_head(r, self.stdout_limit, overflow.clone()));
                expr.stdout_file(w)
            }
        };
        let mut stderr_reader = None;
        expr = match self.stderr {
            Sink::Null => expr.stderr_null(),
            Sink::File(f) => expr.stderr_file(f),
            Sink::Capture => {
                let (r, w) = std::io::pipe().map_err(io_err)?;
                stderr_reader = Some(read_tail(r, STDERR_TAIL));
                expr.stderr_file(w)
            }
        };
        let started = expr.start();
        // The expression holds our copies of the pipes' write ends: drop it
        // so the readers see end-of-file when the child's group is gone.
        drop(expr);
        let handle = started.map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                ProcessError::NotFound {
                    program: self.program.to_string_lossy().into_owned(),
                    command: command.clone(),
                }
            } else {
                ProcessError::Spawn {
                    command: command.clone(),
                    source: e,
                }
            }
        })?;
        let pid = handle.pids().first().copied().unwrap_or(0);
        let group = Group { pid, ended: false };
        let _on_signal = (pid > 0).then(|| crate::cleanup::register_group(pid));
        let ended = wait_exit(&group, self.timeout, &overflow).map_err(io_err);
        drop(group); // ends the group: leftovers, or the child on timeout/overflow
        let status = handle
            .wait()
            .map(|o| o.status)
            .map_err(|e| io_err(std::io::Error::new(e.kind(), e.to_string())));
        let stdout = join(stdout_reader).map_err(io_err)?;
        let stderr_tail = join(stderr_reader).map_err(io_err)?;
        match ended? {
            Ended::Exited => Ok(Output {
                status: status?,
                stdout,
                stderr_tail,
            }),
            Ended::TimedOut(limit) => Err(ProcessError::TimedOut { command, limit }),
            Ended::Overflow => Err(ProcessError::OutputTooLarge {
                command,
                limit: self.stdout_limit,
            }),
        }
    }
}

/// A child's process group; dropping it kills whatever is left in it.
struct Group {
    pid: u32,
    ended: bool,
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.pid > 0 && !self.ended {
            self.ended = true;
            // SAFETY: signals the process group created for this child,
            // whose leader is not yet reaped (so the id is still ours).
            unsafe {
                libc::kill(-(self.pid as libc::pid_t), libc::SIGKILL);
            }
        }
    }
}

enum Ended {
    Exited,
    TimedOut(Duration),
    Overflow,
}

/// Waits until the group leader has exited (without reaping it), the time
/// bound passes, or stdout overflows.
fn wait_exit(
    group: &Group,
    timeout: Option<Duration>,
    overflow: &AtomicBool,
) -> std::io::Result<Ended> {
    if group.pid == 0 {
        return Ok(Ended::Exited);
    }
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        if exited_unreaped(group.pid)? {
            return Ok(Ended::Exited);
        }
        if overflow.load(Ordering::SeqCst) {
            return Ok(Ended::Overflow);
        }
        if let Some(limit) = timeout {
            if start.elapsed() >= limit {
                return Ok(Ended::TimedOut(limit));
            }
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// True once `pid` has exited; leaves it a zombie (WNOWAIT) for duct to reap.
fn exited_unreaped(pid: u32) -> std::io::Result<bool> {
    loop {
        // SAFETY: a zeroed siginfo_t is a valid out-parameter for waitid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid on our own child with a valid siginfo pointer.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT | libc::WNOHANG,
            )
        };
        if r == 0 {
            // SAFETY: waitid filled (or left zeroed) the structure.
            return Ok(unsafe { info.si_pid() } != 0);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Reads up to `limit` bytes; past that, keeps draining (so the child does
/// not block) and raises `overflow`.
fn read_head(
    mut r: std::io::PipeReader,
    limit: usize,
    overflow: Arc<AtomicBool>,
) -> JoinHandle<std::io::Result<Vec<u8>>> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => return Ok(kept),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let room = limit.saturating_sub(kept.len());
            if n > room {
                overflow.store(true, Ordering::SeqCst);
            }
            kept.extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
        }
    })
}

/// Reads everything, keeping the last `limit` bytes.
fn read_tail(mut r: std::io::PipeReader, limit: usize) -> JoinHandle<std::io::Result<Vec<u8>>> {
    std::thread::spawn(move || {
        let mut kept = std::collections::VecDeque::with_capacity(limit.min(4096));
        let mut buf = vec![0u8; 16 << 10];
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => return Ok(kept.into_iter().collect()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            kept.extend(buf.iter().take(n));
            let excess = kept.len().saturating_sub(limit);
            kept.drain(..excess);
        }
    })
}

fn join(h: Option<JoinHandle<std::io::Result<Vec<u8>>>>) -> std::io::Result<Vec<u8>> {
    match h {
        None => Ok(Vec::new()),
        Some(h) => h
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("output reader thread failed"))),
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

fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_program_names_the_command() {
        let err = Command::new("kmodpack-no-such-program")
            .arg("--flag")
            .run()
            .unwrap_err();
        assert!(matches!(err, ProcessError::NotFound { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "cannot run kmodpack-no-such-program --flag: kmodpack-no-such-program is not installed"
        );
    }

    #[test]
    fn failure_carries_status_and_stderr_tail() {
        let err = Command::new("sh")
            .args([
                "-c",
                "echo first >&2; echo 'the reason' >&2; echo out; exit 3",
            ])
            .run()
            .unwrap_err();
        let ProcessError::Failed {
            status,
            stderr_tail,
            command,
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(status.code(), Some(3));
        assert_eq!(stderr_tail, "first\nthe reason\n");
        assert!(command.starts_with("sh -c 'echo first"), "{command}");
        assert_eq!(err.last_stderr_line(), Some("the reason"));
        assert!(
            err.to_string()
                .ends_with("failed (exit status: 3): the reason"),
            "{err}"
        );
    }

    #[test]
    fn stderr_tail_is_bounded_and_keeps_the_end() {
        // 200 KiB of noise, then the line that matters.
        let out = Command::new("sh")
            .args([
                "-c",
                "head -c 204800 /dev/zero | tr '\\0' x >&2; echo >&2; echo last >&2",
            ])
            .run()
            .unwrap();
        assert_eq!(out.stderr_tail.len(), STDERR_TAIL);
        assert!(out.stderr_tail.ends_with(b"x\nlast\n"));
    }

    #[test]
    fn success_captures_stdout_and_environment() {
        let out = Command::new("sh")
            .args(["-c", "printf '%s|%s' \"$A\" \"${HOME-unset}\"; pwd"])
            .env_clear()
            .env("A", "value with space")
            .dir("/")
            .run()
            .unwrap();
        assert_eq!(out.stdout, b"value with space|unset/\n");
    }

    #[test]
    fn time_bound_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("grandchild-survived");
        // The grandchild would write the marker after 2 s unless its group
        // is killed with the shell.
        let script = format!("(sleep 2; touch '{}') & sleep 30", marker.display());
        let start = Instant::now();
        let err = Command::new("sh")
            .args(["-c", &script])
            .timeout(Duration::from_millis(300))
            .run()
            .unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
        assert!(matches!(err, ProcessError::TimedOut { .. }), "{err:?}");
        assert!(
            err.to_string().contains("did not finish within 0 s"),
            "{err}"
        );
        std::thread::sleep(Duration::from_millis(2500));
        assert!(
            !marker.exists(),
            "a process of the group outlived the bound"
        );
    }

    #[test]
    fn leftover_background_processes_are_ended_at_exit() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("background-survived");
        let script = format!("(sleep 1; touch '{}') & echo done", marker.display());
        let start = Instant::now();
        let out = Command::new("sh").args(["-c", &script]).run().unwrap();
        // The background job holds stdout open; the runner does not wait for it.
        assert!(
            start.elapsed() < Duration::from_millis(900),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(out.stdout, b"done\n");
        std::thread::sleep(Duration::from_millis(1500));
        assert!(!marker.exists());
    }

    #[test]
    fn stdout_over_the_cap_fails_and_stops_the_child() {
        let start = Instant::now();
        let err = Command::new("sh")
            .args(["-c", "yes kmodpack"])
            .stdout_limit(1 << 20)
            .run()
            .unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(10));
        assert!(
            matches!(err, ProcessError::OutputTooLarge { limit, .. } if limit == 1 << 20),
            "{err:?}"
        );
    }

    #[test]
    fn output_to_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let f = File::create(&log).unwrap();
        let out = Command::new("sh")
            .args(["-c", "echo to-out; echo to-err >&2; exit 1"])
            .stdout(Sink::File(f.try_clone().unwrap()))
            .stderr(Sink::File(f))
            .run_unchecked()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "to-out\nto-err\n");
    }

    #[test]
    fn quoting() {
        let c = Command::new("rpmbuild")
            .env("SOURCE_DATE_EPOCH", "1")
            .args(["--define", "_topdir /srv/rpm build", "it's"]);
        assert_eq!(
            c.display(),
            "SOURCE_DATE_EPOCH=1 rpmbuild --define '_topdir /srv/rpm build' 'it'\\''s'"
        );
    }
}
