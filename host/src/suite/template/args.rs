//! Positional macro arguments, named: Tera takes `m::span(name="x")` only,
//! the original clnrm's templates write `m::span("x", "server")`. Each
//! `ns::macro(...)` call of a macro the library defines gets its positional
//! arguments named after the macro's parameters, in order. A `{{ var }}`
//! written inside a string argument (`m::lifecycle("{{ svc }}")`, which Tera
//! would keep as text) is replaced by the variable's value. Nothing else
//! changes, and no line is added or removed.

use serde_json::Value;
use std::collections::BTreeMap;

/// Each macro's parameter names, in order.
pub fn signatures(library: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let mut rest = library;
    while let Some(i) = rest.find("macro ") {
        let after = &rest[i + 6..];
        rest = after;
        // Only `{% macro` / `{%- macro`.
        let head = library[..library.len() - after.len() - 6].trim_end();
        if !(head.ends_with("{%") || head.ends_with("{%-")) {
            continue;
        }
        let Some(open) = after.find('(') else { break };
        let name = after[..open].trim();
        if !is_ident(name) {
            continue;
        }
        let Some((inner, _)) = balanced(&after[open..]) else {
            continue;
        };
        let params = split_top(inner)
            .into_iter()
            .map(|p| p.split('=').next().unwrap_or("").trim().to_string())
            .filter(|p| !p.is_empty())
            .collect();
        out.insert(name.to_string(), params);
    }
    out
}

/// `source` with the positional arguments of known macros named.
pub fn name_positional(source: &str, library: &str, context: &BTreeMap<String, Value>) -> String {
    let sigs = signatures(library);
    let mut out = String::with_capacity(source.len() + 64);
    let mut i = 0;
    let bytes = source.as_bytes();
    while i < source.len() {
        let Some(rel) = source[i..].find("::") else {
            break;
        };
        let at = i + rel;
        let name_start = at + 2;
        let name_len = source[name_start..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(source.len() - name_start);
        let name = &source[name_start..name_start + name_len];
        let ns_ok = at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        let paren = name_start + name_len;
        let params = sigs.get(name);
        if !ns_ok || params.is_none() || !source[paren..].starts_with('(') {
            out.push_str(&source[i..name_start]);
            i = name_start;
            continue;
        }
        let Some((inner, len)) = balanced(&source[paren..]) else {
            out.push_str(&source[i..name_start]);
            i = name_start;
            continue;
        };
        out.push_str(&source[i..paren]);
        out.push('(');
        let params = params.unwrap();
        let args = split_top(inner);
        let mut first = true;
        for (k, arg) in args.iter().enumerate() {
            if !first {
                out.push(',');
            }
            first = false;
            let arg = interpolate(arg, context);
            if is_named(&arg) || arg.trim().is_empty() {
                out.push_str(&arg);
            } else if let Some(p) = params.get(k) {
                let lead = arg.len() - arg.trim_start().len();
                out.push_str(&arg[..lead]);
                out.push_str(p);
                out.push('=');
                out.push_str(&arg[lead..]);
            } else {
                out.push_str(&arg);
            }
        }
        out.push(')');
        i = paren + len;
    }
    out.push_str(&source[i..]);
    out
}

/// A macro library whose parameter defaults Tera 1 can parse: it takes only
/// literals (string, number, boolean), and the original library writes
/// `attrs={}`, `args=[]`, `max=none`. Those become `""`, which every macro
/// tests the same way (`{% if attrs %}`, `| length > 0`).
pub fn literal_defaults(library: &str) -> String {
    let mut out = String::with_capacity(library.len());
    let mut rest = library;
    while let Some(i) = rest.find("macro ") {
        let head = rest[..i].trim_end();
        let after = &rest[i + 6..];
        let open = after.find('(');
        let is_def = head.ends_with("{%") || head.ends_with("{%-");
        let (Some(open), true) = (open, is_def) else {
            out.push_str(&rest[..i + 6]);
            rest = after;
            continue;
        };
        let Some((inner, len)) = balanced(&after[open..]) else {
            out.push_str(&rest[..i + 6]);
            rest = after;
            continue;
        };
        out.push_str(&rest[..i + 6 + open + 1]);
        let params: Vec<String> = split_top(inner)
            .into_iter()
            .map(|p| match p.split_once('=') {
                Some((name, d)) => {
                    let d = d.trim();
                    let literal = d.starts_with(['"', '\'', '`'])
                        || d == "true"
                        || d == "false"
                        || d.parse::<f64>().is_ok();
                    if literal {
                        p
                    } else {
                        format!("{name}=\"\"")
                    }
                }
                None => p,
            })
            .collect();
        out.push_str(&params.join(","));
        out.push(')');
        rest = &after[open + len..];
    }
    out.push_str(rest);
    out
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// `name = value` (not `name == value`).
fn is_named(arg: &str) -> bool {
    let t = arg.trim_start();
    let n = t
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(t.len());
    if n == 0 {
        return false;
    }
    let rest = t[n..].trim_start();
    rest.starts_with('=') && !rest.starts_with("==")
}

/// From an opening `(`: the text inside and the length up to and with the
/// matching `)`. Strings and brackets nest.
fn balanced(s: &str) -> Option<(&str, usize)> {
    let (i, c) = matching_close(s)?;
    (c == ')').then(|| (&s[1..i], i + 1))
}

/// The characters of `s` outside quoted strings, each with its byte index
/// and the bracket depth after it (brackets of every kind nest).
fn outside_strings(s: &str) -> impl Iterator<Item = (usize, char, i32)> + '_ {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    s.char_indices().filter_map(move |(i, c)| {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                return None;
            }
            None => match c {
                '"' | '\'' | '`' => {
                    quote = Some(c);
                    return None;
                }
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                _ => {}
            },
        }
        Some((i, c, depth))
    })
}

