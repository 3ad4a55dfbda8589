//! Application spans (sent to the run's OTLP receiver) in the span model: their service,
//! `service`, `during` and `after` of `[[expect.span]]`, and the chaos and hermeticity
//! checks reading clnrm's own spans only.

use serde_json::json;

use super::rules::fixture::{self, b, i, s, span, MS};
use super::*;
use crate::packed::APP_SERVICE_ATTR;

/// An application span of `service` (marked as the host marks it).
fn app(
    id: u32,
    parent: Option<u32>,
    name: &str,
    service: &str,
    status: Status,
    times: (u64, u64),
    attrs: &[(&str, AttrValue)],
) -> Span {
    let mut sp = span(id, parent, name, status, times, attrs);
    sp.attrs.push((APP_SERVICE_ATTR.into(), s(service)));
    sp
}

/// Two scenarios (ids 1 and 7 of the rules fixture, 0..900 ms and 1000..2000 ms), a
/// partition in the second (1200..1500 ms, under its step 9), and application spans:
/// 20 `GET /stock` of `api` during it (ERROR), 21 after it (OK), 22 before it; 23 of
/// `store` in the first scenario, overlapping 1200 ms on the clock but not the scenario.
fn trace() -> Trace {
    let mut spans = fixture::spans();
    spans.push(span(
        14,
        Some(7),
        "clnrm.network.partition",
        Status::Ok,
        (1200, 1500),
        &[
            ("chaos.type", s("network_partition")),
            ("chaos.observed", b(true)),
        ],
    ));
    spans.push(app(
        20,
        Some(9),
        "GET /stock",
        "api",
        Status::Error,
        (1250, 1300),
        &[],
    ));
    spans.push(app(
        21,
        Some(7),
        "GET /stock",
        "api",
        Status::Ok,
        (1600, 1650),
        &[],
    ));
    spans.push(app(
        22,
        Some(9),
        "GET /stock",
        "api",
        Status::Ok,
        (1100, 1150),
        &[],
    ));
    spans.push(app(
        23,
        Some(1),
        "GET /item",
        "store",
        Status::Ok,
        (100, 850),
        &[],
    ));
    Trace::new(spans)
}

fn check(table: serde_json::Value, trace: &Trace) -> Finding {
    let mut f = check_spans(&table, trace).expect("a valid table");
    assert_eq!(f.len(), 1);
    f.remove(0)
}

#[test]
fn the_host_marker_becomes_the_service_and_leaves_the_attributes() {
    let t = trace();
    let a = t.by_id(20).unwrap();
    assert_eq!(t.service(a), "api");
    assert!(t.is_app(a));
    assert!(a.attr(APP_SERVICE_ATTR).is_none(), "{:?}", a.attrs);
    let own = t.by_id(9).unwrap();
    assert_eq!(t.service(own), CLNRM_SERVICE);
    assert!(!t.is_app(own));
    assert_eq!(t.app_spans(), 4);
    assert_eq!(
        t.describe(a),
        "span #20 \"GET /stock\" (service \"api\", parent \"clnrm.step:killed\")"
    );
    // The host's marker is the last one: an earlier one (sent by the application) loses.
    let mut forged = app(30, None, "x", "api", Status::Ok, (0, 1), &[]);
    forged
        .attrs
        .insert(0, (APP_SERVICE_ATTR.into(), s("clnrm")));
    let t = Trace::new(vec![forged]);
    assert_eq!(t.service(t.by_id(30).unwrap()), "api");
    assert!(t.by_id(30).unwrap().attrs.is_empty());
}

#[test]
fn service_filters_and_names_the_mismatch() {
    let t = trace();
    let f = check(
        json!({ "name": "GET /stock", "service": "api", "count": { "eq": 3 } }),
        &t,
    );
    assert!(f.passed, "{}", f.message);
    let f = check(json!({ "name": "GET /stock", "service": "store" }), &t);
    assert!(!f.passed);
    assert!(
        f.message.contains("service is \"api\", expected \"store\"")
            && f.message.contains("(service \"api\","),
        "{}",
        f.message
    );
    let f = check(
        json!({ "name": "clnrm.step:killed", "service": "clnrm" }),
        &t,
    );
    assert!(f.passed, "{}", f.message);
    let f = check(json!({ "name": "clnrm.step:killed", "service": "api" }), &t);
    assert!(
        !f.passed && f.message.contains("service is \"clnrm\""),
        "{}",
        f.message
    );
    // Without `service`, any span matches, as before.
    let f = check(json!({ "name": "GET /item" }), &t);
    assert!(f.passed, "{}", f.message);
}

