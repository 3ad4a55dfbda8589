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
