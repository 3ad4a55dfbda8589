//! No circle of imports in `runtime/` and `engine/`: the `crate::`, `super::`
//! and `self::` paths of their source (`use` trees and inline paths alike,
//! test code left out) make a graph of their modules, one node per direct
//! child of `runtime` or `engine` (a folder module with its files is one
//! node: a submodule using its parent is how Rust splits a module), and the
//! graph must have no cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module -> the modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The folders whose modules must not import each other in a circle.
const ROOTS: [&str; 2] = ["runtime", "engine"];

/// The module path of a source file under `src/` (`runtime/registry/load.rs`
/// -> `runtime::registry::load`, `engine/mod.rs` -> `engine`).
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let file = parts.pop().unwrap_or_default();
    let stem = file.trim_end_matches(".rs");
    if stem != "mod" {
        parts.push(stem.to_string());
    }
    parts
}

/// The node a module belongs to: `root::child`, or `root` itself.
fn node_of(path: &[String]) -> Option<String> {
    if !ROOTS.contains(&path.first()?.as_str()) {
        return None;
    }
    Some(path.iter().take(2).cloned().collect::<Vec<_>>().join("::"))
}

/// The source without comments, string literals and test code (from a
/// `#[cfg(test)]` that opens a `mod`).
fn code(src: &str) -> String {
    let mut out = String::new();
    let mut lines = src.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if t == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|n| n.trim_start().starts_with("mod ") || n.contains("#[path"))
        {
            break;
        }
        let line = line.split("//").next().unwrap_or("");
        // String contents are never paths.
        let mut in_str = false;
        for c in line.chars() {
            if c == '"' {
                in_str = !in_str;
            } else if !in_str {
                out.push(c);
            }
        }
        out.push('\n');
    }
    out
}

/// Every path a `use` tree names (`a::{b, c::{d, e}}` -> a::b, a::c::d,
/// a::c::e); a renamed one as `path@alias`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.replace(" as ", "@");
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        return vec![tree.trim_end_matches("::").to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.len().saturating_sub(1)];
    // Split the group's items at top-level commas.
    let (mut depth, mut start, mut out) = (0, 0, Vec::new());
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.extend(
                    expand(&inner[start..i])
                        .into_iter()
                        .map(|p| prefix.to_string() + &p),
                );
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < inner.len() {
        out.extend(
            expand(&inner[start..])
                .into_iter()
                .map(|p| prefix.to_string() + &p),
        );
    }
    out
}

/// The `crate::`/`super::`/`self::` paths a file names.
fn paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    // `use` statements first (their groups), cut out of the text.
    let mut plain = String::new();
    while let Some(i) = rest.find("use ") {
        let before_ok = i == 0
            || !rest[..i]
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
        plain.push_str(&rest[..i]);
        if !before_ok {
            plain.push_str("use ");
            rest = &rest[i + 4..];
            continue;
        }
        let end = rest[i..].find(';').map_or(rest.len(), |e| i + e);
        out.extend(
            expand(&rest[i + 4..end])
                .into_iter()
                .map(|p| p.split('@').next().unwrap_or_default().to_string()),
        );
        rest = &rest[end..];
    }
    plain.push_str(rest);
    // Then inline paths.
    let bytes = plain.as_bytes();
    for kw in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(i) = plain[from..].find(kw).map(|i| i + from) {
            from = i + kw.len();
            if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || b"_:".contains(&bytes[i - 1])) {
                continue;
            }
            let end = plain[i..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(plain.len(), |e| i + e);
            out.push(plain[i..end].trim_end_matches(':').to_string());
        }
    }
    out
}

/// `path` as named in module `module`, made absolute (`super::x` in
/// `runtime::a` -> `runtime::x`).
fn absolute(module: &[String], path: &str) -> Vec<String> {
    let mut segs = path.split("::").filter(|s| !s.is_empty());
    let mut base: Vec<String> = match segs.next() {
        Some("crate") => Vec::new(),
        Some("self") => module.to_vec(),
        Some("super") => module[..module.len().saturating_sub(1)].to_vec(),
        Some(first) => {
            // Relative to the module itself (e.g. a child module).
            let mut b = module.to_vec();
            b.push(first.to_string());
            b
        }
        None => return Vec::new(),
    };
    for s in segs {
        match s {
            "super" => {
                base.pop();
            }
            "self" | "*" => {}
            s => base.push(s.to_string()),
        }
    }
    base
}

/// What a root's `mod.rs` re-exports from its children: (root, name) -> the
/// module path it comes from, so `crate::runtime::FaultKind` is an edge to
/// `runtime::scenario`, not to the facade.
fn reexports(src: &Path) -> BTreeMap<(String, String), Vec<String>> {
    let mut out = BTreeMap::new();
    for root in ROOTS {
        let text = std::fs::read_to_string(src.join(root).join("mod.rs")).unwrap_or_default();
        let code = code(&text);
        for stmt in code.split(';') {
            let Some(tree) = stmt.trim().strip_prefix("pub use ") else {
                continue;
            };
            for p in expand(tree) {
                let (path, alias) = p.split_once('@').unwrap_or((&p, ""));
                let name = if alias.is_empty() {
                    path.rsplit("::").next().unwrap_or(path)
                } else {
                    alias
                };
                let target = absolute(&[root.to_string()], path);
                out.insert((root.to_string(), name.to_string()), target);
            }
        }
    }
    out
}

