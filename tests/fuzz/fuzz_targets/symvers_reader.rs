//! Any byte string: the symvers parser returns entries or an error, and the
//! dependency generator's reader (same line parser) agrees on acceptance
//! and on every CRC.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let kabi = kmodpack::symvers::Symvers::parse(data);
    let mut deps = kmodpack::deps::KernelExports::default();
    let deps_r = deps.add_symvers(data, None);
    if let Ok(s) = &kabi {
        assert!(deps_r.is_ok(), "kabi accepts, deps refuses: {deps_r:?}");
        for e in &s.entries {
            let _ = e.to_line();
            assert!(deps.contains(&e.name, s.get(&e.name).unwrap().crc));
        }
    } else if deps_r.is_ok() {
        assert!(deps.is_empty(), "deps accepts what kabi refuses: {kabi:?}");
    }
});
