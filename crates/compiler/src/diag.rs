//! Small helpers for diagnostics: error construction and "did you mean" suggestions.

use whistler_syntax::{Diagnostic, Span};

pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(span, message)
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// Appends "did you mean `x`?" help when a close candidate exists.
pub fn with_suggestion<'a>(
    d: Diagnostic,
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Diagnostic {
    match closest(name, candidates) {
        Some(c) => d.with_help(format!("did you mean `{c}`?")),
        None => d,
    }
}

/// Edit distance over characters where an adjacent transposition counts as one edit
/// (optimal string alignment), so `cuonts` is one edit from `counts`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggestions() {
        assert_eq!(super::edit_distance("cuonts", "counts"), 1);
        assert_eq!(super::edit_distance("kitten", "sitting"), 3);
        assert_eq!(
            super::closest("cuonts", ["counts", "events"]),
            Some("counts")
        );
        assert_eq!(super::closest("zzz", ["counts"]), None);
    }
}
