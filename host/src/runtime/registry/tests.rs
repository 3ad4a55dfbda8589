use super::load::*;
use super::resolve::*;
use super::*;
use crate::runtime::bindings::chaos::clnrm::chaos::types::{
    InvalidValue, MissingKey, UnknownKey, WrongType,
};

#[test]
fn version_compatibility() {
    assert_eq!(api_for(WIT_VERSION), Some(Api::Current));
    assert_eq!(api_for("0.3.0"), Some(Api::Current));
    assert_eq!(api_for("0.3.9"), Some(Api::Current));
    assert_eq!(api_for("0.2.0"), Some(Api::V0_2));
    assert_eq!(api_for("0.2.7"), Some(Api::V0_2));
    assert_eq!(api_for("0.1.0"), None);
    assert_eq!(api_for("0.4.0"), None);
    assert_eq!(api_for("1.0.0"), None);
    assert_eq!(api_for("garbage"), None);
    assert_eq!(accepted(), "clnrm:chaos@0.2.x or clnrm:chaos@0.3.x");
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_exports_pick_the_bindings_and_bad_versions_are_refused() {
    // As `check_version` calls it: imports and exports, then the exports.
    let ok = |imports: &[&str], exports: &[&str]| {
        let all = names(imports).into_iter().chain(names(exports));
        classify_names(all, &names(exports))
    };
    assert_eq!(
        ok(
            &["wasi:cli/stdout@0.2.6", "clnrm:chaos/container@0.2.0"],
            &["clnrm:chaos/chaos@0.2.0"]
        ),
        Ok((World::Chaos, Api::V0_2))
    );
    assert_eq!(
        ok(&["clnrm:chaos/log@0.3.0"], &["clnrm:chaos/validator@0.3.0"]),
        Ok((World::Validator, Api::Current))
    );
    for bad in ["0.1.0", "1.0.0"] {
        let e = ok(&[], &[&format!("clnrm:chaos/chaos@{bad}")]).unwrap_err();
        assert!(
            e.contains(&format!("was built for clnrm:chaos@{bad}"))
                && e.contains("clnrm:chaos@0.2.x or clnrm:chaos@0.3.x"),
            "{e}"
        );
    }
    let e = ok(
        &["clnrm:chaos/container@0.2.0"],
        &["clnrm:chaos/chaos@0.3.0"],
    )
    .unwrap_err();
    assert!(e.contains("mixes versions"), "{e}");
    let e = ok(&[], &["wasi:http/handler@0.2.0"]).unwrap_err();
    assert!(e.contains("exports neither"), "{e}");
    // 0.3.3's second validator export is on the same track; not on a 0.2 plugin.
    let both = [
        "clnrm:chaos/validator@0.3.3",
        "clnrm:chaos/packed-validator@0.3.3",
    ];
    assert_eq!(ok(&[], &both), Ok((World::Validator, Api::Current)));
    assert!(exports_interface(&names(&both), "packed-validator"));
    assert!(!exports_interface(&names(&both[..1]), "packed-validator"));
    let e = ok(
        &[],
        &[
            "clnrm:chaos/validator@0.2.0",
            "clnrm:chaos/packed-validator@0.3.3",
        ],
    )
    .unwrap_err();
    assert!(e.contains("mixes versions"), "{e}");
}

/// The package line of a WIT file, read independently of build.rs.
fn package_version(wit: &str) -> String {
    let line = wit
        .lines()
        .find(|l| l.trim_start().starts_with("package "))
        .expect("a package line");
    line.trim()
        .trim_start_matches("package ")
        .trim_end_matches(';')
        .split_once('@')
        .expect("a versioned package")
        .1
        .to_string()
}

#[test]
fn host_and_sdk_versions_are_the_wit_files() {
    let current = package_version(include_str!("../../../../wit/clnrm.wit"));
    assert_eq!(WIT_VERSION, current);
    assert_eq!(clnrm_sdk::WIT_VERSION, current);
    assert_eq!(
        COMPAT_VERSIONS,
        [package_version(include_str!("../../../../wit/compat/0.2.0/clnrm.wit")).as_str()]
    );
    assert!(!same_track(COMPAT_VERSIONS[0], WIT_VERSION));
}

fn p(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| x.to_string()).collect()
}

