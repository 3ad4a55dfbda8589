use serde::Deserialize;

use super::*;

fn p(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Inner {
    eq: Option<u64>,
    #[serde(default)]
    flag: bool,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Mode {
    Fast,
    Slow,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Cfg {
    name: String,
    #[serde(default)]
    delay_ms: u64,
    offset: Option<i32>,
    ratio: Option<f64>,
    mode: Option<Mode>,
    #[serde(default)]
    list: Vec<Inner>,
    inner: Option<Inner>,
}

#[test]
fn a_good_config_decodes() {
    let c: Cfg = parse(
        r#"{"name": "n", "delay_ms": 5, "offset": -3, "ratio": 1, "mode": "slow",
            "list": [{"eq": 1}, {"flag": true}], "inner": {"eq": null}}"#,
    )
    .unwrap();
    assert_eq!(c.name, "n");
    assert_eq!((c.delay_ms, c.offset, c.ratio), (5, Some(-3), Some(1.0)));
    assert_eq!(c.mode, Some(Mode::Slow));
    assert_eq!(
        c.list,
        vec![
            Inner {
                eq: Some(1),
                flag: false
            },
            Inner {
                eq: None,
                flag: true
            }
        ]
    );
    assert_eq!(
        c.inner,
        Some(Inner {
            eq: None,
            flag: false
        })
    );
}

#[test]
fn errors_are_structured_with_nested_paths() {
    let cases: Vec<(&str, ConfigError, &str)> = vec![
        (
            r#"{"name": "n", "nmae": 1}"#,
            ConfigError::UnknownKey {
                path: p(&["nmae"]),
                expected: p(&["name", "delay_ms", "offset", "ratio", "mode", "list", "inner"]),
            },
            "unknown key \"nmae\"; did you mean \"name\"? (valid: name, delay_ms, offset, ratio, mode, list, inner)",
        ),
        (
            r#"{"name": "n", "list": [{}, {"eqq": 1}]}"#,
            ConfigError::UnknownKey { path: p(&["list", "1", "eqq"]), expected: p(&["eq", "flag"]) },
            "list[1]: unknown key \"eqq\"; did you mean \"eq\"? (valid: eq, flag)",
        ),
        (
            r#"{"delay_ms": 1}"#,
            ConfigError::MissingKey { path: vec![], key: "name".into() },
            "missing required key \"name\"",
        ),
        (
            r#"{"name": "n", "delay_ms": "5"}"#,
            ConfigError::WrongType {
                path: p(&["delay_ms"]),
                expected: "a non-negative integer".into(),
                found: "string \"5\"".into(),
            },
            "delay_ms: expected a non-negative integer, found string \"5\"",
        ),
        (
            r#"{"name": "n", "delay_ms": -1}"#,
            ConfigError::WrongType {
                path: p(&["delay_ms"]),
                expected: "a non-negative integer".into(),
                found: "integer -1".into(),
            },
            "delay_ms: expected a non-negative integer, found integer -1",
        ),
        (
            r#"{"name": "n", "inner": {"eq": 1.5}}"#,
            ConfigError::WrongType {
                path: p(&["inner", "eq"]),
                expected: "a non-negative integer".into(),
                found: "float 1.5".into(),
            },
            "inner.eq: expected a non-negative integer, found float 1.5",
        ),
        (
            r#"{"name": "n", "list": [{}, 3]}"#,
            ConfigError::WrongType {
                path: p(&["list", "1"]),
                expected: "a table".into(),
                found: "integer 3".into(),
            },
            "list[1]: expected a table, found integer 3",
        ),
        (
            r#"{"name": "n", "list": {"eq": 1}}"#,
            ConfigError::WrongType {
                path: p(&["list"]),
                expected: "an array".into(),
                found: "a table".into(),
            },
            "list: expected an array, found a table",
        ),
        (
            r#"{"name": "n", "offset": 3000000000}"#,
            ConfigError::WrongType {
                path: p(&["offset"]),
                expected: "an integer".into(),
                found: "integer 3000000000".into(),
            },
            "offset: expected an integer, found integer 3000000000",
        ),
        (
            r#"{"name": "n", "mode": "fats"}"#,
            ConfigError::InvalidValue {
                path: p(&["mode"]),
                message: "unknown value \"fats\"; did you mean \"fast\"? (valid: \"fast\", \"slow\")".into(),
            },
            "mode: unknown value \"fats\"; did you mean \"fast\"? (valid: \"fast\", \"slow\")",
        ),
        (
            r#"{"name": true}"#,
            ConfigError::WrongType {
                path: p(&["name"]),
                expected: "a string".into(),
                found: "boolean true".into(),
            },
            "name: expected a string, found boolean true",
        ),
        (
            r#"[1]"#,
            ConfigError::WrongType {
                path: vec![],
                expected: "a table".into(),
                found: "an array".into(),
            },
            "expected a table, found an array",
        ),
    ];
    for (json, want, shown) in cases {
        let err = parse::<Cfg>(json).expect_err(json);
        assert_eq!(err, want, "{json}");
        assert_eq!(err.to_string(), shown, "{json}");
    }
}

#[test]
fn invalid_json_and_the_wit_conversion() {
    let err = parse::<Cfg>("{").unwrap_err();
    assert!(
        matches!(&err, ConfigError::Other(m) if m.starts_with("config is not valid JSON: ")),
        "{err:?}"
    );
    let err = parse::<Cfg>(r#"{"name": "n", "list": [{"eqq": 1}]}"#).unwrap_err();
    assert_eq!(
        err.at("chaos_injection").to_string(),
        "chaos_injection.list[0]: unknown key \"eqq\"; did you mean \"eq\"? (valid: eq, flag)"
    );
}

/// Custom `Deserialize` impls report through `custom`: an invalid value at its path.
#[test]
fn custom_errors_keep_their_path() {
    #[derive(Debug)]
    struct Even;
    impl<'de> Deserialize<'de> for Even {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let n = u64::deserialize(d)?;
            if n % 2 == 0 {
                Ok(Even)
            } else {
                Err(serde::de::Error::custom(format!("{n} is odd")))
            }
        }
    }
    #[derive(Deserialize, Debug)]
    struct W {
        #[allow(dead_code)]
        v: Vec<Even>,
    }
    let err = parse::<W>(r#"{"v": [2, 3]}"#).unwrap_err();
    assert_eq!(
        err,
        ConfigError::InvalidValue {
            path: p(&["v", "1"]),
            message: "3 is odd".into()
        }
    );
}
