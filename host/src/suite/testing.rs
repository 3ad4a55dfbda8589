//! Helpers for the suite's unit tests: load a text, or get its error.

use super::{load_str, Suite, SuiteError};
use std::path::Path;

pub fn load_text(text: &str) -> Result<Suite, SuiteError> {
    load_str(Path::new("t.clnrm.toml"), text.to_string())
}

/// The error of a suite that must not load: (line, col, message, help).
pub fn fails(text: &str) -> (usize, usize, String, String) {
    match load_text(text) {
        Ok(_) => panic!("loaded, but should not have:\n{text}"),
        Err(e) => (
            e.line,
            e.col,
            e.message.clone(),
            e.help.clone().unwrap_or_default(),
        ),
    }
}

/// A small valid suite the tests edit (line numbers below count from its
/// leading empty line: `[meta]` is line 2).
pub const OK: &str = r#"
[meta]
name = "demo"
[service.app]
image = "clnrm-base:latest"
[[scenario]]
name = "killed"
service = "app"
run = "sleep 5"
expect_failure = true
chaos_injection = { type = "kill_container", delay_ms = 500 }
"#;
