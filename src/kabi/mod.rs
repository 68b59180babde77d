//! Will it load? kABI compatibility of modules against target kernels (issue: kabi).