/// The graph of `runtime/` and `engine/` under `src`.
fn graph_of(src: &Path) -> Graph {
    let reexported = reexports(src);
    let mut g = Graph::new();
    for root in ROOTS {
        for file in rust_files(&src.join(root)) {
            let rel = file.strip_prefix(src).unwrap_or(&file);
            if rel.iter().any(|p| p == "tests") || rel.to_string_lossy().ends_with("tests.rs") {
                continue;
            }
            let module = module_of(rel);
            let Some(from) = node_of(&module) else {
                continue;
            };
            // A root's `mod.rs` is a facade: its re-exports are resolved
            // where they are used.
            let facade = module.len() == 1;
            let edges = g.entry(from.clone()).or_default();
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            for p in paths(&code(&text)) {
                // A plain `use x::y` names an external crate: only crate-relative
                // paths and those starting with super/self count.
                if !(p.starts_with("crate::")
                    || p.starts_with("super::")
                    || p.starts_with("self::"))
                {
                    continue;
                }
                let mut target = absolute(&module, &p);
                if target.len() >= 2 {
                    let key = (target[0].clone(), target[1].clone());
                    if let Some(t) = reexported.get(&key) {
                        target = t.clone();
                    }
                }
                if facade && target.first() == module.first() {
                    continue;
                }
                if let Some(to) = node_of(&target).filter(|to| *to != from) {
                    edges.insert(to);
                }
            }
        }
    }
    // Only nodes that exist: `runtime::Injection` (an item re-exported by
    // `runtime/mod.rs`) is the `runtime` node.
    let nodes: BTreeSet<String> = g.keys().cloned().collect();
    for edges in g.values_mut() {
        *edges = edges
            .iter()
            .map(|to| {
                if nodes.contains(to) {
                    to.clone()
                } else {
                    to.split("::").next().unwrap_or(to).to_string()
                }
            })
            .collect();
    }
    for (from, edges) in g.iter_mut() {
        edges.remove(from);
    }
    g
}

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// A cycle of `g`, as the nodes along it (first repeated at the end).
fn cycle(g: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        g: &Graph,
        n: &str,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(n) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let at = stack.iter().position(|s| s == n).unwrap_or(0);
                let mut c = stack[at..].to_vec();
                c.push(n.to_string());
                return Some(c);
            }
            None => {}
        }
        marks.insert(n.to_string(), Mark::Open);
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(g, m, marks, stack) {
                return Some(c);
            }
        }
        stack.pop();
        marks.insert(n.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    g.keys()
        .find_map(|n| visit(g, n, &mut marks, &mut Vec::new()))
}

#[test]
fn runtime_and_engine_import_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let g = graph_of(&src);
    // The graph is really read: the engine names the runtime.
    assert!(
        g["engine::scenario"].contains("runtime::scenario"),
        "{g:#?}"
    );
    assert!(g.len() > 10, "{g:#?}");
    if let Some(c) = cycle(&g) {
        panic!("import circle: {}\n{g:#?}", c.join(" -> "));
    }
}

#[test]
fn the_checker_finds_a_planted_cycle() {
    let g = |edges: &[(&str, &str)]| {
        let mut g = Graph::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    let dag = g(&[("a", "b"), ("b", "c"), ("a", "c"), ("d", "a")]);
    assert_eq!(cycle(&dag), None);
    let planted = g(&[("a", "b"), ("b", "c"), ("c", "d"), ("d", "b")]);
    assert_eq!(cycle(&planted).unwrap(), ["b", "c", "d", "b"]);
}

#[test]
fn paths_are_read_from_use_trees_and_inline_code() {
    let text = "use super::{call::ChaosCall, journal::{Divergence, Journal}};\n\
                use std::sync::Arc;\n\
                pub compose: Option<Arc<super::compose::Composer>>, // super::not_this\n\
                let s = \"crate::not_this\";\n\
                #[cfg(test)]\nmod tests { use crate::engine::x; }\n";
    let p = paths(&code(text));
    assert_eq!(
        p,
        [
            "super::call::ChaosCall",
            "super::journal::Divergence",
            "super::journal::Journal",
            "std::sync::Arc",
            "super::compose::Composer",
        ]
    );
    let m = module_of(Path::new("runtime/registry/load.rs"));
    assert_eq!(
        absolute(&m, "super::super::scenario::X"),
        ["runtime", "scenario", "X"]
    );
    assert_eq!(
        node_of(&absolute(&m, "super::Registry")).unwrap(),
        "runtime::registry"
    );
}
