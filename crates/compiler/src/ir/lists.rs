//! [`Lists`]: one list per index (the predecessors of every block, the users of every value),
//! all in one table: the passes build such lists for every block or value many times per
//! round, and one allocation per list would scatter them over the heap.

/// Lists indexed `0..len`; `lists[k]` is the slice of list `k`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lists<T> {
    /// List `k` is `items[starts[k]..starts[k + 1]]`.
    starts: Vec<u32>,
    items: Vec<T>,
}

impl<T: Copy> Lists<T> {
    /// Lists `0..len` of the `(list, item)` pairs of `pairs`, each list in the order its items
    /// come. The pairs are gathered first (walking the function once), then counted, so that
    /// the lists share one table, each at its place.
    pub fn build(len: usize, pairs: impl IntoIterator<Item = (usize, T)>) -> Lists<T> {
        let pairs: Vec<(usize, T)> = pairs.into_iter().collect();
        // `starts[k + 2]` counts list `k`, so that after the prefix sums `starts[k + 1]` is where
        // list `k` starts: filling moves it to where list `k` ends, that is where `k + 1` starts.
        let mut starts = vec![0u32; len + 2];
        for &(k, _) in &pairs {
            starts[k + 2] += 1;
        }
        for k in 2..starts.len() {
            starts[k] += starts[k - 1];
        }
        let mut items = match pairs.first() {
            Some(&(_, first)) => vec![first; pairs.len()],
            None => Vec::new(),
        };
        for (k, item) in pairs {
            items[starts[k + 1] as usize] = item;
            starts[k + 1] += 1;
        }
        starts.pop();
        Lists { starts, items }
    }
}

impl<T> std::ops::Index<usize> for Lists<T> {
    type Output = [T];

    fn index(&self, k: usize) -> &[T] {
        &self.items[self.starts[k] as usize..self.starts[k + 1] as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::Lists;

    #[test]
    fn lists_keep_their_items_in_order() {
        let pairs = [(2, 'a'), (0, 'b'), (2, 'c'), (3, 'd'), (0, 'e')];
        let lists = Lists::build(5, pairs);
        assert_eq!(&lists[0], &['b', 'e']);
        assert!(lists[1].is_empty());
        assert_eq!(&lists[2], &['a', 'c']);
        assert_eq!(&lists[3], &['d']);
        assert!(lists[4].is_empty());
        let empty: Lists<char> = Lists::build(3, []);
        assert!((0..3).all(|k| empty[k].is_empty()));
    }
}
