//! `fnmatch(3)` with flags 0, the way libkmod calls it to match a device's
//! modalias against `alias=` patterns (`kernel-module-format.md` §8.3):
//! `*` matches any run (also `/`), `?` one character, `[...]` a set with
//! ranges, `!`/`^` negation, `[:class:]` and backslash escapes; case matters.
//! Written here rather than bound from libc so results do not depend on the
//! C library and work on any string (kept hand-written, issue #15: it must
//! equal glibc's result, not a glob crate's idea of a glob).

/// True when `text` matches `pattern` as glibc `fnmatch(pattern, text, 0) == 0`.
pub fn fnmatch(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    matches(&p, &t)
}

/// One pattern element.
enum Elem {
    Literal(char),
    Any,
    Star,
    Set { negated: bool, items: Vec<SetItem> },
}

enum SetItem {
    Char(char),
    Range(char, char),
    Class(String),
}

/// Parses the pattern at `i`, returning the element and the next index;
/// `None` for a trailing backslash (glibc: "trailing \ loses").
fn next_elem(p: &[char], i: usize) -> Option<(Elem, usize)> {
    match p[i] {
        '*' => Some((Elem::Star, i + 1)),
        '?' => Some((Elem::Any, i + 1)),
        '\\' => p.get(i + 1).map(|&c| (Elem::Literal(c), i + 2)),
        '[' => Some(parse_set(p, i).unwrap_or((Elem::Literal('['), i + 1))),
        c => Some((Elem::Literal(c), i + 1)),
    }
}

/// `[...]` starting at `p[start] == '['`; `None` when unterminated (then
/// the `[` is an ordinary character, as in glibc).
fn parse_set(p: &[char], start: usize) -> Option<(Elem, usize)> {
    let mut i = start + 1;
    let negated = matches!(p.get(i), Some('!') | Some('^'));
    if negated {
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let c = *p.get(i)?;
        if c == ']' && !first {
            return Some((Elem::Set { negated, items }, i + 1));
        }
        first = false;
        if c == '[' && p.get(i + 1) == Some(&':') {
            // [:class:]
            let rest = &p[i + 2..];
            if let Some(end) = rest.windows(2).position(|w| w == [':', ']']) {
                items.push(SetItem::Class(rest[..end].iter().collect()));
                i += 2 + end + 2;
                continue;
            }
        }
        let lo = if c == '\\' {
            i += 1;
            *p.get(i)?
        } else {
            c
        };
        i += 1;
        if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&n| n != ']') {
            let mut hi = p[i + 1];
            i += 2;
            if hi == '\\' {
                hi = *p.get(i)?;
                i += 1;
            }
            items.push(SetItem::Range(lo, hi));
        } else {
            items.push(SetItem::Char(lo));
        }
    }
}

fn class_matches(class: &str, c: char) -> bool {
    match class {
        "alnum" => c.is_ascii_alphanumeric(),
        "alpha" => c.is_ascii_alphabetic(),
        "digit" => c.is_ascii_digit(),
        "xdigit" => c.is_ascii_hexdigit(),
        "lower" => c.is_ascii_lowercase(),
        "upper" => c.is_ascii_uppercase(),
        "space" => c.is_ascii_whitespace() || c == '\x0b',
        "blank" => c == ' ' || c == '\t',
        "punct" => c.is_ascii_punctuation(),
        "print" => (' '..='~').contains(&c),
        "graph" => ('!'..='~').contains(&c),
        "cntrl" => c.is_ascii_control(),
        _ => false,
    }
}

fn elem_matches(e: &Elem, c: char) -> bool {
    match e {
        Elem::Literal(l) => *l == c,
        Elem::Any => true,
        Elem::Star => true,
        Elem::Set { negated, items } => {
            let hit = items.iter().any(|it| match it {
                SetItem::Char(x) => *x == c,
                SetItem::Range(lo, hi) => *lo <= c && c <= *hi,
                SetItem::Class(name) => class_matches(name, c),
            });
            hit != *negated
        }
    }
}

/// Classic glob matching with one backtrack point for the last `*`
/// (sufficient because a later `*` subsumes every earlier choice).
fn matches(p: &[char], t: &[char]) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None; // (pattern index after *, text index)
    loop {
        if pi < p.len() {
            let Some((elem, next)) = next_elem(p, pi) else {
                return false;
            };
            match elem {
                Elem::Star => {
                    star = Some((next, ti));
                    pi = next;
                    continue;
                }
                _ if ti < t.len() && elem_matches(&elem, t[ti]) => {
                    pi = next;
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        } else if ti == t.len() {
            return true;
        }
        // Mismatch: let the last star swallow one more character.
        match star {
            Some((sp, st)) if st < t.len() => {
                star = Some((sp, st + 1));
                pi = sp;
                ti = st + 1;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fnmatch;

    #[test]
    fn basics() {
        assert!(fnmatch(
            "pci:v0000103Cd*sv*sd*bc01sc04i*",
            "pci:v0000103Cd00001234sv00001111sd00002222bc01sc04i00"
        ));
        assert!(!fnmatch(
            "pci:v0000103Cd*sv*sd*bc01sc04i*",
            "pci:v0000103Cd00001234sv00001111sd00002222bc01sc05i00"
        ));
        assert!(!fnmatch("pci:v0000103C*", "pci:v0000103c"));
        assert!(fnmatch("usb:v*p*d0[0-2]*", "usb:v1234p5678d0150dc00"));
        assert!(!fnmatch("usb:v*p*d0[0-2]*", "usb:v1234p5678d0350dc00"));
        assert!(fnmatch("a[!0-9]c", "abc"));
        assert!(!fnmatch("a[!0-9]c", "a1c"));
        assert!(fnmatch("a[]]c", "a]c"));
        assert!(fnmatch("a[", "a["));
        assert!(fnmatch("a\\*", "a*"));
        assert!(!fnmatch("a\\*", "ab"));
        assert!(!fnmatch("a\\", "a\\"));
        assert!(fnmatch("*/x", "a/b/x"));
        assert!(fnmatch("[[:digit:]]?", "1z"));
        assert!(fnmatch("*a*b*c", "xxaxxbxxbxc"));
        assert!(fnmatch("", ""));
        assert!(!fnmatch("", "a"));
        assert!(fnmatch("*", ""));
    }
}
