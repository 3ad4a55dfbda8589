//! Diagnostics for bad suite files: file:line:col, a source snippet with a
//! caret, what was expected, and the nearest valid name.

use miette::{Diagnostic, NamedSource, SourceSpan};
use std::ops::Range;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
#[error("{path}:{line}:{col}: {message}")]
#[diagnostic(code(clnrm::suite))]
pub struct SuiteError {
    pub path: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
    #[source_code]
    pub src: NamedSource<String>,
    #[label("{label}")]
    pub span: SourceSpan,
    pub label: String,
    #[help]
    pub help: Option<String>,
}

impl SuiteError {
    pub fn at(
        path: &str,
        source: &str,
        span: Range<usize>,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Self {
        let span = clamp(span, source.len());
        let (line, col) = line_col(source, span.start);
        let message = message.into();
        SuiteError {
            path: path.to_string(),
            line,
            col,
            label: first_line(&message).to_string(),
            message,
            src: NamedSource::new(path, source.to_string()),
            span: span.into(),
            help,
        }
    }
}

/// What every check needs to report an error: the file's name and its text.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub path: &'a Path,
    pub source: &'a str,
    /// Whether files the suite names (a `build` context) are checked and
    /// read: not when a recording is replayed, possibly on another machine.
    pub files: bool,
}

impl Ctx<'_> {
    pub fn err(
        &self,
        span: Range<usize>,
        msg: impl Into<String>,
        help: Option<String>,
    ) -> SuiteError {
        SuiteError::at(
            &self.path.display().to_string(),
            self.source,
            span,
            msg,
            help,
        )
    }
}

fn clamp(span: Range<usize>, len: usize) -> Range<usize> {
    let start = span.start.min(len);
    start..span.end.clamp(start, len)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..source.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// The candidate closest to `word`, if it is close enough to be a likely typo:
/// the SDK's implementation, so the host and every plugin suggest alike.
pub use clnrm_sdk::suggest::nearest;

/// A hint for serde's messages: the nearest valid key for "unknown field `x`,
/// expected one of `a`, `b`", the nearest valid value for "unknown variant",
/// what to add for "missing field".
pub fn hint_for_serde_message(message: &str) -> Option<String> {
    // `\$`, `\d`... in a "basic string": invalid TOML, which shells forgive.
    if message.starts_with("missing escaped value") || message.starts_with("invalid escape") {
        return Some(
            "a backslash in a \"...\" or \"\"\"...\"\"\" string starts an escape, and this is not a TOML escape: \
             write `$` (or the character) without the backslash, `\\\\` for a literal backslash, \
             or use a literal string '...' or '''...''', which keeps backslashes as written"
                .into(),
        );
    }
    if let Some(missing) = between(message, "missing field `", "`") {
        return Some(format!("this table needs `{missing}`: add {missing} = ..."));
    }
    let (unknown, what) = match between(message, "unknown field `", "`") {
        Some(u) => (u, "keys"),
        None => (
            between(message, "unknown variant `", "`")
                .or_else(|| between(message, "unknown ready kind `", "`"))?,
            "values",
        ),
    };
    let rest = message.split("expected ").nth(1)?;
    let expected: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    if expected.is_empty() {
        return None;
    }
    let shown = |v: &str| {
        if what == "values" {
            format!("\"{v}\"")
        } else {
            v.to_string()
        }
    };
    let all = expected
        .iter()
        .map(|v| shown(v))
        .collect::<Vec<_>>()
        .join(", ");
    match nearest(unknown, expected.iter().copied()) {
        Some(n) if what == "values" => {
            Some(format!("did you mean \"{n}\"? valid values here: {all}"))
        }
        Some(n) => Some(format!("did you mean `{n}`? valid keys here: {all}")),
        None => Some(format!("valid {what} here: {all}")),
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &s[s.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

#[cfg(test)]
mod escape_tests {
    use crate::suite::testing::{fails, load_text};

    #[test]
    fn an_invalid_escape_keeps_the_error_and_says_how_to_fix_it() {
        let text = "[service.app]\nimage = \"x\"\n[[scenario]]\nname = \"k\"\nservice = \"app\"\nrun = \"\"\"\nwhile [ \\$i -lt 3 ]; do :; done\n\"\"\"\n";
        let (l, c, m, h) = fails(text);
        assert_eq!((l, c), (7, 10), "{m}");
        assert!(m.contains("missing escaped value"), "{m}");
        assert!(h.contains("write `$`") && h.contains("'''...'''"), "{h}");
        // Both fixes it names load.
        load_text(&text.replace("\\$", "$")).unwrap();
        load_text(&text.replace("\"\"\"", "'''")).unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let src = "a = 1\nbc = 2\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        assert_eq!(line_col(src, 7), (2, 2));
    }

    #[test]
    fn suggests_nearest_key() {
        let m = "unknown field `servce`, expected one of `meta`, `service`, `scenario`";
        let h = hint_for_serde_message(m).unwrap();
        assert!(h.starts_with("did you mean `service`?"), "{h}");
        let h = hint_for_serde_message(
            "unknown variant `jaegr`, expected one of `stdout`, `otlp`, `none`",
        )
        .unwrap();
        assert_eq!(h, "valid values here: \"stdout\", \"otlp\", \"none\"");
        let h = hint_for_serde_message(
            "unknown variant `otpl`, expected one of `stdout`, `otlp`, `none`",
        )
        .unwrap();
        assert!(h.starts_with("did you mean \"otlp\"?"), "{h}");
        let h =
            hint_for_serde_message("unknown variant `gracefull`, expected `hard` or `graceful`")
                .unwrap();
        assert!(h.starts_with("did you mean \"graceful\"?"), "{h}");
        assert_eq!(
            hint_for_serde_message("missing field `image`").unwrap(),
            "this table needs `image`: add image = ..."
        );
        assert_eq!(
            hint_for_serde_message("unknown field `x`, there are no fields"),
            None
        );
        let h =
            hint_for_serde_message("unknown field `xml`, expected one of `name`, `json`, `junit`")
                .unwrap();
        assert!(h.starts_with("valid keys here"), "{h}");
        assert_eq!(nearest("c", ["a", "b"]), None);
        assert_eq!(nearest("ap", ["app"]), Some("app"));
        assert_eq!(
            hint_for_serde_message("invalid type: string \"5\", expected u64"),
            None
        );
    }
}
