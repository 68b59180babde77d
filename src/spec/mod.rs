//! Spec generation from a typed package description through tera templates (issue: spec).
