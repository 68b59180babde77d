//! Running the external writers (createrepo_c, xorriso) with errors that
//! say which tool failed and how to get it.

use std::process::{Command, Output};

use super::DudError;

/// Runs `cmd`; a non-zero exit becomes [`DudError::Tool`] with the tool's
/// last stderr line.
pub fn run(mut cmd: Command, tool: &str) -> Result<Output, DudError> {
    let out = crate::cleanup::output(&mut cmd).map_err(|e| DudError::Tool {
        tool: tool.to_string(),
        message: if e.kind() == std::io::ErrorKind::NotFound {
            format!("not installed ({tool} is needed; `make test` or tests/support/system-deps.sh installs it)")
        } else {
            e.to_string()
        },
    })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string();
        return Err(DudError::Tool {
            tool: tool.to_string(),
            message: format!("failed ({}): {last}", out.status),
        });
    }
    Ok(out)
}
