//! `clnrm fmt`: one canonical layout for suite files, through `toml_edit`
//! so every comment and every value stays as written.
//!
//! What it changes, nothing else:
//! - **table order**: `[meta]`, `[test.metadata]`, `[vars]`, `[determinism]`,
//!   `[limits]`, `[otel]`, `[plugins]`, `[cleanup]`, `[report]`, the
//!   services, the scenarios, then the `[expect.*]` tables (`span` first).
//!   Services and scenarios keep their order (scenario order is meaning);
//!   tables it does not know keep theirs, after the known ones.
//! - **key order** inside the tables it knows (`name` first in a scenario,
//!   `type` first in a fault table, ...); keys it does not know keep their
//!   order, after the known ones.
//! - **short maps inline**: a sub-table of a service or a scenario
//!   (`[service.app.env]`) with only plain values and no comment becomes
//!   `env = { ... }` when that fits in [`INLINE_MAX`] characters.
//!
//! A comment moves with the key or table it precedes. The result is a fixed
//! point: formatting it again changes nothing.

use std::cmp::Ordering;
use toml_edit::{DocumentMut, Item, Key, Table};

/// The longest `{ k = v, ... }` a sub-table is folded into.
pub const INLINE_MAX: usize = 60;

const TOP: &[&str] = &[
    "meta",
    "test",
    "vars",
    "determinism",
    "limits",
    "otel",
    "plugins",
    "cleanup",
    "report",
    "service",
    "scenario",
    "expect",
];
const META: &[&str] = &["name", "version", "description", "author", "tags"];
const DETERMINISM: &[&str] = &["seed", "freeze_clock"];
const SERVICE: &[&str] = &[
    "type",
    "plugin",
    "image",
    "pull",
    "build",
    "command",
    "entrypoint",
    "args",
    "keep_alive",
    "workdir",
    "user",
    "hostname",
    "network_aliases",
    "env",
    "files",
    "mounts",
    "limits",
    "memory_mb",
    "memory_swap_mb",
    "cpu_millicores",
    "pids",
    "max_file_descriptors",
    "tmpfs",
    "capabilities",
    "depends_on",
    "ready",
    "ready_timeout_ms",
    "healthcheck",
    "wait_for_span",
];
const SCENARIO: &[&str] = &[
    "name",
    "service",
    "parallel_services",
    "network",
    "run",
    "steps",
    "timeout_ms",
    "timeout",
    "timeout_strategy",
    "grace_period_ms",
    "deadline_ms",
    "expect_failure",
    "expect_partial_failure",
    "chaos_injection",
    "recovery_probe",
    "artifacts",
];
const EXPECT: &[&str] = &[
    "span",
    "graph",
    "counts",
    "window",
    "order",
    "status",
    "chaos",
    "resources",
    "timeouts",
    "concurrent",
    "isolation",
    "hermeticity",
];
const SPAN: &[&str] = &[
    "name",
    "parent",
    "kind",
    "status",
    "attrs",
    "count",
    "events",
    "duration_ms",
];
const OTEL: &[&str] = &["exporter", "endpoint", "sample_ratio", "resources"];
const CLEANUP: &[&str] = &[
    "containers",
    "networks",
    "volumes",
    "on_failure",
    "parallel_cleanup",
    "verify_cleanup",
    "verify_resources_freed",
    "cleanup_timeout_ms",
    "cleanup_timeout",
    "kill_timeout_ms",
    "kill_timeout",
];
const REPORT: &[&str] = &[
    "name",
    "json",
    "junit",
    "digest",
    "cleanup",
    "cleanup_verification",
    "resource_metrics",
    "timeout_metrics",
    "stress_metrics",
];
const LIMITS: &[&str] = &[
    "max_duration_seconds",
    "max_containers",
    "cpu_millicores",
    "memory_mb",
];
const FAULT: &[&str] = &["type", "target"];
const STEP: &[&str] = &["name", "service", "run", "command"];

