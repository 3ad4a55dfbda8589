//! chaos_monkey: each round draws from the seeded stream whether to strike,
//! and then which target and which fault; each strike runs through the host
//! (`compose.run`) and counts only when its plugin observed it. A target a
//! kill or stop took down is not drawn again (it cannot be struck twice).

use crate::composed::{self, s};
use crate::tables::Monkey;
use clnrm_sdk::chaos::clnrm::chaos::types::AttrValue;
use clnrm_sdk::prelude::*;

/// Faults after which the target stays down.
const TERMINAL: [&str; 2] = ["kill_container", "stop_container"];

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let cfg: Monkey = injection_config(inj)?;
    let targets = composed::targets(&cfg.targets, inj)?;
    let span = composed::span("clnrm.chaos.monkey", inj.parent, "chaos_monkey");
    span.bool("chaos.random", true);
    span.int("monkey.rounds", cfg.rounds as i64);
    span.int(
        "monkey.failure_rate_percent",
        cfg.failure_rate_percent as i64,
    );
    span.int("monkey.interval_ms", cfg.interval_ms as i64);
    span.str("monkey.targets", &targets.join(","));
    let types: Vec<&str> = cfg.faults.iter().map(|f| f.fault_type()).collect();
    span.str("monkey.faults", &types.join(","));

    clock::sleep_ms(cfg.delay_ms);
    let mut down: Vec<String> = Vec::new();
    let mut choices = Vec::new();
    let mut failures = Vec::new();
    let (mut strikes, mut observed) = (0u32, 0u32);
    for round in 1..=cfg.rounds {
        clock::sleep_ms(cfg.interval_ms);
        // One draw per round decides the strike, whatever is left to strike,
        // so the rounds' decisions do not depend on earlier outcomes.
        let strike = rng::next_f64() * 100.0 < cfg.failure_rate_percent as f64;
        if !strike {
            continue;
        }
        let live: Vec<&String> = targets.iter().filter(|t| !down.contains(t)).collect();
        if live.is_empty() {
            choices.push(format!("{round}:-:none"));
            continue;
        }
        let target = live[(rng::next_u64() % live.len() as u64) as usize].clone();
        let fault = &cfg.faults[(rng::next_u64() % cfg.faults.len() as u64) as usize];
        strikes += 1;
        choices.push(format!("{round}:{target}:{}", fault.fault_type()));
        let r = composed::run(fault, Some(&target), span.0);
        let seen = matches!(&r, Ok(c) if c.observed);
        composed::event(
            &span,
            "monkey.strike",
            &[
                ("round", AttrValue::Int(round as i64)),
                ("target", s(&target)),
                ("fault", s(fault.fault_type())),
                ("observed", AttrValue::Boolean(seen)),
            ],
        );
        if seen {
            observed += 1;
            if TERMINAL.contains(&fault.fault_type()) {
                down.push(target);
            }
        } else if let Some(why) = composed::failure(
            &format!("round {round}: {} on {target}", fault.fault_type()),
            &r,
        ) {
            failures.push(why);
        }
    }
    span.int("monkey.strikes", strikes as i64);
    span.int("monkey.observed", observed as i64);
    span.float("failure.rate", observed as f64 / cfg.rounds as f64);
    span.str("monkey.choices", &choices.join(","));
    span.int("monkey.down", down.len() as i64);
    if strikes == 0 {
        return span.fail(format!(
            "the monkey drew no strike in {} rounds at {} %",
            cfg.rounds, cfg.failure_rate_percent
        ));
    }
    if !failures.is_empty() {
        return span.fail(format!(
            "{} of {strikes} strikes not observed: {}",
            failures.len(),
            failures.join("; ")
        ));
    }
    span.observed();
    Ok(Outcome {
        observed: true,
        summary: format!(
            "chaos monkey: {strikes} observed strikes in {} rounds ({} % drawn): {}",
            cfg.rounds,
            cfg.failure_rate_percent,
            choices.join(", ")
        ),
    })
}
