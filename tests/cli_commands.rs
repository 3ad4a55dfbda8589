//! The everyday commands, each through the real binary: `run --list`,
//! `--scenario`, `validate --format`, `init` (+ `run`, per template), `fmt`,
//! `run --shard I/N` + `report merge`, `run --watch`, and the example in
//! every command's `--help`.

mod support;

use std::path::Path;
use support::*;

const NOWHERE: &str = "unix:///nonexistent/clnrm-cli-commands/docker.sock";

fn timeout_suite() -> std::path::PathBuf {
    workspace().join("tests/chaos/timeout_scenarios.clnrm.toml")
}

#[test]
fn every_new_command_shows_an_example_in_its_help() {
    for args in [
        &["init", "--help"][..],
        &["fmt", "--help"],
        &["validate", "--help"],
        &["report", "merge", "--help"],
    ] {
        let r = run(clnrm().args(args));
        assert_eq!(r.code, 0, "{args:?}");
        assert!(r.stdout.contains("Example"), "{args:?}: {}", r.stdout);
        assert!(r.stdout.contains("  clnrm "), "{args:?}: {}", r.stdout);
    }
    let r = run(clnrm().args(["run", "--help"]));
    for flag in ["--list", "--scenario", "--shard", "--watch", "Example"] {
        assert!(r.stdout.contains(flag), "{flag}: {}", r.stdout);
    }
}

#[test]
fn list_prints_scenarios_and_scenario_selects_them_by_name_or_glob() {
    let r = run(clnrm()
        .args(["run", "--list"])
        .arg(timeout_suite())
        .env("DOCKER_HOST", NOWHERE));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("(chaos_timeout_scenarios): 9 scenario(s)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("\n  hang_forces_timeout  [hang]\n"),
        "{}",
        r.stdout
    );
    let r = run(clnrm()
        .args([
            "run",
            "--list",
            "--scenario",
            "graceful*",
            "--scenario",
            "hang_forces_timeout",
        ])
        .arg(timeout_suite())
        .env("DOCKER_HOST", NOWHERE));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let listed: Vec<&str> = r.stdout.lines().skip(1).map(str::trim).collect();
    assert_eq!(
        listed,
        [
            "graceful_timeout",
            "graceful_then_hard",
            "hang_forces_timeout  [hang]"
        ]
    );
    // A name that matches nothing is bad input, with the nearest name.
    let r = run(clnrm()
        .args(["run", "--scenario", "graceful_timout"])
        .arg(timeout_suite())
        .env("DOCKER_HOST", NOWHERE));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `graceful_timeout`"),
        "{}",
        r.stderr
    );
}

#[test]
fn shards_partition_the_scenarios_whatever_the_file_order() {
    let chaos = workspace().join("tests/chaos");
    let mut files: Vec<_> = std::fs::read_dir(&chaos)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let list = |files: &[std::path::PathBuf], shard: &str| -> Vec<String> {
        let r = run(clnrm()
            .args(["run", "--list", "--shard", shard])
            .args(files)
            .env("DOCKER_HOST", NOWHERE));
        assert_eq!(r.code, 0, "{}", r.stderr);
        let mut suite = String::new();
        let mut out = Vec::new();
        for l in r.stdout.lines() {
            match l.strip_prefix("  ") {
                Some(sc) => out.push(format!("{suite}/{}", sc.split_whitespace().next().unwrap())),
                None => suite = l.split(' ').next().unwrap().to_string(),
            }
        }
        out.sort();
        out
    };
    let all = list(&files, "1/1");
    assert_eq!(all.len(), 37);
    let mut reversed = files.clone();
    reversed.reverse();
    let mut joined = Vec::new();
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let a = list(&files, &shard);
        assert_eq!(
            a,
            list(&reversed, &shard),
            "shard {shard} moved with the file order"
        );
        assert!((12..=13).contains(&a.len()), "{shard}: {a:?}");
        joined.extend(a);
    }
    joined.sort();
    assert_eq!(joined, all);
}

