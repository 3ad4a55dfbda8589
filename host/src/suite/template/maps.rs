//! Map literals (`{"k": "v"}`) inside tags: the original clnrm's templates
//! pass them to macros (`m::span("x", attrs={"k": "v"})`), Tera 1 has no
//! map literal. Each one is evaluated here (string, number and boolean
//! values, variables of the context, nested arrays and maps) and replaced by
//! a context variable `__clnrm_map_N` holding it. A literal that cannot be
//! evaluated is left alone (and Tera reports it). Lines are kept.

use serde_json::Value;
use std::collections::BTreeMap;

pub fn replace(source: &str, context: &mut BTreeMap<String, Value>) -> String {
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let mut n = context
        .keys()
        .filter(|k| k.starts_with("__clnrm_map_"))
        .count();
    while i < source.len() {
        let rest = &source[i..];
        if rest.starts_with("{#") {
            let end = rest.find("#}").map(|e| e + 2).unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            i += end;
            continue;
        }
        if !(rest.starts_with("{{") || rest.starts_with("{%")) {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        let close = if rest.starts_with("{{") { "}}" } else { "%}" };
        out.push_str(&rest[..2]);
        i += 2;
        // Inside a tag: until `close` outside strings and braces.
        let mut quote: Option<char> = None;
        while i < source.len() {
            let rest = &source[i..];
            let c = rest.chars().next().unwrap();
            // `\"` in a tag: a quote escaped for the TOML string around the
            // tag (`home = "{{ env(name=\"HOME\") }}"`); Tera has no escapes.
            if rest.starts_with("\\\"") {
                i += 1;
                continue;
            }
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if matches!(c, '"' | '\'' | '`') => quote = Some(c),
                None if rest.starts_with(close) => break,
                None if c == '{' || (c == '[' && after_operator(&out)) => {
                    let len = literal_len(rest)
                        .filter(|&l| c == '{' || rest[1..l - 1].contains(['[', '{']));
                    if let Some(len) = len {
                        if let Some(v) = eval(&rest[..len], context) {
                            let name = format!("__clnrm_map_{n}");
                            n += 1;
                            context.insert(name.clone(), v);
                            out.push_str(&name);
                            // Keep the line count.
                            for _ in 0..rest[..len].matches('\n').count() {
                                out.push('\n');
                            }
                            i += len;
                            continue;
                        }
                    }
                }
                None => {}
            }
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// `{% import ... %}` tags moved to the start of line 1 (Tera takes them
/// only before any content; the original's templates put a comment first),
/// their own lines left empty: no line moves.
pub fn hoist_imports(source: &str) -> String {
    let mut imports = String::new();
    let mut body = String::with_capacity(source.len());
    for line in source.split_inclusive('\n') {
        let t = line.trim();
        let is_import = (t.starts_with("{% import") || t.starts_with("{%- import"))
            && t.ends_with("%}")
            && t.matches("%}").count() == 1;
        if is_import {
            imports.push_str(t);
            body.push_str(if line.ends_with('\n') { "\n" } else { "" });
        } else {
            body.push_str(line);
        }
    }
    if imports.is_empty() {
        return source.to_string();
    }
    imports + &body
}

/// Whether a `[` here starts an array literal (not an index).
fn after_operator(before: &str) -> bool {
    matches!(
        before.trim_end().chars().last(),
        Some('(' | '=' | ',' | ':' | '[')
    )
}

/// The length of the balanced `{...}` at the start of `s`.
fn literal_len(s: &str) -> Option<usize> {
    super::args::matching_close(s).map(|(i, _)| i + 1)
}

fn eval(expr: &str, context: &BTreeMap<String, Value>) -> Option<Value> {
    let e = expr.trim();
    if let Some(inner) = e.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        let mut map = serde_json::Map::new();
        for item in super::args::split_top(inner) {
            if item.trim().is_empty() {
                continue;
            }
            let (k, v) = split_colon(&item)?;
            let Value::String(k) = eval(k, context)? else {
                return None;
            };
            map.insert(k, eval(v, context)?);
        }
        return Some(Value::Object(map));
    }
    if let Some(inner) = e.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        let items: Option<Vec<Value>> = super::args::split_top(inner)
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| eval(s, context))
            .collect();
        return items.map(Value::Array);
    }
    for q in ['"', '\'', '`'] {
        if let Some(inner) = e.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return Some(Value::String(interpolate(inner, context)));
        }
    }
    match e {
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        _ => {}
    }
    if let Ok(i) = e.parse::<i64>() {
        return Some(Value::from(i));
    }
    if let Ok(f) = e.parse::<f64>() {
        return Some(Value::from(f));
    }
    let mut v = context.get(e.split('.').next()?)?;
    for part in e.split('.').skip(1) {
        v = v.get(part)?;
    }
    Some(v.clone())
}

/// `"key": value` at its first `:` outside a string.
fn split_colon(item: &str) -> Option<(&str, &str)> {
    let mut quote: Option<char> = None;
    for (i, c) in item.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '"' | '\'' | '`') => quote = Some(c),
            None if c == ':' => return Some((&item[..i], &item[i + 1..])),
            None => {}
        }
    }
    None
}

/// `{{ name }}` written inside a string, replaced by the variable's text.
fn interpolate(s: &str, context: &BTreeMap<String, Value>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("{{") {
        let Some(end) = rest[i..].find("}}") else {
            break;
        };
        let name = rest[i + 2..i + end].trim();
        out.push_str(&rest[..i]);
        match context.get(name) {
            Some(Value::String(v)) => out.push_str(v),
            _ => out.push_str(&rest[i..i + end + 2]),
        }
        rest = &rest[i + end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_literals_become_context_variables() {
        let mut ctx: BTreeMap<String, Value> = [("env".to_string(), Value::from("ci"))].into();
        let t = "a = { x = 1 }\n{{ m::s(\"x\", attrs={\"k\": \"v\", \"e\": env,\n \"n\": [1, {\"d\": true}]}) }} {% if {} %} {{ f(p=[[1, 2]], q=x[0]) }}";
        let out = replace(t, &mut ctx);
        assert_eq!(
            out,
            "a = { x = 1 }\n{{ m::s(\"x\", attrs=__clnrm_map_0\n) }} {% if __clnrm_map_1 %} {{ f(p=__clnrm_map_2, q=x[0]) }}"
        );
        assert_eq!(
            ctx["__clnrm_map_0"],
            serde_json::json!({"k": "v", "e": "ci", "n": [1, {"d": true}]})
        );
    }
}
