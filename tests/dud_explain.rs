//! `kmodpack dud explain`: every checklist code a finding can carry is a
//! [`Rule`] with a section, a default severity and a text the user can read,
//! and docs/checklist.md lists exactly those rules.

mod common;

use common::{kmodpack, repo, run};
use kmodpack::dud::rule::{markdown_table, Rule, Section, Severity};

const MARKER: &str = "<!-- generated: checklist table -->\n";

#[test]
fn explain_prints_the_rule_with_section_and_severity() {
    let (code, out, err) = run(kmodpack().args(["dud", "explain", "b4"]));
    assert_eq!(code, 0, "{err}");
    let first = out.lines().next().unwrap();
    assert_eq!(
        first,
        "B4 (per RPM (anaconda), error): Modules and firmware sit where `dd_extract` copies from."
    );
    // The body is the rule's text, wrapped at 78 columns.
    let body: Vec<&str> = out.lines().skip(2).collect();
    assert!(body.iter().all(|l| l.len() <= 78), "{out}");
    assert_eq!(body.join(" "), Rule::B4.text());
    assert!(out.contains("usr/lib/modules"), "{out}");
}

#[test]
fn unknown_code_is_one_line_with_a_suggestion_and_exit_2() {
    let (code, out, err) = run(kmodpack().args(["dud", "explain", "B8"]));
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("unknown checklist code `B8`") && err.contains("did you mean B7?"),
        "{err}"
    );
    assert!(err.contains("kmodpack dud explain --list"), "{err}");
    // Right number, wrong letter: the same number in the section that has it.
    let (_, _, err) = run(kmodpack().args(["dud", "explain", "Z4"]));
    assert!(err.contains("did you mean B4?"), "{err}");
    let (code, _, err) = run(kmodpack().args(["dud", "explain", "nonsense"]));
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        "kmodpack: error: unknown checklist code `nonsense` (`kmodpack dud explain --list` lists all)"
    );
}

#[test]
fn list_has_every_rule_once_under_its_section() {
    let (code, out, err) = run(kmodpack().args(["dud", "explain", "--list"]));
    assert_eq!(code, 0, "{err}");
    let listed: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let all: Vec<&str> = Rule::ALL.iter().map(|r| r.code()).collect();
    assert_eq!(listed, all);
    assert!(
        out.contains("\n  B9  warning  No `%description` line is exactly `---`.\n"),
        "{out}"
    );
    assert!(
        out.starts_with("A: installer target\n  A1  error    "),
        "{out}"
    );
}

#[test]
fn codes_parse_back_and_sit_in_their_section() {
    assert!(Rule::ALL.len() >= 27);
    for r in Rule::ALL {
        assert_eq!(r.code().parse::<Rule>().unwrap(), *r);
        assert!(r.code().starts_with(r.section().letter()), "{r}");
        assert!(!r.title().is_empty() && r.text().len() > 40, "{r}");
    }
    // Checklist order: by section, then by number.
    let mut sorted = Rule::ALL.to_vec();
    sorted.sort_by_key(|r| (r.section(), r.code()[1..].parse::<u32>().unwrap()));
    assert_eq!(sorted, Rule::ALL);
    // `dud build` re-reads its own image for the disk sections only.
    let disk: Vec<Section> = Section::ALL.into_iter().filter(|s| s.is_disk()).collect();
    assert_eq!(disk, [Section::Repodata, Section::Image]);
    assert_eq!(Rule::C2.severity(), Severity::Error);
    assert_eq!(Rule::E5.severity(), Severity::Note);
    assert_eq!(serde_json::to_string(&Rule::G3).unwrap(), "\"G3\"");
}

#[test]
fn docs_checklist_table_equals_the_enum() {
    let path = repo().join("docs/checklist.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let (head, table) = text
        .split_once(MARKER)
        .expect("docs/checklist.md has the marker");
    if std::env::var_os("KMODPACK_BLESS").is_some() {
        std::fs::write(&path, format!("{head}{MARKER}{}", markdown_table())).unwrap();
        return;
    }
    assert_eq!(
        table,
        markdown_table(),
        "docs/checklist.md is stale: KMODPACK_BLESS=1 cargo test --test dud_explain"
    );
    for r in Rule::ALL {
        assert!(table.contains(&format!("\n| {} | ", r.code())), "{r}");
    }
}
