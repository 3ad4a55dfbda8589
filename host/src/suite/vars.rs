//! `[vars]` and `{{ name }}` substitution, done on the parsed document before
//! it is deserialized, so every value keeps its position in the file.
//!
//! - `[vars]` values are strings, integers, floats, booleans or datetimes;
//!   they are rendered to text (`7`, `0.5`, `true`).
//! - `{{ name }}` (spaces optional) in any string value outside `[vars]` is
//!   replaced by the variable's text. Keys are not substituted, and neither
//!   are `[vars]` values themselves.
//! - Only `{{` + a variable name + `}}` is a placeholder: `{{.State.Pid}}`
//!   (a Go template, say) is left as it is. A `{{ name` that is never closed
//!   is an error, and so is a name that `[vars]` does not define.

use super::diag::{nearest, SuiteError};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Collect `[vars]` and substitute them everywhere else in `root`.
pub fn expand(
    root: &mut DeTable<'_>,
    path: &str,
    source: &str,
) -> Result<BTreeMap<String, String>, SuiteError> {
    let err = |span: Range<usize>, msg: String, help: Option<String>| {
        SuiteError::at(path, source, span, msg, help)
    };
    let mut vars = BTreeMap::new();
    if let Some(v) = root.get("vars") {
        let DeValue::Table(t) = v.get_ref() else {
            return Err(err(
                v.span(),
                "`vars` must be a table of name = value".into(),
                Some("write [vars] with one name = \"value\" per line".into()),
            ));
        };
        for (k, v) in t.iter() {
            let name = k.get_ref().as_ref();
            if !is_name(name) {
                return Err(err(k.span(), format!("`{name}` is not a valid variable name"), Some("variable names are letters, digits, `_` and `-`, starting with a letter or `_`".into())));
            }
            let text = match v.get_ref() {
                DeValue::String(s) => s.to_string(),
                DeValue::Integer(i) => i.as_str().replace('_', ""),
                DeValue::Float(f) => f.as_str().replace('_', ""),
                DeValue::Boolean(b) => b.to_string(),
                DeValue::Datetime(d) => d.to_string(),
                other => return Err(err(
                    v.span(),
                    format!(
                        "variable `{name}` is {}, expected a string, number or boolean",
                        a(other.type_str())
                    ),
                    Some(
                        "variables are substituted into strings as text: write name = \"value\""
                            .into(),
                    ),
                )),
            };
            vars.insert(name.to_string(), text);
        }
    }
    for (k, v) in root.iter_mut() {
        if k.get_ref() != "vars" {
            substitute_value(v, &vars, &err, source)?;
        }
    }
    Ok(vars)
}

fn a(t: &str) -> String {
    let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {t}")
}

fn is_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_') && c.all(is_name_char)
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

type ErrFn<'a> = dyn Fn(Range<usize>, String, Option<String>) -> SuiteError + 'a;

