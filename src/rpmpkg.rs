//! Reading RPM packages (placeholder until implemented).
