//! Table-driven tests of `[expect.hermeticity]`.

use serde_json::json;

use super::*;
use crate::expect::model::{AttrValue, Event};
use crate::expect::rules::fixture::{
    self, b, edited, i, run_cases, run_config_errors, s, set, unset, without, Case,
};

const ALL_LEAKS: [&str; 4] = [
    "no_container_leakage",
    "no_network_leakage",
    "no_volume_leakage",
    "no_process_leakage",
];

#[test]
fn internal_hosts() {
    let services = vec!["app".to_string(), "db".to_string()];
    for (host, want) in [
        ("localhost", true),
        ("LOCALHOST", true),
        ("localhost:8080", true),
        ("api.localhost", true),
        ("127.0.0.1", true),
        ("127.1.2.3:9000", true),
        ("::1", true),
        ("[::1]:443", true),
        ("[::1]", true),
        ("0:0:0:0:0:0:0:1", true),
        ("app", true),
        ("db:5432", true),
        ("example.com", false),
        ("localhost.example.com", false),
        ("127.0.0.256", false),
        ("128.0.0.1", false),
        ("10.0.0.5", false),
        ("::2", false),
        ("[2001:db8::1]:80", false),
        ("application", false),
        ("", false),
    ] {
        assert_eq!(is_internal_host(host, &services), want, "{host:?}");
    }
}

