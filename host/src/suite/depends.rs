//! `depends_on` must not go round in a circle: services start after what
//! they depend on is ready, so a cycle could never start.

use super::diag::{Ctx, SuiteError};
use std::collections::BTreeMap;
use std::ops::Range;

/// The first cycle found, reported at the edge that closes it. `services`:
/// each service's `depends_on`; `edge_span(from, to)`: where `from`'s
/// `depends_on` names `to`.
pub fn check_acyclic(
    cx: &Ctx,
    services: &BTreeMap<&str, &[String]>,
    edge_span: impl Fn(&str, &str) -> Range<usize>,
) -> Result<(), SuiteError> {
    // Depth-first, in id order: 0 unseen, 1 on the path, 2 done.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    let mut path: Vec<&str> = Vec::new();
    fn visit<'a>(
        id: &'a str,
        services: &BTreeMap<&'a str, &'a [String]>,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<(Vec<&'a str>, &'a str)> {
        state.insert(id, 1);
        path.push(id);
        for d in services.get(id).copied().unwrap_or(&[]) {
            match state.get(d.as_str()).copied().unwrap_or(0) {
                1 => {
                    let from = path.iter().position(|p| *p == d.as_str()).unwrap_or(0);
                    return Some((path[from..].to_vec(), d.as_str()));
                }
                0 => {
                    if let Some(c) = visit(d, services, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(id, 2);
        None
    }
    for &id in services.keys() {
        if state.get(id).copied().unwrap_or(0) == 0 {
            if let Some((cycle, back)) = visit(id, services, &mut state, &mut path) {
                let last = cycle.last().copied().unwrap_or(back);
                let mut shown: Vec<&str> = cycle.clone();
                shown.push(back);
                return Err(cx.err(
                    edge_span(last, back),
                    format!("`depends_on` goes round in a circle: {}", shown.join(" → ")),
                    Some("a service starts after what it depends on is ready, so one of these edges must go".into()),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::suite::testing::fails;

    #[test]
    fn a_cycle_is_an_error_at_the_edge_that_closes_it() {
        let (l, c, m, h) = fails(
            r#"
[service.a]
image = "x"
depends_on = ["b"]
[service.b]
image = "x"
depends_on = ["c"]
[service.c]
image = "x"
depends_on = ["a"]
[[scenario]]
name = "s"
service = "a"
run = "true"
"#,
        );
        assert!(m.contains("circle: a → b → c → a"), "{m}");
        assert_eq!((l, c), (10, 15), "{m}");
        assert!(h.contains("must go"), "{h}");
    }
}