/// A file that is not TOML: the parser's message at 1-based line:col.
#[derive(Debug)]
pub struct FmtError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// `text` in the canonical layout.
pub fn format(text: &str) -> Result<String, FmtError> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        let (line, col) = crate::suite::line_col(text, e.span().map_or(0, |s| s.start));
        FmtError {
            line,
            col,
            message: e.message().trim().to_string(),
        }
    })?;
    let root = doc.as_table_mut();
    // The comment block the file starts with (up to its last blank line)
    // stays at the top, whichever table comes first afterwards.
    let mut head = String::new();
    let root_has_values = root.iter().any(|(_, i)| i.is_value());
    if let (false, Some(first)) = (root_has_values, min_position(root)) {
        if let Some(t) = table_at_mut(root, first) {
            let prefix = t
                .decor()
                .prefix()
                .and_then(|p| p.as_str())
                .unwrap_or("")
                .to_string();
            let rest = match prefix.rfind("\n\n") {
                Some(i) => {
                    head = prefix[..i + 2].to_string();
                    &prefix[i + 2..]
                }
                None => prefix.as_str(),
            };
            // Wherever it lands, it stays apart from the table before it.
            let rest = if rest.starts_with('\n') {
                rest.to_string()
            } else {
                format!("\n{rest}")
            };
            t.decor_mut().set_prefix(rest);
        }
    }
    fold(root, &mut Vec::new(), false);
    order_keys(root, &mut Vec::new());
    let mut keys = Vec::new();
    collect_positions(root, &mut Vec::new(), &mut keys);
    let mut sorted: Vec<usize> = (0..keys.len()).collect();
    sorted.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
    let mut new_pos = vec![0isize; keys.len()];
    for (rank, i) in sorted.into_iter().enumerate() {
        new_pos[i] = rank as isize;
    }
    let mut next = 0;
    assign_positions(root, &new_pos, &mut next);
    let body = doc.to_string();
    Ok(format!("{head}{}", body.trim_start_matches('\n')))
}

/// The smallest position of a header table.
fn min_position(t: &Table) -> Option<isize> {
    let mut keys = Vec::new();
    collect_positions(t, &mut Vec::new(), &mut keys);
    keys.iter().map(|k| k.2).min()
}

