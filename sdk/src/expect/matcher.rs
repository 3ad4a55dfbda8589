//! Attribute matchers (docs/toml-reference.md, the expectation tables), the right-hand sides of `attrs.all` / `attrs.any`:
//!
//! - a string, number or boolean: equality with the attribute's canonical string form, so
//!   `"42"` matches `Int(42)` and `42` matches `Str("42")` (TOML authors quote everything);
//! - an array: any of its elements (each itself a matcher);
//! - a table: operators that must all hold: `eq ne gt gte lt lte matches exists contains`.
//!
//! A missing attribute satisfies only `exists = false` (and any-of lists containing it).

use regex::Regex;
use serde_json::Value;

use super::config::{self, check_keys, invalid, wrong_type};
use super::model::{format_float, AttrValue};
use crate::config::ConfigError;

/// The operators of a matcher table, in the order error messages list them.
pub const OPERATORS: [&str; 9] = [
    "eq", "ne", "gt", "gte", "lt", "lte", "matches", "exists", "contains",
];

/// A parsed attribute matcher.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Equal to this canonical string form.
    Literal(String),
    /// At least one element matches.
    AnyOf(Vec<Matcher>),
    /// Every operator holds.
    All(Vec<Op>),
}

/// One operator of a matcher table.
#[derive(Debug, Clone)]
pub enum Op {
    /// String form equal.
    Eq(String),
    /// String form different.
    Ne(String),
    /// Numeric comparisons: the attribute is parsed as a number.
    Gt(f64),
    Gte(f64),
    Lt(f64),
    Lte(f64),
    /// Unanchored regex search in the string form (anchor with `^...$`).
    Matches(Regex),
    /// Presence (`true`) or absence (`false`) of the attribute.
    Exists(bool),
    /// Substring of the string form.
    Contains(String),
}

/// The canonical string form of a scalar in the config, the same form
/// [`AttrValue::canonical`] gives, so `1.0` in TOML matches `Float(1.0)` and `Int(1)`.
fn scalar_form(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) if n.is_f64() => n.as_f64().map(format_float),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Bound of an ordering operator: a number, or a string holding one (the seed suites quote
/// numbers).
fn bound(v: &Value, path: &[String]) -> Result<f64, ConfigError> {
    match v {
        Value::String(s) => match s.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => Err(wrong_type(path, "a number", v)),
        },
        _ => config::number(v, path),
    }
}

impl Matcher {
    /// Parses a matcher; `path` (e.g. `expect.span[0].attrs.all."exit.code"`) prefixes errors.
    pub fn from_json(v: &Value, path: &[String]) -> Result<Matcher, ConfigError> {
        if let Some(s) = scalar_form(v) {
            return Ok(Matcher::Literal(s));
        }
        match v {
            Value::Array(items) if items.is_empty() => Err(invalid(
                path,
                "an empty any-of array can never match; give at least one value".to_string(),
            )),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| Matcher::from_json(item, &config::child(path, &i.to_string())))
                .collect::<Result<_, _>>()
                .map(Matcher::AnyOf),
            Value::Object(ops) if ops.is_empty() => Err(invalid(
                path,
                format!(
                    "an empty operator table checks nothing; give at least one of {}",
                    OPERATORS.join(", ")
                ),
            )),
            Value::Object(ops) => {
                check_keys(ops, &OPERATORS, path)?;
                ops.iter()
                    .map(|(k, v)| Op::from_json(k, v, &config::child(path, k)))
                    .collect::<Result<_, _>>()
                    .map(Matcher::All)
            }
            _ => Err(wrong_type(
                path,
                "a string, number, boolean, array (any of) or table of operators",
                v,
            )),
        }
    }

    /// Whether `value` (the attribute, `None` if missing) satisfies the matcher.
    pub fn matches(&self, value: Option<&AttrValue>) -> bool {
        match self {
            Matcher::Literal(s) => value.is_some_and(|v| v.canonical() == *s),
            Matcher::AnyOf(ms) => ms.iter().any(|m| m.matches(value)),
            Matcher::All(ops) => ops.iter().all(|op| op.eval(value).is_ok()),
        }
    }

    /// Checks attribute `key`; the error is a reason for humans:
    /// `exit.code = 42, expected "41"`, `timeout.ms = 900, expected gte 1000`,
    /// `cleanup.success missing`.
    pub fn check(&self, key: &str, value: Option<&AttrValue>) -> Result<(), String> {
        if self.matches(value) {
            return Ok(());
        }
        let Some(v) = value else {
            return Err(format!("{key} missing"));
        };
        let expected = match self {
            Matcher::All(ops) => {
                let mut failed = Vec::new();
                let mut not_a_number = false;
                for op in ops {
                    if let Err(nan) = op.eval(Some(v)) {
                        failed.push(op.describe());
                        not_a_number |= nan;
                    }
                }
                let note = if not_a_number {
                    " (value is not a number)"
                } else {
                    ""
                };
                format!("{}{note}", failed.join(" and "))
            }
            other => other.describe(),
        };
        Err(format!("{key} = {v}, expected {expected}"))
    }

    /// The expectation as messages show it: `"41"`, `gte 1000 and lt 2000`,
    /// `one of ["a", "b"]`.
    pub fn describe(&self) -> String {
        match self {
            Matcher::Literal(s) => format!("{s:?}"),
            Matcher::AnyOf(ms) => {
                let items: Vec<String> = ms
                    .iter()
                    .map(|m| match m {
                        Matcher::All(_) => format!("{{{}}}", m.describe()),
                        _ => m.describe(),
                    })
                    .collect();
                format!("one of [{}]", items.join(", "))
            }
            Matcher::All(ops) => ops
                .iter()
                .map(Op::describe)
                .collect::<Vec<_>>()
                .join(" and "),
        }
    }
}

