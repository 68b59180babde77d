//! kmodpack's dependency generator as rpm macros: the one text
//! (templates/rpm/kmodpack.attr) that the installed class, `kmodpack build`
//! (as `--define`s) and generated specs (as `%define`s) all use, so the
//! in-process Lua generator of rpm >= 4.16 exists once.

/// kmodpack's fileattrs class, with the binary path (`@KMODPACK@`) to fill in.
pub const KMODPACK_ATTR: &str = include_str!("../../templates/rpm/kmodpack.attr");

/// The macros of kmodpack.attr (`@KMODPACK@` replaced by `kmodpack`) as
/// (name, body) pairs, in file order.
pub fn attr_macros(kmodpack: &str) -> Vec<(String, String)> {
    // A line ending in `\` continues the macro (the Lua generators), as in
    // any rpm macro file; rpm strips the continuations from a --define too.
    KMODPACK_ATTR
        .replace("@KMODPACK@", kmodpack)
        .replace("\\\n", "\\\u{1}")
        .lines()
        .map(|l| l.replace('\u{1}', "\n"))
        .filter_map(|l| l.strip_prefix('%').map(str::to_string))
        .filter_map(|l| {
            l.split_once(' ')
                .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        })
        .collect()
}

/// The attr's macros that make up the in-process generator: the Lua state
/// and the two parametric generators, which call the `%__kmodpack_*_cmd`
/// commands a spec defines itself.
pub const IN_PROCESS: [&str; 3] = [
    "__kmodpack_lua",
    "__kmodpack_provides()",
    "__kmodpack_requires()",
];

/// The in-process generator as spec lines: `%define` (not `%global`, which
/// would run the Lua while the spec is parsed), bodies exactly as in the
/// attr file.
pub fn spec_defines() -> String {
    attr_macros("")
        .into_iter()
        .filter(|(k, _)| IN_PROCESS.contains(&k.as_str()))
        .map(|(k, v)| format!("%define {k} {v}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_gets_the_attr_generator_verbatim() {
        let d = spec_defines();
        assert_eq!(d.matches("\n%define ").count() + 1, 3, "{d}");
        assert!(d.starts_with("%define __kmodpack_lua %{lua:\\\nif not kmodpack_answer then"));
        // The Lua state is defined by the first call only.
        for kind in ["provides", "requires"] {
            assert!(d.contains(&format!("\n%define __kmodpack_{kind}() %{{lua: if not kmodpack_answer then rpm.expand(\"%{{__kmodpack_lua}}\") end local f = ")), "{d}");
        }
        for line in d.lines() {
            assert!(!line.contains("@KMODPACK@"), "{line}");
        }
    }
}
