//! Images being pulled or built: on a terminal, one bar per image (layers,
//! bytes); otherwise nothing while it runs and one summary line per image.

use crate::backend::ImageProgress;
use crate::engine::images::{ImageRecord, PreparedImages};
use std::collections::HashMap;
use std::sync::Mutex;

pub(super) struct Bars {
    multi: indicatif::MultiProgress,
    /// Per image: its bar and each layer's (current, total).
    bars: Mutex<HashMap<String, (indicatif::ProgressBar, HashMap<String, (u64, u64)>)>>,
}

/// Bars on a terminal (stderr), None otherwise.
pub(super) fn bars() -> Option<Bars> {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal().then(|| Bars {
        multi: indicatif::MultiProgress::new(),
        bars: Mutex::new(HashMap::new()),
    })
}

impl Bars {
    fn with_bar(
        &self,
        image: &str,
        f: impl FnOnce(&indicatif::ProgressBar, &mut HashMap<String, (u64, u64)>),
    ) {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        let (bar, layers) = bars.entry(image.to_string()).or_insert_with(|| {
            let bar = self.multi.add(indicatif::ProgressBar::new(0));
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} {prefix} {bytes}/{total_bytes} {msg}",
            ) {
                bar.set_style(style);
            }
            bar.set_prefix(image.to_string());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            (bar, HashMap::new())
        });
        f(bar, layers);
    }

    pub(super) fn finish(&self) {
        for (bar, _) in self.bars.lock().unwrap_or_else(|e| e.into_inner()).values() {
            bar.finish_and_clear();
        }
    }
}

impl ImageProgress for Bars {
    fn layer(&self, image: &str, layer: &str, current: u64, total: u64) {
        self.with_bar(image, |bar, layers| {
            layers.insert(layer.to_string(), (current, total));
            let (cur, tot) = layers
                .values()
                .fold((0, 0), |(c, t), (lc, lt)| (c + lc, t + lt));
            bar.set_length(tot);
            bar.set_position(cur);
            bar.set_message(format!("{} layer(s)", layers.len()));
        });
    }

    fn line(&self, image: &str, line: &str) {
        self.with_bar(image, |bar, _| bar.set_message(line.to_string()));
    }
}

/// One line per image pulled or built (or found built and unchanged); an
/// image simply present says nothing. `all`: every image (`clnrm pull`).
pub(super) fn summary(images: &PreparedImages, all: bool) -> Vec<String> {
    images
        .records
        .iter()
        .filter(|r| all || r.built || !r.cached)
        .map(line)
        .collect()
}

fn line(r: &ImageRecord) -> String {
    let ms = r.ended.saturating_duration_since(r.started).as_millis();
    let id = r.id.strip_prefix("sha256:").unwrap_or(&r.id);
    let id = &id[..id.len().min(12)];
    match (r.built, r.cached) {
        (true, true) => format!(
            "image {}: unchanged since built, not rebuilt ({id}, {ms} ms)",
            r.reference
        ),
        (true, false) => format!("image {}: built ({id}, {ms} ms)", r.reference),
        (false, true) => format!(
            "image {}: present, nothing pulled ({id}, {ms} ms)",
            r.reference
        ),
        (false, _) => format!(
            "image {}: pulled {} ({id}, {ms} ms)",
            r.reference,
            human_bytes(r.bytes)
        ),
    }
}

fn human_bytes(b: u64) -> String {
    match b {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
