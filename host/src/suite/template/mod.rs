//! Suite templates, rendered with Tera as the original clnrm renders them.
//!
//! A suite file is a template when its name ends in `.tera` or its text
//! contains `{%`. Anything else keeps `[vars]`' `{{ name }}` meaning
//! (`vars.rs`) and never meets Tera, so `clnrm validate` of a plain suite
//! does not pay for it.
//!
//! What a template sees:
//! - the no-prefix variables, each resolved as: a template value (`clnrm
//!   render --var NAME=VALUE`), else an environment variable, else a default
//!   ([`NO_PREFIX`]); the same under `vars.` (`{{ vars.svc }}`);
//! - `env(name="X", default="...")`, `now_rfc3339()`, `sha256(s="...")`,
//!   `toml_encode(value=...)`;
//! - `{% import "_macros.toml.tera" as m %}`: the original macro library
//!   (`_macros.toml.tera` in this folder), or a `_macros.toml.tera` next to
//!   the template. Macro arguments may be positional, as the original's
//!   examples write them (`m::span("x", "server")`): Tera takes only named
//!   arguments, so positional ones are named from the macro's parameters
//!   before Tera parses the file (on the same lines, so lines keep their
//!   numbers).
//!
//! `now_rfc3339()` is frozen at `freeze_clock` when one is given: the
//! template's own `freeze_clock = "..."` literal (its `[determinism]`), else
//! the `freeze_clock` template value or `FREEZE_CLOCK`; otherwise it is the
//! wall clock.
//!
//! Errors point at the template line, and, for errors found in the rendered
//! TOML, at the rendered line too (see [`Rendered::remap`]).

mod args;
mod lines;
mod maps;

use super::diag::SuiteError;
use miette::NamedSource;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The library `{% import "_macros.toml.tera" as m %}` loads.
pub const MACROS: &str = include_str!("_macros.toml.tera");
const MACROS_NAME: &str = "_macros.toml.tera";

/// The no-prefix variables: name, environment variable, default.
pub const NO_PREFIX: [(&str, &str, &str); 7] = [
    ("svc", "SERVICE_NAME", "clnrm"),
    ("env", "ENV", "ci"),
    ("endpoint", "OTEL_ENDPOINT", "http://localhost:4318"),
    ("exporter", "OTEL_TRACES_EXPORTER", "otlp"),
    ("image", "CLNRM_IMAGE", "registry/clnrm:1.0.0"),
    ("freeze_clock", "FREEZE_CLOCK", "2025-01-01T00:00:00Z"),
    ("token", "OTEL_TOKEN", ""),
];

/// Whether a suite file is a template.
pub fn is_template(path: &Path, source: &str) -> bool {
    path.to_string_lossy().ends_with(".tera") || source.contains("{%")
}

/// A rendered template and what maps its lines back to the template's.
#[derive(Debug)]
pub struct Rendered {
    pub text: String,
    /// For each rendered line (0-based), the template line (1-based) it
    /// came from.
    line_map: Vec<usize>,
    template: String,
    path: String,
}

/// Template values (`--var NAME=VALUE`), above the environment and defaults.
pub type Values = BTreeMap<String, String>;

