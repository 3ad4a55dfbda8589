//! `retry = { attempts, backoff_ms, factor, max_backoff_ms, jitter }` on a
//! step: run the command again, in the same container, after an
//! exponentially growing wait, until one attempt passes.

use super::de::{TableOf, TableShape};
use super::diag::{Ctx, SuiteError};
use serde::Deserialize;
use std::time::Duration;
use toml::Spanned;

/// `retry`, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryDef {
    pub attempts: Spanned<i64>,
    #[serde(default)]
    pub backoff_ms: Option<Spanned<i64>>,
    #[serde(default)]
    pub factor: Option<Spanned<f64>>,
    #[serde(default)]
    pub max_backoff_ms: Option<Spanned<i64>>,
    #[serde(default)]
    pub jitter: Option<bool>,
}

impl TableShape for RetryDef {
    const EXPECTING: &'static str =
        "a retry table { attempts, backoff_ms, factor, max_backoff_ms, jitter }";
}

pub type RetryField = Spanned<TableOf<RetryDef>>;

/// A checked retry policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (>= 1).
    pub attempts: u32,
    /// The wait before the second attempt.
    pub backoff: Duration,
    /// Each further wait is the previous one times `factor` (>= 1.0).
    pub factor: f64,
    /// No wait is longer than this.
    pub max_backoff: Duration,
    /// Each wait is drawn uniformly from [wait/2, wait] (seeded).
    pub jitter: bool,
}

/// Above this many attempts a retry loop is a busy loop, not a client.
const MAX_ATTEMPTS: i64 = 100;

pub fn check(cx: &Ctx, r: &RetryField) -> Result<RetryPolicy, SuiteError> {
    let d = r.get_ref();
    let attempts = *d.attempts.get_ref();
    if !(1..=MAX_ATTEMPTS).contains(&attempts) {
        return Err(cx.err(
            d.attempts.span(),
            format!("retry.attempts = {attempts}: must be between 1 and {MAX_ATTEMPTS}"),
            Some("attempts counts the first try too: attempts = 4 retries 3 times".into()),
        ));
    }
    let ms = |v: &Option<Spanned<i64>>, key: &str, default: i64| match v {
        None => Ok(default),
        Some(s) if *s.get_ref() >= 0 => Ok(*s.get_ref()),
        Some(s) => Err(cx.err(
            s.span(),
            format!("retry.{key} = {}: must not be negative", s.get_ref()),
            Some(format!("write {key} in milliseconds, e.g. {key} = 100")),
        )),
    };
    let backoff = ms(&d.backoff_ms, "backoff_ms", 100)?;
    let max_backoff = ms(&d.max_backoff_ms, "max_backoff_ms", i64::MAX)?;
    let factor = d.factor.as_ref().map(|f| (*f.get_ref(), f.span()));
    if let Some((f, span)) = &factor {
        if !f.is_finite() || *f < 1.0 {
            return Err(cx.err(
                span.clone(),
                format!("retry.factor = {f}: must be a number >= 1.0"),
                Some("factor = 2.0 doubles each wait; 1.0 keeps it constant".into()),
            ));
        }
    }
    if let Some(m) = &d.max_backoff_ms {
        if max_backoff < backoff {
            return Err(cx.err(
                m.span(),
                format!("retry.max_backoff_ms = {max_backoff} is below backoff_ms = {backoff}"),
                Some("max_backoff_ms caps the waits: make it at least backoff_ms".into()),
            ));
        }
    }
    Ok(RetryPolicy {
        attempts: attempts as u32,
        backoff: Duration::from_millis(backoff as u64),
        factor: factor.map_or(2.0, |(f, _)| f),
        max_backoff: Duration::from_millis(max_backoff as u64),
        jitter: d.jitter.unwrap_or(false),
    })
}

impl RetryPolicy {
    /// The wait before attempt `n` (2-based: attempt 1 has none) without
    /// jitter: backoff * factor^(n-2), capped.
    pub fn base_wait(&self, n: u32) -> Duration {
        let exp = n.saturating_sub(2) as i32;
        let ms = self.backoff.as_millis() as f64 * self.factor.powi(exp);
        let cap = self.max_backoff.as_millis() as f64;
        Duration::from_millis(ms.min(cap).max(0.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use crate::suite::testing::{fails, load_text, OK};
    use std::time::Duration;

    fn with_retry(retry: &str) -> String {
        OK.replace(
            "run = \"sleep 5\"",
            &format!("steps = [{{ name = \"r\", run = \"x\", retry = {retry} }}]"),
        )
    }

    #[test]
    fn a_retry_table_loads_with_its_defaults() {
        let s = load_text(&with_retry(
            "{ attempts = 4, backoff_ms = 100, factor = 2.0, max_backoff_ms = 2000, jitter = true }",
        ))
        .unwrap();
        let r = s.scenarios[0].steps[0].retry.unwrap();
        assert_eq!((r.attempts, r.factor, r.jitter), (4, 2.0, true));
        assert_eq!(r.backoff, Duration::from_millis(100));
        let waits: Vec<_> = (2..=6).map(|n| r.base_wait(n).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600]);
        assert_eq!(r.base_wait(7).as_millis(), 2000, "capped");
        let s = load_text(&with_retry("{ attempts = 2 }")).unwrap();
        let r = s.scenarios[0].steps[0].retry.unwrap();
        assert_eq!(
            (r.backoff.as_millis(), r.factor, r.jitter),
            (100, 2.0, false)
        );
        let s = load_text(&OK.replace(
            "run = \"sleep 5\"",
            "run = [{ service = \"app\", command = \"x\", retry = { attempts = 3 } }]",
        ))
        .unwrap();
        assert_eq!(s.scenarios[0].steps[0].retry.unwrap().attempts, 3);
    }

    #[test]
    fn bad_retry_tables_point_at_the_key() {
        // Line 9 is the steps line; the column is the offending value's.
        let (l, c, m, h) = fails(&with_retry("{ attempts = 4, backof_ms = 100 }"));
        assert_eq!(l, 9, "{m}");
        assert!(c > 40, "{c}: {m}");
        assert!(h.contains("did you mean `backoff_ms`"), "{h}");
        let (l, _, m, h) = fails(&with_retry("{ attempts = 0 }"));
        assert_eq!(l, 9);
        assert!(
            m.contains("retry.attempts = 0: must be between 1 and 100"),
            "{m}"
        );
        assert!(h.contains("attempts = 4 retries 3 times"), "{h}");
        let (_, _, m, _) = fails(&with_retry("{ attempts = 3, factor = 0.5 }"));
        assert!(
            m.contains("retry.factor = 0.5: must be a number >= 1.0"),
            "{m}"
        );
        let (_, _, m, _) = fails(&with_retry("{ attempts = 3, backoff_ms = -1 }"));
        assert!(
            m.contains("retry.backoff_ms = -1: must not be negative"),
            "{m}"
        );
        let (_, _, m, _) = fails(&with_retry(
            "{ attempts = 3, backoff_ms = 500, max_backoff_ms = 100 }",
        ));
        assert!(
            m.contains("max_backoff_ms = 100 is below backoff_ms = 500"),
            "{m}"
        );
        let (_, _, m, _) = fails(&with_retry("3"));
        assert!(m.contains("expected a retry table"), "{m}");
        let (_, _, m, h) = fails(&with_retry("{ backoff_ms = 5 }"));
        assert!(m.contains("missing field `attempts`"), "{m} / {h}");
    }
}
