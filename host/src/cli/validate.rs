//! `clnrm validate FILES...`: parse and check suites, plugins included,
//! without starting anything.

use super::suites::{load_all, resolve_all};
use super::{EXIT_BAD_INPUT, EXIT_PASS};
use crate::runtime::Registry;

/// Parse and check suites (plugins included) without starting anything.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(required = true)]
    files: Vec<String>,
}

impl Args {
    pub async fn exec(self) -> i32 {
        validate(&self.files).await
    }
}

async fn validate(files: &[String]) -> i32 {
    let suites = match load_all(files) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let registry = match Registry::for_checks() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Err(code) = resolve_all(&registry, &suites).await {
        return code;
    }
    for s in &suites {
        // `[[expect.span]]` entries count one by one.
        let expectations: usize = s
            .expectations
            .iter()
            .map(|e| {
                serde_json::from_str::<serde_json::Value>(&e.config_json)
                    .ok()
                    .and_then(|v| v.as_array().map(Vec::len))
                    .unwrap_or(1)
            })
            .sum();
        println!(
            "ok {} ({} scenarios, {} expectations)",
            s.path.display(),
            s.scenarios.len(),
            expectations
        );
    }
    EXIT_PASS
}
