//! RPM dependency generation: `ksym()`/`kernel()`/`kmod()` Provides and Requires (issue: deps).
