//! Device aliases: does a module drive this device (issue: alias).
