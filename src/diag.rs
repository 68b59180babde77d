//! Diagnostics that are not errors.
//!
//! Library code never prints. Anything a user should see but that does not
//! stop the operation (a greylisted symbol, a skipped file, an assumption
//! made) is handed to a [`Listener`]; the CLI decides how to show it, tests
//! collect it.

use std::sync::Mutex;

/// Receives warnings and progress notes from library code.
pub trait Listener: Send + Sync {
    /// Something the user should know about; the operation goes on.
    fn warning(&self, message: &str);
    /// Informational progress (shown only in verbose modes by the CLI).
    fn info(&self, _message: &str) {}
}

/// Prints warnings to standard error as `kmodpack: warning: ...`.
#[derive(Debug, Default)]
pub struct StderrListener {
    /// Also print `info` messages.
    pub verbose: bool,
}

impl Listener for StderrListener {
    fn warning(&self, message: &str) {
        eprintln!("kmodpack: warning: {message}");
    }
    fn info(&self, message: &str) {
        if self.verbose {
            eprintln!("kmodpack: {message}");
        }
    }
}

/// Keeps every warning, for tests and for reports that embed them.
#[derive(Debug, Default)]
pub struct CollectingListener {
    warnings: Mutex<Vec<String>>,
}

impl CollectingListener {
    /// The warnings received so far, in order.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().map(|w| w.clone()).unwrap_or_default()
    }
}

impl Listener for CollectingListener {
    fn warning(&self, message: &str) {
        if let Ok(mut w) = self.warnings.lock() {
            w.push(message.to_string());
        }
    }
}

/// Drops everything.
#[derive(Debug, Default)]
pub struct NullListener;

impl Listener for NullListener {
    fn warning(&self, _message: &str) {}
}
