//! `chaos_fault!` on the fake host: a plugin in a few lines gets `describe`, a `check` that
//! reports typos at their key (with `type` among the valid keys), its `where` check, and an
//! `inject` that decodes the config and calls the fault's function.
//! Run with `cargo test -p clnrm-sdk --features fake-host --test chaos_fault`.

use clnrm_sdk::fake::{self, injection};
use clnrm_sdk::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Nap {
    #[serde(default)]
    delay_ms: u64,
    target: Option<String>,
}

fn short(cfg: &Nap) -> Result<(), ConfigError> {
    if cfg.delay_ms > 60_000 {
        return Err(ConfigError::InvalidValue {
            path: vec!["delay_ms".into()],
            message: "naps last at most a minute".into(),
        });
    }
    Ok(())
}

fn nap(cfg: Nap, inj: &Injection) -> Result<Outcome, String> {
    let target = target(cfg.target.as_deref(), inj)?;
    let span = FaultSpan::start("chaos.nap", inj.parent, "nap", &target, cfg.delay_ms);
    clock::sleep_ms(cfg.delay_ms);
    container::pause(&target).or_else(|e| span.fail(e))?;
    span.observed();
    Ok(Outcome {
        observed: true,
        summary: format!("{target} napping"),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Poke {}

fn poke(_: Poke, _: &Injection) -> Result<Outcome, String> {
    Err("poked".into())
}

clnrm_sdk::chaos_fault! {
    name: "nap",
    capabilities: ["container"],
    faults: {
        "nap": Nap => nap where short;
        "poke": Poke => poke;
    }
}

type P = __ClnrmFault;

#[test]
fn describe_lists_the_faults_and_capabilities() {
    let info = P::describe();
    assert_eq!(info.name, "nap");
    assert_eq!(info.handles, ["nap", "poke"]);
    assert_eq!(info.capabilities, ["container"]);
    assert_eq!(info.wit_version, clnrm_sdk::WIT_VERSION);
}

#[test]
fn check_decodes_without_a_type_field_and_names_bad_keys() {
    assert!(P::check("nap", r#"{"type":"nap","delay_ms":5}"#).is_ok());
    let e = P::check("nap", r#"{"type":"nap","dely_ms":5}"#).unwrap_err();
    assert_eq!(
        e,
        ConfigError::UnknownKey {
            path: vec!["dely_ms".into()],
            expected: vec!["type".into(), "delay_ms".into(), "target".into()],
        }
    );
    let e = P::check("nap", r#"{"type":"nap","delay_ms":"x"}"#).unwrap_err();
    assert!(matches!(e, ConfigError::WrongType { .. }), "{e:?}");
    let e = P::check("nap", r#"{"type":"nap","delay_ms":90000}"#).unwrap_err();
    assert!(
        e.to_string().contains("at most a minute"),
        "the where check: {e}"
    );
    assert!(P::check("poke", r#"{"type":"poke"}"#).is_ok());
    assert!(P::check("snore", r#"{"type":"snore"}"#)
        .unwrap_err()
        .to_string()
        .contains("nap does not handle `snore`"));
}

#[test]
fn inject_decodes_and_dispatches() {
    fake::reset(1);
    fake::with(|h| {
        h.services(&["app"]);
    });
    let out = P::inject(injection(r#"{"type":"nap","delay_ms":250}"#, &["app"])).unwrap();
    assert_eq!(out.summary, "app napping");
    fake::with(|h| {
        assert_eq!(h.first_call_at("container.pause app"), Some(250));
        assert!(h.span("chaos.nap").unwrap().ok());
    });
    let e = P::inject(injection(r#"{"type":"nap","delay_ms":90000}"#, &["app"])).unwrap_err();
    assert!(e.starts_with("chaos_injection.delay_ms"), "{e}");
    assert_eq!(
        P::inject(injection(r#"{"type":"poke"}"#, &["app"])).unwrap_err(),
        "poked"
    );
}
