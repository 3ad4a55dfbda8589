//! `[report]`: the report files' base name, and which files to write under
//! which names.

use super::diag::{Ctx, SuiteError};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;
use toml::Spanned;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Base name of the report files (default: `meta.name`, else the file's stem).
    pub name: Option<Spanned<String>>,
    pub json: Option<Spanned<FileChoice>>,
    pub junit: Option<Spanned<FileChoice>>,
    pub digest: Option<Spanned<FileChoice>>,
    pub cleanup: Option<Spanned<FileChoice>>,
    /// The original clnrm's name for `cleanup`.
    pub cleanup_verification: Option<Spanned<FileChoice>>,
    pub resource_metrics: Option<Spanned<FileChoice>>,
    pub timeout_metrics: Option<Spanned<FileChoice>>,
    pub stress_metrics: Option<Spanned<FileChoice>>,
}

/// A report key's value: `true`/`false` (write it under its default name, or
/// not at all) or the file name to write it as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChoice {
    On(bool),
    File(String),
}

impl<'de> Deserialize<'de> for FileChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = FileChoice;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true, false, or a file name such as \"suite.report.json\"")
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<FileChoice, E> {
                Ok(FileChoice::On(b))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<FileChoice, E> {
                Ok(FileChoice::File(s.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[report]`, resolved: the file name of each report to write, None to skip it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    /// `<name>.report.json`
    pub json: Option<String>,
    /// `<name>.junit.xml`
    pub junit: Option<String>,
    /// `<name>.trace.sha256`
    pub digest: Option<String>,
    /// `<name>.cleanup.json`
    pub cleanup: Option<String>,
    /// Off unless asked for: `<name>.resource-metrics.json` with `true`.
    pub resource_metrics: Option<String>,
    pub timeout_metrics: Option<String>,
    pub stress_metrics: Option<String>,
}

impl ReportSpec {
    /// The defaults for base name `name`: the four reports on, the metrics off.
    pub fn defaults(name: &str) -> ReportSpec {
        ReportSpec {
            json: Some(format!("{name}.report.json")),
            junit: Some(format!("{name}.junit.xml")),
            digest: Some(format!("{name}.trace.sha256")),
            cleanup: Some(format!("{name}.cleanup.json")),
            resource_metrics: None,
            timeout_metrics: None,
            stress_metrics: None,
        }
    }
}

impl Report {
    /// Which files to write, as what. A file name must be a plain file name
    /// (reports never land outside `--report-dir`) and no two reports may
    /// share one.
    pub fn spec(&self, cx: &Ctx, name: &str) -> Result<ReportSpec, SuiteError> {
        if let (Some(_), Some(cv)) = (&self.cleanup, &self.cleanup_verification) {
            return Err(cx.err(
                cv.span(),
                "`cleanup_verification` and `cleanup` name the same report",
                Some("keep one of them".into()),
            ));
        }
        let pick = |v: &Option<Spanned<FileChoice>>,
                    default_on: bool,
                    suffix: &str|
         -> Result<Option<(String, std::ops::Range<usize>)>, SuiteError> {
            let span = v.as_ref().map(|v| v.span()).unwrap_or(0..0);
            match v.as_ref().map(|v| v.get_ref()) {
                None if default_on => Ok(Some((format!("{name}.{suffix}"), span))),
                None | Some(FileChoice::On(false)) => Ok(None),
                Some(FileChoice::On(true)) => Ok(Some((format!("{name}.{suffix}"), span))),
                Some(FileChoice::File(f)) if !is_plain_file_name(f) => Err(cx.err(
                    span,
                    format!("`{f}` is not a plain file name"),
                    Some("a report file name: letters, digits, `.`, `_`, `-`; no `/` and no leading `.` (it is written into --report-dir)".into()),
                )),
                Some(FileChoice::File(f)) => Ok(Some((f.clone(), span))),
            }
        };
        let cleanup = if self.cleanup_verification.is_some() {
            &self.cleanup_verification
        } else {
            &self.cleanup
        };
        let chosen = [
            pick(&self.json, true, "report.json")?,
            pick(&self.junit, true, "junit.xml")?,
            pick(&self.digest, true, "trace.sha256")?,
            pick(cleanup, true, "cleanup.json")?,
            pick(&self.resource_metrics, false, "resource-metrics.json")?,
            pick(&self.timeout_metrics, false, "timeout-metrics.json")?,
            pick(&self.stress_metrics, false, "stress-metrics.json")?,
        ];
        for (i, a) in chosen.iter().enumerate() {
            let Some((file, span)) = a else { continue };
            if let Some((_, _)) = chosen[..i].iter().flatten().find(|(f, _)| f == file) {
                return Err(cx.err(
                    span.clone(),
                    format!("two reports would both be written as `{file}`"),
                    Some("give each report its own file name".into()),
                ));
            }
        }
        let [json, junit, digest, cleanup, resource_metrics, timeout_metrics, stress_metrics] =
            chosen.map(|c| c.map(|(f, _)| f));
        Ok(ReportSpec {
            json,
            junit,
            digest,
            cleanup,
            resource_metrics,
            timeout_metrics,
            stress_metrics,
        })
    }

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
                junit: None,
                ..ReportSpec::defaults("r-1")
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

    #[test]
    fn report_keys_take_booleans_or_file_names() {
        let s = load_text(&format!(
            "[report]\njson = \"x.report.json\"\ndigest = false\ncleanup_verification = \"x.cleanup.json\"\nresource_metrics = \"x.metrics.json\"\ntimeout_metrics = true\n{OK}"
        ))
        .unwrap();
        assert_eq!(
            s.report,
            ReportSpec {
                json: Some("x.report.json".into()),
                junit: Some("demo.junit.xml".into()),
                digest: None,
                cleanup: Some("x.cleanup.json".into()),
                resource_metrics: Some("x.metrics.json".into()),
                timeout_metrics: Some("demo.timeout-metrics.json".into()),
                stress_metrics: None,
            }
        );
        let (l, c, m, _) = fails(&format!("[report]\njunit = \"../x.xml\"\n{OK}"));
        assert_eq!((l, c), (2, 9), "{m}");
        assert!(m.contains("not a plain file name"), "{m}");
        let (l, c, m, _) = fails(&format!(
            "[report]\njson = \"same.json\"\nstress_metrics = \"same.json\"\n{OK}"
        ));
        assert_eq!((l, c), (3, 18), "{m}");
        assert!(m.contains("both be written as `same.json`"), "{m}");
        let (l, _, m, _) = fails(&format!(
            "[report]\ncleanup = true\ncleanup_verification = \"c.json\"\n{OK}"
        ));
        assert_eq!(l, 3, "{m}");
        let (_, _, m, _) = fails(&format!("[report]\njson = 1\n{OK}"));
        assert!(m.contains("expected true, false, or a file name"), "{m}");
    }
}
