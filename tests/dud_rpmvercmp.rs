//! rpmvercmp and anaconda's dd_list decision against rpm 4.18 itself.
//!
//! rpm's Lua `rpm.vercmp` parses `[epoch:]version-release`; replacing `-`
//! and `:` by `.` (all three are plain separators for rpmvercmp) makes it
//! call the raw `rpmvercmp()` on the whole string, which is what anaconda's
//! dd_list uses on `uname -r`.

mod common;

use std::cmp::Ordering;
use std::process::Command;

use kmodpack::rpmvercmp::{evr_cmp, rpmvercmp, Evr};

const VECTORS: &[(&str, &str)] = &[
    (
        "5.14.0-503.14.1.el9_5.x86_64",
        "5.14.0-503.11.1.el9_5.x86_64",
    ),
    ("5.14.0-503.11.1.el9_5.x86_64", "5.14.0-503.11.1.el9_5"),
    (
        "5.14.0-503.11.1.el9_5.x86_64",
        "5.14.0-503.14.1.el9_5.x86_64",
    ),
    (
        "5.14.0-362.8.1.el9_3.x86_64",
        "5.14.0-503.11.1.el9_5.x86_64",
    ),
    (
        "5.14.0-503.11.1.el9_5.x86_64",
        "5.14.0-503.11.1.el9_5.x86_64",
    ),
    ("4.18.0-553.el8_10.x86_64", "4.18.0-553.5.1.el8_10.x86_64"),
    ("2.6.32-71.el6.x86_64", "2.6.32-131.0.15.el6"),
    ("6.1.0-56-amd64", "6.1.0-5-amd64"),
    ("1.0", "1.0"),
    ("1.0", "2.0"),
    ("2.0.1", "2.0"),
    ("2.0", "2.0.1"),
    ("1.0a", "1.0"),
    ("1.0", "1.0a"),
    ("a", "1"),
    ("1", "a"),
    ("abc", "abd"),
    ("010", "10"),
    ("0010", "9"),
    ("000", "0"),
    ("1.0~rc1", "1.0"),
    ("1.0~rc1", "1.0~rc2"),
    ("1.0~rc1", "1.0~"),
    ("1.0^", "1.0"),
    ("1.0^git1", "1.0"),
    ("1.0^git1", "1.0.1"),
    ("1.0^git1", "1.0^git2"),
    ("1.0^git1~pre", "1.0^git1"),
    ("1.0~rc1^git1", "1.0~rc1"),
    ("1_0", "1.0"),
    ("1..0", "1.0"),
    ("1.0.", "1.0"),
    ("el9_5", "el9_10"),
    ("x86_64", "x86_32"),
    ("5.14.0-503.el9", "5.14.0-503.0.1.el9"),
    ("1.fc40", "1.fc40.1"),
    ("2.0.0", "2_0_0"),
    ("FC5", "fc4"),
    ("+1", "1"),
    ("1~", "1"),
    ("1^", "1"),
    ("1~~", "1~"),
    ("1.0~rc1", "1.0rc1"),
    ("99999999999999999999", "99999999999999999998"),
];

fn rpm_eval(a: &str, b: &str) -> Ordering {
    let raw = |s: &str| s.replace(['-', ':'], ".");
    let expr = format!(
        "%{{lua: print(rpm.vercmp(\"{}\", \"{}\"))}}",
        raw(a),
        raw(b)
    );
    let (code, out, err) = common::run(Command::new("rpm").arg("--eval").arg(expr));
    assert_eq!(code, 0, "{err}");
    match out.trim() {
        "-1" => Ordering::Less,
        "0" => Ordering::Equal,
        "1" => Ordering::Greater,
        other => panic!("rpm printed {other:?} for {a} vs {b}"),
    }
}

#[test]
fn rpmvercmp_agrees_with_rpm() {
    let mut mismatches = Vec::new();
    for (a, b) in VECTORS {
        let want = rpm_eval(a, b);
        if rpmvercmp(a, b) != want {
            mismatches.push(format!(
                "{a} vs {b}: rpm {want:?}, ours {:?}",
                rpmvercmp(a, b)
            ));
        }
        if rpmvercmp(b, a) != want.reverse() {
            mismatches.push(format!("{b} vs {a} (reversed): ours {:?}", rpmvercmp(b, a)));
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[test]
fn evr_comparison_agrees_with_rpm() {
    // Here rpm.vercmp's own EVR parsing is the oracle.
    let pairs = [
        ("1:1.0-1", "2.0-1"),
        ("5.14.0-503.14.1.el9_5", "5.14.0-503.11.1.el9_5"),
        ("5.14-1", "5.14.0-1"),
        ("1.0-1", "1.0-1"),
        ("0:1.0-2", "1.0-10"),
    ];
    for (a, b) in pairs {
        let expr = format!("%{{lua: print(rpm.vercmp(\"{a}\", \"{b}\"))}}");
        let (_, out, _) = common::run(Command::new("rpm").arg("--eval").arg(expr));
        let want = match out.trim() {
            "-1" => Ordering::Less,
            "0" => Ordering::Equal,
            _ => Ordering::Greater,
        };
        assert_eq!(evr_cmp(&Evr::parse(a), &Evr::parse(b)), want, "{a} vs {b}");
    }
}

#[test]
fn dd_list_table_of_the_reference_doc() {
    use kmodpack::dud::ddlist::evaluate;
    use kmodpack::rpmpkg::{DepOp, RpmDep};
    // (installer uname -r, Provides version, accepted with >=, accepted with =)
    let table = [
        (
            "5.14.0-503.14.1.el9_5.x86_64",
            "5.14.0-503.11.1.el9_5.x86_64",
            true,
            false,
        ),
        (
            "5.14.0-503.11.1.el9_5.x86_64",
            "5.14.0-503.11.1.el9_5",
            true,
            false,
        ),
        (
            "5.14.0-503.11.1.el9_5.x86_64",
            "5.14.0-503.14.1.el9_5.x86_64",
            false,
            false,
        ),
        (
            "5.14.0-362.8.1.el9_3.x86_64",
            "5.14.0-503.11.1.el9_5.x86_64",
            false,
            false,
        ),
        (
            "5.14.0-503.11.1.el9_5.x86_64",
            "5.14.0-503.11.1.el9_5.x86_64",
            true,
            true,
        ),
        // anaconda's RHEL 6.0/6.1 special case
        (
            "5.14.0-503.11.1.el9_5.x86_64",
            "2.6.32-131.0.15.el6.x86_64",
            true,
            true,
        ),
    ];
    for (k, v, ge, eq) in table {
        let dep = |op| {
            vec![RpmDep {
                name: "kernel-modules".into(),
                op,
                version: v.into(),
                internal: false,
            }]
        };
        assert_eq!(evaluate(&dep(DepOp::Ge), k).accepted(), ge, "{k} >= {v}");
        assert_eq!(evaluate(&dep(DepOp::Eq), k).accepted(), eq, "{k} = {v}");
        // The oracle for the non-special rows: rpm's own comparison.
        if !v.starts_with("2.6.32") {
            let c = rpm_eval(k, v);
            assert_eq!(ge, c != Ordering::Less, "{k} vs {v}");
            assert_eq!(eq, c == Ordering::Equal, "{k} vs {v}");
        }
    }
}
