//! `[[scenario]] network`: a scenario gets a bridge network of its own only
//! when it needs one (several services, a fault acting on the network, or
//! `network = "own"`); otherwise its containers have no network at all.

use super::*;
use crate::backend::fake::Script;
use std::time::Duration;

/// A second service, for scenarios of two.
const PEER: &str = r#"
[service.peer]
image = "clnrm-base:latest"
"#;

/// `scenarios` in a suite that also defines [`PEER`].
fn with_peer(scenarios: &str) -> String {
    format!("{PEER}{scenarios}")
}

fn created_networks(fake: &Fake) -> usize {
    fake.calls()
        .iter()
        .filter(|c| c.starts_with("create_network"))
        .count()
}

#[tokio::test(start_paused = true)]
async fn one_service_without_network_faults_runs_without_a_network() {
    let fake = Arc::new(Fake::new());
    // Look at the container while the step runs: attached to nothing.
    fake.script("sleep 1", Script::exit(0).after(Duration::from_secs(1)));
    let fake2 = fake.clone();
    let seen = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        fake2.networks_of("app")
    });
    let out = run(
        &fake,
        r#"
[[scenario]]
name = "alone"
service = "app"
run = "sleep 1"
"#,
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    assert_eq!(seen.await.unwrap(), Some(Vec::new()), "no network at all");
    assert_eq!(created_networks(&fake), 0, "{:?}", fake.calls());
    let sc = span(&out, "clnrm.scenario");
    assert_eq!(str_attr(sc, "network.mode"), "none");
    // Read back from the (fake) kernel: loopback only.
    assert_eq!(
        str_attr(span(&out, "clnrm.service.start"), "network.interfaces"),
        "lo"
    );
    let cleanup = span(&out, "clnrm.cleanup");
    assert_eq!(int_attr(cleanup, "networks.removed"), 0);
    assert!(!cleanup.events.iter().any(|e| e.name == "network.remove"));
    assert!(bool_attr(
        span(&out, "clnrm.cleanup.verification"),
        "verification.clean"
    ));
    assert_eq!(
        out.scenarios[0].cleanup.created.len(),
        1,
        "the container only"
    );
    assert_nothing_left(&fake);
}

#[tokio::test(start_paused = true)]
async fn several_services_share_a_network_of_their_own() {
    let fake = Arc::new(Fake::new());
    let out = run(
        &fake,
        &with_peer(
            r#"
[[scenario]]
name = "pair"
service = "app"
parallel_services = ["peer"]
run = "echo hi"
"#,
        ),
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    assert_eq!(created_networks(&fake), 1);
    assert!(span(&out, "clnrm.scenario").attr("network.mode").is_none());
    assert!(out
        .spans
        .iter()
        .filter(|s| s.name == "clnrm.service.start")
        .all(|s| s.attr("network.interfaces").is_none()));
    assert_eq!(int_attr(span(&out, "clnrm.cleanup"), "networks.removed"), 1);
    assert_nothing_left(&fake);
}

#[tokio::test(start_paused = true)]
async fn network_own_and_none_override_the_default() {
    let fake = Arc::new(Fake::new());
    let out = run(
        &fake,
        &with_peer(
            r#"
[[scenario]]
name = "own"
service = "app"
run = "echo hi"
network = "own"

[[scenario]]
name = "none"
service = "app"
parallel_services = ["peer"]
run = "echo hi"
network = "none"
"#,
        ),
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios);
    // One network: the first scenario's, though it has one service.
    assert_eq!(created_networks(&fake), 1, "{:?}", fake.calls());
    let scenarios: Vec<&SpanData> = out
        .spans
        .iter()
        .filter(|s| s.name == "clnrm.scenario")
        .collect();
    let mode = |name: &str| {
        scenarios
            .iter()
            .find(|s| str_attr(s, "scenario.name") == name)
            .and_then(|s| s.attr("network.mode").cloned())
    };
    assert_eq!(mode("own"), None);
    assert_eq!(mode("none"), Some(AttrValue::Str("none".into())));
    assert_nothing_left(&fake);
}

#[test]
fn an_unknown_network_mode_is_an_error_at_the_value() {
    let src = format!(
        "{}{}",
        super::HEAD,
        r#"
[[scenario]]
name = "x"
service = "app"
run = "true"
network = "bridge"
"#
    );
    let Err(e) = crate::suite::load_str(Path::new("fake.clnrm.toml"), src) else {
        panic!("`bridge` is not a network mode");
    };
    let msg = format!("{:?}", miette::Report::new(e));
    assert!(
        msg.contains("auto") && msg.contains("own") && msg.contains("none"),
        "{msg}"
    );
}
