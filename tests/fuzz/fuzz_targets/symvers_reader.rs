//! Any byte string: the symvers parser returns entries or an error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = kmodpack::symvers::Symvers::parse(data) {
        for e in &s.entries {
            let _ = e.to_line();
        }
    }
});
