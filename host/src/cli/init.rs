//! `clnrm init [DIR] [--template T]`: write a starter suite that passes as
//! written: a service, a scenario with one fault, and the cleanup and span
//! expectations the seed calls critical for that family of faults.

use super::{EXIT_BAD_INPUT, EXIT_PASS};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Write a starter suite into DIR (default: the current directory).
///
/// The suite is `DIR/<template>.clnrm.toml` (`app` also writes the service,
/// `DIR/app/`); it passes as written on a machine where `clnrm doctor` is
/// all ✓. An existing file is never overwritten.
///
/// Examples:
///   clnrm init                                 # ./container.clnrm.toml
///   clnrm init suites --template timeout       # suites/timeout.clnrm.toml
///   clnrm run suites/timeout.clnrm.toml
///   clnrm init svc --template app              # svc/app.clnrm.toml + svc/app/
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

/// The seed's five families, and `app`: a service of your own.
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
    /// A service of your own (built from `app/`, ready over HTTP), its
    /// OpenTelemetry spans received and checked under clnrm's; then killed.
    App,
}

/// The files of the `app` template besides the suite: (path under DIR,
/// text, executable).
const APP_FILES: [(&str, &str, bool); 5] = [
    ("app/Dockerfile", include_str!("../../templates/init/app/Dockerfile"), false),
    ("app/otlp.sh", include_str!("../../templates/init/app/otlp.sh"), false),
    ("app/serve.sh", include_str!("../../templates/init/app/serve.sh"), true),
    ("app/hello.cgi", include_str!("../../templates/init/app/hello.cgi"), true),
    ("app/healthz", include_str!("../../templates/init/app/healthz"), false),
];

impl Template {
    #[cfg(test)]
    pub const ALL: [Template; 6] = [
        Template::Container,
        Template::Network,
        Template::Resource,
        Template::Timeout,
        Template::Concurrent,
        Template::App,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Template::Container => "container",
            Template::Network => "network",
            Template::Resource => "resource",
            Template::Timeout => "timeout",
            Template::Concurrent => "concurrent",
            Template::App => "app",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Template::Container => include_str!("../../templates/init/container.clnrm.toml"),
            Template::Network => include_str!("../../templates/init/network.clnrm.toml"),
            Template::Resource => include_str!("../../templates/init/resource.clnrm.toml"),
            Template::Timeout => include_str!("../../templates/init/timeout.clnrm.toml"),
            Template::Concurrent => include_str!("../../templates/init/concurrent.clnrm.toml"),
            Template::App => include_str!("../../templates/init/app.clnrm.toml"),
        }
    }

    /// Files written next to the suite (paths relative to DIR).
    fn extra_files(self) -> &'static [(&'static str, &'static str, bool)] {
        match self {
            Template::App => &APP_FILES,
            _ => &[],
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
        let mut files = vec![(file.clone(), render(self.template, &name, &file), false)];
        for (rel, text, exec) in self.template.extra_files() {
            files.push((self.dir.join(rel), text.to_string(), *exec));
        }
        // Nothing is written when any file exists: a half-written template is no starter.
        if let Some((existing, ..)) = files.iter().find(|(f, ..)| f.exists()) {
            return already_exists(existing);
        }
        for (path, text, exec) in &files {
            if let Err(code) = write_new(path, text, *exec) {
                return code;
            }
        }
        println!(
            "wrote {} (template {})",
            file.display(),
            self.template.name()
        );
        for (path, ..) in &files[1..] {
            println!("wrote {}", path.display());
        }
        println!("next: clnrm run {}", file.display());
        EXIT_PASS
    }
}

fn already_exists(file: &Path) -> i32 {
    eprintln!(
        "error: {} already exists; clnrm init never overwrites a file",
        file.display()
    );
    eprintln!("  help: choose another DIR, or remove the file first");
    EXIT_BAD_INPUT
}

/// Create `path` (and its directory) with `text`; `exec`: mode 0755.
fn write_new(path: &Path, text: &str, exec: bool) -> Result<(), i32> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("error: cannot create {}: {e}", dir.display());
            return Err(EXIT_BAD_INPUT);
        }
    }
    // create_new: a file appearing since the check above is kept too.
    let mut f = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if exec { 0o755 } else { 0o644 })
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(already_exists(path))
        }
        Err(e) => {
            eprintln!("error: cannot create {}: {e}", path.display());
            return Err(EXIT_BAD_INPUT);
        }
    };
    f.write_all(text.as_bytes()).map_err(|e| {
        eprintln!("error: cannot write {}: {e}", path.display());
        EXIT_BAD_INPUT
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every template, with its files written, loads as a suite (the
    /// integration test runs them).
    #[test]
    fn every_template_loads() {
        let dir = tempfile::tempdir().unwrap();
        for t in Template::ALL {
            let file = dir.path().join(format!("{}.clnrm.toml", t.name()));
            let text = render(t, "starter", &file);
            assert!(!text.contains("{{"), "{}", t.name());
            for (rel, text, exec) in t.extra_files() {
                write_new(&dir.path().join(rel), text, *exec).unwrap();
            }
            let s = crate::suite::load_str(&file, text)
                .unwrap_or_else(|e| panic!("{}: {e:?}", t.name()));
            assert_eq!(s.name, "starter");
            let scenarios = if t == Template::App { 2 } else { 1 };
            assert_eq!(s.scenarios.len(), scenarios, "{}", t.name());
            assert!(!s.expectations.is_empty(), "{}", t.name());
        }
    }

    /// The app's scripts are executable in the image only if written so.
    #[test]
    fn app_scripts_are_written_executable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (rel, text, exec) in Template::App.extra_files() {
            let path = dir.path().join(rel);
            write_new(&path, text, *exec).unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode & 0o111 != 0, *exec, "{rel}: mode {mode:o}");
        }
        assert!(Template::App.extra_files().iter().any(|(_, _, x)| *x));
    }
}
