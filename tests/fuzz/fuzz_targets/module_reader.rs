//! Any byte string: the module reader returns a module or an error, never
//! panics, never loops.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = kmodpack::module::KernelModule::parse(data) {
        // Exercise the derived views too.
        let _ = kmodpack::module::modversions::dump(&m.imports);
        let _ = kmodpack::symvers::module_entries(&m, "fuzz");
        let _ = m.kernel_release();
    }
});
