//! kABI stablelists (placeholder).
