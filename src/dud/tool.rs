//! Running the external writers (createrepo_c, xorriso) through the one
//! process runner, [`crate::process`], with errors that say which tool
//! failed and how to get it.

use crate::process::{Command, Output, ProcessError};

use super::DudError;

/// Runs `cmd`; a missing tool or a non-zero exit becomes [`DudError::Tool`]
/// (with the tool's last stderr line).
pub fn run(cmd: Command, tool: &str) -> Result<Output, DudError> {
    cmd.run().map_err(|e| DudError::Tool {
        tool: tool.to_string(),
        message: match &e {
            ProcessError::NotFound { .. } => format!(
                "not installed ({tool} is needed; `make test` or tests/support/system-deps.sh installs it)"
            ),
            ProcessError::Failed { status, .. } => {
                format!("failed ({status}): {}", e.last_stderr_line().unwrap_or(""))
            }
            other => other.to_string(),
        },
    })
}
