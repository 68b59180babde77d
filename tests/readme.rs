//! The README's examples are tested: every ```console block's `$ command`
//! lines are run (from the repository root, with the release binary on
//! PATH and KVER set to the installed kernel) and their combined
//! stdout+stderr must equal the lines shown. A line `...` (any indent) stands for any
//! number of lines; trailing blanks are ignored. A block directly preceded by
//! `<!-- readme-test: skip -->` is not run (long jobs covered elsewhere).

mod common;

use std::process::Command;

use common::repo;

struct Example {
    line: usize,
    command: String,
    expected: Vec<String>,
}

fn examples(readme: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut skip_next = false;
    let mut skip = false;
    for (n, line) in readme.lines().enumerate() {
        if !in_block {
            if line.trim() == "<!-- readme-test: skip -->" {
                skip_next = true;
            } else if line.starts_with("```console") {
                in_block = true;
                skip = skip_next;
                skip_next = false;
            } else if !line.trim().is_empty() {
                skip_next = false;
            }
            continue;
        }
        if line.starts_with("```") {
            in_block = false;
            continue;
        }
        if skip {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            out.push(Example {
                line: n + 1,
                command: cmd.to_string(),
                expected: Vec::new(),
            });
        } else if let Some(ex) = out.last_mut() {
            ex.expected.push(line.to_string());
        }
    }
    out
}

/// Matches `actual` against `expected`, where a `...` line matches any run.
fn matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first.trim() == "..." => {
            (0..=actual.len()).any(|i| matches(rest, &actual[i..]))
        }
        Some((first, rest)) => {
            actual
                .first()
                .is_some_and(|a| a.trim_end() == first.trim_end())
                && matches(rest, &actual[1..])
        }
    }
}

#[test]
fn readme_examples_produce_the_output_shown() {
    let text = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let examples = examples(&text);
    assert!(examples.len() >= 4, "README has too few tested examples");
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_kmodpack"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Examples work from a clone: nothing outside the repository.
    assert!(
        !text.contains("../shared"),
        "README.md points outside the repository (../shared)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for ex in &examples {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("{} 2>&1", ex.command))
            .current_dir(repo())
            .env("PATH", &path)
            .env("KVER", common::kernel_release())
            .env("TMPDIR", tmp.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let actual: Vec<&str> = stdout.lines().collect();
        if !matches(&ex.expected, &actual) {
            failures.push(format!(
                "README.md:{}: $ {}\n--- expected\n{}\n--- actual\n{}",
                ex.line,
                ex.command,
                ex.expected.join("\n"),
                stdout
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
