//! `<name>.report.html`: the JSON report as one self-contained page (header,
//! scenarios, expectations, the trace as a waterfall with every observed
//! fault marked). docs/reports.md#html-report describes it.
//!
//! The page is rendered from the JSON report's *text*, never from the
//! outcome, so `clnrm report FILE.report.json` gives byte for byte the page
//! the run wrote. The data is embedded as JSON and drawn by plain JS
//! (html/report.js); no network fetch is possible (the page's CSP forbids it).

use crate::confined::ConfinedDir;
use std::path::PathBuf;
use thiserror::Error;

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");
/// The JSON report schema this page understands.
pub const SCHEMA: &str = "clnrm.report/1";

#[derive(Debug, Error)]
pub enum RenderError {
    /// Not JSON; line and column are 1-based, as serde_json reports them.
    #[error("{line}:{column}: not valid JSON: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("1:1: not a clnrm JSON report: {0}")]
    Schema(String),
}

/// The page for one JSON report (the text of `<name>.report.json`).
pub fn render(report_json: &str) -> Result<String, RenderError> {
    let value: serde_json::Value = serde_json::from_str(report_json).map_err(|e| {
        // serde_json appends the position, which we give in front.
        let full = e.to_string();
        let at = format!(" at line {} column {}", e.line(), e.column());
        RenderError::Json {
            line: e.line(),
            column: e.column(),
            message: full.strip_suffix(&at).unwrap_or(&full).to_string(),
        }
    })?;
    match value.get("schema").and_then(|s| s.as_str()) {
        Some(SCHEMA) => {}
        Some(other) => {
            return Err(RenderError::Schema(format!(
                "schema `{other}`; this clnrm reads `{SCHEMA}`"
            )))
        }
        None => {
            return Err(RenderError::Schema(format!(
                "no `schema` field (`{SCHEMA}` expected)"
            )))
        }
    }
    for field in ["name", "spans", "scenarios", "expectations"] {
        if value.get(field).is_none() {
            return Err(RenderError::Schema(format!("no `{field}` field")));
        }
    }
    let name = value["name"].as_str().unwrap_or("");
    // Compact, keys in one order (serde_json's map is sorted): the same text
    // gives the same page whichever way it reached us.
    let data = serde_json::to_string(&value).map_err(|e| RenderError::Schema(e.to_string()))?;
    Ok(page(name, &data))
}

fn page(name: &str, data: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"clnrm\">\n\
         <title>clnrm report: {title}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
         <noscript><p>This report is drawn by JavaScript. Its data is the <code>clnrm-report</code> \
         script element below, the same as <code>{title}.report.json</code>.</p></noscript>\n\
         <main id=\"app\"></main>\n\
         <script type=\"application/json\" id=\"clnrm-report\">{data}</script>\n\
         <script>\n{JS}</script>\n</body>\n</html>\n",
        title = html_escape(name),
        data = script_safe(data),
    )
}

/// JSON that cannot end its `<script>` element: every `<` (which JSON only
/// has inside strings) becomes `\u003c`, so no `</script>` or `<!--`.
fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Write `<name>.report.html` from the JSON report's text.
pub fn write_html(dir: &ConfinedDir, file: &str, report_json: &str) -> std::io::Result<PathBuf> {
    let page = render(report_json).map_err(std::io::Error::other)?;
    dir.write(file, page)
}

/// The page's file name beside a JSON report's: `x.report.json` →
/// `x.report.html` (a `[report] json` name without `.json` gets `.html` added).
pub fn page_name(json_file: &str) -> String {
    match json_file.strip_suffix(".json") {
        Some(stem) => format!("{stem}.html"),
        None => format!("{json_file}.html"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_text() -> String {
        super::super::json::report_text(&super::super::fixture::outcome()).unwrap()
    }

    #[test]
    fn the_page_embeds_the_report_and_cannot_be_broken_out_of() {
        let mut v: serde_json::Value = serde_json::from_str(&report_text()).unwrap();
        v["name"] = "x</script><script>alert(1)</script>".into();
        let page = render(&v.to_string()).unwrap();
        assert_eq!(page.matches("</script>").count(), 2, "{page}");
        assert!(page.contains("<title>clnrm report: x&lt;/script&gt;"));
        let start = page.find("id=\"clnrm-report\">").unwrap() + "id=\"clnrm-report\">".len();
        let end = start + page[start..].find("</script>").unwrap();
        let back: serde_json::Value = serde_json::from_str(&page[start..end]).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn the_page_is_self_contained() {
        let page = render(&report_text()).unwrap();
        assert!(page.contains("default-src 'none'"));
        for remote in ["http://", "https://", "src=", "@import", "url("] {
            assert!(!page.contains(remote), "page contains {remote}");
        }
    }

    #[test]
    fn same_text_same_page_whatever_the_formatting() {
        let pretty = report_text();
        let v: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(render(&pretty).unwrap(), render(&v.to_string()).unwrap());
    }

    #[test]
    fn not_a_report_is_an_error_with_a_position() {
        let e = render("{\n  \"schema\": 1,,\n}").unwrap_err().to_string();
        assert!(e.starts_with("2:15: not valid JSON"), "{e}");
        let e = render("{\"schema\": \"other/2\"}").unwrap_err().to_string();
        assert_eq!(
            e,
            "1:1: not a clnrm JSON report: schema `other/2`; this clnrm reads `clnrm.report/1`"
        );
        let e = render("[]").unwrap_err().to_string();
        assert!(e.contains("no `schema` field"), "{e}");
    }
}
