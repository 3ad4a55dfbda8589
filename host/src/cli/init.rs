//! `clnrm init [DIR] [--template T]`: write a starter suite that passes as
//! written: a service, a scenario with one fault, and the cleanup and span
//! expectations the seed calls critical for that family of faults.

use super::{EXIT_BAD_INPUT, EXIT_PASS};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Write a starter suite into DIR (default: the current directory).
///
/// The suite is `DIR/<template>.clnrm.toml`; it passes as written on a
/// machine where `clnrm doctor` is all ✓. An existing file is never
/// overwritten.
///
/// Examples:
///   clnrm init                                 # ./container.clnrm.toml
///   clnrm init suites --template timeout       # suites/timeout.clnrm.toml
///   clnrm run suites/timeout.clnrm.toml
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Where the suite is written (created if missing).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Which family of faults the suite starts with.
    #[arg(long, short, value_enum, default_value = "container")]
    template: Template,
    /// The suite's `[meta] name` (its report base name); default
    /// `<template>_chaos`.
    #[arg(long)]
    name: Option<String>,
}

/// The seed's five families. (`app`, a service of your own, is added with
/// the own-service example: one variant and one file in host/templates/init.)
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    /// A container SIGKILLed mid-step (kill_container), cleanup proven.
    Container,
    /// A partition and its recovery (network_partition).
    Network,
    /// Memory pressure under a limit: a degraded pass (memory_pressure).
    Resource,
    /// A step killed at its 1 s bound, cleanup after it (timeout_ms).
    Timeout,
    /// Three containers killed at once, cleaned up in parallel (concurrent_faults).
    Concurrent,
}

impl Template {
    #[cfg(test)]
    pub const ALL: [Template; 5] = [
        Template::Container,
        Template::Network,
        Template::Resource,
        Template::Timeout,
        Template::Concurrent,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Template::Container => "container",
            Template::Network => "network",
            Template::Resource => "resource",
            Template::Timeout => "timeout",
            Template::Concurrent => "concurrent",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Template::Container => include_str!("../../templates/init/container.clnrm.toml"),
            Template::Network => include_str!("../../templates/init/network.clnrm.toml"),
            Template::Resource => include_str!("../../templates/init/resource.clnrm.toml"),
            Template::Timeout => include_str!("../../templates/init/timeout.clnrm.toml"),
            Template::Concurrent => include_str!("../../templates/init/concurrent.clnrm.toml"),
        }
    }
}

/// The suite text of `template`, named `name`, to be written at `file`.
pub fn render(template: Template, name: &str, file: &Path) -> String {
    template
        .text()
        .replace("{{name}}", name)
        .replace("{{file}}", &file.display().to_string())
}

impl Args {
    pub async fn exec(self) -> i32 {
        let name = self
            .name
            .unwrap_or_else(|| format!("{}_chaos", self.template.name()));
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            eprintln!("error: --name `{name}`: use letters, digits, `_`, `-` and `.` (it names the report files)");
            return EXIT_BAD_INPUT;
        }
        if let Err(e) = std::fs::create_dir_all(&self.dir) {
            eprintln!("error: cannot create {}: {e}", self.dir.display());
            return EXIT_BAD_INPUT;
        }
        let file = self
            .dir
            .join(format!("{}.clnrm.toml", self.template.name()));
        let text = render(self.template, &name, &file);
        // create_new: an existing file (or one appearing meanwhile) is kept.
        let mut f = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&file)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                eprintln!(
                    "error: {} already exists; clnrm init never overwrites a file",
                    file.display()
                );
                eprintln!("  help: choose another DIR, or remove the file first");
                return EXIT_BAD_INPUT;
            }
            Err(e) => {
                eprintln!("error: cannot create {}: {e}", file.display());
                return EXIT_BAD_INPUT;
            }
        };
        if let Err(e) = f.write_all(text.as_bytes()) {
            eprintln!("error: cannot write {}: {e}", file.display());
            return EXIT_BAD_INPUT;
        }
        println!(
            "wrote {} (template {})",
            file.display(),
            self.template.name()
        );
        println!("next: clnrm run {}", file.display());
        EXIT_PASS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every template loads as a suite (the integration test runs them).
    #[test]
    fn every_template_loads() {
        for t in Template::ALL {
            let file = PathBuf::from(format!("{}.clnrm.toml", t.name()));
            let text = render(t, "starter", &file);
            assert!(!text.contains("{{"), "{}", t.name());
            let s = crate::suite::load_str(&file, text)
                .unwrap_or_else(|e| panic!("{}: {e:?}", t.name()));
            assert_eq!(s.name, "starter");
            assert_eq!(s.scenarios.len(), 1, "{}", t.name());
            assert!(!s.expectations.is_empty(), "{}", t.name());
        }
    }
}