/// From an opening bracket (`(`, `[` or `{`) at the start of `s`: the index
/// and character of the bracket that closes it. Quoted strings are skipped;
/// brackets of every kind nest.
pub(super) fn matching_close(s: &str) -> Option<(usize, char)> {
    outside_strings(s)
        .find(|&(_, c, depth)| depth == 0 && matches!(c, ')' | ']' | '}'))
        .map(|(i, c, _)| (i, c))
}

/// Split at commas outside strings and brackets.
pub(super) fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = 0;
    for (i, c, depth) in outside_strings(s) {
        if c == ',' && depth == 0 {
            out.push(s[from..i].to_string());
            from = i + 1;
        }
    }
    let rest = &s[from..];
    if !rest.trim().is_empty() || !out.is_empty() {
        out.push(rest.to_string());
    }
    out
}

/// `{{ var }}` inside the string literals of an argument, replaced by the
/// variable's text (when it is a known string without the literal's quote).
fn interpolate(arg: &str, context: &BTreeMap<String, Value>) -> String {
    if !arg.contains("{{") {
        return arg.to_string();
    }
    let mut out = String::with_capacity(arg.len());
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < arg.len() {
        let c = arg[i..].chars().next().unwrap();
        match quote {
            Some(q) if c == q => quote = None,
            Some(q) if arg[i..].starts_with("{{") => {
                if let Some(end) = arg[i..].find("}}") {
                    let name = arg[i + 2..i + end].trim();
                    if let Some(Value::String(v)) = context.get(name) {
                        if !v.contains(q) {
                            out.push_str(v);
                            i += end + 2;
                            continue;
                        }
                    }
                }
            }
            Some(_) => {}
            None if matches!(c, '"' | '\'' | '`') => quote = Some(c),
            None => {}
        }
        out.push(c);
        i += c.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIB: &str = "{% macro span(name, kind=\"\", attrs={}) -%}x{%- endmacro %}\n{%- macro count(kind, min, max=none) %}{% endmacro %}";

    #[test]
    fn non_literal_defaults_become_empty_strings() {
        assert_eq!(
            literal_defaults(
                "{% macro a(x, y={}, z=[], w=none, v=\"s\", u=1) %}{% endmacro %} macro b(q={})"
            ),
            "{% macro a(x, y=\"\", z=\"\", w=\"\", v=\"s\", u=1) %}{% endmacro %} macro b(q={})"
        );
    }

    #[test]
    fn reads_the_signatures() {
        let s = signatures(LIB);
        assert_eq!(s["span"], ["name", "kind", "attrs"]);
        assert_eq!(s["count"], ["kind", "min", "max"]);
    }

    #[test]
    fn names_positional_arguments_only() {
        let ctx: BTreeMap<String, Value> = [("svc".to_string(), Value::from("shop"))].into();
        let t = "{{ m::span(\"a, b\", \"server\", {\"k\": \"v\"}) }}\n{{ m::span(\"x\", attrs={}) }}\n{{ m::count(\"internal\",\n 4, 4) }} {{ m::other(1) }}\n{{ m::span(\"{{ svc }}.start\") }}";
        assert_eq!(
            name_positional(t, LIB, &ctx),
            "{{ m::span(name=\"a, b\", kind=\"server\", attrs={\"k\": \"v\"}) }}\n{{ m::span(name=\"x\", attrs={}) }}\n{{ m::count(kind=\"internal\",\n min=4, max=4) }} {{ m::other(1) }}\n{{ m::span(name=\"shop.start\") }}"
        );
    }
}
