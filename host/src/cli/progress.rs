//! `clnrm run`'s progress bar.

use crate::engine;

/// A one-line progress bar on stderr when it is a terminal (indicatif hides
/// itself otherwise, so CI logs stay clean).
pub(super) fn progress_bar() -> Option<engine::Progress> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    // One bar per suite, cleared before the suite's summary is printed.
    let current: std::sync::Mutex<Option<indicatif::ProgressBar>> = std::sync::Mutex::new(None);
    Some(Box::new(
        move |suite: &str, scenario: &str, i: usize, n: usize| {
            let mut slot = current.lock().unwrap_or_else(|e| e.into_inner());
            if i >= n {
                if let Some(bar) = slot.take() {
                    bar.finish_and_clear();
                }
                return;
            }
            let bar = slot.get_or_insert_with(|| {
                let bar = indicatif::ProgressBar::new(n as u64);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{spinner} [{pos}/{len}] {elapsed} {msg}",
                ) {
                    bar.set_style(style);
                }
                bar.enable_steady_tick(std::time::Duration::from_millis(120));
                bar
            });
            bar.set_position(i as u64);
            bar.set_message(format!("{suite}: {scenario}"));
        },
    ))
}
