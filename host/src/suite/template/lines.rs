//! Which template line each rendered line came from: the lines the two
//! texts share (a longest common subsequence) map one to one; a rendered
//! line between two shared ones comes from the first template line between
//! them that holds a tag (`{{` or `{%`), else from the shared line before.

/// For each rendered line (0-based index), its template line (1-based).
pub fn map(template: &str, rendered: &str) -> Vec<usize> {
    let t: Vec<&str> = template.lines().collect();
    let r: Vec<&str> = rendered.lines().collect();
    // Cap the table: past it, fall back to "the same line number".
    if t.len().saturating_mul(r.len()) > 4_000_000 {
        return (1..=r.len()).map(|i| i.min(t.len().max(1))).collect();
    }
    let (n, m) = (t.len(), r.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if t[i] == r[j] && !t[i].contains("{{") && !t[i].contains("{%") {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // The shared pairs (template index, rendered index).
    let mut pairs = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if t[i] == r[j] && lcs[i][j] == lcs[i + 1][j + 1] + 1 {
            pairs.push((i, j));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    let mut out = vec![0usize; m];
    let mut prev: Option<(usize, usize)> = None;
    let mut k = 0;
    for (j, slot) in out.iter_mut().enumerate() {
        while k < pairs.len() && pairs[k].1 < j {
            prev = Some(pairs[k]);
            k += 1;
        }
        if k < pairs.len() && pairs[k].1 == j {
            *slot = pairs[k].0 + 1;
            continue;
        }
        let lo = prev.map(|p| p.0 + 1).unwrap_or(0);
        let hi = pairs.get(k).map(|p| p.0).unwrap_or(n);
        let tagged = (lo..hi).find(|&x| t[x].contains("{{") || t[x].contains("{%"));
        *slot = match (tagged, prev) {
            (Some(x), _) => x + 1,
            (None, Some(p)) => p.0 + 1,
            (None, None) => 1,
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::map;

    #[test]
    fn shared_lines_map_and_expansions_point_at_their_tag() {
        let t = "a\n{{ m::x() }}\nb\n{% if x %}\nc\n{% endif %}\nd";
        let r = "a\nx1\nx2\nb\nc\nd";
        assert_eq!(map(t, r), [1, 2, 2, 3, 5, 7]);
    }
}
