//! The order services start in: `depends_on` first (Compose's
//! `service_healthy`: each starts after what it depends on is ready). Only
//! dependencies the scenario itself starts count.

use crate::suite::Suite;

/// Waves of services: every service of a wave starts (and gets ready) before
/// any of the next. `parallel`: a wave holds every service whose
/// dependencies are all in earlier waves; otherwise one service per wave, in
/// the scenario's order except where a dependency must come first.
pub fn waves(services: &[String], suite: &Suite, parallel: bool) -> Vec<Vec<String>> {
    let deps = |sid: &String| -> Vec<&String> {
        suite
            .services
            .get(sid)
            .map(|s| {
                s.depends_on
                    .iter()
                    .filter(|d| services.contains(d) && *d != sid)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut placed: Vec<String> = Vec::new();
    let mut out: Vec<Vec<String>> = Vec::new();
    while placed.len() < services.len() {
        let free: Vec<String> = services
            .iter()
            .filter(|s| !placed.contains(s) && deps(s).iter().all(|d| placed.contains(d)))
            .cloned()
            .collect();
        // A cycle (the loader refuses them): the rest in the scenario's order.
        let wave = match (free.is_empty(), parallel) {
            (true, _) => services
                .iter()
                .filter(|s| !placed.contains(s))
                .cloned()
                .collect(),
            (false, true) => free,
            (false, false) => free.into_iter().take(1).collect(),
        };
        placed.extend(wave.iter().cloned());
        if parallel {
            out.push(wave);
        } else {
            out.extend(wave.into_iter().map(|s| vec![s]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite() -> Suite {
        crate::suite::load_str(
            std::path::Path::new("t.clnrm.toml"),
            r#"
[service.db]
image = "x"
[service.api]
image = "x"
depends_on = ["db"]
[service.web]
image = "x"
depends_on = ["api"]
[service.other]
image = "x"
[[scenario]]
name = "s"
service = "web"
run = "true"
"#
            .to_string(),
        )
        .unwrap()
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn dependencies_start_first() {
        let s = suite();
        let order = waves(&ids(&["web", "other", "api", "db"]), &s, false);
        assert_eq!(
            order,
            [ids(&["other"]), ids(&["db"]), ids(&["api"]), ids(&["web"])]
        );
        let par = waves(&ids(&["web", "other", "api", "db"]), &s, true);
        assert_eq!(par, [ids(&["other", "db"]), ids(&["api"]), ids(&["web"])]);
        // Dependencies the scenario does not start do not hold anything back.
        assert_eq!(
            waves(&ids(&["web", "other"]), &s, true),
            [ids(&["web", "other"])]
        );
        // Without depends_on: the scenario's order, untouched.
        assert_eq!(
            waves(&ids(&["other", "db"]), &s, false),
            [ids(&["other"]), ids(&["db"])]
        );
    }
}
