//! rpm's version comparison, re-implemented so that kmodpack can decide
//! exactly what the installer decides.
//!
//! anaconda's `dd_list` calls librpm's `rpmvercmp()` on the installer's full
//! `uname -r` and the version of a `kernel-modules` Provides, so any
//! deviation here (tilde, caret, leading zeros, alpha vs numeric segments)
//! would turn a silently ignored disk into a reported ACCEPTED. The tests
//! compare against rpm 4.18 itself.
//!
//! Kept hand-written (issue #15): what matters is agreement with librpm bit
//! for bit, which the differential test (`tests/dud_rpmvercmp.rs`) checks;
//! linking librpm would tie kmodpack to one host's rpm.

use std::cmp::Ordering;

fn is_sep(c: u8) -> bool {
    !c.is_ascii_alphanumeric() && c != b'~' && c != b'^'
}

/// `rpmvercmp(a, b)`: compares two version strings segment by segment.
///
/// Runs of characters other than ASCII letters, digits, `~` and `^` only
/// separate segments. A numeric segment beats an alphabetic one; numbers
/// compare by value (leading zeros ignored), letters by byte order. `~`
/// sorts before anything, even the end of the string (`1.0~rc1 < 1.0`);
/// `^` sorts after the end of the string but before any further segment
/// (`1.0 < 1.0^git1 < 1.0.1`).
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0usize, 0usize);
    let at = |s: &[u8], k: usize| s.get(k).copied().unwrap_or(0);
    while i < a.len() || j < b.len() {
        while i < a.len() && is_sep(a[i]) {
            i += 1;
        }
        while j < b.len() && is_sep(b[j]) {
            j += 1;
        }
        let (ca, cb) = (at(a, i), at(b, j));
        if ca == b'~' || cb == b'~' {
            if ca != b'~' {
                return Ordering::Greater;
            }
            if cb != b'~' {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == b'^' || cb == b'^' {
            if ca == 0 {
                return Ordering::Less;
            }
            if cb == 0 {
                return Ordering::Greater;
            }
            if ca != b'^' {
                return Ordering::Greater;
            }
            if cb != b'^' {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == 0 || cb == 0 {
            break;
        }
        let numeric = ca.is_ascii_digit();
        let take = |s: &[u8], mut k: usize| {
            let start = k;
            while k < s.len()
                && if numeric {
                    s[k].is_ascii_digit()
                } else {
                    s[k].is_ascii_alphabetic()
                }
            {
                k += 1;
            }
            (start, k)
        };
        let (sa, ea) = take(a, i);
        let (sb, eb) = take(b, j);
        i = ea;
        j = eb;
        // The first segment is never empty (it starts with its own kind);
        // the second is empty when the kinds differ: numeric wins.
        if sb == eb {
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (mut x, mut y) = (&a[sa..ea], &b[sb..eb]);
        if numeric {
            // Leading zeros do not count: "010" == "10", "0" == "".
            while x.first() == Some(&b'0') {
                x = &x[1..];
            }
            while y.first() == Some(&b'0') {
                y = &y[1..];
            }
            match x.len().cmp(&y.len()) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        match x.cmp(y) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    let (ea, eb) = (i >= a.len(), j >= b.len());
    match (ea, eb) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

/// An `[epoch:]version[-release]` triple as rpm parses it for dependency
/// ranges (`Requires: kernel >= 5.14.0-503.11.1.el9_5`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evr<'a> {
    /// Epoch (absent = 0).
    pub epoch: u64,
    /// Version.
    pub version: &'a str,
    /// Release, if given.
    pub release: Option<&'a str>,
}

impl<'a> Evr<'a> {
    /// Splits at the first `:` (epoch, when all digits) and the last `-`.
    pub fn parse(s: &'a str) -> Evr<'a> {
        let (epoch, rest) = match s.split_once(':') {
            Some((e, r)) if !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit()) => {
                (e.parse().unwrap_or(0), r)
            }
            _ => (0, s),
        };
        match rest.rsplit_once('-') {
            Some((v, r)) => Evr {
                epoch,
                version: v,
                release: Some(r),
            },
            None => Evr {
                epoch,
                version: rest,
                release: None,
            },
        }
    }
}

/// rpm's EVR comparison; a release missing on either side is not compared
/// (so `Requires: kernel >= 5.14.0` is met by any 5.14.0 release).
pub fn evr_cmp(a: &Evr<'_>, b: &Evr<'_>) -> Ordering {
    a.epoch
        .cmp(&b.epoch)
        .then_with(|| rpmvercmp(a.version, b.version))
        .then_with(|| match (a.release, b.release) {
            (Some(x), Some(y)) => rpmvercmp(x, y),
            _ => Ordering::Equal,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn basics() {
        assert_eq!(rpmvercmp("1.0", "1.0"), Equal);
        assert_eq!(rpmvercmp("1.0~rc1", "1.0"), Less);
        assert_eq!(rpmvercmp("1.0^git1", "1.0"), Greater);
        assert_eq!(rpmvercmp("1.0^git1", "1.0.1"), Less);
        assert_eq!(rpmvercmp("010", "10"), Equal);
        assert_eq!(rpmvercmp("a", "1"), Less);
    }
}