#[test]
fn hermeticity_table() {
    let all_on = json!({
        "no_container_leakage": true, "no_network_leakage": true,
        "no_volume_leakage": true, "no_process_leakage": true,
    });
    let leak_labels = |pass: bool, msg: &'static str| {
        ALL_LEAKS
            .iter()
            .map(|r| {
                let label: &'static str =
                    Box::leak(format!("expect.hermeticity.{r}").into_boxed_str());
                (label, pass, vec![msg])
            })
            .collect::<Vec<_>>()
    };
    let cases: Vec<Case> = vec![
        // leakage: clean run
        (
            all_on.clone(),
            fixture::trace(),
            leak_labels(true, "2 clnrm.cleanup.verification span(s) report "),
        ),
        (
            json!({ "no_container_leakage": true }),
            fixture::trace(),
            vec![("expect.hermeticity.no_container_leakage", true, vec!["2 clnrm.cleanup.verification span(s) report containers.remaining = 0 (span ids 5, 12)"])],
        ),
        // leakage: one container left
        (
            json!({ "no_container_leakage": true, "no_network_leakage": true }),
            edited(12, |v| set(v, "containers.remaining", i(1))),
            vec![
                ("expect.hermeticity.no_container_leakage", false, vec!["1 of 2 clnrm.cleanup.verification span(s) fail: span #12 \"clnrm.cleanup.verification\" (parent \"clnrm.cleanup\"): containers.remaining = 1, expected 0"]),
                ("expect.hermeticity.no_network_leakage", true, vec![]),
            ],
        ),
        // counts as strings and floats are numbers too
        (
            json!({ "no_volume_leakage": true }),
            edited(5, |v| set(v, "volumes.remaining", s("0"))),
            vec![("expect.hermeticity.no_volume_leakage", true, vec![])],
        ),
        (
            json!({ "no_volume_leakage": true }),
            edited(5, |v| set(v, "volumes.remaining", AttrValue::Float(2.0))),
            vec![("expect.hermeticity.no_volume_leakage", false, vec!["span #5", "volumes.remaining = 2, expected 0"])],
        ),
        // a missing count is unknown: a failure
        (
            json!({ "no_process_leakage": true }),
            edited(5, |v| unset(v, "processes.remaining")),
            vec![("expect.hermeticity.no_process_leakage", false, vec!["span #5 \"clnrm.cleanup.verification\" (parent \"clnrm.cleanup\"): processes.remaining missing (unknown counts as a leak), expected 0"])],
        ),
        (
            json!({ "no_network_leakage": true }),
            edited(12, |v| set(v, "networks.remaining", s("unknown"))),
            vec![("expect.hermeticity.no_network_leakage", false, vec!["networks.remaining = \"unknown\", expected 0"])],
        ),
        // no verification at all
        (
            all_on.clone(),
            without(&[5, 12]),
            leak_labels(false, "no \"clnrm.cleanup.verification\" span in the trace: the run never verified its cleanup"),
        ),
        // false skips
        (
            json!({ "no_container_leakage": false, "no_volume_leakage": true }),
            without(&[5, 12]),
            vec![("expect.hermeticity.no_volume_leakage", false, vec![])],
        ),
        // resource_attrs: the run's resource, never span attributes
        (
            json!({ "resource_attrs": { "must_match": { "env": "chaos-testing", "service.name": { "matches": "^clnrm" } } } }),
            with_resource(),
            vec![("expect.hermeticity.resource_attrs.must_match", true, vec!["the run's resource matches (2 attribute(s) checked of [\"env\", \"service.name\"])"])],
        ),
        (
            json!({ "resource_attrs": { "must_match": { "service.name": "other", "deployment.environment": "ci", "env": ["prod", "staging"] } } }),
            with_resource(),
            vec![("expect.hermeticity.resource_attrs.must_match", false, vec!["the run's resource does not match: ", "resource attribute deployment.environment missing", "resource attribute service.name = \"clnrm-chaos\", expected \"other\"", "resource attribute env = \"chaos-testing\", expected one of"])],
        ),
        // clnrm.run carries suite.name and determinism.seed as span attributes: not resource.
        (
            json!({ "resource_attrs": { "must_match": { "suite.name": "chaos" } } }),
            with_resource(),
            vec![("expect.hermeticity.resource_attrs.must_match", false, vec!["resource attribute suite.name missing"])],
        ),
        // No resource handed over: nothing proves anything.
        (
            json!({ "resource_attrs": { "must_match": { "service.name": "clnrm" } } }),
            fixture::trace(),
            vec![("expect.hermeticity.resource_attrs.must_match", false, vec!["no resource attributes"])],
        ),
        // span_attrs.forbid_keys
        (
            json!({ "span_attrs": { "forbid_keys": ["db.password", "secret"] } }),
            fixture::trace(),
            vec![("expect.hermeticity.span_attrs.forbid_keys", true, vec!["14 span(s) carry none of the attribute keys [\"db.password\", \"secret\"]"])],
        ),
        (
            json!({ "span_attrs": { "forbid_keys": ["container.id"] } }),
            fixture::trace(),
            vec![("expect.hermeticity.span_attrs.forbid_keys", false, vec!["4 of 14 span(s) fail: span #2 \"clnrm.service.start\" (parent \"clnrm.scenario\"): carries forbidden attribute \"container.id\"; span #3 \"clnrm.step:ok\""])],
        ),
        (
            json!({ "span_attrs": { "forbid_keys": ["secret"] } }),
            edited(4, |c| {
                c.events.push(Event { name: "leak".into(), time_ns: 0, attrs: vec![("secret".into(), s("x"))] });
            }),
            vec![("expect.hermeticity.span_attrs.forbid_keys", false, vec!["span #4 \"clnrm.cleanup\" (parent \"clnrm.scenario\"): event \"leak\" carries forbidden attribute \"secret\""])],
        ),
        // no_external_services
        (
            json!({ "no_external_services": true }),
            fixture::trace(),
            vec![("expect.hermeticity.no_external_services", true, vec!["14 span(s) talk only to loopback or the run's services"])],
        ),
        (
            json!({ "no_external_services": true }),
            edited(3, |st| {
                set(st, "server.address", s("localhost"));
                set(st, "net.peer.name", s("app:8080"));
            }),
            vec![("expect.hermeticity.no_external_services", true, vec![])],
        ),
        (
            json!({ "no_external_services": true }),
            edited(3, |st| {
                set(st, "server.address", s("api.example.com"));
                set(st, "external.call", b(true));
            }),
            vec![("expect.hermeticity.no_external_services", false, vec!["1 of 14 span(s) fail: span #3 \"clnrm.step:ok\" (parent \"clnrm.scenario\"): external.call = true, server.address = \"api.example.com\" is outside the run (not loopback, not a service of the run)"])],
        ),
        (
            json!({ "no_external_services": true }),
            edited(10, |c| set(c, "external.call", s("false"))),
            vec![("expect.hermeticity.no_external_services", true, vec![])],
        ),
        (
            json!({ "no_external_services": true }),
            edited(10, |c| set(c, "net.peer.ip", s("10.1.2.3"))),
            vec![("expect.hermeticity.no_external_services", false, vec!["span #10", "net.peer.ip = \"10.1.2.3\" is outside the run"])],
        ),
    ];
    run_cases(check_hermeticity, cases);
}

