//! The recording file (JSON): versioned, self-contained (the suite's text is
//! in it), written atomically.

use crate::confined::ConfinedDir;
use crate::engine::{ExpectationOutcome, InjectionRecording, SuiteOutcome};
use crate::runtime::PluginInfo;
use crate::suite::Suite;
use crate::trace::SpanData;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "clnrm.recording/1";

#[derive(Serialize, Deserialize)]
pub struct Recording {
    pub format: String,
    pub clnrm_version: String,
    pub suites: Vec<SuiteRecording>,
}

#[derive(Serialize, Deserialize)]
pub struct SuiteRecording {
    pub path: PathBuf,
    /// The suite file as it was run.
    pub source: String,
    pub name: String,
    pub seed: u64,
    pub epoch_unix_ns: u64,
    pub digest: String,
    pub plugins: BTreeMap<String, PluginInfo>,
    pub spans: Vec<SpanData>,
    pub injections: Vec<InjectionRecording>,
    pub expectations: Vec<ExpectationOutcome>,
}

impl SuiteRecording {
    pub fn of(suite: &Suite, outcome: &SuiteOutcome) -> SuiteRecording {
        SuiteRecording {
            path: suite.path.clone(),
            source: suite.source.clone(),
            name: outcome.name.clone(),
            seed: outcome.seed,
            epoch_unix_ns: outcome.epoch_unix_ns,
            digest: outcome.digest.clone(),
            plugins: outcome.plugins.clone(),
            spans: outcome.spans.clone(),
            injections: outcome
                .scenarios
                .iter()
                .flat_map(|s| s.recordings.iter().cloned())
                .collect(),
            expectations: outcome.expectations.clone(),
        }
    }
}

impl Recording {
    pub fn new(suites: Vec<SuiteRecording>) -> Recording {
        Recording {
            format: FORMAT.into(),
            clnrm_version: env!("CARGO_PKG_VERSION").into(),
            suites,
        }
    }

    /// Write to the file the user named, atomically (a killed run never
    /// leaves half a recording), through its folder's capability.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string(self).map_err(std::io::Error::other)?;
        let (dir, name) = ConfinedDir::parent_of(path)?;
        dir.write_atomic(&name, text).map(|_| ())
    }

    pub fn read(path: &Path) -> Result<Recording, String> {
        let text = ConfinedDir::parent_of(path)
            .and_then(|(dir, name)| dir.read_to_string(&name))
            .map_err(|e| format!("cannot read the recording: {e}"))?;
        let rec: Recording = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a clnrm recording: {e}", path.display()))?;
        if rec.format != FORMAT {
            return Err(format!(
                "{}: recording format `{}`; this clnrm reads `{FORMAT}`",
                path.display(),
                rec.format
            ));
        }
        Ok(rec)
    }
}