#[test]
fn during_is_an_overlap_in_the_same_scenario() {
    let t = trace();
    let during = json!({ "name": "GET /stock", "service": "api", "during": "clnrm.network.partition", "status": "ERROR" });
    let f = check(during, &t);
    assert!(f.passed, "{}", f.message);
    assert!(f.message.contains("span ids 20"), "{}", f.message);
    // Every GET /stock during the partition: only 20 is.
    let all =
        json!({ "name": "GET /stock", "during": "clnrm.network.partition", "count": { "eq": 1 } });
    assert!(check(all, &t).passed);
    // OK during the partition: none; the closest names why.
    let f = check(
        json!({ "name": "GET /stock", "during": "clnrm.network.partition", "status": "OK" }),
        &t,
    );
    assert!(!f.passed);
    assert!(f.message.contains("closest is span #20"), "{}", f.message);
    // What a span outside the window is told.
    let e = &parse_span_expectations(
        &json!({ "name": "GET /stock", "during": "clnrm.network.partition" }),
    )
    .unwrap()[0];
    assert_eq!(
        e.unmet(t.by_id(21).unwrap(), &t),
        ["not during \"clnrm.network.partition\": span ran 1600-1650 ms, \"clnrm.network.partition\" ran 1200-1500 ms"]
    );
    // Store's span covers 1200 ms on the clock, but in the other scenario.
    let f = check(
        json!({ "name": "GET /item", "during": "clnrm.network.partition" }),
        &t,
    );
    assert!(!f.passed);
    assert!(
        f.message
            .contains("no \"clnrm.network.partition\" span in its scenario"),
        "{}",
        f.message
    );
    // Edges are inclusive: a span ending exactly when the window starts overlaps it.
    let mut spans = fixture::spans();
    spans.push(span(14, Some(7), "w", Status::Ok, (1200, 1500), &[]));
    spans.push(app(
        20,
        Some(7),
        "edge",
        "api",
        Status::Ok,
        (1100, 1200),
        &[],
    ));
    spans.push(app(
        21,
        Some(7),
        "instant",
        "api",
        Status::Ok,
        (1500, 1500),
        &[],
    ));
    spans.push(app(
        22,
        Some(7),
        "before",
        "api",
        Status::Ok,
        (1100, 1199),
        &[],
    ));
    let t = Trace::new(spans);
    for (name, ok) in [("edge", true), ("instant", true), ("before", false)] {
        assert_eq!(
            check(json!({ "name": name, "during": "w" }), &t).passed,
            ok,
            "{name}"
        );
    }
}

#[test]
fn after_starts_at_or_after_an_end_in_the_same_scenario() {
    let t = trace();
    let f = check(
        json!({ "name": "GET /stock", "service": "api", "after": "clnrm.network.partition", "status": "OK" }),
        &t,
    );
    assert!(f.passed, "{}", f.message);
    assert!(f.message.contains("span ids 21"), "{}", f.message);
    let f = check(
        json!({ "name": "GET /stock", "after": "clnrm.network.partition", "count": { "gte": 2 } }),
        &t,
    );
    assert!(!f.passed);
    assert!(
        f.message.contains(
            "not after \"clnrm.network.partition\": span started at 1100 ms, the first \"clnrm.network.partition\" ended at 1500 ms"
        ) || f.message.contains("span started at 1250 ms"),
        "{}",
        f.message
    );
    let f = check(
        json!({ "name": "GET /item", "after": "clnrm.network.partition" }),
        &t,
    );
    assert!(!f.passed);
    // A span is not after itself, and after one of two instances is enough.
    let mut spans = fixture::spans();
    spans.push(span(14, Some(7), "r", Status::Ok, (1100, 1200), &[]));
    spans.push(span(15, Some(7), "r", Status::Ok, (1700, 1800), &[]));
    spans.push(app(20, Some(7), "x", "api", Status::Ok, (1300, 1400), &[]));
    let t = Trace::new(spans);
    assert!(check(json!({ "name": "x", "after": "r" }), &t).passed);
    assert!(
        !check(
            json!({ "name": "r", "after": "r", "count": { "eq": 2 } }),
            &t
        )
        .passed
    );
}

#[test]
fn service_during_after_config_errors() {
    for (table, path, msg) in [
        (
            json!({ "name": "a", "service": "" }),
            "service",
            "must not be empty",
        ),
        (json!({ "name": "a", "during": 3 }), "during", "string"),
        (
            json!({ "name": "a", "after": "" }),
            "after",
            "must not be empty",
        ),
    ] {
        let e = parse_span_expectations(&table).unwrap_err();
        assert_eq!(e.path(), [path.to_string()], "{e:?}");
        assert!(format!("{e:?}").contains(msg), "{e:?}");
    }
    let e = parse_span_expectations(&json!({ "name": "a", "servce": "api" })).unwrap_err();
    assert!(format!("{e:?}").contains("service"), "{e:?}");
}