fn substitute_value(
    v: &mut Spanned<DeValue<'_>>,
    vars: &BTreeMap<String, String>,
    err: &ErrFn<'_>,
    source: &str,
) -> Result<(), SuiteError> {
    let span = v.span();
    match v.get_mut() {
        DeValue::String(s) => {
            if let Some(out) =
                substitute(s, vars).map_err(|e| e.into_error(span, source, vars, err))?
            {
                *s = Cow::Owned(out);
            }
        }
        DeValue::Array(a) => {
            for e in a.iter_mut() {
                substitute_value(e, vars, err, source)?;
            }
        }
        DeValue::Table(t) => {
            for (_, e) in t.iter_mut() {
                substitute_value(e, vars, err, source)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[derive(Debug, PartialEq)]
enum Problem {
    /// The placeholder's text and the variable's name.
    Undefined { text: String, name: String },
    /// The text from `{{` to the end of the name.
    Unclosed { text: String },
}

impl Problem {
    fn into_error(
        self,
        span: Range<usize>,
        source: &str,
        vars: &BTreeMap<String, String>,
        err: &ErrFn<'_>,
    ) -> SuiteError {
        // Point at the placeholder itself when its text is in the literal as written
        // (it is, unless escapes are involved), else at the whole string.
        let locate = |text: &str| {
            source
                .get(span.clone())
                .and_then(|raw| raw.find(text))
                .map(|i| span.start + i..span.start + i + text.len())
                .unwrap_or(span.clone())
        };
        match self {
            Problem::Undefined { text, name } => {
                let defined = if vars.is_empty() {
                    "none ([vars] is absent or empty)".to_string()
                } else {
                    vars.keys()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let help = match nearest(&name, vars.keys().map(String::as_str)) {
                    Some(n) => {
                        format!("did you mean `{{{{ {n} }}}}`? variables defined: {defined}")
                    }
                    None => format!(
                        "define it in [vars] ({name} = \"...\"); variables defined: {defined}"
                    ),
                };
                err(
                    locate(&text),
                    format!("undefined variable `{name}` in `{text}`"),
                    Some(help),
                )
            }
            Problem::Unclosed { text } => err(
                locate(&text),
                format!("unclosed placeholder `{text}`: expected `}}}}`"),
                Some("write {{ name }}".into()),
            ),
        }
    }
}

/// The string with every `{{ name }}` replaced, or None when it has none.
fn substitute(s: &str, vars: &BTreeMap<String, String>) -> Result<Option<String>, Problem> {
    if !s.contains("{{") {
        return Ok(None);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut changed = false;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let inner = after.trim_start_matches([' ', '\t']);
        let name_len = inner
            .find(|c: char| !is_name_char(c))
            .unwrap_or(inner.len());
        let name = &inner[..name_len];
        let tail = inner[name_len..].trim_start_matches([' ', '\t']);
        if !is_name(name) {
            // Not a placeholder (e.g. `{{.State.Pid}}`): keep the braces.
            out.push_str("{{");
            rest = after;
            continue;
        }
        let head_len = rest.len() - i - tail.len();
        if let Some(t) = tail.strip_prefix("}}") {
            let text = &rest[i..rest.len() - t.len()];
            let value = vars.get(name).ok_or_else(|| Problem::Undefined {
                text: text.to_string(),
                name: name.to_string(),
            })?;
            out.push_str(value);
            changed = true;
            rest = t;
        } else if tail.is_empty() || (tail.starts_with('}') && !tail.starts_with("}}")) {
            return Err(Problem::Unclosed {
                text: rest[i..i + head_len].trim_end().to_string(),
            });
        } else {
            // `{{ name something`: not ours (a template of another tool).
            out.push_str("{{");
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(changed.then_some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        [
            ("image", "clnrm-base:latest"),
            ("delay", "500"),
            ("a_b-c", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn substitutes_with_and_without_spaces() {
        let v = vars();
        assert_eq!(
            substitute("{{image}}", &v).unwrap().as_deref(),
            Some("clnrm-base:latest")
        );
        assert_eq!(
            substitute("sleep {{ delay }}ms; {{  a_b-c\t}}", &v)
                .unwrap()
                .as_deref(),
            Some("sleep 500ms; x")
        );
        assert_eq!(substitute("no placeholders", &v).unwrap(), None);
    }

    #[test]
    fn leaves_other_templates_alone() {
        let v = vars();
        assert_eq!(
            substitute("docker inspect -f '{{.State.Pid}}'", &v).unwrap(),
            None
        );
        assert_eq!(substitute("{{ range .Items }}", &v).unwrap(), None);
        assert_eq!(
            substitute("{{ {{image}}", &v).unwrap().as_deref(),
            Some("{{ clnrm-base:latest")
        );
    }

    #[test]
    fn undefined_and_unclosed() {
        let v = vars();
        assert_eq!(
            substitute("x {{ imag }} y", &v),
            Err(Problem::Undefined {
                text: "{{ imag }}".into(),
                name: "imag".into()
            })
        );
        assert_eq!(
            substitute("x {{ image", &v),
            Err(Problem::Unclosed {
                text: "{{ image".into()
            })
        );
        assert_eq!(
            substitute("x {{image} y", &v),
            Err(Problem::Unclosed {
                text: "{{image".into()
            })
        );
    }
}
