//! `clnrm validate FILES... [--format human|json|github]`: parse and check
//! suites, plugins included, without starting anything.

use super::suites::expand;
use super::{EXIT_BAD_INPUT, EXIT_PASS};
use crate::runtime::{Registry, RegistryError};
use crate::suite::{Suite, SuiteError};

/// Parse and check suites (plugins included) without starting anything.
///
/// Every file is checked; every error is printed with file:line:col.
/// `--format github` prints GitHub Actions workflow commands, so CI shows the
/// errors on the lines; `--format json` is one JSON object for editors.
///
/// Examples:
///   clnrm validate tests/chaos/*.clnrm.toml
///   clnrm validate suites/*.clnrm.toml --format github    # in a CI step
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[arg(required = true)]
    files: Vec<String>,
    /// How errors are printed.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A snippet with a caret and a hint per error (stderr), `ok FILE` lines.
    Human,
    /// One JSON object on stdout: `{"ok", "files": [...], "errors": [...]}`.
    Json,
    /// `::error file=F,line=L,col=C::message` per error (stdout).
    Github,
}

impl Args {
    pub async fn exec(self) -> i32 {
        validate(&self.files, self.format).await
    }
}

/// One error, wherever it came from.
#[derive(serde::Serialize)]
struct Finding {
    file: String,
    /// 1-based; 0 when the error is not about a place in a file.
    line: usize,
    col: usize,
    message: String,
    help: Option<String>,
    #[serde(skip)]
    diag: Option<Box<SuiteError>>,
}

impl Finding {
    fn of(e: SuiteError) -> Finding {
        Finding {
            file: e.path.clone(),
            line: e.line,
            col: e.col,
            message: e.message.clone(),
            help: e.help.clone(),
            diag: Some(Box::new(e)),
        }
    }

    fn plain(file: &str, message: String) -> Finding {
        Finding {
            file: file.to_string(),
            line: 0,
            col: 0,
            message,
            help: None,
            diag: None,
        }
    }
}

#[derive(serde::Serialize)]
struct FileResult {
    file: String,
    ok: bool,
    scenarios: usize,
    expectations: usize,
}

async fn validate(files: &[String], format: Format) -> i32 {
    let paths = match expand(files) {
        Ok(p) => p,
        Err(e) => {
            report(format, &[], &[Finding::plain("", e)]);
            return EXIT_BAD_INPUT;
        }
    };
    let mut findings = Vec::new();
    let mut loaded: Vec<Suite> = Vec::new();
    let mut results = Vec::new();
    for p in &paths {
        match crate::suite::load(p) {
            Ok(s) => loaded.push(s),
            Err(e) => {
                results.push(FileResult {
                    file: p.display().to_string(),
                    ok: false,
                    scenarios: 0,
                    expectations: 0,
                });
                findings.push(Finding::of(e));
            }
        }
    }
    if !loaded.is_empty() {
        let registry = match Registry::for_checks() {
            Ok(r) => r,
            Err(e) => {
                findings.push(Finding::plain("", e.to_string()));
                report(format, &results, &findings);
                return EXIT_BAD_INPUT;
            }
        };
        for s in &loaded {
            let file = s.path.display().to_string();
            let ok = match registry.resolve(s).await {
                Ok(_) => true,
                Err(RegistryError::Suite(e)) => {
                    findings.push(Finding::of(*e));
                    false
                }
                Err(e) => {
                    findings.push(Finding::plain(&file, e.to_string()));
                    false
                }
            };
            results.push(FileResult {
                file,
                ok,
                scenarios: s.scenarios.len(),
                expectations: expectations(s),
            });
        }
    }
    // Files in the order given.
    results.sort_by_key(|r| {
        paths
            .iter()
            .position(|p| p.display().to_string() == r.file)
            .unwrap_or(usize::MAX)
    });
    report(format, &results, &findings);
    if findings.is_empty() {
        EXIT_PASS
    } else {
        EXIT_BAD_INPUT
    }
}

/// `[[expect.span]]` entries count one by one.
fn expectations(s: &Suite) -> usize {
    s.expectations
        .iter()
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(&e.config_json)
                .ok()
                .and_then(|v| v.as_array().map(Vec::len))
                .unwrap_or(1)
        })
        .sum()
}

fn report(format: Format, results: &[FileResult], findings: &[Finding]) {
    match format {
        Format::Human => {
            for f in findings {
                match &f.diag {
                    Some(d) => eprintln!("{:?}", miette::Report::new(clone(d))),
                    None if f.file.is_empty() => eprintln!("error: {}", f.message),
                    None => eprintln!("error: {}: {}", f.file, f.message),
                }
            }
            for r in results.iter().filter(|r| r.ok) {
                println!(
                    "ok {} ({} scenarios, {} expectations)",
                    r.file, r.scenarios, r.expectations
                );
            }
        }
        Format::Json => {
            let v = serde_json::json!({
                "ok": findings.is_empty(),
                "files": results,
                "errors": findings,
            });
            println!("{v}");
        }
        Format::Github => {
            for f in findings {
                println!("{}", github_line(f));
            }
            for r in results.iter().filter(|r| r.ok) {
                println!(
                    "ok {} ({} scenarios, {} expectations)",
                    r.file, r.scenarios, r.expectations
                );
            }
        }
    }
}

fn clone(d: &SuiteError) -> SuiteError {
    SuiteError::at(
        &d.path,
        d.src.inner(),
        d.span.offset()..d.span.offset() + d.span.len(),
        d.message.clone(),
        d.help.clone(),
    )
}

/// A GitHub Actions `::error` workflow command. Data escapes `%`, CR and
/// LF; property values also `:` and `,`.
fn github_line(f: &Finding) -> String {
    let data = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let prop = |s: &str| data(s).replace(':', "%3A").replace(',', "%2C");
    let mut props = Vec::new();
    if !f.file.is_empty() {
        props.push(format!("file={}", prop(&f.file)));
    }
    if f.line > 0 {
        props.push(format!("line={}", f.line));
        props.push(format!("col={}", f.col));
    }
    let mut msg = f.message.clone();
    if let Some(h) = &f.help {
        msg.push_str("\nhelp: ");
        msg.push_str(h);
    }
    if props.is_empty() {
        format!("::error::{}", data(&msg))
    } else {
        format!("::error {}::{}", props.join(","), data(&msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_lines_escape_what_the_runner_would_split_on() {
        let f = Finding {
            help: Some("did you mean `a`?".into()),
            ..Finding::plain("dir/a,b:c.toml", "bad: 100%\nsecond".into())
        };
        let f = Finding {
            line: 3,
            col: 7,
            ..f
        };
        assert_eq!(
            github_line(&f),
            "::error file=dir/a%2Cb%3Ac.toml,line=3,col=7::bad: 100%25%0Asecond%0Ahelp: did you mean `a`?"
        );
        assert_eq!(
            github_line(&Finding::plain("", "no plugins".into())),
            "::error::no plugins"
        );
    }
}