/// An application span named and shaped like a fault (or a verification) counts for
/// nothing in `[expect.chaos]` and `[expect.hermeticity]`.
#[test]
fn chaos_and_hermeticity_read_clnrm_spans_only() {
    let fake_fault = |id: u32| {
        app(
            id,
            Some(7),
            "clnrm.chaos.kill",
            "api",
            Status::Ok,
            (1100, 1200),
            &[
                ("chaos.type", s("kill_container")),
                ("chaos.observed", b(true)),
            ],
        )
    };
    // One real injection (span 10): min_injections = 2 must fail however many fakes.
    let mut spans = fixture::spans();
    spans.push(fake_fault(20));
    spans.push(fake_fault(21));
    let t = Trace::new(spans);
    let f = check_chaos(&json!({ "min_injections": 2 }), &t).unwrap();
    assert!(!f[0].passed, "{}", f[0].message);
    assert!(f[0].message.contains("span ids 10"), "{}", f[0].message);
    // The same fakes as clnrm's own spans would have passed it (the test can fail).
    let mut spans = fixture::spans();
    spans.push(span(
        20,
        Some(7),
        "clnrm.chaos.kill",
        Status::Ok,
        (1100, 1200),
        &[
            ("chaos.type", s("kill_container")),
            ("chaos.observed", b(true)),
        ],
    ));
    let f = check_chaos(&json!({ "min_injections": 2 }), &Trace::new(spans)).unwrap();
    assert!(f[0].passed, "{}", f[0].message);

    // A failing application "injection" does not fail injections_observed either.
    let mut spans = fixture::spans();
    spans.push(app(
        20,
        Some(7),
        "kill",
        "api",
        Status::Error,
        (1100, 1200),
        &[
            ("chaos.type", s("kill_container")),
            ("chaos.observed", b(false)),
        ],
    ));
    let f = check_chaos(&json!({ "injections_observed": true }), &Trace::new(spans)).unwrap();
    assert!(f[0].passed, "{}", f[0].message);

    // Hermeticity: without clnrm's verifications, an application's clean one does not pass.
    let mut spans: Vec<Span> = fixture::spans()
        .into_iter()
        .filter(|s| s.name != "clnrm.cleanup.verification")
        .collect();
    spans.push(app(
        20,
        Some(7),
        "clnrm.cleanup.verification",
        "api",
        Status::Ok,
        (1900, 1950),
        &[
            ("containers.remaining", i(0)),
            ("processes.remaining", i(0)),
        ],
    ));
    let t = Trace::new(spans);
    let f = check_hermeticity(&json!({ "no_container_leakage": true }), &t).unwrap();
    assert!(!f[0].passed, "{}", f[0].message);
    // An application talking to a peer is not clnrm reaching outside.
    let mut spans = fixture::spans();
    spans.push(app(
        20,
        Some(9),
        "GET",
        "api",
        Status::Ok,
        (1100, 1200),
        &[("server.address", s("example.com"))],
    ));
    let f =
        check_hermeticity(&json!({ "no_external_services": true }), &Trace::new(spans)).unwrap();
    assert!(f[0].passed, "{}", f[0].message);
    let _ = MS;
}

/// The other validators see application spans as they see clnrm's.
#[test]
fn counts_see_application_spans() {
    let t = trace();
    let f = check_counts(&json!({ "spans_total": { "eq": 19 } }), &t).unwrap();
    assert!(f[0].passed, "{}", f[0].message);
    let f = check_status(&json!({ "by_name": { "GET /stock": "ERROR" } }), &t).unwrap();
    assert!(!f[0].passed, "{}", f[0].message);
    assert!(
        f[0].message.contains("(service \"api\","),
        "{}",
        f[0].message
    );
}

/// The marker survives the packed trace (what the host hands validators).
#[test]
fn the_packed_trace_carries_the_service() {
    use crate::packed::{Packer, SpanHead, Value};
    let mut p = Packer::with_capacity(2);
    let head = |id, name| SpanHead {
        id,
        parent: None,
        name,
        kind: Kind::Client,
        status: Status::Ok,
        status_message: None,
        start_ns: 1,
        end_ns: 2,
    };
    p.span(&head(0, "clnrm.run"));
    let mut w = p.span(&head(1, "GET /stock"));
    w.attr("http.status_code", Value::Int(200));
    w.attr(APP_SERVICE_ATTR, Value::Str("api"));
    drop(w);
    let t = Trace::from_packed(&p.finish().unwrap()).unwrap();
    assert_eq!(t.service(&t.spans()[0]), "clnrm");
    assert_eq!(t.service(&t.spans()[1]), "api");
    assert_eq!(t.spans()[1].attrs.len(), 1);
}

/// `during` and `after` index the spans they name once per expectation: 20,000 candidates
/// against 20,000 windows stay linear (a pairwise check would take minutes here).
#[test]
fn time_relations_stay_linear() {
    let n = 20_000u32;
    let mut spans = vec![
        span(0, None, "clnrm.run", Status::Ok, (0, 100_000), &[]),
        span(1, Some(0), "clnrm.scenario", Status::Ok, (0, 100_000), &[]),
    ];
    for i in 0..n {
        let t = u64::from(i) * 4;
        spans.push(span(2 + i, Some(1), "w", Status::Ok, (t, t + 2), &[]));
        spans.push(app(
            2 + n + i,
            Some(1),
            "GET",
            "api",
            Status::Ok,
            (t + 1, t + 1),
            &[],
        ));
    }
    let t = Trace::new(spans);
    let started = std::time::Instant::now();
    let f = check(
        json!({ "name": "GET", "during": "w", "after": "w", "count": { "eq": n - 1 } }),
        &t,
    );
    assert!(f.passed, "{}", f.message);
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}