#[test]
fn findings_follow_key_order() {
    let config = json!({
        "no_external_services": true,
        "span_attrs": { "forbid_keys": ["x"] },
        "resource_attrs": { "must_match": { "env": "chaos-testing" } },
        "no_process_leakage": true,
        "no_container_leakage": true,
    });
    let f = check_hermeticity(&config, &with_resource()).unwrap();
    let labels: Vec<&str> = f.iter().map(|f| f.expectation.as_str()).collect();
    assert_eq!(
        labels,
        [
            "expect.hermeticity.no_container_leakage",
            "expect.hermeticity.no_process_leakage",
            "expect.hermeticity.resource_attrs.must_match",
            "expect.hermeticity.span_attrs.forbid_keys",
            "expect.hermeticity.no_external_services",
        ]
    );
    assert!(f.iter().all(|f| f.passed), "{f:#?}");
}

#[test]
fn hermeticity_config_errors() {
    run_config_errors(
        "expect.hermeticity",
        check_hermeticity,
        vec![
            (json!({ "no_container_leakge": true }), vec!["expect.hermeticity: unknown key \"no_container_leakge\"; did you mean \"no_container_leakage\"?", "(valid: no_container_leakage, no_network_leakage, no_volume_leakage, no_process_leakage, resource_attrs, span_attrs, no_external_services, no_resource_leakage)"]),
            (json!({}), vec!["expect.hermeticity: an empty table checks nothing"]),
            (json!("all"), vec!["expect.hermeticity: expected a table ([expect.hermeticity]), found string \"all\""]),
            (json!({ "no_volume_leakage": "true" }), vec!["expect.hermeticity.no_volume_leakage: expected a boolean, found string \"true\""]),
            (json!({ "no_external_services": 1 }), vec!["expect.hermeticity.no_external_services: expected a boolean, found integer 1"]),
            (json!({ "resource_attrs": { "must_mach": {} } }), vec!["expect.hermeticity.resource_attrs: unknown key \"must_mach\"; did you mean \"must_match\"?"]),
            (json!({ "resource_attrs": {} }), vec!["expect.hermeticity.resource_attrs: missing required key \"must_match\""]),
            (json!({ "resource_attrs": ["a"] }), vec!["expect.hermeticity.resource_attrs: expected a table, found an array"]),
            (json!({ "resource_attrs": { "must_match": ["service.name"] } }), vec!["expect.hermeticity.resource_attrs.must_match: expected a table, found an array"]),
            (json!({ "resource_attrs": { "must_match": {} } }), vec!["expect.hermeticity.resource_attrs.must_match: an empty table checks nothing"]),
            (json!({ "resource_attrs": { "must_match": { "service.name": { "eqq": "x" } } } }), vec!["expect.hermeticity.resource_attrs.must_match.\"service.name\": unknown key \"eqq\"; did you mean \"eq\"?"]),
            // Too far for a "did you mean" (the host's threshold): the valid keys only.
            (json!({ "span_attrs": { "forbid": ["x"] } }), vec!["expect.hermeticity.span_attrs: unknown key \"forbid\" (valid: forbid_keys)"]),
            (json!({ "span_attrs": { "forbid_key": ["x"] } }), vec!["expect.hermeticity.span_attrs: unknown key \"forbid_key\"; did you mean \"forbid_keys\"? (valid: forbid_keys)"]),
            (json!({ "span_attrs": {} }), vec!["expect.hermeticity.span_attrs: missing required key \"forbid_keys\""]),
            (json!({ "span_attrs": { "forbid_keys": "secret" } }), vec!["expect.hermeticity.span_attrs.forbid_keys: expected an array of strings, found string \"secret\""]),
            (json!({ "span_attrs": { "forbid_keys": ["a", 2] } }), vec!["expect.hermeticity.span_attrs.forbid_keys[1]: expected a string, found integer 2"]),
            (json!({ "span_attrs": { "forbid_keys": [] } }), vec!["expect.hermeticity.span_attrs.forbid_keys: an empty array checks nothing"]),
        ],
    );
}

