//! "Did you mean ...?": the known name closest to a misspelled one, for every stage's
//! diagnostics (the compiler's and the Lisp evaluator's).

/// The candidate nearest to `name` by [`edit_distance`], when it is close enough to be a likely
/// typo (at most one edit per three characters, at least one); ties go to the smaller name.
/// `name` itself is no suggestion.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
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
    use super::{closest, edit_distance};

    #[test]
    fn finds_typos_and_ignores_strangers() {
        assert_eq!(edit_distance("cuonts", "counts"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        let names = ["counts", "mapcar", "format", "events"];
        assert_eq!(closest("cuonts", names), Some("counts"));
        assert_eq!(closest("mapcr", names), Some("mapcar"));
        assert_eq!(closest("xyz", names), None);
        assert_eq!(
            closest("format", names),
            None,
            "a name is no typo of itself"
        );
    }
}
