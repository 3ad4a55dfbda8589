//! Issue 14, Docker-free: the suites people already have.
//!
//! - Five suites written in the original clnrm chaos files' style
//!   (tests/fixtures/original-style) validate; each with one key misspelled is bad
//!   input (exit 2) at that key's file:line:col.
//! - Every `toml` snippet of the seed README (tests/fixtures/seed) validates unchanged,
//!   inside a minimal suite; every command its bash blocks show works here.
//! - Every key the loader (and each first-party plugin) accepts is in
//!   docs/toml-reference.md: the keys are read from the loader's own "valid keys"
//!   answers to a bogus key, so a key added without documentation fails this test.

mod support;

use std::path::{Path, PathBuf};
use support::*;

fn fixtures() -> PathBuf {
    workspace().join("tests/fixtures/original-style")
}

fn validate(path: &Path) -> Run {
    run(clnrm().arg("validate").arg(path))
}

#[test]
fn five_original_style_suites_validate() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "concurrent_chaos.clnrm.toml",
            "container_failures.clnrm.toml",
            "network_partitions.clnrm.toml",
            "resource_exhaustion.clnrm.toml",
            "timeout_scenarios.clnrm.toml"
        ]
    );
    for f in &files {
        let r = validate(f);
        assert_eq!(r.code, 0, "{}:\n{}{}", f.display(), r.stdout, r.stderr);
    }
}

