//! `[plugins]`: third-party plugins, name = path to a `.wasm` component,
//! relative to the suite file. Whether the file is a plugin is the
//! registry's business (later); here the path must not be empty.

use super::diag::{Ctx, SuiteError};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// `[plugins]`, raw.
pub type Plugins = BTreeMap<String, Spanned<String>>;

/// Name, path resolved against the suite file's directory, span of the path.
pub fn resolve(
    cx: &Ctx,
    raw: &Plugins,
) -> Result<Vec<(String, PathBuf, Range<usize>)>, SuiteError> {
    let base = cx.path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for (name, p) in raw {
        if p.get_ref().trim().is_empty() {
            return Err(cx.err(
                p.span(),
                format!("plugin `{name}` has an empty path"),
                Some("write name = \"path/to/plugin.wasm\" (relative to this file)".into()),
            ));
        }
        out.push((name.clone(), base.join(p.get_ref()), p.span()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::suite::testing::{fails, OK};
    use std::path::Path;

    #[test]
    fn paths_are_relative_to_the_suite_file() {
        let text = format!("[plugins]\nmine = \"p/mine.wasm\"\n{OK}");
        let s = crate::suite::load_str(Path::new("suites/a.clnrm.toml"), text).unwrap();
        assert_eq!(s.plugins.len(), 1);
        let (name, path, span) = &s.plugins[0];
        assert_eq!(
            (name.as_str(), path.as_path()),
            ("mine", Path::new("suites/p/mine.wasm"))
        );
        assert_eq!(&s.source[span.clone()], "\"p/mine.wasm\"");
        let (l, c, m, _) = fails(&format!("[plugins]\nmine = \" \"\n{OK}"));
        assert_eq!((l, c), (2, 8), "{m}");
        assert!(m.contains("plugin `mine` has an empty path"), "{m}");
    }
}
