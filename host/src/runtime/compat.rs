//! The export types of `clnrm:chaos@0.2.0` <-> the current ones, for plugins
//! built against 0.2.x (docs/wit-versioning.md). The shared `types` are the
//! same Rust types in both bindings; only records declared inside the
//! exported interfaces differ, field for field.

use super::bindings::chaos::exports::clnrm::chaos::chaos::{Injection, Outcome};
use super::bindings::v0_2::chaos::exports::clnrm::chaos::chaos as chaos02;
use super::bindings::v0_2::validator::exports::clnrm::chaos::validator as validator02;
use super::bindings::validator::exports::clnrm::chaos::validator::{Finding, SpanRecord};

pub(super) fn injection(i: &Injection) -> chaos02::Injection {
    chaos02::Injection {
        fault_type: i.fault_type.clone(),
        config_json: i.config_json.clone(),
        scenario: i.scenario.clone(),
        services: i.services.clone(),
        parent: i.parent,
    }
}

pub(super) fn outcome(o: chaos02::Outcome) -> Outcome {
    Outcome {
        observed: o.observed,
        summary: o.summary,
    }
}

pub(super) fn span_record(s: &SpanRecord) -> validator02::SpanRecord {
    validator02::SpanRecord {
        id: s.id,
        parent: s.parent,
        name: s.name.clone(),
        kind: s.kind,
        status: s.status,
        status_message: s.status_message.clone(),
        start_ns: s.start_ns,
        end_ns: s.end_ns,
        attributes: s.attributes.clone(),
        events: s
            .events
            .iter()
            .map(|e| validator02::SpanEvent {
                name: e.name.clone(),
                time_ns: e.time_ns,
                attributes: e.attributes.clone(),
            })
            .collect(),
    }
}

pub(super) fn finding(f: validator02::Finding) -> Finding {
    Finding {
        expectation: f.expectation,
        passed: f.passed,
        message: f.message,
    }
}
