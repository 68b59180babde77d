//! Finds the line of a key path (`kernels[1].release`) in YAML text.
//!
//! serde_yaml reports positions for syntax and type errors but not for the
//! values our own validation rejects, yet every error must name its line.
//! Descriptions are block-style YAML, so an indentation walk is enough:
//! find `key:` at the current mapping's indentation, then the N-th `- `
//! item of a sequence, and so on. Flow-style or otherwise unusual input
//! falls back to the deepest part of the path that was found.

/// 1-based line of the key path, or of its deepest located ancestor.
pub fn line_of(text: &str, path: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut start = 0usize; // first line of the current block
    let mut end = lines.len(); // one past its last line
    let mut indent: Option<usize> = Some(0); // indentation of keys in the block
    let mut found: Option<usize> = None;
    for part in split_path(path) {
        match part {
            Part::Key(key) => {
                let mut hit = None;
                for (i, line) in lines.iter().enumerate().take(end).skip(start) {
                    let (ind, body) = content(line);
                    let Some(body) = body else { continue };
                    // A key may sit right after "- " of the item we are in.
                    let (ind, body) = strip_dash(ind, body, i == start);
                    if indent.is_some_and(|w| ind != w) {
                        continue;
                    }
                    if body
                        .strip_prefix(key.as_str())
                        .is_some_and(|r| r.trim_start().starts_with(':'))
                    {
                        hit = Some((i, ind));
                        break;
                    }
                }
                let Some((i, ind)) = hit else { return found };
                found = Some(i + 1);
                // The key's block: following lines indented deeper (or "- " items at the same indent).
                let block_end = (i + 1..end)
                    .find(|&j| {
                        let (jind, body) = content(lines[j]);
                        body.is_some()
                            && (jind < ind
                                || (jind == ind && !body.unwrap_or("").starts_with("- ")))
                    })
                    .unwrap_or(end);
                start = i + 1;
                end = block_end;
                indent = (start..end).find_map(|j| match content(lines[j]) {
                    (jind, Some(_)) => Some(jind),
                    _ => None,
                });
                // A scalar on the same line: the path ends here.
            }
            Part::Index(n) => {
                let mut count = 0usize;
                let mut hit = None;
                let mut item_indent = None;
                for (i, line) in lines.iter().enumerate().take(end).skip(start) {
                    let (ind, body) = content(line);
                    let Some(body) = body else { continue };
                    if body.starts_with("- ") || body == "-" {
                        if item_indent.is_none() {
                            item_indent = Some(ind);
                        }
                        if Some(ind) != item_indent {
                            continue;
                        }
                        if count == n {
                            hit = Some((i, ind));
                            break;
                        }
                        count += 1;
                    }
                }
                let Some((i, ind)) = hit else { return found };
                found = Some(i + 1);
                let item_end = (i + 1..end)
                    .find(|&j| {
                        let (jind, body) = content(lines[j]);
                        body.is_some() && jind <= ind
                    })
                    .unwrap_or(end);
                start = i;
                end = item_end;
                indent = Some(ind + 2);
            }
        }
    }
    found
}

/// 1-based line of the second `key:` of the mapping that starts at
/// `mapping_line` (where serde_yaml reports a duplicate key): the error
/// belongs on the repeated key, not on the mapping's first line.
pub fn duplicate_key_line(text: &str, mapping_line: usize, key: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let first = mapping_line.checked_sub(1)?;
    let mut indent = None;
    let mut seen = 0;
    for (i, line) in lines.iter().enumerate().skip(first) {
        let (ind, body) = content(line);
        let Some(body) = body else { continue };
        let (ind, body) = strip_dash(ind, body, i == first);
        let want = *indent.get_or_insert(ind);
        if ind < want {
            break;
        }
        if ind == want
            && body
                .strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with(':'))
        {
            seen += 1;
            if seen == 2 {
                return Some(i + 1);
            }
        }
    }
    None
}

enum Part {
    Key(String),
    Index(usize),
}

fn split_path(path: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    for seg in path.split('.') {
        let mut rest = seg;
        if let Some(i) = rest.find('[') {
            if i > 0 {
                parts.push(Part::Key(rest[..i].to_string()));
            }
            rest = &rest[i..];
            while let Some(r) = rest.strip_prefix('[') {
                let Some(close) = r.find(']') else { break };
                if let Ok(n) = r[..close].parse() {
                    parts.push(Part::Index(n));
                }
                rest = &r[close + 1..];
            }
        } else if !seg.is_empty() {
            parts.push(Part::Key(seg.to_string()));
        }
    }
    parts
}

/// Indentation and content of a line; `None` content for blanks and comments.
fn content(line: &str) -> (usize, Option<&str>) {
    let ind = line.len() - line.trim_start_matches(' ').len();
    let body = line[ind..].trim_end();
    if body.is_empty() || body.starts_with('#') || body == "---" {
        (ind, None)
    } else {
        (ind, Some(body))
    }
}

fn strip_dash(ind: usize, body: &str, first: bool) -> (usize, &str) {
    if first {
        if let Some(r) = body.strip_prefix("- ") {
            let extra = r.len() - r.trim_start().len();
            return (ind + 2 + extra, r.trim_start());
        }
    }
    (ind, body)
}

#[cfg(test)]
mod tests {
    use super::line_of;

    const Y: &str = "name: foo\nversion: 1\nkernels:\n  - release: a\n    arches: [x86_64]\n  # comment\n  - release: b\n    arches:\n      - x86_64\n      - s390\nmodules:\n- name: m\n  path: p\n";

    #[test]
    fn finds_nested_keys() {
        assert_eq!(line_of(Y, "name"), Some(1));
        assert_eq!(line_of(Y, "kernels"), Some(3));
        assert_eq!(line_of(Y, "kernels[0].release"), Some(4));
        assert_eq!(line_of(Y, "kernels[0].arches"), Some(5));
        assert_eq!(line_of(Y, "kernels[1].release"), Some(7));
        assert_eq!(line_of(Y, "kernels[1].arches[1]"), Some(10));
        assert_eq!(line_of(Y, "modules[0].path"), Some(13));
        assert_eq!(line_of(Y, "modules[0].name"), Some(12));
        // Unknown deeper parts fall back to the deepest found.
        assert_eq!(line_of(Y, "kernels[1].flavor"), Some(7));
        assert_eq!(line_of(Y, "kernels[0].arches[0]"), Some(5));
    }
}
