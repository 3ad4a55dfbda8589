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
}

impl Default for OtelSpec {
    fn default() -> Self {
        OtelSpec {
            exporter: Exporter::Stdout,
            endpoint: None,
            sample_ratio: 1.0,
            resources: BTreeMap::new(),
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
        Ok(OtelSpec {
            exporter,
            endpoint: self.endpoint.as_ref().map(|e| e.get_ref().clone()),
            sample_ratio,
            resources: self.resources.clone(),
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
}