#[test]
fn validate_prints_github_annotations_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let bad = suite(
        dir.path(),
        "bad.clnrm.toml",
        "[service.app]\nimage = \"x\"\n[[scenario]]\nname = \"k\"\nservice = \"app\"\nrun = \"true\"\nexpect_falure = true\n",
    );
    let r = run(clnrm()
        .args(["validate", "--format", "github"])
        .arg(&bad)
        .arg(timeout_suite())
        .env("DOCKER_HOST", NOWHERE));
    assert_eq!(r.code, 2);
    let line = r.stdout.lines().next().unwrap();
    assert!(
        line.starts_with(&format!(
            "::error file={},line=7,col=1::unknown field `expect_falure`",
            bad.display()
        )),
        "{line}"
    );
    assert!(
        line.contains("%0Ahelp: did you mean `expect_failure`?"),
        "{line}"
    );
    // The good file is still checked and reported.
    assert!(
        r.stdout.contains("ok ") && r.stdout.contains("timeout_scenarios"),
        "{}",
        r.stdout
    );
    let r = run(clnrm()
        .args(["validate", "--format", "json"])
        .arg(&bad)
        .arg(timeout_suite())
        .env("DOCKER_HOST", NOWHERE));
    assert_eq!(r.code, 2);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("one JSON object");
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"][0]["line"], 7);
    assert_eq!(v["errors"][0]["col"], 1);
    assert_eq!(v["files"][1]["ok"], true);
    assert_eq!(v["files"][1]["scenarios"], 9);
    let r = run(clnrm()
        .args(["validate", "--format", "json"])
        .arg(timeout_suite())
        .env("DOCKER_HOST", NOWHERE));
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("{\"errors\":[],"), "{}", r.stdout);
}

#[test]
fn fmt_check_lists_rewrites_and_keeps_comments_and_templates() {
    let dir = tempfile::tempdir().unwrap();
    let text = "# my suite\n\n[[scenario]]\nservice = \"app\"\nname = \"k\" # named\nrun = \"true\"\n\n[service.app]\nimage = \"clnrm-base:latest\"\n\n[service.app.env]\nA = \"1\"\n\n[meta]\nname = \"m\"\n";
    let f = suite(dir.path(), "s.clnrm.toml", text);
    let tpl = suite(
        dir.path(),
        "t.clnrm.toml",
        "{% set x = 1 %}\n[meta]\nname = \"t\"\n",
    );
    let r = run(clnrm().args(["fmt", "--check"]).arg(&f).arg(&tpl));
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("would reformat"), "{}", r.stdout);
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        text,
        "--check writes nothing"
    );
    let r = run(clnrm().current_dir(dir.path()).arg("fmt"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = std::fs::read_to_string(&f).unwrap();
    assert_eq!(
        out,
        "# my suite\n\n[meta]\nname = \"m\"\n\n[service.app]\nimage = \"clnrm-base:latest\"\nenv = { A = \"1\" }\n\n[[scenario]]\nname = \"k\" # named\nservice = \"app\"\nrun = \"true\"\n"
    );
    assert!(std::fs::read_to_string(&tpl).unwrap().starts_with("{%"));
    let r = run(clnrm().args(["fmt", "--check"]).arg(&f));
    assert_eq!(r.code, 0, "formatted once is formatted");
    let r = run(clnrm()
        .args(["validate"])
        .arg(&f)
        .env("DOCKER_HOST", NOWHERE));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let broken = suite(dir.path(), "b.clnrm.toml", "[meta]\nname = \n");
    let r = run(clnrm().args(["fmt"]).arg(&broken));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("b.clnrm.toml:2:"), "{}", r.stderr);
}