/// The header table at `pos`.
fn table_at_mut(t: &mut Table, pos: isize) -> Option<&mut Table> {
    for (_, item) in t.iter_mut() {
        let found = match item {
            Item::Table(sub) if !sub.is_dotted() => {
                if sub.position() == Some(pos) {
                    return Some(sub);
                }
                table_at_mut(sub, pos)
            }
            Item::ArrayOfTables(a) => a.iter_mut().find_map(|sub| {
                if sub.position() == Some(pos) {
                    Some(sub)
                } else {
                    table_at_mut(sub, pos)
                }
            }),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

fn rank(order: &[&str], key: &str) -> usize {
    order.iter().position(|k| *k == key).unwrap_or(usize::MAX)
}

/// The canonical key order of the table at `path` (array elements and
/// service ids count as `*`), if it is a table clnrm knows.
fn key_order(path: &[String]) -> Option<&'static [&'static str]> {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    Some(match p.as_slice() {
        [] => TOP,
        ["meta"] | ["test", "metadata"] => META,
        ["determinism"] => DETERMINISM,
        ["limits"] => LIMITS,
        ["otel"] => OTEL,
        ["cleanup"] => CLEANUP,
        ["report"] => REPORT,
        ["service", _] => SERVICE,
        ["scenario"] => SCENARIO,
        ["scenario", "chaos_injection"] => FAULT,
        ["scenario", "steps"] | ["scenario", "run"] => STEP,
        ["expect"] => EXPECT,
        ["expect", "span"] => SPAN,
        _ => return None,
    })
}

fn has_comment(s: Option<&toml_edit::RawString>) -> bool {
    s.and_then(|r| r.as_str()).is_some_and(|t| t.contains('#'))
}

fn decor_has_comment(d: &toml_edit::Decor) -> bool {
    has_comment(d.prefix()) || has_comment(d.suffix())
}

/// Fold short sub-tables of explicit tables into inline tables. `explicit`:
/// whether `t` is itself a written header (or an array element), so that its
/// sub-tables are its details rather than entities of their own.
fn fold(t: &mut Table, path: &mut Vec<String>, explicit: bool) {
    let names: Vec<String> = t.iter().map(|(k, _)| k.to_string()).collect();
    for name in names {
        let Some(item) = t.get_mut(&name) else {
            continue;
        };
        path.push(name.clone());
        match item {
            Item::Table(sub) if !sub.is_dotted() => {
                fold(sub, path, !sub.is_implicit());
                if explicit && !sub.is_implicit() {
                    if let Some(inline) = foldable(sub) {
                        *item = Item::Value(toml_edit::Value::InlineTable(inline));
                        // The header's key spacing (`[a.env]`) becomes `env = `.
                        if let Some(mut k) = t.key_mut(&name) {
                            k.leaf_decor_mut().clear();
                        }
                    }
                }
            }
            Item::ArrayOfTables(a) => {
                for sub in a.iter_mut() {
                    fold(sub, path, true);
                }
            }
            _ => {}
        }
        path.pop();
    }
}

/// `t` as an inline table when it is short, plain and comment-free.
fn foldable(t: &Table) -> Option<toml_edit::InlineTable> {
    if decor_has_comment(t.decor()) || t.is_empty() {
        return None;
    }
    for (k, v) in t.iter() {
        let Item::Value(v) = v else { return None };
        let key = t.key(k)?;
        if decor_has_comment(key.leaf_decor()) || decor_has_comment(v.decor()) {
            return None;
        }
        if matches!(
            v,
            toml_edit::Value::InlineTable(_) | toml_edit::Value::Array(_)
        ) {
            return None;
        }
    }
    let mut inline = t.clone().into_inline_table();
    inline.fmt();
    let text = inline.to_string();
    (text.trim().len() <= INLINE_MAX && !text.contains('\n')).then_some(inline)
}

fn compare(order: &[&str], a: &Key, b: &Key) -> Ordering {
    rank(order, a.get()).cmp(&rank(order, b.get()))
}

/// Sort the keys of every table clnrm knows (stable: unknown keys keep their
/// order, after the known ones).
fn order_keys(t: &mut Table, path: &mut Vec<String>) {
    if let Some(order) = key_order(path) {
        t.sort_values_by(|a, _, b, _| compare(order, a, b));
    }
    let names: Vec<String> = t.iter().map(|(k, _)| k.to_string()).collect();
    for name in names {
        let Some(item) = t.get_mut(&name) else {
            continue;
        };
        // Service ids are the user's names: the same order for all.
        let seg = if path.len() == 1 && path[0] == "service" {
            "*".to_string()
        } else {
            name.clone()
        };
        path.push(seg);
        match item {
            Item::Table(sub) => order_keys(sub, path),
            Item::ArrayOfTables(a) => {
                for sub in a.iter_mut() {
                    order_keys(sub, path);
                }
            }
            Item::Value(v) => order_value(v, path),
            Item::None => {}
        }
        path.pop();
    }
}

/// Inline tables inside values: a fault table, a step, each element of an
/// array of them.
fn order_value(v: &mut toml_edit::Value, path: &[String]) {
    match v {
        toml_edit::Value::InlineTable(it) => {
            if let Some(order) = key_order(path) {
                let before: Vec<String> = it.iter().map(|(k, _)| k.to_string()).collect();
                if path.len() > 1 {
                    it.sort_values_by(|a, _, b, _| compare(order, a, b));
                }
                // Moved keys carry the spacing of their old place: respace.
                if it.iter().map(|(k, _)| k.to_string()).ne(before) {
                    it.fmt();
                }
            }
        }
        toml_edit::Value::Array(arr) => {
            for e in arr.iter_mut() {
                order_value(e, path);
            }
        }
        _ => {}
    }
}

/// Where a header table goes: (top-level rank, rank under `expect`, where
/// it was).
type PosKey = (usize, usize, isize);

fn pos_key(path: &[String], original: isize) -> PosKey {
    let top = path.first().map_or(0, |p| rank(TOP, p));
    let second = match path {
        [e, sub, ..] if e == "expect" => rank(EXPECT, sub),
        _ => 0,
    };
    (top, second, original)
}

/// Every header table (explicit, implicit or array element, not dotted), in
/// a fixed walk order, with its sort key.
fn collect_positions(t: &Table, path: &mut Vec<String>, out: &mut Vec<PosKey>) {
    for (name, item) in t.iter() {
        path.push(name.to_string());
        match item {
            Item::Table(sub) if !sub.is_dotted() => {
                out.push(pos_key(path, sub.position().unwrap_or(isize::MAX)));
                collect_positions(sub, path, out);
            }
            Item::ArrayOfTables(a) => {
                for sub in a.iter() {
                    out.push(pos_key(path, sub.position().unwrap_or(isize::MAX)));
                    collect_positions(sub, path, out);
                }
            }
            _ => {}
        }
        path.pop();
    }
}

fn assign_positions(t: &mut Table, pos: &[isize], next: &mut usize) {
    for (_, item) in t.iter_mut() {
        match item {
            Item::Table(sub) if !sub.is_dotted() => {
                sub.set_position(Some(pos[*next]));
                *next += 1;
                assign_positions(sub, pos, next);
            }
            Item::ArrayOfTables(a) => {
                for sub in a.iter_mut() {
                    sub.set_position(Some(pos[*next]));
                    *next += 1;
                    assign_positions(sub, pos, next);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_keys_take_their_canonical_order_with_comments() {
        let text = r#"# The suite.
[[scenario]]
# why it fails
expect_failure = true
service = "app"
name = "k"   # the name
run = "sleep 5"
chaos_injection = { delay_ms = 100, type = "kill_container" }

[[expect.span]]
status = "OK"
name = "clnrm.cleanup"

# services
[service.app]
image = "x"
type = "generic_container"

[service.app.env]
A = "1"
B = "two"

[meta]
name = "demo"
"#;
        let out = format(text).unwrap();
        let want = r#"[meta]
name = "demo"

# services
[service.app]
type = "generic_container"
image = "x"
env = { A = "1", B = "two" }

# The suite.
[[scenario]]
name = "k"   # the name
service = "app"
run = "sleep 5"
# why it fails
expect_failure = true
chaos_injection = { type = "kill_container", delay_ms = 100 }

[[expect.span]]
name = "clnrm.cleanup"
status = "OK"
"#;
        assert_eq!(out, want, "\n{out}");
        assert_eq!(format(&out).unwrap(), out, "a fixed point");
    }

    #[test]
    fn a_commented_or_long_sub_table_stays_a_table() {
        let text = "[service.app]\nimage = \"x\"\n\n[service.app.env]\n# keep me\nA = \"1\"\n";
        assert_eq!(format(text).unwrap(), text);
        let long = format!(
            "[service.app]\nimage = \"x\"\n\n[service.app.env]\nA = \"{}\"\n",
            "y".repeat(70)
        );
        assert_eq!(format(&long).unwrap(), long);
    }

    #[test]
    fn not_toml_is_an_error_at_its_line() {
        let e = format("[meta]\nname = \n").unwrap_err();
        assert_eq!(e.line, 2, "{e:?}");
    }
}

/// Every suite file of the repository (tests/, examples/): formatting is a
/// fixed point and changes no suite's meaning.
#[cfg(test)]
mod corpus {
    use super::format;
    use std::path::{Path, PathBuf};

    fn suites(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                if !p.ends_with("target") {
                    suites(&p, out);
                }
            } else if p.to_string_lossy().ends_with(".clnrm.toml") {
                out.push(p);
            }
        }
    }

    /// What a load says of the text: the suite's parts, or the error's message.
    fn meaning(path: &Path, text: &str) -> String {
        match crate::suite::load_str(path, text.to_string()) {
            Ok(s) => format!(
                "{} {:?} {:?} {:?} {:?} {:?}",
                s.name,
                s.meta,
                s.services,
                s.scenarios
                    .iter()
                    .map(|sc| {
                        let inj: Vec<_> = sc
                            .injections
                            .iter()
                            .map(|i| (&i.fault_type, &i.config_json))
                            .collect();
                        (&sc.name, &sc.services, format!("{:?}", sc.steps), inj)
                    })
                    .collect::<Vec<_>>(),
                s.expectations
                    .iter()
                    .map(|e| (&e.table, &e.config_json))
                    .collect::<Vec<_>>(),
                s.vars
            ),
            Err(e) => format!("error: {}", e.message),
        }
    }

    #[test]
    fn fmt_is_a_fixed_point_that_keeps_every_suites_meaning() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        suites(&root.join("tests"), &mut files);
        suites(&root.join("examples"), &mut files);
        suites(&root.join("host/templates"), &mut files);
        assert!(files.len() > 50, "{}", files.len());
        let mut formatted = 0;
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            let Ok(once) = format(&text) else {
                // Not TOML at all (the malformed corpus): nothing to keep.
                assert!(
                    toml::from_str::<toml::Table>(&text).is_err(),
                    "{}",
                    f.display()
                );
                continue;
            };
            formatted += 1;
            let twice = format(&once).unwrap();
            assert_eq!(once, twice, "{}: not a fixed point", f.display());
            let a: Result<toml::Table, _> = toml::from_str(&text);
            let b: Result<toml::Table, _> = toml::from_str(&once);
            assert_eq!(a.ok(), b.ok(), "{}: the data changed", f.display());
            assert_eq!(
                meaning(f, &text),
                meaning(f, &once),
                "{}: the suite's meaning changed",
                f.display()
            );
            // Every comment line is still there.
            let comments = |t: &str| {
                let mut c: Vec<String> = t
                    .lines()
                    .filter(|l| l.trim_start().starts_with('#'))
                    .map(|l| l.trim().to_string())
                    .collect();
                c.sort();
                c
            };
            assert_eq!(comments(&text), comments(&once), "{}", f.display());
        }
        assert!(formatted > 50, "{formatted}");
    }
}
