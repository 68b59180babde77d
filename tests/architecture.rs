//! The dependency direction of docs/ARCHITECTURE.md, checked on the source:
//! every library module (`src/**/*.rs` outside `src/cli/` and `main.rs`)
//! belongs to the layer the ```layers block of that document gives it
//! (longest module-path prefix wins), and may name (`crate::…` or
//! `super::…`, in `use` lines and in code) only modules of its own layer or
//! a lower one. The ```allowed block lists the known exceptions, each with
//! its reason. Comments and `#[cfg(test)] mod tests` are not looked at
//! (tests may reach anything).

use std::collections::BTreeSet;
use std::path::Path;

/// The layers, top first, each with its module prefixes.
fn layers(doc: &str) -> Vec<(String, Vec<String>)> {
    block(doc, "layers")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (name, mods) = l
                .split_once(':')
                .unwrap_or_else(|| panic!("ARCHITECTURE.md layers line without `:`: {l}"));
            (
                name.trim().to_string(),
                mods.split_whitespace().map(str::to_string).collect(),
            )
        })
        .collect()
}

/// The text of the first fenced block with info string `info`.
fn block<'a>(doc: &'a str, info: &str) -> &'a str {
    let open = format!("```{info}\n");
    let start = doc
        .find(&open)
        .unwrap_or_else(|| panic!("docs/ARCHITECTURE.md has no ```{info} block"))
        + open.len();
    let len = doc[start..].find("```").expect("unterminated block");
    &doc[start..start + len]
}

/// Rank of `module` (0 = top) by the longest matching prefix.
fn rank(layers: &[(String, Vec<String>)], module: &str) -> Option<(usize, String)> {
    let mut best: Option<(usize, usize, String)> = None;
    for (i, (name, prefixes)) in layers.iter().enumerate() {
        for p in prefixes {
            let hit = module == p || module.starts_with(&format!("{p}::"));
            if hit && best.as_ref().is_none_or(|b| p.len() > b.0) {
                best = Some((p.len(), i, name.clone()));
            }
        }
    }
    best.map(|(_, i, n)| (i, n))
}

/// `src/dud/verify.rs` → `dud::verify`, `src/dud/mod.rs` → `dud`.
fn module_of(rel: &Path) -> String {
    let s = rel.with_extension("").to_string_lossy().replace('/', "::");
    s.strip_suffix("::mod").map(str::to_string).unwrap_or(s)
}

/// Every path a use-tree starting at `text` names (`a::{b, c::d}` gives
/// `a::b`, `a::c::d`).
fn expand(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut path = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' || c == ':' {
            path.push(c);
            i += 1;
        } else if c == '{' {
            let mut depth = 0;
            let mut j = i;
            while j < chars.len() {
                match chars[j] {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            let inner: String = chars[i + 1..j.min(chars.len())].iter().collect();
            let mut depth = 0;
            let mut item = String::new();
            for c in inner.chars().chain(std::iter::once(',')) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        for sub in expand(item.trim()) {
                            out.push(format!("{path}{sub}"));
                        }
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            return out;
        } else {
            break;
        }
    }
    out.push(path);
    out
}

/// The modules named from `module`'s source: `crate::` and `super::`
/// paths resolved to the longest existing module path.
fn imports(module: &str, src: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let code: String = src
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or(src)
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    // `super` of `dud::verify` (dud/verify.rs) and of `dud` (dud/mod.rs)
    // alike: the module one level up.
    let mut parent: Vec<&str> = module.split("::").collect();
    parent.pop();
    let mut out = BTreeSet::new();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent)] {
        let mut rest = code.as_str();
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            for path in expand(rest) {
                let segs: Vec<&str> = base
                    .iter()
                    .copied()
                    .chain(path.split("::").filter(|s| !s.is_empty()))
                    .collect();
                // The longest prefix that is a module of the crate.
                if let Some(m) = (1..=segs.len())
                    .rev()
                    .map(|n| segs[..n].join("::"))
                    .find(|m| known.contains(m))
                {
                    if m != module {
                        out.insert(m);
                    }
                }
            }
        }
    }
    out
}

#[test]
fn no_module_imports_upward() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap();
    let layers = layers(&doc);
    assert!(
        layers.len() >= 3,
        "too few layers in ARCHITECTURE.md: {layers:?}"
    );
    let allowed: BTreeSet<(String, String)> = block(&doc, "allowed")
        .lines()
        .filter_map(|l| {
            let (from, rest) = l.split_once("->")?;
            let to = rest.split_whitespace().next()?;
            Some((from.trim().to_string(), to.to_string()))
        })
        .collect();

    let src = root.join("src");
    let files: Vec<(String, String)> = walkdir::WalkDir::new(&src)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .filter_map(|e| {
            let rel = e.path().strip_prefix(&src).unwrap().to_path_buf();
            if rel.starts_with("cli") || rel == Path::new("main.rs") {
                return None;
            }
            let text = std::fs::read_to_string(e.path()).unwrap();
            Some((module_of(&rel), text))
        })
        .collect();
    assert!(files.len() > 50, "found only {} library files", files.len());
    let known: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();

    let mut unclassified = Vec::new();
    let mut upward = Vec::new();
    let mut edges = 0;
    for (module, text) in &files {
        if module == "lib" {
            continue;
        }
        let Some((from_rank, from_layer)) = rank(&layers, module) else {
            unclassified.push(module.clone());
            continue;
        };
        for to in imports(module, text, &known) {
            edges += 1;
            let Some((to_rank, to_layer)) = rank(&layers, &to) else {
                unclassified.push(to.clone());
                continue;
            };
            if to_rank < from_rank && !allowed.contains(&(module.clone(), to.clone())) {
                upward.push(format!("{module} ({from_layer}) -> {to} ({to_layer})"));
            }
        }
    }
    // The scan must see the imports at all.
    assert!(
        edges > 100,
        "only {edges} imports found: the scan is broken"
    );
    unclassified.sort();
    unclassified.dedup();
    assert!(
        unclassified.is_empty(),
        "modules in no layer of docs/ARCHITECTURE.md: {unclassified:?}"
    );
    assert!(
        upward.is_empty(),
        "imports against the layers of docs/ARCHITECTURE.md:\n  {}",
        upward.join("\n  ")
    );
}

#[test]
fn the_scan_sees_grouped_and_relative_imports() {
    let known: BTreeSet<String> = [
        "dud",
        "dud::verify",
        "dud::iso",
        "dud::cpio",
        "module",
        "build",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let src = "use super::{cpio, iso::IsoFacts, DudError};\n\
               // crate::build in a comment\n\
               fn f() { crate::module::read(p); }\n\
               #[cfg(test)]\nmod tests { use crate::build::X; }\n";
    let got = imports("dud::verify", src, &known);
    assert_eq!(
        got.into_iter().collect::<Vec<_>>(),
        ["dud", "dud::cpio", "dud::iso", "module"]
    );
    let layers = layers("```layers\ntop: a a::b::c\nlow: a::b\n```\n");
    assert_eq!(rank(&layers, "a::b::c::d").map(|r| r.0), Some(0));
    assert_eq!(rank(&layers, "a::b::x").map(|r| r.0), Some(1));
    assert_eq!(rank(&layers, "a::bx").map(|r| r.0), Some(0));
    assert_eq!(rank(&layers, "z"), None);
}
