//! Driver update disks for anaconda and SUSE (issue: dud).
