//! `artifacts.collect`: files copied out of the main container before cleanup,
//! written through the report directory's capability.

use super::*;
use crate::backend::fake::Script;

#[tokio::test(start_paused = true)]
async fn collected_files_land_under_the_report_dir_before_cleanup() {
    let fake = Arc::new(Fake::new());
    fake.script("true", Script::exit(0));
    fake.put_file("/data/out.txt", b"a tar archive");
    let out = run(
        &fake,
        r#"
[[scenario]]
name = "artifacts_out"
service = "app"
run = "true"
artifacts.collect = ["/data/out.txt"]
"#,
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    let collect = span(&out, "clnrm.artifacts.collect");
    assert_eq!(
        collect
            .attr("artifacts.collected")
            .map(|v| v.to_string())
            .as_deref(),
        Some("1")
    );
    let written =
        std::env::temp_dir().join("clnrm-engine-tests/artifacts/artifacts_out/data_out.txt.tar");
    assert_eq!(std::fs::read(&written).unwrap(), b"a tar archive");
    // Collected while the container still existed, then removed.
    let calls = fake.calls();
    let archived = calls.iter().position(|c| c.starts_with("archive")).unwrap();
    let removed = calls
        .iter()
        .position(|c| c.starts_with("remove app"))
        .unwrap();
    assert!(archived < removed, "{calls:?}");
    assert_nothing_left(&fake);
}

/// `logs:all` writes each service's container output and its steps' output before
/// cleanup; `spans:default` writes the scenario's spans, cleanup included, after it.
#[tokio::test(start_paused = true)]
async fn logs_and_spans_selectors() {
    let fake = Arc::new(Fake::new());
    fake.script("echo hello", Script::exit(0).stdout("hello\n"));
    let out = run(
        &fake,
        r#"
[service.db]
image = "clnrm-base:latest"

[[scenario]]
name = "selectors_out"
service = "app"
parallel_services = ["db"]
run = "echo hello"
artifacts.collect = ["logs:all", "spans:default"]
"#,
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    let dir = std::env::temp_dir().join("clnrm-engine-tests/artifacts/selectors_out");
    let app = std::fs::read_to_string(dir.join("logs-app.txt")).unwrap();
    assert!(
        app.contains("== app: container output (docker logs) ==\napp started\n"),
        "{app}"
    );
    assert!(
        app.contains("== step selectors_out (exit 0): stdout ==\nhello\n"),
        "{app}"
    );
    let db = std::fs::read_to_string(dir.join("logs-db.txt")).unwrap();
    assert!(db.contains("db started") && !db.contains("step"), "{db}");
    let calls = fake.calls();
    let logged = calls.iter().position(|c| c == "logs app").unwrap();
    let removed = calls
        .iter()
        .position(|c| c.starts_with("remove app"))
        .unwrap();
    assert!(logged < removed, "{calls:?}");
    let spans: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("spans-default.json")).unwrap())
            .unwrap();
    let names: Vec<&str> = spans["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.first(), Some(&"clnrm.scenario"));
    for n in [
        "clnrm.step:selectors_out",
        "clnrm.artifacts.collect",
        "clnrm.cleanup",
        "clnrm.recovery",
    ] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    assert!(!names.contains(&"clnrm.run"), "only the scenario's spans");
    assert_nothing_left(&fake);
}
