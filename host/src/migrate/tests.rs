use super::*;

const OLD: &str = r#"# A suite in the original's dialect.
[test.metadata]
name = "old"
description = "d"
timeout = "90s"
hermetic = true

# The app.
[services.app]
type = "generic_container"
image = "alpine:latest"
environment = { MODE = "x" }
ports = [8080]

# First step.
[[steps]]
name = "hello"
command = ["echo", "hello"]
expected_output_regex = "hel+o"
timeout = "10s"

# Second step.
[[steps]]
name = "bye"
command = "echo bye"

[otel_validation]
enabled = true
expected_spans = [{ name = "clnrm.run", attributes = { result = "pass" } }]
span_count_constraints = [{ span_name = "clnrm.step:hello", exact_count = 1, reason = "one" }]

[assertions]
all_steps_should_pass = true
"#;

#[test]
fn the_old_dialect_becomes_this_one_with_comments_kept() {
    let m = migrate(OLD).ok().unwrap();
    let t = &m.text;
    assert!(m.changed);
    for kept in [
        "# A suite in the original's dialect.",
        "# The app.",
        "# First step.",
        "# Second step.",
    ] {
        assert!(t.contains(kept), "{kept}:\n{t}");
    }
    let v: toml::Table = toml::from_str(t).unwrap_or_else(|e| panic!("{e}\n{t}"));
    assert_eq!(v["meta"]["name"].as_str(), Some("old"));
    assert_eq!(v["limits"]["max_duration_seconds"].as_integer(), Some(90));
    assert_eq!(
        v["expect"]["hermeticity"]["no_container_leakage"].as_bool(),
        Some(true)
    );
    assert_eq!(v["service"]["app"]["env"]["MODE"].as_str(), Some("x"));
    let sc = &v["scenario"].as_array().unwrap()[0];
    assert_eq!(sc["service"].as_str(), Some("app"));
    let steps = sc["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert!(
        steps[0]["run"]
            .as_str()
            .unwrap()
            .contains("grep -qE -- 'hel+o'"),
        "{t}"
    );
    assert_eq!(steps[0]["timeout_ms"].as_integer(), Some(10_000));
    assert_eq!(steps[1]["run"].as_str(), Some("echo bye"));
    assert_eq!(
        v["expect"]["span"].as_array().unwrap()[0]["attrs"]["all"]["result"].as_str(),
        Some("pass")
    );
    assert_eq!(
        v["expect"]["counts"]["by_name"]["clnrm.step:hello"]["eq"].as_integer(),
        Some(1)
    );
    let keys: Vec<&str> = m.notes.iter().map(|n| n.key.as_str()).collect();
    assert!(keys.contains(&"services.app.ports"), "{keys:?}");
    assert!(keys.contains(&"assertions"), "{keys:?}");
    // The result loads.
    crate::suite::load_str(std::path::Path::new("old.clnrm.toml"), m.text.clone()).unwrap();
    // Migrating again changes nothing more.
    let again = migrate(t).ok().unwrap();
    assert!(!again.changed, "{}", again.text);
}

#[test]
fn a_file_in_this_dialect_is_left_as_it_is() {
    let s = "[meta]\nname = \"demo\" # a comment\n\n[service.app]\nimage = \"clnrm-base:latest\"\n";
    let m = migrate(s).ok().unwrap();
    assert!(!m.changed && m.notes.is_empty());
}
