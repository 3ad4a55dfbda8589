//! Where every key and value of one TOML table (a `chaos_injection` entry, an
//! `[expect.X]` table or array) sits in the suite file, kept at load time so a
//! plugin's structured `check` error (which names a key by its path) can be
//! reported at file:line:col without re-reading the source.

use std::collections::BTreeMap;
use std::ops::Range;
use toml::de::DeValue;
use toml::Spanned;

/// A path into a table: keys by name, array entries by their decimal index
/// ("0", "1", ...), exactly as plugins report them in a WIT `config-error`.
pub type KeyPath = Vec<String>;

/// Byte spans of the keys and values below one table, by path (relative to
/// that table: the empty path is the table itself).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Positions {
    /// path -> (span of the key, span of the value). Array entries have no
    /// key of their own: their key span is the value span.
    spans: BTreeMap<KeyPath, (Range<usize>, Range<usize>)>,
}

impl Positions {
    /// Every key and value of `value` (the parsed document's own spans, so
    /// they point into the file as written, also after `[vars]`
    /// substitution). `key` is the span of the key that names `value` (for
    /// an array entry, which has none, pass the entry's own span).
    ///
    /// toml's spans: a `[table]` or `[[table]]` value is its header; a table
    /// made by a dotted key (`attrs.all = ...`) is that key segment.
    pub fn of(key: Range<usize>, value: &Spanned<DeValue<'_>>) -> Positions {
        let mut out = Positions::default();
        out.walk(&mut Vec::new(), key, value);
        out
    }

    fn walk(&mut self, path: &mut KeyPath, key: Range<usize>, value: &Spanned<DeValue<'_>>) {
        self.insert(path.clone(), key, value.span());
        match value.get_ref() {
            DeValue::Array(a) => {
                for (i, e) in a.iter().enumerate() {
                    path.push(i.to_string());
                    self.walk(path, e.span(), e);
                    path.pop();
                }
            }
            DeValue::Table(t) => {
                for (k, e) in t.iter() {
                    path.push(k.get_ref().to_string());
                    self.walk(path, k.span(), e);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    pub fn insert(&mut self, path: KeyPath, key: Range<usize>, value: Range<usize>) {
        self.spans.insert(path, (key, value));
    }

    /// Every path that has a span, in order.
    pub fn paths(&self) -> impl Iterator<Item = &KeyPath> {
        self.spans.keys()
    }

    /// Span of the key at `path`, else of the nearest enclosing key that is
    /// known (so an unknown key inside `attrs.all` points at `attrs.all`).
    pub fn key(&self, path: &[String]) -> Option<Range<usize>> {
        self.nearest(path).map(|(k, _)| k)
    }

    /// Span of the value at `path`, else of the nearest enclosing value.
    pub fn value(&self, path: &[String]) -> Option<Range<usize>> {
        self.nearest(path).map(|(_, v)| v)
    }

    fn nearest(&self, path: &[String]) -> Option<(Range<usize>, Range<usize>)> {
        (0..=path.len())
            .rev()
            .find_map(|n| self.spans.get(&path[..n]).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &[&str]) -> KeyPath {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn nearest_enclosing_key_is_used_for_unknown_paths() {
        let mut pos = Positions::default();
        pos.insert(p(&[]), 0..100, 0..100);
        pos.insert(p(&["0"]), 10..50, 10..50);
        pos.insert(p(&["0", "attrs"]), 12..17, 20..40);
        assert_eq!(pos.key(&p(&["0", "attrs", "nope"])), Some(12..17));
        assert_eq!(pos.value(&p(&["0", "attrs"])), Some(20..40));
        assert_eq!(pos.key(&p(&["3"])), Some(0..100));
        assert_eq!(Positions::default().key(&p(&["x"])), None);
    }
}
