//! Where every key and value of one TOML table (a `chaos_injection` entry, an
//! `[expect.X]` table or array) sits in the suite file, kept at load time so a
//! plugin's structured `check` error (which names a key by its path) can be
//! reported at file:line:col without re-reading the source.

use std::collections::BTreeMap;
use std::ops::Range;

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
    pub fn insert(&mut self, path: KeyPath, key: Range<usize>, value: Range<usize>) {
        self.spans.insert(path, (key, value));
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
