//! [`ConfigError`]: what is wrong with a plugin's configuration, and where, as data.
//!
//! The host maps `path` to a position in the user's file, so a plugin never has to
//! know about files, lines or TOML: it says "key `delay_ms` of entry 2 is not a
//! number" and the host says where that is.

use std::fmt;

use crate::suggest;

/// An error in a plugin's configuration (the `chaos_injection` table or the
/// `[expect.<x>]` config it was given as JSON).
///
/// `path` names keys by name and array entries by decimal index, from the root of
/// the config the plugin was given: for `[[expect.x]]` that root is the array, so
/// `path[0]` is the entry's index. The variants mirror the WIT `config-error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A key the table does not take. `path` ends with the unknown key itself;
    /// `expected` lists the keys valid at that place.
    UnknownKey {
        path: Vec<String>,
        expected: Vec<String>,
    },
    /// The table at `path` lacks the required `key`.
    MissingKey { path: Vec<String>, key: String },
    /// The value at `path` has the wrong type: `expected` and `found` in TOML's
    /// words (`a non-negative integer`, `string "x"`).
    WrongType {
        path: Vec<String>,
        expected: String,
        found: String,
    },
    /// The value at `path` has the right type but is not acceptable.
    InvalidValue { path: Vec<String>, message: String },
    /// Anything not tied to a place in the config.
    Other(String),
}

impl ConfigError {
    pub fn unknown_key(path: &[String], key: &str, expected: &[&str]) -> Self {
        ConfigError::UnknownKey {
            path: with(path, key),
            expected: expected.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    pub fn missing_key(path: &[String], key: &str) -> Self {
        ConfigError::MissingKey {
            path: path.to_vec(),
            key: key.to_owned(),
        }
    }

    pub fn wrong_type(
        path: &[String],
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        ConfigError::WrongType {
            path: path.to_vec(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    pub fn invalid_value(path: &[String], message: impl Into<String>) -> Self {
        ConfigError::InvalidValue {
            path: path.to_vec(),
            message: message.into(),
        }
    }

    /// The path the error is about (empty for [`ConfigError::Other`]).
    pub fn path(&self) -> &[String] {
        match self {
            ConfigError::UnknownKey { path, .. }
            | ConfigError::MissingKey { path, .. }
            | ConfigError::WrongType { path, .. }
            | ConfigError::InvalidValue { path, .. } => path,
            ConfigError::Other(_) => &[],
        }
    }

    /// The same error one level down: `index_or_key` is put in front of the path
    /// (how an error found inside an entry becomes an error of the whole array).
    pub fn within(mut self, index_or_key: &str) -> Self {
        if let ConfigError::UnknownKey { path, .. }
        | ConfigError::MissingKey { path, .. }
        | ConfigError::WrongType { path, .. }
        | ConfigError::InvalidValue { path, .. } = &mut self
        {
            path.insert(0, index_or_key.to_owned());
        }
        self
    }

    /// Shown under a root name, as the user would write the path in TOML:
    /// `err.at("expect.span")` displays `expect.span[1].count.eq: ...`.
    pub fn at<'a>(&'a self, root: &'a str) -> impl fmt::Display + 'a {
        Rooted { root, err: self }
    }

    /// What is wrong, without where: `expected a string, found integer 3`.
    pub fn message(&self) -> String {
        match self {
            ConfigError::UnknownKey { path, expected } => {
                let key = path.last().map(String::as_str).unwrap_or_default();
                let hint = suggest::nearest(key, expected.iter().map(String::as_str))
                    .map(|s| format!("; did you mean {s:?}?"))
                    .unwrap_or_default();
                if expected.is_empty() {
                    format!("unknown key {key:?} (this table takes no keys)")
                } else {
                    format!("unknown key {key:?}{hint} (valid: {})", expected.join(", "))
                }
            }
            ConfigError::MissingKey { key, .. } => format!("missing required key {key:?}"),
            ConfigError::WrongType {
                expected, found, ..
            } => format!("expected {expected}, found {found}"),
            ConfigError::InvalidValue { message, .. } | ConfigError::Other(message) => {
                message.clone()
            }
        }
    }

    /// The path the message is prefixed with: an unknown key is reported at the
    /// table holding it (the key is named in the message).
    fn shown_path(&self) -> &[String] {
        match self {
            ConfigError::UnknownKey { path, .. } => &path[..path.len().saturating_sub(1)],
            other => other.path(),
        }
    }
}

/// `[2].count.eq: expected ...`; a path at the root shows the message alone.
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.at("").fmt(f)
    }
}

impl std::error::Error for ConfigError {}

struct Rooted<'a> {
    root: &'a str,
    err: &'a ConfigError,
}

impl fmt::Display for Rooted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = match self.err {
            // Not tied to a place: the message says all there is.
            ConfigError::Other(_) => String::new(),
            err => render_path(self.root, err.shown_path()),
        };
        if shown.is_empty() {
            f.write_str(&self.err.message())
        } else {
            write!(f, "{shown}: {}", self.err.message())
        }
    }
}

/// `root` followed by the path in TOML's notation: indices as `[2]`, bare keys as
/// `.key`, other keys quoted (`."exit.code"`), so the path can be pasted back.
pub fn render_path(root: &str, path: &[String]) -> String {
    let mut out = root.to_owned();
    for p in path {
        if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{p}]"));
            continue;
        }
        if !out.is_empty() {
            out.push('.');
        }
        let bare = !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if bare {
            out.push_str(p);
        } else {
            out.push_str(&format!("{p:?}"));
        }
    }
    out
}

/// `path` extended by one key or index.
pub fn with(path: &[String], key: &str) -> Vec<String> {
    let mut p = path.to_vec();
    p.push(key.to_owned());
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn paths_render_as_toml() {
        assert_eq!(
            render_path("expect.span", &p(&["1", "count", "eq"])),
            "expect.span[1].count.eq"
        );
        assert_eq!(
            render_path("", &p(&["1", "attrs", "all", "exit.code"])),
            "[1].attrs.all.\"exit.code\""
        );
        assert_eq!(render_path("", &p(&["delay_ms"])), "delay_ms");
        assert_eq!(render_path("x", &[]), "x");
    }

    #[test]
    fn messages_read_well() {
        let e = ConfigError::unknown_key(&p(&["1"]), "parnet", &["name", "parent"]);
        assert_eq!(e.path(), p(&["1", "parnet"]));
        assert_eq!(
            e.at("expect.span").to_string(),
            "expect.span[1]: unknown key \"parnet\"; did you mean \"parent\"? (valid: name, parent)"
        );
        assert_eq!(
            e.to_string(),
            "[1]: unknown key \"parnet\"; did you mean \"parent\"? (valid: name, parent)"
        );
        let e = ConfigError::unknown_key(&[], "zzzzzz", &["name"]);
        assert_eq!(e.to_string(), "unknown key \"zzzzzz\" (valid: name)");
        let e = ConfigError::missing_key(&p(&["0"]), "name");
        assert_eq!(
            e.at("expect.span").to_string(),
            "expect.span[0]: missing required key \"name\""
        );
        let e =
            ConfigError::wrong_type(&p(&["delay_ms"]), "a non-negative integer", "string \"x\"");
        assert_eq!(
            e.to_string(),
            "delay_ms: expected a non-negative integer, found string \"x\""
        );
        let e = ConfigError::invalid_value(&[], "checks nothing").within("3");
        assert_eq!(
            e.at("expect.counts").to_string(),
            "expect.counts[3]: checks nothing"
        );
        assert_eq!(
            ConfigError::Other("bad".into()).within("x").to_string(),
            "bad"
        );
    }
}