/// Render `source` (the text of the template at `path`).
pub fn render(path: &Path, source: &str, values: &Values) -> Result<Rendered, SuiteError> {
    let shown = path.display().to_string();
    let lookup = |k: &str| std::env::var(k).ok();
    let (literal, templated) = file_vars(source);
    let mut all = literal;
    all.extend(values.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut context = context(&all, &lookup);
    // `[vars]` entries that are templates themselves (`seed = {{ X |
    // default(value="42") }}`), rendered in the context so far.
    for (k, raw) in templated {
        if values.contains_key(&k) {
            continue;
        }
        let ctx = tera::Context::from_value(Value::Object(context.clone().into_iter().collect()))
            .expect("an object is a context");
        if let Ok(v) = tera::Tera::one_off(&raw, &ctx, false) {
            all.insert(k, v);
            context = self::context(&all, &lookup);
        }
    }
    let library = local_macros(path).unwrap_or_else(|| MACROS.to_string());
    let library = args::literal_defaults(&library);
    let macros = args::name_positional(&maps::replace(&library, &mut context), &library, &context);
    let prepared = maps::hoist_imports(source);
    let prepared = maps::replace(&prepared, &mut context);
    let prepared = args::name_positional(&prepared, &library, &context);
    let frozen = frozen_clock(source, values, &lookup);

    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    tera.register_function("env", env_fn);
    tera.register_function("sha256", sha256_fn);
    tera.register_function("toml_encode", toml_encode_fn);
    tera.register_function("now_rfc3339", move |_: &HashMap<String, Value>| {
        Ok(Value::String(frozen.clone().unwrap_or_else(now_rfc3339)))
    });
    let fail = |e: tera::Error, src: &str, name: &str| template_error(&shown, src, name, &e);
    if prepared.contains(MACROS_NAME) {
        tera.add_raw_template(MACROS_NAME, &macros)
            .map_err(|e| fail(e, &macros, MACROS_NAME))?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "suite".into());
    tera.add_raw_template(&name, &prepared)
        .map_err(|e| fail(e, source, &name))?;
    let ctx = tera::Context::from_value(Value::Object(context.into_iter().collect()))
        .expect("an object is a context");
    let text = tera
        .render(&name, &ctx)
        .map_err(|e| fail(e, source, &name))?;
    let line_map = lines::map(source, &text);
    Ok(Rendered {
        text,
        line_map,
        template: source.to_string(),
        path: shown,
    })
}

/// The context: the no-prefix variables, template values, and `vars.*`.
fn context(values: &Values, lookup: &dyn Fn(&str) -> Option<String>) -> BTreeMap<String, Value> {
    let mut vars = serde_json::Map::new();
    for (name, env, default) in NO_PREFIX {
        let v = values
            .get(name)
            .cloned()
            .or_else(|| lookup(env))
            .unwrap_or_else(|| default.to_string());
        vars.insert(name.to_string(), Value::String(v));
    }
    for (k, v) in values {
        vars.insert(k.clone(), Value::String(v.clone()));
    }
    let mut ctx: BTreeMap<String, Value> = vars.clone().into_iter().collect();
    ctx.insert("vars".into(), Value::Object(vars));
    ctx
}

/// The template's own `[vars]` entries: those whose values are plain
/// literals (strings without `{`, numbers, booleans), and those that are
/// templates (rendered once the context is known). Both are template
/// values, as the original's "template vars" are.
fn file_vars(source: &str) -> (Values, Vec<(String, String)>) {
    let mut out = Values::new();
    let mut templated = Vec::new();
    let mut in_vars = false;
    for l in source.lines() {
        let t = l.trim();
        if t.starts_with('[') {
            in_vars = t == "[vars]";
            continue;
        }
        if !in_vars {
            continue;
        }
        let Some((k, v)) = t.split_once('=') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if !k
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            || k.is_empty()
        {
            continue;
        }
        if v.contains("{{") {
            let raw = v
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .unwrap_or(v);
            templated.push((k.to_string(), raw.to_string()));
            continue;
        }
        let value = if let Some(inner) = v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            (!inner.contains(['{', '"', '\\'])).then(|| inner.to_string())
        } else if v == "true" || v == "false" || v.parse::<f64>().is_ok() {
            Some(v.to_string())
        } else {
            None
        };
        if let Some(v) = value {
            out.insert(k.to_string(), v);
        }
    }
    (out, templated)
}

/// The `_macros.toml.tera` next to the template, if there is one.
fn local_macros(path: &Path) -> Option<String> {
    let dir = path.parent()?;
    std::fs::read_to_string(dir.join(MACROS_NAME)).ok()
}

/// The instant `now_rfc3339()` returns, when the clock is frozen.
fn frozen_clock(
    source: &str,
    values: &Values,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let literal = source.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("freeze_clock")?.trim_start();
        let rest = rest.strip_prefix('=')?.trim();
        let v = rest.strip_prefix('"')?.split('"').next()?;
        (!v.contains('{') && humantime::parse_rfc3339(v).is_ok()).then(|| v.to_string())
    });
    literal
        .or_else(|| values.get("freeze_clock").cloned())
        .or_else(|| lookup("FREEZE_CLOCK"))
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

fn str_arg<'a>(args: &'a HashMap<String, Value>, f: &str, key: &str) -> tera::Result<&'a str> {
    args.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| tera::Error::msg(format!("{f}() needs {key}=\"...\" (a string)")))
}

/// `env(name="X")`, or `env(name="X", default="d")` when X may be unset.
fn env_fn(args: &HashMap<String, Value>) -> tera::Result<Value> {
    let name = str_arg(args, "env", "name")?;
    match (std::env::var(name), args.get("default")) {
        (Ok(v), _) => Ok(Value::String(v)),
        (Err(_), Some(d)) => Ok(d.clone()),
        (Err(_), None) => Err(tera::Error::msg(format!(
            "environment variable `{name}` is not set (give env(name=\"{name}\", default=\"...\") for a fallback)"
        ))),
    }
}

/// `sha256(s="...")`: lower-case hex.
fn sha256_fn(args: &HashMap<String, Value>) -> tera::Result<Value> {
    let s = str_arg(args, "sha256", "s")?;
    Ok(Value::String(hex::encode(Sha256::digest(s.as_bytes()))))
}

/// `toml_encode(value=...)`: the value as a TOML literal (strings quoted and
/// escaped, arrays, inline tables).
fn toml_encode_fn(args: &HashMap<String, Value>) -> tera::Result<Value> {
    let v = args
        .get("value")
        .ok_or_else(|| tera::Error::msg("toml_encode() needs value=..."))?;
    toml_literal(v).map(Value::String)
}

