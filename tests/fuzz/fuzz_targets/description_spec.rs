//! Any byte string as a package description: it is refused, or it renders a
//! spec in which no value became spec syntax. Cheap invariants run on every
//! input; with `KMODPACK_FUZZ_RPMSPEC=1` rpm's own parser (`rpmspec -P`) is
//! the oracle too: an accepted description must give a spec rpm can parse.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

/// Lines a kmodpack template can start with a preamble tag; a value that
/// escaped its macro or line would add a tag outside this list.
const TAGS: &[&str] = &[
    "Name:", "Version:", "Release:", "Summary:", "License:", "URL:", "Source0:", "ExclusiveArch:",
    "BuildRequires:", "Requires:", "Provides:", "Conflicts:", "Obsoletes:", "Supplements:",
    "Requires(post):", "Requires(postun):", "Requires(posttrans):", "Enhances:", "BuildArch:",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(desc) = kmodpack::spec::Description::from_yaml_str(text, Path::new("fuzz.yaml")) else {
        return;
    };
    let Ok(spec) = kmodpack::spec::render(&desc, &Default::default()) else { return };
    for line in spec.lines() {
        if let Some((tag, _)) = line.split_once(':') {
            let first = tag.split_whitespace().next().unwrap_or("");
            // `: > file` (the shell's no-op) in a scriptlet is not a tag.
            let is_tag = !first.is_empty()
                && !tag.contains(' ')
                && first.chars().all(|c| c.is_ascii_alphanumeric() || "()".contains(c));
            if is_tag && !first.starts_with("Patch") && !TAGS.contains(&format!("{tag}:").as_str()) {
                panic!("unexpected preamble tag line {line:?}");
            }
        }
    }
    if std::env::var_os("KMODPACK_FUZZ_RPMSPEC").is_some() {
        let f = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(f.path(), &spec).expect("write spec");
        let out = std::process::Command::new("rpmspec").arg("-P").arg(f.path()).output().expect("rpmspec");
        assert!(out.status.success(), "accepted description, rpm rejects the spec: {}", String::from_utf8_lossy(&out.stderr));
    }
});