/// `[[expect.span]]` with two entries; the second has `parnet` and
/// `attrs = { nmae = 1 }`.
fn positions() -> Positions {
    let mut pos = Positions::default();
    pos.insert(p(&[]), 0..200, 0..200);
    pos.insert(p(&["0"]), 0..80, 0..80);
    pos.insert(p(&["1"]), 100..200, 100..200);
    pos.insert(p(&["1", "parnet"]), 120..126, 129..144);
    pos.insert(p(&["1", "attrs"]), 150..155, 158..170);
    pos
}

#[test]
fn config_errors_point_at_what_they_name() {
    let whole = 0..200;
    let pos = positions();

    let e = ConfigError::UnknownKey(UnknownKey {
        path: p(&["1", "parnet"]),
        expected: p(&["name", "parent", "status"]),
    });
    let (span, msg, help) = config_error_report(&e, "expect.span", &pos, &whole);
    assert_eq!(span, 120..126, "the key itself");
    assert_eq!(msg, "unknown key \"parnet\" in expect.span[1]");
    assert_eq!(
        help.as_deref(),
        Some("did you mean \"parent\"? valid keys here: name, parent, status")
    );

    // A key inside `attrs` that Positions does not list: the nearest enclosing key.
    let e = ConfigError::UnknownKey(UnknownKey {
        path: p(&["1", "attrs", "nmae"]),
        expected: p(&["zzz"]),
    });
    let (span, _, help) = config_error_report(&e, "expect.span", &pos, &whole);
    assert_eq!(span, 150..155);
    assert_eq!(help.as_deref(), Some("valid keys here: zzz"));

    let e = ConfigError::MissingKey(MissingKey {
        path: p(&["1"]),
        key: "name".into(),
    });
    let (span, msg, help) = config_error_report(&e, "expect.span", &pos, &whole);
    assert_eq!(span, 100..200, "the table that lacks it");
    assert_eq!(msg, "expect.span[1] needs the key \"name\"");
    assert_eq!(help.as_deref(), Some("add name = ..."));

    let e = ConfigError::WrongType(WrongType {
        path: p(&["1", "parnet"]),
        expected: "a string".into(),
        found: "an integer".into(),
    });
    let (span, msg, _) = config_error_report(&e, "expect.span", &pos, &whole);
    assert_eq!(span, 129..144, "the value");
    assert_eq!(
        msg,
        "expect.span[1].parnet: expected a string, found an integer"
    );

    let e = ConfigError::InvalidValue(InvalidValue {
        path: p(&["1", "attrs"]),
        message: "expected a table of attribute matchers".into(),
    });
    let (span, msg, _) = config_error_report(&e, "expect.span", &pos, &whole);
    assert_eq!(span, 158..170);
    assert_eq!(
        msg,
        "expect.span[1].attrs: expected a table of attribute matchers"
    );

    let e = ConfigError::Other("something else".into());
    let (span, msg, help) = config_error_report(&e, "expect.span", &pos, &(5..9));
    assert_eq!((span, msg.as_str(), help), (5..9, "something else", None));
}

#[test]
fn config_errors_fall_back_to_the_entry_when_positions_are_unknown() {
    let e = ConfigError::WrongType(WrongType {
        path: p(&["signal"]),
        expected: "a signal name".into(),
        found: "an integer".into(),
    });
    let (span, msg, _) =
        config_error_report(&e, "chaos_injection", &Positions::default(), &(40..90));
    assert_eq!(span, 40..90);
    assert_eq!(
        msg,
        "chaos_injection.signal: expected a signal name, found an integer"
    );
}
