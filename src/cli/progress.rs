//! What the user sees while cells run: one line per cell, the build
//! pipeline's [`Observer`] rendered on standard error.
//!
//! On a terminal each running cell is a spinner line with its elapsed time
//! (indicatif), replaced by its outcome when it ends. In a log or CI, where
//! redrawn lines would be garbage, each start and end is one plain line on
//! standard error.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use kmodpack::build::progress::{outcome_line, Observer};
use kmodpack::build::{Cell, CellReport};

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
