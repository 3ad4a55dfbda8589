//! `clnrm render FILE [--var NAME=VALUE]... [-o OUT]`: print a suite
//! template rendered (what `run` and `validate` load).

use super::{EXIT_BAD_INPUT, EXIT_PASS};
use crate::suite::template::{self, Values};
use std::path::PathBuf;

/// Print a suite template rendered with Tera, as `run` and `validate` load it.
///
/// A suite is a template when its name ends in `.tera` or it contains `{%`.
/// Variables: svc, env, endpoint, exporter, image, freeze_clock, token (a
/// --var value, else SERVICE_NAME, ENV, OTEL_ENDPOINT, OTEL_TRACES_EXPORTER,
/// CLNRM_IMAGE, FREEZE_CLOCK, OTEL_TOKEN, else a default).
///
/// Example:
///   clnrm render tests/templates/shop.clnrm.toml.tera --var svc=shop > shop.clnrm.toml
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    file: PathBuf,
    /// A template value, above the environment and the defaults (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Write the rendered suite here instead of standard output.
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
}

impl Args {
    pub async fn exec(self) -> i32 {
        let mut values = Values::new();
        for v in &self.vars {
            match v.split_once('=') {
                Some((k, val)) if !k.trim().is_empty() => {
                    values.insert(k.trim().to_string(), val.to_string());
                }
                _ => {
                    eprintln!("error: --var {v}: expected NAME=VALUE");
                    return EXIT_BAD_INPUT;
                }
            }
        }
        let source = match std::fs::read_to_string(&self.file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", self.file.display());
                return EXIT_BAD_INPUT;
            }
        };
        let text = if template::is_template(&self.file, &source) {
            match template::render(&self.file, &source, &values) {
                Ok(r) => r.text,
                Err(e) => {
                    eprintln!("{:?}", miette::Report::new(e));
                    return EXIT_BAD_INPUT;
                }
            }
        } else {
            eprintln!(
                "note: {} is not a template (no `.tera` name, no `{{%`): printed as it is",
                self.file.display()
            );
            source
        };
        match &self.output {
            None => {
                print!("{text}");
                EXIT_PASS
            }
            Some(out) => match std::fs::write(out, text) {
                Ok(()) => EXIT_PASS,
                Err(e) => {
                    eprintln!("error: cannot write {}: {e}", out.display());
                    EXIT_BAD_INPUT
                }
            },
        }
    }
}
