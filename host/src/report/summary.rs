//! The human summary printed after each suite.

use crate::engine::SuiteOutcome;
use std::io::Write;

pub fn print_summary(out: &mut impl Write, s: &SuiteOutcome) -> std::io::Result<()> {
    writeln!(
        out,
        "suite {} ({}) seed {}{}",
        s.name,
        s.path.display(),
        s.seed,
        s.shard
            .as_ref()
            .map(|x| format!(" shard {x}"))
            .unwrap_or_default()
    )?;
    for sc in &s.scenarios {
        let mark = if sc.passed { "✓" } else { "✗" };
        let expect = if sc.expect_failure {
            " [expect failure]"
        } else {
            ""
        };
        writeln!(out, "  {mark} {}{expect} ({} ms)", sc.name, sc.duration_ms)?;
        for st in &sc.steps {
            let detail = match (&st.error_type, st.exit_code) {
                (Some(t), Some(c)) => format!("{t}, exit {c}"),
                (Some(t), None) => t.to_string(),
                (None, Some(c)) => format!("exit {c}"),
                (None, None) => String::new(),
            };
            writeln!(out, "      step {}: {} {}", st.name, st.result, detail)?;
        }
        for inj in &sc.injections {
            match &inj.error {
                Some(e) => writeln!(
                    out,
                    "      chaos {} ({}): ERROR {}",
                    inj.fault_type, inj.plugin, e
                )?,
                None => writeln!(
                    out,
                    "      chaos {} ({}): {}{}",
                    inj.fault_type,
                    inj.plugin,
                    inj.summary,
                    if inj.observed { "" } else { " [NOT OBSERVED]" }
                )?,
            }
        }
        let c = &sc.cleanup;
        writeln!(
            out,
            "      cleanup ({}): {} container(s) removed in {} ms, {} left{}",
            c.triggered,
            c.containers_removed,
            c.duration_ms,
            c.remaining.containers.len() + c.remaining.networks.len() + c.remaining.volumes.len(),
            if c.success { "" } else { " [FAILED]" }
        )?;
        if let Some(r) = &sc.reason {
            // A reason may carry lines of its own (a service's last output).
            writeln!(out, "      reason: {}", r.replace('\n', "\n        "))?;
        }
    }
    for e in &s.expectations {
        let mark = if e.passed { "✓" } else { "✗" };
        writeln!(out, "  {mark} {}: {}", e.expectation, e.message)?;
    }
    if let Some(msg) = &s.invalid {
        writeln!(out, "  ! {msg}")?;
    }
    let sc_ok = s.scenarios.iter().filter(|x| x.passed).count();
    let ex_ok = s.expectations.iter().filter(|x| x.passed).count();
    if s.digest_app_spans_left_out > 0 {
        writeln!(
            out,
            "  trace digest {} ({} application span(s) left out; `[determinism] digest_app_spans = true` puts them in)",
            s.digest, s.digest_app_spans_left_out
        )?;
    } else {
        writeln!(out, "  trace digest {}", s.digest)?;
    }
    writeln!(
        out,
        "{} {}: {}/{} scenarios, {}/{} expectations passed in {} ms",
        if s.passed { "PASS" } else { "FAIL" },
        s.name,
        sc_ok,
        s.scenarios.len(),
        ex_ok,
        s.expectations.len(),
        s.duration_ms
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest line says how many application spans it left out, and only then.
    #[test]
    fn the_digest_line_counts_application_spans_left_out() {
        let mut o = crate::report::fixture::outcome();
        let text = |o: &SuiteOutcome| {
            let mut out = Vec::new();
            print_summary(&mut out, o).unwrap();
            String::from_utf8(out).unwrap()
        };
        let plain = text(&o);
        assert!(
            plain.contains(&format!("  trace digest {}\n", o.digest)),
            "{plain}"
        );
        o.digest_app_spans_left_out = 3;
        let with = text(&o);
        assert!(
            with.contains(&format!(
                "  trace digest {} (3 application span(s) left out; `[determinism] digest_app_spans = true` puts them in)\n",
                o.digest
            )),
            "{with}"
        );
    }
}
