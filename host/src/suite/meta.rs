//! `[meta]`: what the suite is. Informational, except `name`, which is the
//! report base name unless `[report] name` is set (see `report.rs`).

use serde::{Deserialize, Serialize};

/// `[meta]`, raw and resolved alike: nothing in it needs checking.
#[derive(Debug, Deserialize, Default, Clone, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub name: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    pub author: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[cfg(test)]
mod tests {
    use crate::suite::testing::{fails, load_text, OK};

    #[test]
    fn meta_is_kept_and_unknown_keys_are_named() {
        let s = load_text(&OK.replace(
            "name = \"demo\"",
            "name = \"demo\"\nversion = \"2\"\nauthor = \"qa\"\ntags = [\"a\"]",
        ))
        .unwrap();
        assert_eq!(s.meta.version.as_deref(), Some("2"));
        assert_eq!(s.meta.author.as_deref(), Some("qa"));
        assert_eq!(s.meta.tags, ["a"]);
        let (l, c, m, h) = fails(&OK.replace("name = \"demo\"", "name = \"demo\"\nauthr = \"x\""));
        assert_eq!((l, c), (4, 1), "{m}");
        assert!(h.starts_with("did you mean `author`?"), "{h}");
    }
}
