//! Where a service's image comes from: `pull = "missing" | "always" |
//! "never"` (Compose's spelling) and `build = "dir"` or `build = { context,
//! dockerfile, args, target }`, relative to the suite file.

use super::de::TableShape;
use super::diag::{nearest, Ctx, SuiteError};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// When the image is pulled from its registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullPolicy {
    /// Only when it is not present locally (the default, as in Compose).
    #[default]
    Missing,
    /// Every run: a newer image in the registry replaces the local one.
    Always,
    /// Never: the image must be present (or built).
    Never,
}

const PULL_VALUES: [&str; 3] = ["missing", "always", "never"];

impl PullPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Missing => "missing",
            PullPolicy::Always => "always",
            PullPolicy::Never => "never",
        }
    }

    pub(super) fn check(cx: &Ctx, v: &Spanned<String>) -> Result<PullPolicy, SuiteError> {
        match v.get_ref().as_str() {
            "missing" => Ok(PullPolicy::Missing),
            "always" => Ok(PullPolicy::Always),
            "never" => Ok(PullPolicy::Never),
            other => {
                let hint = match nearest(other, PULL_VALUES) {
                    Some(n) => {
                        format!("did you mean \"{n}\"? `pull` is one of: missing, always, never")
                    }
                    None => "`pull` is one of: missing (default), always, never".to_string(),
                };
                Err(cx.err(
                    v.span(),
                    format!("unknown `pull` policy `{other}`"),
                    Some(hint),
                ))
            }
        }
    }
}

/// `build = "dir"` or `build = { ... }`, as written.
#[derive(Debug)]
pub enum BuildDef {
    Dir(String),
    Table(BuildTable),
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildTable {
    pub context: Spanned<String>,
    /// Relative to the context; default `Dockerfile`.
    pub dockerfile: Option<Spanned<String>>,
    /// Build arguments (`ARG` in the Dockerfile).
    #[serde(default)]
    pub args: BTreeMap<String, String>,
    /// The stage of a multi-stage Dockerfile to stop at.
    pub target: Option<Spanned<String>>,
}

impl TableShape for BuildTable {
    const EXPECTING: &'static str = "a { context, dockerfile, args, target } table";
}

impl<'de> Deserialize<'de> for BuildDef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BuildDef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`build` to be a directory (\"dir\") or a { context, dockerfile, args, target } table")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<BuildDef, E> {
                Ok(BuildDef::Dir(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<BuildDef, A::Error> {
                BuildTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(BuildDef::Table)
            }
        }
        d.deserialize_any(V)
    }
}

/// A build, checked: the context exists, the Dockerfile is in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSpec {
    /// The context directory (the suite file's directory joined with what was written).
    pub context: PathBuf,
    /// The Dockerfile's path inside the context, `/`-separated.
    pub dockerfile: String,
    pub args: BTreeMap<String, String>,
    pub target: Option<String>,
}

impl BuildDef {
    /// Resolve against the suite file's directory; missing context or
    /// Dockerfile is an error at its position.
    pub(super) fn check(
        &self,
        cx: &Ctx,
        whole: &Spanned<BuildDef>,
    ) -> Result<BuildSpec, SuiteError> {
        let base = cx.path.parent().unwrap_or(Path::new("."));
        let (context, ctx_span, dockerfile, df_span, args, target) = match self {
            BuildDef::Dir(d) => (
                d.clone(),
                whole.span(),
                None,
                whole.span(),
                BTreeMap::new(),
                None,
            ),
            BuildDef::Table(t) => (
                t.context.get_ref().clone(),
                t.context.span(),
                t.dockerfile.as_ref().map(|d| d.get_ref().clone()),
                t.dockerfile.as_ref().map_or(whole.span(), |d| d.span()),
                t.args.clone(),
                t.target.as_ref().map(|t| t.get_ref().clone()),
            ),
        };
        if context.trim().is_empty() {
            return Err(cx.err(
                ctx_span,
                "the build context is empty",
                Some("name a directory relative to the suite file, e.g. build = \"app\"".into()),
            ));
        }
        let dir = base.join(&context);
        if !cx.files {
            // Replay: the context may not be on this machine; nothing is built.
        } else if !dir.is_dir() {
            return Err(cx.err(
                ctx_span,
                format!(
                    "build context `{context}` is not a directory ({} does not exist or is a file)",
                    dir.display()
                ),
                Some("the context is relative to the suite file's directory".into()),
            ));
        }
        let dockerfile = dockerfile.unwrap_or_else(|| "Dockerfile".to_string());
        if dockerfile.starts_with('/') || dockerfile.split('/').any(|p| p == "..") {
            return Err(cx.err(df_span, format!("`dockerfile` `{dockerfile}` is outside the context"), Some("give a path inside the context, e.g. \"Dockerfile\" or \"docker/app.Dockerfile\"".into())));
        }
        if cx.files && !dir.join(&dockerfile).is_file() {
            return Err(cx.err(
                df_span,
                format!("no `{dockerfile}` in the build context `{context}`"),
                Some("`dockerfile` is relative to the context (default: Dockerfile)".into()),
            ));
        }
        if let Some(t) = &target {
            if t.trim().is_empty() {
                let span = match self {
                    BuildDef::Table(b) => b.target.as_ref().map_or(whole.span(), |t| t.span()),
                    BuildDef::Dir(_) => whole.span(),
                };
                return Err(cx.err(
                    span,
                    "`target` is empty",
                    Some("name a stage (FROM ... AS <stage>) or leave `target` out".into()),
                ));
            }
        }
        Ok(BuildSpec {
            context: dir,
            dockerfile,
            args,
            target,
        })
    }
}
