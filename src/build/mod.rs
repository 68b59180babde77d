//! Build runners: rpmbuild and mock over a kernel x arch x flavor matrix (issue: build).
