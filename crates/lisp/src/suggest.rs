//! "Did you mean ...?": the closest known name to a misspelled one, by edit distance.

/// The candidate nearest to `name`, when it is close enough to be a likely typo (at most one
/// edit per three characters, and at most two).
pub fn closest<'a>(name: &str, candidates: &'a [String]) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).clamp(1, 2);
    candidates
        .iter()
        .filter(|c| c.as_str() != name)
        .map(|c| (distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, c)| c.as_str())
}

/// Levenshtein distance between two strings, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_ignores_strangers() {
        let names: Vec<String> = ["counts", "mapcar", "format"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(closest("cuonts", &names), Some("counts"));
        assert_eq!(closest("mapcr", &names), Some("mapcar"));
        assert_eq!(closest("xyz", &names), None);
        assert_eq!(closest("format", &names), None);
    }
}
