//! "Did you mean" suggestions for unknown config keys and missing span names.

/// Levenshtein distance over chars, ignoring ASCII case (so `Name` suggests `name`).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Up to `n` candidates nearest to `target`, nearest first; ties keep the candidates'
/// order, so suggestions are deterministic.
pub fn nearest<'a>(
    target: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    n: usize,
) -> Vec<&'a str> {
    let mut scored: Vec<(usize, usize, &str)> = candidates
        .into_iter()
        .enumerate()
        .map(|(i, c)| (edit_distance(target, c), i, c))
        .collect();
    scored.sort_unstable();
    scored.into_iter().take(n).map(|(_, _, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        for (a, b, d) in [
            ("", "", 0),
            ("abc", "", 3),
            ("attrs", "atrs", 1),
            ("kitten", "sitting", 3),
            ("Name", "name", 0),
            ("gtt", "gt", 1),
        ] {
            assert_eq!(edit_distance(a, b), d, "{a} vs {b}");
        }
    }

    #[test]
    fn nearest_is_sorted_and_capped() {
        let c = [
            "clnrm.cleanup",
            "clnrm.run",
            "clnrm.cleanup.concurrent",
            "clnrm.recovery",
        ];
        assert_eq!(
            nearest("clnrm.cleanp", c, 2),
            vec!["clnrm.cleanup", "clnrm.run"]
        );
        assert!(nearest("x", [], 3).is_empty());
    }
}
