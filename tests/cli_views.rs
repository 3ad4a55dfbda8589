//! Docker-free: `clnrm render` (every template of the original clnrm
//! renders; errors at the template line and the rendered line), `clnrm
//! spans`, `clnrm graph` and `clnrm diff` on a stored report and recording
//! (tests/fixtures/reports: one run of tests/chaos/container_failures), and
//! `clnrm migrate` over the original clnrm's corpus.

mod support;

use std::path::{Path, PathBuf};
use support::*;

fn fixtures() -> PathBuf {
    workspace().join("tests/fixtures")
}

fn report() -> PathBuf {
    fixtures().join("reports/chaos_container_failures.report.json")
}

fn no_docker(c: &mut std::process::Command) -> &mut std::process::Command {
    c.env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
}

fn clnrm_run(args: &[&std::ffi::OsStr]) -> Run {
    run(no_docker(clnrm().args(args)))
}

fn os<S: AsRef<std::ffi::OsStr> + ?Sized>(s: &S) -> &std::ffi::OsStr {
    s.as_ref()
}

fn files_ending(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_ending(&p, suffix, out);
        } else if p.to_string_lossy().ends_with(suffix) {
            out.push(p);
        }
    }
    out.sort();
}

#[test]
fn every_upstream_template_renders() {
    let mut templates = Vec::new();
    files_ending(&fixtures().join("upstream-clnrm"), ".tera", &mut templates);
    templates.retain(|p| !p.ends_with("_macros.toml.tera"));
    assert_eq!(templates.len(), 8, "{templates:?}");
    for t in &templates {
        let r = run(no_docker(
            clnrm()
                .arg("render")
                .arg(t)
                // template-example.clnrm.toml.tera uses these without defaults.
                .args(["--var", "port=8080", "--var", "version=1.0.0"])
                .env("USER", "tester")
                .env("HOME", "/home/tester")
                .env_remove("SERVICE_NAME"),
        ));
        assert_eq!(r.code, 0, "{}: {}", t.display(), r.stderr);
        assert!(!r.stdout.contains("{%"), "{}: {}", t.display(), r.stdout);
        assert!(!r.stdout.contains("m::"), "{}: {}", t.display(), r.stdout);
    }
    // The no-prefix variables: a value, then the environment, then the default.
    let t = fixtures().join("upstream-clnrm/validation_tests/test_no_prefix.toml.tera");
    let r = run(no_docker(
        clnrm()
            .arg("render")
            .arg(&t)
            .env("ENV", "staging")
            .env_remove("SERVICE_NAME"),
    ));
    assert!(r.stdout.contains("name=\"clnrm_test\""), "{}", r.stdout);
    assert!(r.stdout.contains("env=\"staging\""), "{}", r.stdout);
    let r = run(no_docker(
        clnrm()
            .arg("render")
            .arg(&t)
            .args(["--var", "svc=shop"])
            .env("SERVICE_NAME", "nope"),
    ));
    assert!(r.stdout.contains("name=\"shop_test\""), "{}", r.stdout);
    // Without its values, the template that needs them says which, where.
    let t = fixtures().join(
        "upstream-clnrm/tests/mdbook-examples/template-mastery/template-example.clnrm.toml.tera",
    );
    let r = clnrm_run(&[os("render"), t.as_os_str()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("template-example.clnrm.toml.tera:17:13"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("port"), "{}", r.stderr);
}

const TEMPLATE: &str = r#"{% import "_macros.toml.tera" as m %}
[meta]
name = "{{ svc }}-templated"

{{ m::service("app", "clnrm-base:latest") }}

{% for n in [1, 2] %}
[[scenario]]
name = "s{{ n }}"
service = "app"
run = "echo {{ n }}"
{% endfor %}
[[expect.span]]
name = "clnrm.step:s1"
"#;

#[test]
fn a_template_validates_and_its_errors_point_at_both_lines() {
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "t.clnrm.toml.tera", TEMPLATE);
    let r = clnrm_run(&[os("validate"), p.as_os_str()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("(2 scenarios, 1 expectations)"),
        "{}",
        r.stdout
    );
    // A TOML error on a line the loop wrote: the template line and the rendered one.
    let p = suite(
        dir.path(),
        "bad.clnrm.toml.tera",
        &TEMPLATE.replace("service = \"app\"\nrun", "service = \"ap\"\nrun"),
    );
    let r = clnrm_run(&[os("validate"), p.as_os_str()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("bad.clnrm.toml.tera:10:"), "{}", r.stderr);
    assert!(
        r.stderr.contains("bad.clnrm.toml.tera (rendered):"),
        "{}",
        r.stderr
    );
    // An error the plugins find later (an unknown fault type) points there too.
    let p = suite(
        dir.path(),
        "late.clnrm.toml.tera",
        &TEMPLATE.replace(
            "run = \"echo {{ n }}\"\n",
            "run = \"echo {{ n }}\"\nchaos_injection = { type = \"kill_containr\" }\n",
        ),
    );
    let r = clnrm_run(&[os("validate"), p.as_os_str()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("late.clnrm.toml.tera:12:"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("late.clnrm.toml.tera (rendered):"),
        "{}",
        r.stderr
    );
    // A template syntax error.
    let p = suite(
        dir.path(),
        "syn.clnrm.toml.tera",
        &TEMPLATE.replace("{% endfor %}", "{% endfr %}"),
    );
    let r = clnrm_run(&[os("validate"), p.as_os_str()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("syn.clnrm.toml.tera:12:"), "{}", r.stderr);
    // `clnrm render` prints what validate loaded.
    let p = suite(dir.path(), "t2.clnrm.toml.tera", TEMPLATE);
    let r = run(no_docker(
        clnrm().arg("render").arg(&p).env("SERVICE_NAME", "shop"),
    ));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("name = \"shop-templated\""),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("run = \"echo 2\""), "{}", r.stdout);
}

#[test]
fn spans_lists_and_draws_the_trace_with_faults_marked() {
    let rep = report();
    let r = clnrm_run(&[os("spans"), rep.as_os_str()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("59 spans (8 ERROR), 7 observed fault(s), digest 7e908f13b06c"),
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stdout.matches("⚡ kill_container").count(),
        4,
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("⚡ network_disconnect"), "{}", r.stdout);
    let r = clnrm_run(&[
        os("spans"),
        rep.as_os_str(),
        os("--grep"),
        os("^clnrm.step:"),
        os("--tree"),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("└─ clnrm.step:container_killed_mid_step"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("clnrm.run"),
        "ancestors kept: {}",
        r.stdout
    );
    assert!(!r.stdout.contains("clnrm.cleanup"), "{}", r.stdout);
    let rec = fixtures().join("reports/chaos_container_failures.recording.json");
    let r = clnrm_run(&[
        os("spans"),
        rec.as_os_str(),
        os("--grep"),
        os("chaos"),
        os("--attrs"),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("chaos.type = \"kill_container\""),
        "{}",
        r.stdout
    );
    let r = clnrm_run(&[os("spans"), rep.as_os_str(), os("--grep"), os("(")]);
    assert_eq!(r.code, 2);
}

#[test]
fn graph_in_three_formats() {
    let rep = report();
    let r = clnrm_run(&[os("graph"), rep.as_os_str()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("├─ clnrm.scenario \"oom_killed\" [OK]"),
        "{}",
        r.stdout
    );
    let r = clnrm_run(&[os("graph"), rep.as_os_str(), os("--format"), os("dot")]);
    assert!(r.stdout.starts_with("digraph trace {") && r.stdout.trim_end().ends_with('}'));
    assert_eq!(
        r.stdout.matches("penwidth=2").count(),
        7,
        "7 faults: {}",
        r.stdout
    );
    assert_eq!(r.stdout.matches(" -> ").count(), 58, "{}", r.stdout);
    let r = clnrm_run(&[os("graph"), rep.as_os_str(), os("--format"), os("mermaid")]);
    assert!(r.stdout.starts_with("graph TD"), "{}", r.stdout);
    assert!(r.stdout.contains("class s"), "{}", r.stdout);
    assert_eq!(r.stdout.matches(" --> ").count(), 58);
    let bad = fixtures().join("upstream-clnrm/README.md");
    let r = clnrm_run(&[os("graph"), bad.as_os_str()]);
    assert_eq!(r.code, 2);
}

#[test]
fn diff_names_the_first_difference_and_exits_by_digest() {
    let rep = report();
    let rec = fixtures().join("reports/chaos_container_failures.recording.json");
    // A report and the recording of the same run: the same digest.
    let r = clnrm_run(&[os("diff"), rep.as_os_str(), rec.as_os_str()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("digests match"), "{}", r.stdout);
    // Another run: one exit code changed, one status, one span gone.
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&rep).unwrap()).unwrap();
    v["digest"] = "0".repeat(64).into();
    for s in v["spans"].as_array_mut().unwrap() {
        if s["name"] == "clnrm.step:nonzero_exit_code" {
            for kv in s["attrs"].as_array_mut().unwrap() {
                if kv[0] == "exit.code" {
                    kv[1] = 43.into();
                }
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b.report.json");
    std::fs::write(&b, v.to_string()).unwrap();
    let r = clnrm_run(&[os("diff"), rep.as_os_str(), b.as_os_str()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("first difference: scenario `nonzero_exit_code`, span `clnrm.step:nonzero_exit_code`, attribute `exit.code`: 42 (A) vs 43 (B)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("summary: that is the only difference"),
        "{}",
        r.stdout
    );
    let gone = v["spans"]
        .as_array()
        .unwrap()
        .iter()
        .position(|s| s["name"] == "clnrm.cleanup.verification")
        .unwrap();
    v["spans"].as_array_mut().unwrap().remove(gone);
    std::fs::write(&b, v.to_string()).unwrap();
    let r = clnrm_run(&[os("diff"), rep.as_os_str(), b.as_os_str()]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("span `clnrm.cleanup.verification`, only in A"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("summary: 2 difference(s) in 2 scenario(s)"),
        "{}",
        r.stdout
    );
    let r = clnrm_run(&[os("diff"), rep.as_os_str(), os("/nonexistent.json")]);
    assert_eq!(r.code, 2);
}

#[test]
fn every_new_command_shows_an_example_in_its_help() {
    for cmd in ["render", "spans", "graph", "diff", "migrate"] {
        let r = clnrm_run(&[os(cmd), os("--help")]);
        assert_eq!(r.code, 0, "{cmd}");
        assert!(
            r.stdout.contains(&format!("clnrm {cmd} ")),
            "{cmd}: {}",
            r.stdout
        );
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// The original clnrm's corpus: 4 of its 86 `.toml` suites validate as they
/// are, 46 after `clnrm migrate` (docs/migrate.md says why the other 40
/// cannot).
#[test]
fn migrate_the_upstream_corpus() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join("upstream-clnrm"), dir.path());
    let mut suites = Vec::new();
    files_ending(dir.path(), ".toml", &mut suites);
    assert_eq!(suites.len(), 86);
    let validates = |p: &Path| clnrm_run(&[os("validate"), p.as_os_str()]).code == 0;
    let before = suites.iter().filter(|p| validates(p)).count();
    assert_eq!(before, 4);
    let mut args: Vec<&std::ffi::OsStr> = vec![os("migrate")];
    args.extend(suites.iter().map(|p| p.as_os_str()));
    let r = clnrm_run(&args);
    // Seven files are not TOML and seven are templates: exit 2, the rest migrated.
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.matches("not TOML").count(), 7, "{}", r.stderr);
    assert_eq!(r.stderr.matches("a template").count(), 7, "{}", r.stderr);
    assert_eq!(
        r.stdout.matches("\nmigrated ").count() + usize::from(r.stdout.starts_with("migrated ")),
        68,
        "{}",
        r.stdout
    );
    assert_eq!(r.stdout.matches("unchanged ").count(), 4, "{}", r.stdout);
    let after = suites.iter().filter(|p| validates(p)).count();
    assert_eq!(after, 46);
    // Comments stay, what is not carried is listed and kept as a comment.
    let text = std::fs::read_to_string(
        dir.path()
            .join("tests/surrealdb/basic-connection.clnrm.toml"),
    )
    .unwrap();
    assert!(
        text.starts_with("# SurrealDB Basic Connection Test\n"),
        "{text}"
    );
    assert!(
        text.contains("# Step 1: Verify SurrealDB version"),
        "{text}"
    );
    assert!(
        text.contains("[meta]\nname = \"surrealdb_basic_connection\""),
        "{text}"
    );
    assert!(
        text.contains("#   service_should_start = \"surrealdb\""),
        "{text}"
    );
    assert!(
        r.stdout.contains(
            "not carried: services.surrealdb.type: service plugin `surrealdb` does not exist here"
        ),
        "{}",
        r.stdout
    );
    // Once migrated, a second pass changes nothing.
    let mut again: Vec<&std::ffi::OsStr> = vec![os("migrate")];
    let migrated: Vec<&PathBuf> = suites.iter().filter(|p| validates(p)).collect();
    again.extend(migrated.iter().map(|p| p.as_os_str()));
    let r = clnrm_run(&again);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !r.stdout.contains("\nmigrated ") && !r.stdout.starts_with("migrated "),
        "{}",
        r.stdout
    );
}

/// `clnrm spans REPORT | head -1`: the reader is gone before clnrm writes.
/// No panic message, and the exit a tool killed by SIGPIPE has (141).
#[test]
fn a_closed_stdout_ends_quietly() {
    for args in [vec![os("spans"), report().as_os_str()], vec![os("plugins")]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = no_docker(clnrm().args(&args))
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