/// The fixture trace of a run whose `[otel] resources` set `env` and `service.name`.
fn with_resource() -> crate::expect::Trace {
    fixture::trace().with_resource(vec![
        ("env".into(), fixture::s("chaos-testing")),
        ("service.name".into(), fixture::s("clnrm-chaos")),
    ])
}

#[test]
fn no_resource_leakage() {
    use crate::expect::model::Status;
    use crate::expect::rules::fixture::span;
    let pressed = |recovered: bool| {
        let mut spans = fixture::spans();
        spans.push(span(
            14,
            Some(7),
            "clnrm.resource.memory_pressure",
            Status::Ok,
            (1100, 1200),
            &[("resource.type", s("memory")), ("target.service", s("app"))],
        ));
        spans.push(span(
            15,
            Some(7),
            "clnrm.resource.recovery",
            Status::Ok,
            (1190, 1200),
            &[
                ("target.service", s("app")),
                ("recovery.success", b(recovered)),
            ],
        ));
        crate::expect::Trace::new(spans)
    };
    let cases: Vec<Case> = vec![
        (
            json!({ "no_resource_leakage": true }),
            pressed(true),
            vec![(
                "expect.hermeticity.no_resource_leakage",
                true,
                vec![
                    "2 clnrm.cleanup.verification span(s) report nothing remaining",
                    "1 resource pressure span(s), each released",
                ],
            )],
        ),
        (
            json!({ "no_resource_leakage": true }),
            pressed(false),
            vec![(
                "expect.hermeticity.no_resource_leakage",
                false,
                vec!["1 of 1 resource pressure span(s) never released: span #14"],
            )],
        ),
        (
            // The engine's reading of a static limit (under a step) changed nothing.
            json!({ "no_resource_leakage": true }),
            {
                let mut spans = pressed(true).spans().to_vec();
                spans.push(span(
                    16,
                    Some(3),
                    "clnrm.resource.cpu_throttle",
                    Status::Ok,
                    (120, 180),
                    &[
                        ("resource.type", s("cpu")),
                        ("pressure.source", s("limits")),
                        ("target.service", s("app")),
                    ],
                ));
                crate::expect::Trace::new(spans)
            },
            vec![(
                "expect.hermeticity.no_resource_leakage",
                true,
                vec!["1 resource pressure span(s), each released"],
            )],
        ),
        (
            json!({ "no_resource_leakage": true }),
            edited(12, |v| set(v, "networks.remaining", i(1))),
            vec![(
                "expect.hermeticity.no_resource_leakage",
                false,
                vec!["networks.remaining = 1, expected 0"],
            )],
        ),
        (
            json!({ "no_resource_leakage": true }),
            without(&[5, 12]),
            vec![(
                "expect.hermeticity.no_resource_leakage",
                false,
                vec!["the run never verified its cleanup"],
            )],
        ),
    ];
    run_cases(check_hermeticity, cases);
}
