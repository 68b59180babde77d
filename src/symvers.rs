//! Module.symvers (placeholder).
