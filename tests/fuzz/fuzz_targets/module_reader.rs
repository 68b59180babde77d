//! Any byte string: the module reader returns a module or an error, never
//! panics, never loops; and a partial read (only the ranges the parser
//! needs, into a junk-filled buffer) agrees with the whole-buffer parse.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let whole = kmodpack::module::KernelModule::parse(data);
    let mut buf = vec![0xa5; data.len()];
    if let Some(m) = kmodpack::module::partial::parse(data, data.len() as u64, &mut buf, true) {
        assert_eq!(Ok(&m), whole.as_ref());
    }
    if let Ok(m) = whole {
        // Exercise the derived views too.
        let _ = kmodpack::module::modversions::dump(&m.imports);
        let _ = kmodpack::symvers::module_entries(&m, "fuzz");
        let _ = m.kernel_release();
    }
});
