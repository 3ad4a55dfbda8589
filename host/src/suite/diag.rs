//! Diagnostics for bad suite files: file:line:col, a source snippet with a
//! caret, what was expected, and the nearest valid name.

use miette::{Diagnostic, NamedSource, SourceSpan};
use std::ops::Range;
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
    pub fn at(path: &str, source: &str, span: Range<usize>, message: impl Into<String>, help: Option<String>) -> Self {
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
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 3.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Turn serde's "unknown field `x`, expected one of `a`, `b`" into a hint.
pub fn hint_for_serde_message(message: &str) -> Option<String> {
    let unknown = between(message, "unknown field `", "`")?;
    let expected: Vec<&str> = message.split("expected ").nth(1)?.split('`').skip(1).step_by(2).collect();
    match nearest(unknown, expected.iter().copied()) {
        Some(n) => Some(format!("did you mean `{n}`? valid keys here: {}", expected.join(", "))),
        None => Some(format!("valid keys here: {}", expected.join(", "))),
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &s[s.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
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
    }
}
