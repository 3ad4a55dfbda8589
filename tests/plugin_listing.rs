//! Issue 22, unmet item 4: `clnrm plugins` on a fresh checkout lists only the first-party
//! plugins (the test fixtures live in target/test-plugins, where the host does not look), and
//! every fault type it lists is one a suite may use. Docker-free: `clnrm validate` only runs
//! the plugins' `check`.

mod support;
use support::*;

/// `clnrm plugins` as a user runs it: the plugin dir found next to the binary, not
/// `$CLNRM_PLUGIN_DIR`.
fn listing() -> String {
    plugin_dir(); // built by `cargo xtask setup`, or say so
    let r = run(clnrm().env_remove("CLNRM_PLUGIN_DIR").arg("plugins"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
}

/// (plugin, fault type) for every chaos plugin row of the listing.
fn chaos_types(listing: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in listing.lines().skip(1) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.get(3) == Some(&"chaos") {
            for t in cols[4].split(',') {
                out.push((cols[0].to_string(), t.to_string()));
            }
        }
    }
    out
}

fn validate(dir: &std::path::Path, fault_type: &str) -> Run {
    validate_in(
        dir,
        fault_type,
        &format!("{{ type = \"{fault_type}\" }}"),
        None,
    )
}

/// `clnrm validate` of a one-scenario suite `DIR/<name>.clnrm.toml` with this
/// `chaos_injection`; `cache`: a plugin cache of its own.
fn validate_in(
    dir: &std::path::Path,
    name: &str,
    injection: &str,
    cache: Option<&std::path::Path>,
) -> Run {
    let text = format!(
        "[meta]\nname = \"listing\"\n[service.app]\nimage = \"clnrm-base:latest\"\n\
         [[scenario]]\nname = \"s\"\nservice = \"app\"\nrun = \"true\"\n\
         chaos_injection = {injection}\n"
    );
    let p = suite(dir, &format!("{name}.clnrm.toml"), &text);
    let mut c = clnrm();
    c.env_remove("CLNRM_PLUGIN_DIR");
    if let Some(cache) = cache {
        c.env("CLNRM_CACHE_DIR", cache);
    }
    run(c.arg("validate").arg(&p))
}

#[test]
fn fixtures_and_refused_types_are_not_listed() {
    let out = listing();
    for absent in [
        "looper",
        "kill-variant",
        "wit02",
        "wit032",
        "clock_skew",
        "test-plugins",
    ] {
        assert!(!out.contains(absent), "`{absent}` listed:\n{out}");
    }
    let names: Vec<&str> = out
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let containers = names.iter().filter(|n| **n == "chaos-container").count();
    assert_eq!(containers, 1, "one chaos-container: {names:?}");
    let types = chaos_types(&out);
    for t in [
        "kill_container",
        "hang",
        "slow_start",
        "dns_failure",
        "cascade_failure",
    ] {
        assert!(types.iter().any(|(_, x)| x == t), "{t} not listed:\n{out}");
    }
}

#[test]
fn every_listed_fault_type_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let types = chaos_types(&listing());
    assert!(types.len() >= 20, "{types:?}");
    for (plugin, t) in &types {
        let r = validate(dir.path(), t);
        // Accepted: valid as it is, or its plugin's `check` ran and asks for a key it needs.
        let asks_for_key = r.code == 2
            && r.stderr.contains(&format!("invalid chaos_injection `{t}`"))
            && r.stderr.contains("needs the key");
        assert!(
            r.code == 0 || asks_for_key,
            "{plugin} lists `{t}` but refuses it (exit {}):\n{}",
            r.code,
            r.stderr
        );
        assert!(!r.stderr.contains("cannot be done"), "{t}: {}", r.stderr);
    }
}

#[test]
fn a_refused_type_says_why_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let r = validate(dir.path(), "clock_skew");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("clock_skew.clnrm.toml:9:28"),
        "at its value: {}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("clock_skew cannot be done for real on this host"),
        "{}",
        r.stderr
    );
    // Not offered as a guess for a near miss either.
    let r = validate(dir.path(), "clock_skw");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.stderr.contains("clock_skew"), "{}", r.stderr);
}

/// The cache's hints (what each unchanged chaos plugin handled when last loaded) let a
/// suite skip plugins that handle none of its types; they never narrow what it sees. With
/// every hint warm, a misspelt type still lists every known type (a second pass loads the
/// skipped plugins), and a composing fault still finds the types of plugins it would skip.
#[test]
fn warm_hints_never_narrow_what_a_suite_sees() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let validate =
        |name: &str, injection: &str| validate_in(dir.path(), name, injection, Some(cache.path()));
    let typo = r#"{ type = "kill_contaner" }"#;
    let cold = validate("cold", typo);
    assert_eq!(cold.code, 2, "{}", cold.stderr);
    let hints = std::fs::read_dir(cache.path().join("plugins"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("handles-")
        })
        .count();
    assert_eq!(hints, 5, "one hint per first-party chaos plugin");
    // Warm: every hint says its plugin handles no `kill_contaner`.
    let warm = validate("warm", typo);
    assert_eq!(warm.code, 2, "{}", warm.stderr);
    for known in [
        "kill_container",
        "network_partition",
        "memory_pressure",
        "hang",
        "chaos_monkey",
    ] {
        assert!(
            warm.stderr.contains(known),
            "{known} listed: {}",
            warm.stderr
        );
    }
    assert!(
        warm.stderr.contains("did you mean `kill_container`?"),
        "{}",
        warm.stderr
    );
    // A composing fault: chaos-concurrent composes types whose plugins the hints skip.
    let composed = validate(
        "composed",
        r#"{ type = "concurrent_faults", faults = [{ type = "kill_container", target = "app" }, { type = "cpu_throttle", target = "app", duration_ms = 100 }] }"#,
    );
    assert_eq!(composed.code, 0, "{}", composed.stderr);
}
