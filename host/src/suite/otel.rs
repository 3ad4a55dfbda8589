//! `[otel]`: where the run's spans are exported.

use super::diag::{Ctx, SuiteError};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Otel {
    pub exporter: Option<Spanned<Exporter>>,
    pub endpoint: Option<Spanned<String>>,
    pub sample_ratio: Option<Spanned<f64>>,
    #[serde(default)]
    pub resources: BTreeMap<String, String>,
    /// The OTLP receiver: "auto" (default), true, false.
    pub receive: Option<Spanned<RawReceive>>,
    pub app_quiet_ms: Option<Spanned<u64>>,
    pub app_flush_timeout_ms: Option<Spanned<u64>>,
    pub app_max_spans: Option<Spanned<u64>>,
}

/// `receive = "auto" | true | false`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawReceive {
    Bool(bool),
    Word(String),
}

/// `[otel] receive`: whether the scenarios run the OTLP receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReceiveMode {
    /// When the suite needs it (`otel_receiver::receiver_needed`).
    #[default]
    Auto,
    On,
    Off,
}

/// `[otel]`, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct OtelSpec {
    pub exporter: Exporter,
    /// Collector endpoint; always `Some` when `exporter` is `Otlp`.
    pub endpoint: Option<String>,
    /// Fraction of traces exported, 0.0..=1.0.
    pub sample_ratio: f64,
    /// Resource attributes added to every exported span.
    pub resources: BTreeMap<String, String>,
    /// `receive`: the OTLP receiver for the applications' spans.
    pub receive: ReceiveMode,
    /// `app_quiet_ms`: at a scenario's end, the flush is over once no span
    /// came for this long.
    pub app_quiet_ms: u64,
    /// `app_flush_timeout_ms`: ... or once this long passed (graceful stop included).
    pub app_flush_timeout_ms: u64,
    /// `app_max_spans`: application spans kept per run (past it, refused).
    pub app_max_spans: u64,
}

impl Default for OtelSpec {
    fn default() -> Self {
        OtelSpec {
            exporter: Exporter::Stdout,
            endpoint: None,
            sample_ratio: 1.0,
            resources: BTreeMap::new(),
            receive: ReceiveMode::Auto,
            app_quiet_ms: 300,
            app_flush_timeout_ms: 5000,
            app_max_spans: 1_000_000,
        }
    }
}

/// `[otel] exporter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Exporter {
    Stdout,
    Otlp,
    None,
}

impl Exporter {
    pub fn as_str(self) -> &'static str {
        match self {
            Exporter::Stdout => "stdout",
            Exporter::Otlp => "otlp",
            Exporter::None => "none",
        }
    }
}

