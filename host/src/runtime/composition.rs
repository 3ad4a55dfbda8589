//! What a composed run (`clnrm:chaos/compose`) answers. The scenario holds
//! the composer behind [`super::scenario::Compose`], implemented by
//! [`super::compose::Composer`], so the scenario, which the composer runs
//! faults on, does not name the composer (no circle of imports).

use super::journal::{Divergence, Journal};

/// A composed fault's answer, as the WIT `composed` record carries it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ComposedOutcome {
    pub observed: bool,
    pub summary: String,
    pub plugin: String,
}

/// What one composed call left: its answer, its journal (its host calls when
/// recording) and, in replay, where it diverged.
pub struct ComposedRun {
    pub result: Result<ComposedOutcome, String>,
    pub journal: Journal,
    pub divergence: Option<Divergence>,
}