fn toml_literal(v: &Value) -> tera::Result<String> {
    Ok(match v {
        Value::Null => return Err(tera::Error::msg("toml_encode(): TOML has no null")),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => toml_edit::Value::from(s.as_str())
            .to_string()
            .trim()
            .to_string(),
        Value::Array(a) => {
            let items: tera::Result<Vec<String>> = a.iter().map(toml_literal).collect();
            format!("[{}]", items?.join(", "))
        }
        Value::Object(o) => {
            let items: tera::Result<Vec<String>> = o
                .iter()
                .map(|(k, v)| {
                    Ok(format!(
                        "{} = {}",
                        toml_edit::Key::new(k.as_str()),
                        toml_literal(v)?
                    ))
                })
                .collect();
            let items = items?;
            if items.is_empty() {
                "{}".into()
            } else {
                format!("{{ {} }}", items.join(", "))
            }
        }
    })
}

/// A Tera error as a suite error at the template line it names (parse
/// errors carry `--> line:col`; render errors name a variable, filter,
/// function or macro, which is looked for in the template's tags).
fn template_error(path: &str, source: &str, name: &str, e: &tera::Error) -> SuiteError {
    let mut chain = vec![e.to_string()];
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        chain.push(c.to_string());
        cur = c.source();
    }
    let detail = chain
        .iter()
        .rev()
        .find(|m| !m.starts_with("Failed to render"))
        .cloned()
        .unwrap_or_else(|| chain[0].clone());
    let offset = parse_position(&detail, source).or_else(|| {
        let word = detail
            .split('`')
            .nth(1)
            .or_else(|| detail.split('\'').nth(1))?;
        find_in_tags(source, word)
    });
    let message = detail
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let message = if message.starts_with("Failed to parse") || message.contains(" --> ") {
        let first = message.lines().next().unwrap_or("").to_string();
        let expected = message
            .lines()
            .find(|l| l.contains("expected"))
            .map(|l| l.trim_start_matches(['=', ' ']).to_string());
        match expected {
            Some(x) => format!("template syntax: {x}"),
            None => first,
        }
    } else {
        message
    };
    let where_ = if name == MACROS_NAME {
        format!(" (in the macro library {MACROS_NAME})")
    } else {
        String::new()
    };
    let shown = if name == MACROS_NAME {
        MACROS_NAME.to_string()
    } else {
        path.to_string()
    };
    let mut err = SuiteError::at(
        &shown,
        source,
        offset.unwrap_or(0)..offset.unwrap_or(0),
        format!("template: {message}{where_}"),
        Some(
            "Tera syntax: {{ variable }}, {% if/for/set/import %}; the variables are svc, env, \
             endpoint, exporter, image, freeze_clock, token (and clnrm render --var NAME=VALUE)"
                .into(),
        ),
    );
    if offset.is_none() {
        err.message.push_str(" (position unknown: line 1 shown)");
    }
    err
}

/// The byte offset of pest's ` --> line:col`.
fn parse_position(detail: &str, source: &str) -> Option<usize> {
    let at = detail.split(" --> ").nth(1)?;
    let pos: String = at
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ':')
        .collect();
    let (l, c) = pos.split_once(':')?;
    offset_of(source, l.parse().ok()?, c.parse().ok()?)
}

fn offset_of(source: &str, line: usize, col: usize) -> Option<usize> {
    let start: usize = source
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum();
    let text = source.get(start..)?.lines().next().unwrap_or("");
    let within: usize = text
        .chars()
        .take(col.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    Some(start + within)
}

/// The first `word` inside a `{{ }}` or `{% %}` tag.
fn find_in_tags(source: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(open) = source[from..].find(['{']).map(|i| i + from) {
        let rest = &source[open..];
        let close = if rest.starts_with("{{") {
            "}}"
        } else if rest.starts_with("{%") {
            "%}"
        } else {
            from = open + 1;
            continue;
        };
        let end = rest.find(close).map(|i| open + i).unwrap_or(source.len());
        let tag = &source[open..end];
        let mut search = 0;
        while let Some(i) = tag[search..].find(word).map(|i| i + search) {
            let before = tag[..i].chars().last();
            let after = tag[i + word.len()..].chars().next();
            let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            if !ident(before) && !ident(after) {
                return Some(open + i);
            }
            search = i + word.len();
        }
        from = end.max(open + 1);
    }
    None
}

impl Rendered {
    /// An error found in the rendered text, pointed at the template line it
    /// came from, with the rendered line (and the snippet) alongside.
    pub fn remap(&self, mut e: SuiteError) -> SuiteError {
        let rendered_line = e.line;
        let rendered_col = e.col;
        let line = self
            .line_map
            .get(rendered_line.saturating_sub(1))
            .copied()
            .unwrap_or(1);
        let rendered_text = self
            .text
            .lines()
            .nth(rendered_line.saturating_sub(1))
            .unwrap_or("");
        let template_text = self
            .template
            .lines()
            .nth(line.saturating_sub(1))
            .unwrap_or("");
        let col = if rendered_text == template_text {
            rendered_col
        } else {
            1
        };
        e.message = format!(
            "{}\n  rendered: {} (rendered):{}:{}: {}",
            e.message,
            self.path,
            rendered_line,
            rendered_col,
            rendered_text.trim()
        );
        e.src = NamedSource::new(format!("{} (rendered)", self.path), self.text.clone());
        e.path = self.path.clone();
        e.line = line;
        e.col = col;
        e
    }
}

#[cfg(test)]
mod tests;
