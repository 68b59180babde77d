//! What the user sees while cells run: one line per cell.
//!
//! On a terminal each running cell is a spinner line with its elapsed time
//! (indicatif), replaced by its outcome when it ends. In a log or CI, where
//! redrawn lines would be garbage, each start and end is one plain line on
//! standard error. This is the terminal edge of the build; the runner only
//! calls the [`Observer`] trait.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::matrix::Cell;
use super::report::{CellReport, CellStatus};

/// Receives cell events from the runner (from several threads).
pub trait Observer: Send + Sync {
    /// A cell starts (`index` of `total`, 1-based).
    fn started(&self, cell: &Cell, index: usize, total: usize);
    /// A cell ended (built, failed or skipped).
    fn finished(&self, report: &CellReport, done: usize, total: usize);
    /// A note about the whole build (e.g. `--nodeps` was added).
    fn note(&self, message: &str);
}

/// No output (tests, `--quiet`).
#[derive(Debug, Default)]
pub struct Silent;

impl Observer for Silent {
    fn started(&self, _: &Cell, _: usize, _: usize) {}
    fn finished(&self, _: &CellReport, _: usize, _: usize) {}
    fn note(&self, _: &str) {}
}

/// One outcome line: `built   kmod-x/6.1.0-56-amd64/x86_64  12.3s  3 rpms`.
pub fn outcome_line(r: &CellReport) -> String {
    let status = match r.status {
        CellStatus::Built => "built",
        CellStatus::Failed => "FAILED",
        CellStatus::Skipped => "skipped",
    };
    let mut line = format!("{status:<7} {}  {:.1}s", r.id, r.duration_seconds);
    match r.status {
        CellStatus::Built => {
            line.push_str(&format!(
                "  {} rpm(s)",
                r.rpms.len() + usize::from(r.srpm.is_some())
            ));
            if let Some(s) = &r.signature {
                if s.requested {
                    line.push_str(&format!("  signatures {}", s.status));
                }
            }
        }
        _ => {
            if let Some(reason) = &r.reason {
                line.push_str(&format!("  {reason}"));
            }
            if r.status == CellStatus::Failed {
                line.push_str(&format!("  (log: {})", r.log.display()));
            }
        }
    }
    line
}

/// Plain lines on standard error.
#[derive(Debug, Default)]
pub struct PlainLines;

impl Observer for PlainLines {
    fn started(&self, cell: &Cell, index: usize, total: usize) {
        eprintln!("kmodpack: [{index}/{total}] start   {}", cell.id());
    }
    fn finished(&self, r: &CellReport, done: usize, total: usize) {
        eprintln!("kmodpack: [{done}/{total}] {}", outcome_line(r));
    }
    fn note(&self, message: &str) {
        eprintln!("kmodpack: note: {message}");
    }
}

/// Spinners with elapsed time on a terminal.
pub struct TerminalProgress {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl TerminalProgress {
    /// Draws on standard error.
    pub fn new() -> TerminalProgress {
        TerminalProgress {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::default(),
        }
    }
}

impl Default for TerminalProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl Observer for TerminalProgress {
    fn started(&self, cell: &Cell, index: usize, total: usize) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed:>4}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(format!("[{index}/{total}] {}", cell.id()));
        bar.enable_steady_tick(Duration::from_millis(200));
        if let Ok(mut b) = self.bars.lock() {
            b.insert(cell.id(), bar);
        }
    }
    fn finished(&self, r: &CellReport, done: usize, total: usize) {
        let line = format!("[{done}/{total}] {}", outcome_line(r));
        let bar = self.bars.lock().ok().and_then(|mut b| b.remove(&r.id));
        match bar {
            Some(bar) => {
                bar.set_style(
                    ProgressStyle::with_template("{msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.finish_with_message(line);
            }
            None => {
                let _ = self.multi.println(line);
            }
        }
    }
    fn note(&self, message: &str) {
        let _ = self.multi.println(format!("kmodpack: note: {message}"));
    }
}

/// Spinners when standard error is a terminal, plain lines otherwise.
pub fn for_stderr() -> Box<dyn Observer> {
    if std::io::stderr().is_terminal() {
        Box::new(TerminalProgress::new())
    } else {
        Box::new(PlainLines)
    }
}