impl Otel {
    /// An `otlp` exporter needs an endpoint, and only it takes one; the
    /// ratio is a fraction.
    pub fn check(&self, cx: &Ctx) -> Result<OtelSpec, SuiteError> {
        let d = OtelSpec::default();
        let exporter = self
            .exporter
            .as_ref()
            .map(|e| *e.get_ref())
            .unwrap_or(d.exporter);
        match (&self.exporter, &self.endpoint) {
            (Some(e), None) if *e.get_ref() == Exporter::Otlp => {
                return Err(cx.err(e.span(), "exporter \"otlp\" needs an `endpoint`", Some("add endpoint = \"http://localhost:4318\" (the collector's OTLP/HTTP address) to [otel]".into())));
            }
            (_, Some(ep)) if exporter != Exporter::Otlp => {
                return Err(cx.err(ep.span(), format!("`endpoint` is only used with exporter = \"otlp\"; the exporter here is \"{}\"", exporter.as_str()), Some("set exporter = \"otlp\", or remove `endpoint`".into())));
            }
            (_, Some(ep)) if ep.get_ref().trim().is_empty() => {
                return Err(cx.err(
                    ep.span(),
                    "`endpoint` is empty",
                    Some("write e.g. endpoint = \"http://localhost:4318\"".into()),
                ));
            }
            _ => {}
        }
        let sample_ratio = match &self.sample_ratio {
            Some(r) if !(0.0..=1.0).contains(r.get_ref()) => {
                return Err(cx.err(
                    r.span(),
                    format!(
                        "`sample_ratio` is {}, expected a number from 0.0 to 1.0",
                        r.get_ref()
                    ),
                    Some("1.0 exports every trace, 0.0 none".into()),
                ));
            }
            Some(r) => *r.get_ref(),
            None => d.sample_ratio,
        };
        let receive = match &self.receive {
            None => d.receive,
            Some(r) => match r.get_ref() {
                RawReceive::Bool(true) => ReceiveMode::On,
                RawReceive::Bool(false) => ReceiveMode::Off,
                RawReceive::Word(w) if w == "auto" => ReceiveMode::Auto,
                RawReceive::Word(w) => {
                    return Err(cx.err(
                        r.span(),
                        format!("`receive` is \"{w}\", expected \"auto\", true or false"),
                        Some("\"auto\" runs the OTLP receiver when a service sets otel = true or is an otel_collector".into()),
                    ))
                }
            },
        };
        let positive = |v: &Option<Spanned<u64>>, key: &str, default: u64| match v {
            Some(x) if *x.get_ref() == 0 => Err(cx.err(
                x.span(),
                format!("`{key}` is 0, expected at least 1"),
                Some(format!("the default is {default}")),
            )),
            Some(x) => Ok(*x.get_ref()),
            None => Ok(default),
        };
        let app_quiet_ms = positive(&self.app_quiet_ms, "app_quiet_ms", d.app_quiet_ms)?;
        let app_flush_timeout_ms = positive(
            &self.app_flush_timeout_ms,
            "app_flush_timeout_ms",
            d.app_flush_timeout_ms,
        )?;
        let app_max_spans = positive(&self.app_max_spans, "app_max_spans", d.app_max_spans)?;
        if app_quiet_ms > app_flush_timeout_ms {
            let span = self
                .app_quiet_ms
                .as_ref()
                .or(self.app_flush_timeout_ms.as_ref())
                .map_or(0..0, |x| x.span());
            return Err(cx.err(
                span,
                format!("`app_quiet_ms` ({app_quiet_ms}) is longer than `app_flush_timeout_ms` ({app_flush_timeout_ms})"),
                Some("the flush waits for a quiet spell of app_quiet_ms, bounded by app_flush_timeout_ms".into()),
            ));
        }
        Ok(OtelSpec {
            exporter,
            endpoint: self.endpoint.as_ref().map(|e| e.get_ref().clone()),
            sample_ratio,
            resources: self.resources.clone(),
            receive,
            app_quiet_ms,
            app_flush_timeout_ms,
            app_max_spans,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::testing::{fails, load_text, OK};

    #[test]
    fn otel_errors() {
        let (l, c, m, h) = fails(&format!("[otel]\nexporter = \"otlp\"\n{OK}"));
        assert_eq!((l, c), (2, 12), "{m}");
        assert!(
            m.contains("needs an `endpoint`") && h.contains("endpoint ="),
            "{m}"
        );
        let (l, c, m, h) = fails(&format!("[otel]\nexporter = \"otpl\"\n{OK}"));
        assert_eq!((l, c), (2, 12), "{m}");
        assert!(h.contains("did you mean \"otlp\""), "{h}");
        let (l, c, m, _) = fails(&format!("[otel]\nsample_ratio = 1.5\n{OK}"));
        assert_eq!((l, c), (2, 16), "{m}");
        let (l, _, m, _) = fails(&format!("[otel]\nendpoint = \"http://x\"\n{OK}"));
        assert_eq!(l, 2, "{m}");
        assert!(m.contains("only used with exporter = \"otlp\""), "{m}");
        let (l, c, m, _) = fails(&format!(
            "[otel]\nexporter = \"otlp\"\nendpoint = \" \"\n{OK}"
        ));
        assert_eq!((l, c), (3, 12), "{m}");
        assert!(m.contains("`endpoint` is empty"), "{m}");
        let s = load_text(&format!(
            "[otel]\nexporter = \"none\"\nsample_ratio = 0\n{OK}"
        ))
        .unwrap();
        assert_eq!(
            (s.otel.exporter, s.otel.sample_ratio),
            (Exporter::None, 0.0)
        );
    }

    #[test]
    fn receiver_keys() {
        let s = load_text(OK).unwrap();
        assert_eq!(
            (
                s.otel.receive,
                s.otel.app_quiet_ms,
                s.otel.app_flush_timeout_ms,
                s.otel.app_max_spans
            ),
            (ReceiveMode::Auto, 300, 5000, 1_000_000)
        );
        let s = load_text(&format!(
            "[otel]\nreceive = true\napp_quiet_ms = 50\napp_flush_timeout_ms = 900\napp_max_spans = 10\n{OK}"
        ))
        .unwrap();
        assert_eq!(
            (
                s.otel.receive,
                s.otel.app_quiet_ms,
                s.otel.app_flush_timeout_ms,
                s.otel.app_max_spans
            ),
            (ReceiveMode::On, 50, 900, 10)
        );
        let s = load_text(&format!("[otel]\nreceive = \"auto\"\n{OK}")).unwrap();
        assert_eq!(s.otel.receive, ReceiveMode::Auto);
        let s = load_text(&format!("[otel]\nreceive = false\n{OK}")).unwrap();
        assert_eq!(s.otel.receive, ReceiveMode::Off);
        let (l, c, m, _) = fails(&format!("[otel]\nreceive = \"yes\"\n{OK}"));
        assert_eq!((l, c), (2, 11), "{m}");
        assert!(m.contains("expected \"auto\", true or false"), "{m}");
        let (l, c, m, _) = fails(&format!("[otel]\napp_max_spans = 0\n{OK}"));
        assert_eq!((l, c), (2, 17), "{m}");
        let (l, c, m, _) = fails(&format!("[otel]\napp_quiet_ms = 6000\n{OK}"));
        assert_eq!((l, c), (2, 16), "{m}");
        assert!(
            m.contains("longer than `app_flush_timeout_ms` (5000)"),
            "{m}"
        );
    }
}
