//! Man pages (`kmodpack generate man`, installed by make install, the dist
//! tarball and both RPMs): every command's page has EXAMPLES, EXIT STATUS
//! and FILES, renders without warnings with man(1)/groff, and
//! kmodpack-description(5) lists the same keys as the README's reference.

mod common;

use std::process::Command;

use common::{kmodpack, repo, run};

/// man's output without the terminal's overstrike bold/underline
/// (`X\x08X`, `_\x08X`).
fn plain(text: &str) -> String {
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        if c == '\u{8}' {
            out.pop();
            continue;
        }
        out.push(c);
    }
    let mut s: String = out.into_iter().collect();
    // The character after a backspace replaced the one before it.
    s = s.replace('\u{8}', "");
    s
}

#[test]
fn every_page_has_examples_exit_status_and_files_and_renders_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = run(kmodpack().args(["generate", "man"]).arg(tmp.path()));
    assert_eq!(code, 0, "{err}");
    let mut pages: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    assert!(pages.contains(&"kmodpack.1".to_string()), "{pages:?}");
    assert!(
        pages.contains(&"kmodpack-description.5".to_string()),
        "{pages:?}"
    );
    assert!(
        !pages.iter().any(|p| p.contains("-help")),
        "no pages for clap's help: {pages:?}"
    );
    for p in &pages {
        let path = tmp.path().join(p);
        let (code, text, err) = run(Command::new("man")
            .args(["--warnings", "-l"])
            .arg(&path)
            .env("MANWIDTH", "100"));
        let text = plain(&text);
        assert_eq!(code, 0, "{p}: {err}");
        assert!(err.trim().is_empty(), "{p}: groff warnings: {err}");
        if p.ends_with(".1") {
            for section in ["EXAMPLES", "EXIT STATUS", "FILES"] {
                assert!(
                    text.lines().any(|l| l == section),
                    "{p} has no {section}:\n{text}"
                );
            }
            // The examples call this page's command (`kmodpack-deps-check` →
            // `kmodpack deps check`, or a subcommand of it).
            let cmd = p.trim_end_matches(".1").replace('-', " ");
            let examples = text
                .split("\nEXAMPLES\n")
                .nth(1)
                .unwrap()
                .split("\nEXIT STATUS\n")
                .next()
                .unwrap();
            let calls: Vec<&str> = examples
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with("kmodpack ") || l.starts_with("echo "))
                .collect();
            assert!(!calls.is_empty(), "{p}: {examples}");
            let parent = cmd
                .rsplit_once(' ')
                .map(|(a, _)| a.to_string())
                .unwrap_or(cmd.clone());
            assert!(
                calls
                    .iter()
                    .all(|c| c.contains(&format!("{cmd} ")) || c.contains(&format!("{parent} "))),
                "{p}: {calls:?}"
            );
        }
    }
    // The description format: the README's reference table, key for key.
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let table = readme
        .split("### Package description reference")
        .nth(1)
        .unwrap();
    let want: Vec<String> = table
        .lines()
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            l.trim_start_matches("| ")
                .split(" | ")
                .next()
                .unwrap()
                .replace('`', "")
        })
        .collect();
    assert!(want.len() > 20, "{want:?}");
    let (_, page, _) = run(Command::new("man")
        .args(["-l"])
        .arg(tmp.path().join("kmodpack-description.5"))
        .env("MANWIDTH", "200"));
    let page = plain(&page);
    for key in &want {
        assert!(
            page.contains(key.as_str()),
            "kmodpack-description(5) lacks {key}"
        );
    }
    let keys_section = page
        .split("\nKEYS\n")
        .nth(1)
        .unwrap()
        .split("\nEXAMPLE\n")
        .next()
        .unwrap();
    let listed = keys_section
        .lines()
        .filter(|l| l.starts_with("       ") && !l.starts_with("        "))
        .count();
    assert_eq!(listed, want.len(), "{keys_section}");
}
