//! What the runner tells about cells while they run: the [`Observer`]
//! trait (the listener the build pipeline reports to) and the one-line
//! outcome of a cell. Nothing here prints: the terminal rendering
//! (spinners on a terminal, plain lines in a log) lives in
//! `src/cli/progress.rs`.

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