impl Op {
    fn from_json(name: &str, v: &Value, path: &[String]) -> Result<Op, ConfigError> {
        let scalar =
            || scalar_form(v).ok_or_else(|| wrong_type(path, "a string, number or boolean", v));
        Ok(match name {
            "eq" => Op::Eq(scalar()?),
            "ne" => Op::Ne(scalar()?),
            "gt" => Op::Gt(bound(v, path)?),
            "gte" => Op::Gte(bound(v, path)?),
            "lt" => Op::Lt(bound(v, path)?),
            "lte" => Op::Lte(bound(v, path)?),
            "contains" => Op::Contains(scalar()?),
            "exists" => Op::Exists(
                v.as_bool()
                    .ok_or_else(|| wrong_type(path, "a boolean", v))?,
            ),
            "matches" => {
                let pattern = config::string(v, path)?;
                Op::Matches(
                    Regex::new(pattern)
                        .map_err(|e| invalid(path, format!("invalid regex {pattern:?}: {e}")))?,
                )
            }
            other => {
                // check_keys runs first; this only guards against OPERATORS and this match drifting apart.
                return Err(invalid(
                    path,
                    format!(
                        "unknown operator {other:?} (valid: {})",
                        OPERATORS.join(", ")
                    ),
                ));
            }
        })
    }

    /// `Ok` if the operator holds; `Err(true)` if it failed because the attribute is not a
    /// number, `Err(false)` otherwise.
    fn eval(&self, value: Option<&AttrValue>) -> Result<(), bool> {
        let Some(v) = value else {
            return if matches!(self, Op::Exists(false)) {
                Ok(())
            } else {
                Err(false)
            };
        };
        let numeric = |f: fn(f64, f64) -> bool, bound: f64| match v.as_f64() {
            Some(x) if f(x, bound) => Ok(()),
            Some(_) => Err(false),
            None => Err(true),
        };
        let holds = |b: bool| if b { Ok(()) } else { Err(false) };
        match self {
            Op::Eq(s) => holds(v.canonical() == *s),
            Op::Ne(s) => holds(v.canonical() != *s),
            Op::Gt(b) => numeric(|x, b| x > b, *b),
            Op::Gte(b) => numeric(|x, b| x >= b, *b),
            Op::Lt(b) => numeric(|x, b| x < b, *b),
            Op::Lte(b) => numeric(|x, b| x <= b, *b),
            Op::Matches(re) => holds(re.is_match(&v.canonical())),
            Op::Exists(b) => holds(*b),
            Op::Contains(s) => holds(v.canonical().contains(s.as_str())),
        }
    }

    fn describe(&self) -> String {
        match self {
            Op::Eq(s) => format!("eq {s:?}"),
            Op::Ne(s) => format!("ne {s:?}"),
            Op::Gt(b) => format!("gt {}", format_float(*b)),
            Op::Gte(b) => format!("gte {}", format_float(*b)),
            Op::Lt(b) => format!("lt {}", format_float(*b)),
            Op::Lte(b) => format!("lte {}", format_float(*b)),
            Op::Matches(re) => format!("matches {:?}", re.as_str()),
            Op::Exists(true) => "present".into(),
            Op::Exists(false) => "absent".into(),
            Op::Contains(s) => format!("contains {s:?}"),
        }
    }
}
