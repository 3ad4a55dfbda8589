//! `[report]`: the report files' base name and which of them to write.

use super::diag::{Ctx, SuiteError};
use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Base name of the report files (default: `meta.name`, else the file's stem).
    pub name: Option<Spanned<String>>,
    pub json: Option<bool>,
    pub junit: Option<bool>,
    pub digest: Option<bool>,
    pub cleanup: Option<bool>,
}

/// `[report]`: which of the four report files to write (all by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportSpec {
    /// `<name>.report.json`
    pub json: bool,
    /// `<name>.junit.xml`
    pub junit: bool,
    /// `<name>.trace.sha256`
    pub digest: bool,
    /// `<name>.cleanup.json`
    pub cleanup: bool,
}

impl Default for ReportSpec {
    fn default() -> Self {
        ReportSpec {
            json: true,
            junit: true,
            digest: true,
            cleanup: true,
        }
    }
}

impl Report {
    /// The report base name: `[report] name`, else `meta.name` made into a
    /// file name, else the suite file's stem.
    pub fn name(&self, cx: &Ctx, meta_name: Option<&str>) -> Result<String, SuiteError> {
        match &self.name {
            // An explicit base name must be a plain file name: the
            // reports go into --report-dir, never beside or above it.
            Some(n) if !is_plain_file_name(n.get_ref()) => Err(cx.err(
                n.span(),
                format!("`{}` is not a plain file name", n.get_ref()),
                Some("[report] name is the base name of the report files: letters, digits, `.`, `_`, `-`; no `/` and no leading `.`".into()),
            )),
            Some(n) => Ok(n.get_ref().clone()),
            // meta.name is prose: make a file name of it.
            None => Ok(meta_name
                .map(to_file_name)
                .unwrap_or_else(|| stem(cx).to_string())),
        }
    }

    pub fn spec(&self) -> ReportSpec {
        let d = ReportSpec::default();
        ReportSpec {
            json: self.json.unwrap_or(d.json),
            junit: self.junit.unwrap_or(d.junit),
            digest: self.digest.unwrap_or(d.digest),
            cleanup: self.cleanup.unwrap_or(d.cleanup),
        }
    }
}

/// The suite file's name without `.clnrm.toml` (or `.toml`).
fn stem<'a>(cx: &Ctx<'a>) -> &'a str {
    let name = cx
        .path
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or("suite");
    name.strip_suffix(".clnrm.toml")
        .or_else(|| name.strip_suffix(".toml"))
        .unwrap_or(name)
}

fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// `meta.name` as a report base name: anything but letters, digits, `.`,
/// `_` and `-` becomes `_`, and no leading dot.
fn to_file_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_start_matches('.');
    if s.is_empty() {
        "suite".to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::testing::{fails, load_text, OK};
    use std::path::Path;

    #[test]
    fn report_names_stay_in_the_report_dir() {
        assert!(is_plain_file_name("chaos_container_failures"));
        assert!(!is_plain_file_name("../../tmp/evil"));
        assert!(!is_plain_file_name(".hidden"));
        assert_eq!(to_file_name("My suite/../x"), "My_suite_.._x");
        assert_eq!(to_file_name("../up"), "_up");
    }

    #[test]
    fn name_from_report_meta_or_stem() {
        let s = load_text(&format!("[report]\nname = \"r-1\"\njunit = false\n{OK}")).unwrap();
        assert_eq!(s.name, "r-1");
        assert_eq!(
            s.report,
            ReportSpec {
                junit: false,
                ..ReportSpec::default()
            }
        );
        assert_eq!(load_text(OK).unwrap().name, "demo");
        let no_meta = OK.replace("[meta]\nname = \"demo\"\n", "");
        assert_eq!(load_text(&no_meta).unwrap().name, "t");
        let s = crate::suite::load_str(Path::new("dir/x.toml"), no_meta).unwrap();
        assert_eq!(s.name, "x");
        let (l, c, m, _) = fails(&format!("[report]\nname = \"../up\"\n{OK}"));
        assert_eq!((l, c), (2, 8), "{m}");
        assert!(m.contains("not a plain file name"), "{m}");
    }
}
