//! Finding a text's top-level lists without reading them, for libraries whose definitions are
//! read only when first used. The reader stays the authority: a text this cannot split simply
//! (anything but lists, comments and whitespace at top level) is read whole.

use std::ops::Range;

/// The byte ranges of the top-level lists of `text`, in order; `None` when the text holds
/// anything else at top level (an atom, a prefix such as `'` or `#+`) or its parentheses do not
/// balance. Strings, `|...|` and `\` escapes, `#\` characters and comments are skipped as the
/// reader skips them.
pub fn top_level_lists(text: &str) -> Option<Vec<Range<usize>>> {
    let bytes = text.as_bytes();
    let mut lists = Vec::new();
    let (mut depth, mut start, mut at) = (0usize, 0, 0);
    while at < bytes.len() {
        if depth > 0 {
            // Inside a list only these bytes matter: skip runs of the others in one sweep.
            let run = bytes[at..]
                .iter()
                .position(|&b| MATTERS_IN_A_LIST[usize::from(b)]);
            at += run.unwrap_or(bytes.len() - at);
            if at == bytes.len() {
                break;
            }
        }
        let next = bytes.get(at + 1).copied();
        match bytes[at] {
            b';' => at = line_end(bytes, at),
            b'#' if next == Some(b'|') => at = block_comment_end(bytes, at)?,
            b' ' | b'\t' | b'\n' | b'\r' | 0x0c => at += 1,
            b'(' => {
                if depth == 0 {
                    start = at;
                }
                depth += 1;
                at += 1;
            }
            b')' => {
                depth = depth.checked_sub(1)?;
                at += 1;
                if depth == 0 {
                    lists.push(start..at);
                }
            }
            _ if depth == 0 => return None,
            b'"' => at = escaped_run_end(bytes, at, b'"')?,
            b'|' => at = escaped_run_end(bytes, at, b'|')?,
            b'\\' => at += 2,
            b'#' if next == Some(b'\\') => at += 3,
            _ => at += 1,
        }
    }
    (depth == 0).then_some(lists)
}

/// The end of `"..."` or `|...|` opened at `open`, where `\` escapes the next character.
fn escaped_run_end(bytes: &[u8], open: usize, close: u8) -> Option<usize> {
    let mut at = open + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b if b == close => return Some(at + 1),
            _ => at += 1,
        }
    }
    None
}

/// The end of the `#| ... |#` comment opened at `open` (they nest).
fn block_comment_end(bytes: &[u8], open: usize) -> Option<usize> {
    let (mut depth, mut at) = (0usize, open);
    while at + 1 < bytes.len() {
        match &bytes[at..at + 2] {
            b"#|" => depth += 1,
            b"|#" => depth -= 1,
            _ => {
                at += 1;
                continue;
            }
        }
        at += 2;
        if depth == 0 {
            return Some(at);
        }
    }
    None
}

/// Where the comment line starting at `from` ends (its newline, or the end of the text).
fn line_end(bytes: &[u8], from: usize) -> usize {
    let run = bytes[from..].iter().position(|&b| b == b'\n');
    run.map_or(bytes.len(), |i| from + i)
}

/// The bytes the loop of [`top_level_lists`] acts on inside a list; every other byte is
/// stepped over.
const MATTERS_IN_A_LIST: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    let special = b"();\"|\\#";
    while i < special.len() {
        table[special[i] as usize] = true;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::top_level_lists;

    /// The lists found are exactly the forms the reader reads.
    fn agrees_with_the_reader(text: &str) {
        let read = crate::read_str(text);
        assert!(read.diagnostics.is_empty(), "{:?}", read.diagnostics);
        let spans: Vec<_> = read
            .forms
            .iter()
            .map(|f| f.span.start as usize..f.span.end as usize)
            .collect();
        assert_eq!(top_level_lists(text), Some(spans), "{text}");
    }

    #[test]
    fn skips_what_the_reader_skips() {
        agrees_with_the_reader("(a) ; (comment\n(b \"str ) \\\" (\" c)");
        agrees_with_the_reader("#| outer #| inner ) |# ( |#\n(a #\\( #\\) |odd ) name| b\\) c)");
        agrees_with_the_reader("(defun f (x) (list 'x `(,x ,@x) #'car))\n\n(g)");
        agrees_with_the_reader("");
    }

    #[test]
    fn anything_but_lists_at_top_level_is_left_to_the_reader() {
        for text in [
            "(a) b",
            "'(a)",
            "#+sbcl (a)",
            "(a",
            "(a))",
            "\"s\"",
            "(a \"open)",
        ] {
            assert_eq!(top_level_lists(text), None, "{text}");
        }
    }
}
