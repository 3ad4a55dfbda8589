//! `clnrm run --watch`: run, then re-run the suites a change touches (the
//! suite file, a `build` context, a file it uploads or mounts), once the
//! changes have been quiet for [`DEBOUNCE`]. One interrupt handler serves
//! every run: Ctrl-C during a run cleans up and stops (exit 130), Ctrl-C
//! while waiting stops at once (nothing is running, nothing is left).

use super::run::{Args, Selection};
use super::EXIT_INTERRUPTED;
use crate::engine::Interrupt;
use notify::{RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long the files must stay quiet before a re-run (an editor's save is
/// several events).
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// What one suite file depends on.
struct Watched {
    /// The suite file as given on the command line.
    arg: String,
    file: PathBuf,
    /// Files (exact) and directories (anything below) it builds, uploads or mounts.
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl Watched {
    fn touched_by(&self, p: &Path) -> bool {
        p == self.file
            || self.files.iter().any(|f| f == p)
            || self.dirs.iter().any(|d| p.starts_with(d))
    }
}

fn absolute(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    })
}

/// Each suite file and what it depends on (read from the file as it is now;
/// a file that does not load depends on itself only).
fn watched(files: &[String]) -> Vec<Watched> {
    let mut out = Vec::new();
    for arg in files {
        let paths: Vec<PathBuf> = if arg.contains(['*', '?', '[']) {
            glob::glob(arg)
                .map(|g| g.filter_map(Result::ok).collect())
                .unwrap_or_default()
        } else {
            vec![PathBuf::from(arg)]
        };
        for p in paths {
            let mut w = Watched {
                arg: p.display().to_string(),
                file: absolute(&p),
                files: Vec::new(),
                dirs: Vec::new(),
            };
            if let Ok(s) = crate::suite::load(&p) {
                for svc in s.services.values() {
                    if let Some(b) = &svc.build {
                        w.dirs.push(absolute(&b.context));
                    }
                    let sources = svc
                        .options
                        .files
                        .values()
                        .chain(svc.options.mounts.iter().map(|m| &m.source));
                    for src in sources {
                        let a = absolute(src);
                        if a.is_dir() {
                            w.dirs.push(a);
                        } else {
                            w.files.push(a);
                        }
                    }
                }
            }
            out.push(w);
        }
    }
    out
}

/// Run everything, then wait for changes and re-run what they touch.
pub(super) async fn watch(args: &Args, selection: &Selection, interrupt: Interrupt) -> i32 {
    let mut code = args
        .run_files(&args.files, selection, interrupt.clone())
        .await;
    loop {
        if interrupt.is_set() {
            return EXIT_INTERRUPTED;
        }
        let suites = watched(&args.files);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PathBuf>();
        let mut watcher =
            match notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
                if let Ok(ev) = res {
                    if matches!(
                        ev.kind,
                        notify::EventKind::Create(_)
                            | notify::EventKind::Modify(_)
                            | notify::EventKind::Remove(_)
                    ) {
                        for p in ev.paths {
                            let _ = tx.send(p);
                        }
                    }
                }
            }) {
                Ok(w) => w,
                Err(e) => {
                    eprintln!("error: cannot watch files: {e}");
                    return super::EXIT_BAD_INPUT;
                }
            };
        // Files through their folder (editors save by renaming a new file
        // over the old one); folders with everything below them.
        let mut roots: BTreeSet<(PathBuf, bool)> = BTreeSet::new();
        for w in &suites {
            for f in std::iter::once(&w.file).chain(&w.files) {
                if let Some(parent) = f.parent() {
                    roots.insert((parent.to_path_buf(), false));
                }
            }
            for d in &w.dirs {
                roots.insert((d.clone(), true));
            }
        }
        for (root, recursive) in &roots {
            let mode = if *recursive {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            if let Err(e) = watcher.watch(root, mode) {
                eprintln!("warning: cannot watch {}: {e}", root.display());
            }
        }
        let count: usize = suites
            .iter()
            .map(|w| 1 + w.files.len() + w.dirs.len())
            .sum();
        println!(
            "── watching {count} path(s) of {} suite(s) (last run: exit {code}); Ctrl-C to stop ──",
            suites.len()
        );
        // The first change that touches a suite, then quiet for DEBOUNCE.
        let mut touched: BTreeSet<usize> = BTreeSet::new();
        let mut changed: BTreeSet<PathBuf> = BTreeSet::new();
        let mut note = |p: PathBuf, touched: &mut BTreeSet<usize>| {
            let hit: Vec<usize> = (0..suites.len())
                .filter(|&i| suites[i].touched_by(&p))
                .collect();
            if !hit.is_empty() {
                changed.insert(p);
            }
            touched.extend(hit);
        };
        while touched.is_empty() {
            tokio::select! {
                p = rx.recv() => match p {
                    Some(p) => note(p, &mut touched),
                    None => return code,
                },
                _ = interrupt.wait() => return EXIT_INTERRUPTED,
            }
        }
        loop {
            tokio::select! {
                p = tokio::time::timeout(DEBOUNCE, rx.recv()) => match p {
                    Ok(Some(p)) => note(p, &mut touched),
                    _ => break,
                },
                _ = interrupt.wait() => return EXIT_INTERRUPTED,
            }
        }
        drop(watcher);
        let files: Vec<String> = touched.iter().map(|&i| suites[i].arg.clone()).collect();
        let what: Vec<String> = changed.iter().map(|p| p.display().to_string()).collect();
        println!(
            "── changed: {} → re-running {} ──",
            what.join(", "),
            files.join(", ")
        );
        code = args.run_files(&files, selection, interrupt.clone()).await;
    }
}