/// Docker: each template, written by `init` into an empty directory, passes
/// as written; a second `init` overwrites nothing.
#[test]
fn init_then_run_passes_for_every_template() {
    let dir = tempfile::tempdir().unwrap();
    let templates = [
        "container",
        "network",
        "resource",
        "timeout",
        "concurrent",
        "app",
    ];
    for t in templates {
        let r = run(clnrm()
            .args(["init"])
            .arg(dir.path())
            .args(["--template", t]));
        assert_eq!(r.code, 0, "{t}: {}", r.stderr);
    }
    let file = dir.path().join("container.clnrm.toml");
    let before = std::fs::read_to_string(&file).unwrap();
    let r = run(clnrm()
        .args(["init"])
        .arg(dir.path())
        .args(["--name", "other"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("never overwrites"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);
    // `app` writes its service too; an existing file there stops it before it writes anything.
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir(other.path().join("app")).unwrap();
    std::fs::write(other.path().join("app/Dockerfile"), "FROM mine\n").unwrap();
    let r = run(clnrm()
        .args(["init"])
        .arg(other.path())
        .args(["--template", "app"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("app/Dockerfile already exists"),
        "{}",
        r.stderr
    );
    assert!(!other.path().join("app.clnrm.toml").exists());
    assert_eq!(
        std::fs::read_to_string(other.path().join("app/Dockerfile")).unwrap(),
        "FROM mine\n"
    );
    let reports = dir.path().join("reports");
    let r = run(clnrm()
        .arg("run")
        .args(templates.map(|t| dir.path().join(format!("{t}.clnrm.toml"))))
        .arg("--report-dir")
        .arg(&reports));
    assert_eq!(r.code, 0, "every template passes as written");
    for t in templates {
        let rep = read_report(&reports, &format!("{t}_chaos"));
        assert_eq!(rep["passed"], true, "{t}");
        assert!(!rep["expectations"].as_array().unwrap().is_empty(), "{t}");
        if t == "app" {
            // The service's own spans arrived and were checked (not only clnrm's).
            let text = rep.to_string();
            assert!(
                text.contains("GET /cgi-bin/hello"),
                "{t}: no app span in the report"
            );
        }
        assert_no_leftovers(rep["run_id"].as_str().unwrap());
    }
}

fn digest(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{name}.trace.sha256")))
        .unwrap()
        .trim()
        .to_string()
}

/// Docker: the timeout suite in 1..4 shards, each merged, gives the
/// unsharded run's verdicts, digest and exit code.
#[test]
fn shards_merged_give_the_unsharded_digest() {
    const NAME: &str = "chaos_timeout_scenarios";
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let r = run(clnrm()
        .arg("run")
        .arg(timeout_suite())
        .arg("--report-dir")
        .arg(&whole));
    assert_eq!(r.code, 0);
    let want = digest(&whole, NAME);
    let whole_report = read_report(&whole, NAME);
    for n in 1..=4 {
        let mut dirs = Vec::new();
        for i in 1..=n {
            let d = dir.path().join(format!("{n}-{i}"));
            let r = run(clnrm()
                .arg("run")
                .arg(timeout_suite())
                .args(["--shard", &format!("{i}/{n}")])
                .arg("--report-dir")
                .arg(&d));
            assert_eq!(r.code, 0, "shard {i}/{n}");
            let rep = read_report(&d, NAME);
            assert_eq!(rep["shard"], format!("{i}/{n}"));
            if n > 1 {
                assert!(rep["expectations"].as_array().unwrap().is_empty());
            }
            dirs.push(d);
        }
        let out = dir.path().join(format!("merged-{n}"));
        let r = run(clnrm()
            .args(["report", "merge"])
            .args(&dirs)
            .arg("-o")
            .arg(&out));
        assert_eq!(r.code, 0, "{n} shards merged");
        assert_eq!(digest(&out, NAME), want, "{n} shards");
        let merged = read_report(&out, NAME);
        assert!(merged.get("shard").is_none());
        assert_eq!(merged["passed"], true);
        let verdicts = |r: &serde_json::Value, what: &str, key: &str| -> Vec<(String, bool)> {
            r[what]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| {
                    (
                        x[key].as_str().unwrap().to_string(),
                        x["passed"].as_bool().unwrap(),
                    )
                })
                .collect()
        };
        assert_eq!(
            verdicts(&merged, "scenarios", "name"),
            verdicts(&whole_report, "scenarios", "name")
        );
        assert_eq!(
            verdicts(&merged, "expectations", "expectation"),
            verdicts(&whole_report, "expectations", "expectation")
        );
        for f in [
            "report.json",
            "report.html",
            "junit.xml",
            "trace.sha256",
            "cleanup.json",
        ] {
            assert!(out.join(format!("{NAME}.{f}")).is_file(), "{f}");
        }
    }
    // Missing a shard is bad input, never a quiet partial verdict.
    let r = run(clnrm()
        .args(["report", "merge"])
        .arg(dir.path().join("2-1"))
        .arg("-o")
        .arg(dir.path().join("partial")));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("in no shard's report"), "{}", r.stderr);
}

/// Docker: `--watch` runs, re-runs after the suite file changes, and a
/// Ctrl-C in the middle of that re-run cleans up and exits 130.
#[test]
fn watch_reruns_on_change_and_sigint_leaves_nothing() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let text = "[meta]\nname = \"watched\"\n[service.app]\nimage = \"clnrm-base:latest\"\n[[scenario]]\nname = \"s\"\nservice = \"app\"\nrun = \"sleep 3\"\n";
    let f = suite(dir.path(), "w.clnrm.toml", text);
    let reports = dir.path().join("r");
    let _guard = exclusive();
    let mut child = clnrm()
        .args(["run", "--watch"])
        .arg(&f)
        .arg("--report-dir")
        .arg(&reports)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            eprintln!("watch| {l}");
            let _ = tx.send(l);
        }
    });
    let wait_for = |what: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(l) if l.contains(what) => return l,
                Ok(_) => {}
                Err(e) => panic!("no line with `{what}`: {e}"),
            }
        }
    };
    wait_for("PASS watched: 1/1");
    wait_for("── watching 1 path(s)");
    let first = read_report(&reports, "watched")["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_no_leftovers(&first);
    std::fs::write(&f, format!("{text}# edited\n")).unwrap();
    wait_for("re-running");
    // Into the 3 s step of the second run.
    std::thread::sleep(std::time::Duration::from_millis(2000));
    nix_kill(child.id(), "INT");
    wait_for("FAIL watched");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let second = read_report(&reports, "watched");
    let id = second["run_id"].as_str().unwrap();
    assert_ne!(id, first, "the change started a second run");
    assert_eq!(second["interrupted"], true);
    assert_no_leftovers(id);
}

fn nix_kill(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig} {pid}");
}