/// Misspell the first `key =` of each file (one per table kind: the loader's own
/// tables, a multi-line inline table, and plugin-owned `[expect.*]` tables).
#[test]
fn one_misspelled_key_is_exit_2_at_its_position() {
    let cases = [
        ("container_failures.clnrm.toml", "on_failure", "on_failur"),
        (
            "network_partitions.clnrm.toml",
            "network_degradation_detected",
            "network_degradation_detcted",
        ),
        (
            "resource_exhaustion.clnrm.toml",
            "memory_swap_mb",
            "memory_swp_mb",
        ),
        (
            "timeout_scenarios.clnrm.toml",
            "cleanup_after_timeout",
            "cleanup_after_timout",
        ),
        (
            "concurrent_chaos.clnrm.toml",
            "max_concurrent",
            "max_concurent",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (file, key, typo) in cases {
        let text = std::fs::read_to_string(fixtures().join(file)).unwrap();
        let at = text
            .find(&format!("{key} ="))
            .unwrap_or_else(|| panic!("{file} has no `{key} =`"));
        let line = text[..at].matches('\n').count() + 1;
        let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
        let bad = format!("{}{typo}{}", &text[..at], &text[at + key.len()..]);
        let path = suite(dir.path(), file, &bad);
        let r = validate(&path);
        assert_eq!(r.code, 2, "{file}: {}", r.stderr);
        let want = format!("{file}:{line}:{col}");
        assert!(
            r.stderr.contains(&want),
            "{file}: want {want} in\n{}",
            r.stderr
        );
        assert!(
            r.stderr.contains(key),
            "{file}: the valid key `{key}` is suggested:\n{}",
            r.stderr
        );
    }
}

fn seed_readme() -> String {
    std::fs::read_to_string(workspace().join("tests/fixtures/seed/chaos-suite-README.md")).unwrap()
}

/// The fenced blocks of `lang` in `md`.
fn blocks(md: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in md.lines() {
        let t = line.trim();
        match &mut cur {
            None if t == format!("```{lang}") => cur = Some(String::new()),
            Some(b) if t == "```" => {
                out.push(std::mem::take(b));
                cur = None;
            }
            Some(b) => {
                // Blocks inside list items are indented.
                b.push_str(line.strip_prefix("   ").unwrap_or(line));
                b.push('\n');
            }
            None => {}
        }
    }
    out
}

/// A suite around one README snippet, which is kept byte for byte: a service and a
/// scenario before it, and, when the snippet opens a `[[scenario]]` of its own without
/// saying what it runs, the keys that make it runnable after it.
fn around(snippet: &str) -> String {
    let head = "[service.app]\nimage = \"clnrm-base:latest\"\n\n[[scenario]]\nname = \"seed\"\nservice = \"app\"\nrun = \"true\"\n\n";
    let tail = if snippet.contains("[[scenario]]") && !snippet.contains("run =") {
        "service = \"app\"\nrun = \"sleep 1\"\n"
    } else {
        ""
    };
    format!("{head}{snippet}{tail}")
}

#[test]
fn seed_readme_snippets_validate_unchanged() {
    let snippets = blocks(&seed_readme(), "toml");
    assert!(snippets.len() >= 12, "found {} toml blocks", snippets.len());
    // The five suites' critical validations are among them.
    for must in [
        "name = \"clnrm.cleanup\"",
        "name = \"clnrm.network.partition\"",
        "name = \"clnrm.resource.memory_pressure\"",
        "name = \"clnrm.timeout.enforced\"",
        "name = \"clnrm.cleanup.concurrent\"",
    ] {
        assert!(snippets.iter().any(|s| s.contains(must)), "{must}");
    }
    let dir = tempfile::tempdir().unwrap();
    for (i, snippet) in snippets.iter().enumerate() {
        let path = suite(
            dir.path(),
            &format!("seed_{i}.clnrm.toml"),
            &around(snippet),
        );
        let r = validate(&path);
        assert_eq!(r.code, 0, "snippet {i}:\n{snippet}\n{}", r.stderr);
    }
}

/// Suites the README names that do not exist yet (none now: all five are in
/// tests/chaos). Listed, so the test says when one arrives.
const NOT_YET: [&str; 0] = [];

#[test]
fn seed_readme_commands_work_as_written() {
    let commands: Vec<String> = blocks(&seed_readme(), "bash")
        .iter()
        .flat_map(|b| {
            b.lines()
                .map(str::trim)
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .filter(|l| l.starts_with("clnrm ") || l.starts_with("cargo "))
        .collect();
    let mut seen_files = 0;
    for cmd in &commands {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        match words.as_slice() {
            ["clnrm", "run", rest @ ..] => {
                let (files, flags): (Vec<&str>, Vec<&str>) = rest
                    .iter()
                    .partition(|w| !w.starts_with("--") && w.ends_with(".toml"));
                // The flags are `clnrm run`'s.
                if !flags.is_empty() {
                    let help = run(clnrm().args(["run", "--help"]));
                    for f in flags.iter().filter(|f| f.starts_with("--")) {
                        assert!(help.stdout.contains(f), "`{cmd}`: clnrm run has no {f}");
                    }
                    assert_eq!(flags, ["--otel-exporter", "stdout"], "{cmd}");
                    assert!(help.stdout.contains("stdout"), "{}", help.stdout);
                }
                for f in files {
                    let matched: Vec<PathBuf> = if f.contains('*') {
                        glob_in_workspace(f)
                    } else if NOT_YET.contains(&f) {
                        assert!(
                            !workspace().join(f).exists(),
                            "{f} exists now: take it out of NOT_YET"
                        );
                        continue;
                    } else {
                        vec![workspace().join(f)]
                    };
                    assert!(!matched.is_empty(), "`{cmd}`: {f} matches nothing");
                    for p in matched {
                        let r = validate(&p);
                        assert_eq!(r.code, 0, "`{cmd}`: {}:\n{}", p.display(), r.stderr);
                        seen_files += 1;
                    }
                }
            }
            ["cargo", "test", "--test", target, rest @ ..] => {
                let meta = cargo_metadata();
                let pkg = meta["packages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|p| {
                        p["targets"].as_array().unwrap().iter().any(|t| {
                            t["name"] == *target
                                && t["kind"].as_array().unwrap().iter().any(|k| k == "test")
                        })
                    })
                    .unwrap_or_else(|| panic!("`{cmd}`: no package has a test named {target}"));
                if let ["--features", feature] = rest {
                    assert!(
                        pkg["features"].get(*feature).is_some(),
                        "`{cmd}`: package {} has no feature {feature}",
                        pkg["name"]
                    );
                } else {
                    assert!(rest.is_empty(), "`{cmd}`: unexpected arguments");
                }
            }
            _ => panic!("a README command this test does not know how to check: `{cmd}`"),
        }
    }
    assert_eq!(
        commands.len(),
        10,
        "the README's clnrm and cargo commands: {commands:#?}"
    );
    assert!(seen_files >= 8, "{seen_files} suite files validated");
}

fn glob_in_workspace(pattern: &str) -> Vec<PathBuf> {
    let (dir, file) = pattern.rsplit_once('/').unwrap();
    let (pre, post) = file.split_once('*').unwrap();
    let mut out: Vec<PathBuf> = std::fs::read_dir(workspace().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with(pre) && n.ends_with(post)
        })
        .collect();
    out.sort();
    out
}

fn cargo_metadata() -> serde_json::Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(workspace().join("Cargo.toml"))
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The keys `validate` lists as valid after a bogus key in `text` (its help, or a
/// plugin's `(valid: ...)`), with miette's line wrapping undone.
fn valid_keys(dir: &Path, text: &str) -> Vec<String> {
    let path = suite(dir, "keys.clnrm.toml", text);
    let r = validate(&path);
    assert_eq!(r.code, 2, "{text}\n{}", r.stderr);
    let flat = r.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    let list = flat
        .split_once("valid keys here: ")
        .map(|(_, l)| l.to_string())
        .or_else(|| {
            flat.split_once("(valid: ")
                .map(|(_, l)| l.split(')').next().unwrap_or("").to_string())
        })
        .unwrap_or_else(|| panic!("no list of valid keys for\n{text}\n{}", r.stderr));
    list.split(", ")
        .map(|k| k.trim().trim_end_matches(['.', ')']).to_string())
        .filter(|k| !k.is_empty())
        .collect()
}

#[test]
fn every_accepted_key_is_in_the_toml_reference() {
    let doc = std::fs::read_to_string(workspace().join("docs/toml-reference.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let svc = "[service.app]\nimage = \"clnrm-base:latest\"\n";
    let sc = "[[scenario]]\nname = \"k\"\nservice = \"app\"\n";
    let mut tables: Vec<(String, String)> = vec![
        ("top level".into(), "zzbogus = 1\n".into()),
        ("[meta]".into(), "[meta]\nzzbogus = 1\n".into()),
        ("[determinism]".into(), "[determinism]\nzzbogus = 1\n".into()),
        ("[otel]".into(), "[otel]\nzzbogus = 1\n".into()),
        ("[limits]".into(), "[limits]\nzzbogus = 1\n".into()),
        ("[report]".into(), "[report]\nzzbogus = 1\n".into()),
        ("[cleanup]".into(), "[cleanup]\nzzbogus = 1\n".into()),
        ("[service.x]".into(), format!("{svc}zzbogus = 1\n")),
        ("service limits".into(), format!("{svc}limits = {{ zzbogus = 1 }}\n")),
        ("[[scenario]]".into(), format!("{svc}{sc}run = \"true\"\nzzbogus = 1\n")),
        ("artifacts".into(), format!("{svc}{sc}run = \"true\"\nartifacts = {{ zzbogus = 1 }}\n")),
        ("steps entry".into(), format!("{svc}{sc}steps = [{{ run = \"true\", zzbogus = 1 }}]\n")),
        ("run entry".into(), format!("{svc}[[scenario]]\nname = \"k\"\nrun = [{{ service = \"app\", command = \"true\", zzbogus = 1 }}]\n")),
    ];
    for table in [
        "span",
        "graph",
        "counts",
        "window",
        "order",
        "status",
        "hermeticity",
        "isolation",
        "chaos",
        "resources",
        "concurrent",
        "timeouts",
    ] {
        let body = if table == "span" {
            "[[expect.span]]\nname = \"x\"\nzzbogus = 1\n".to_string()
        } else {
            format!("[expect.{table}]\nzzbogus = 1\n")
        };
        tables.push((
            format!("[expect.{table}]"),
            format!("{svc}{sc}run = \"true\"\n{body}"),
        ));
    }
    for fault in [
        "kill_container",
        "stop_container",
        "pause_container",
        "network_disconnect",
        "network_latency",
        "packet_loss",
        "network_partition",
        "connection_refused",
        "connection_timeout",
        "bandwidth_limit",
        "memory_pressure",
        "cpu_throttle",
        "disk_fill",
        "fd_exhaustion",
    ] {
        tables.push((
            format!("chaos_injection `{fault}`"),
            format!("{svc}{sc}run = \"true\"\nchaos_injection = {{ type = \"{fault}\", zzbogus = 1 }}\n"),
        ));
    }
    let mut missing = Vec::new();
    let mut checked = 0;
    for (what, text) in &tables {
        let keys = valid_keys(dir.path(), text);
        assert!(!keys.is_empty(), "{what}");
        for k in keys {
            checked += 1;
            let named = [
                format!("`{k}`"),
                format!("`{k} "),
                format!("`{k}."),
                format!("[{k}]"),
                format!("[{k}."),
                format!("[[{k}]]"),
                format!(".{k}`"),
                format!(".{k} "),
            ];
            if !named.iter().any(|n| doc.contains(n.as_str())) {
                missing.push(format!("{what}: `{k}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys the loader accepts that docs/toml-reference.md does not name:\n{}",
        missing.join("\n")
    );
    assert!(checked > 150, "only {checked} keys");
}
