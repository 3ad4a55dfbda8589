//! "Did you mean": the one implementation the host and the plugins share.
//!
//! - [`nearest`]: the single suggestion for a typo (an unknown key, value, table or
//!   service name), or none when nothing is close enough to be a likely typo.
//! - [`ranked`]: the `n` closest candidates, however far (e.g. "nearest span names in the
//!   trace" when an expected span is missing: there, some names always help).
//!
//! Plain Rust with one tiny dependency (`strsim`), so the host can use it too.

/// The candidate closest to `word`, if it is close enough to be a likely typo: at
/// most `max(3, len/3)` edits (Damerau-Levenshtein, so a swap counts once), and fewer
/// than the length of the shorter word (an edit that rewrites the whole word is no
/// suggestion). Ties go to the first candidate, so suggestions are deterministic.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let len = word.chars().count();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 3.max(c.len() / 3) && *d < len.min(c.chars().count()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

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
pub fn ranked<'a>(
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
            ranked("clnrm.cleanp", c, 2),
            vec!["clnrm.cleanup", "clnrm.run"]
        );
        assert!(ranked("x", [], 3).is_empty());
    }

    /// The host's semantics (host/src/suite/diag.rs), case for case.
    #[test]
    fn nearest_suggests_only_likely_typos() {
        let keys = ["expect_failure", "expect_partial_failure", "service", "run"];
        assert_eq!(nearest("expect_falure", keys), Some("expect_failure"));
        assert_eq!(nearest("sevrice", keys), Some("service"));
        assert_eq!(nearest("rnu", keys), Some("run"));
        // A rewrite of the whole word is no suggestion.
        assert_eq!(nearest("abc", keys), None);
        assert_eq!(nearest("x", ["y"]), None);
        // More than max(3, len/3) edits away.
        assert_eq!(nearest("completely_else", keys), None);
        // First of equals wins.
        assert_eq!(nearest("ab", ["ac", "ad"]), Some("ac"));
        assert_eq!(
            nearest("kill_containr", ["kill_container", "stop_container"]),
            Some("kill_container")
        );
        assert_eq!(nearest("x", std::iter::empty()), None);
        // The host's own cases.
        assert_eq!(nearest("c", ["a", "b"]), None);
        assert_eq!(nearest("ap", ["app"]), Some("app"));
        assert_eq!(
            nearest("servce", ["meta", "service", "scenario"]),
            Some("service")
        );
        assert_eq!(nearest("jaegr", ["stdout", "otlp", "none"]), None);
        assert_eq!(nearest("otpl", ["stdout", "otlp", "none"]), Some("otlp"));
        assert_eq!(nearest("gracefull", ["hard", "graceful"]), Some("graceful"));
        assert_eq!(nearest("xml", ["name", "json", "junit"]), None);
    }
}
