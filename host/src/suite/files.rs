//! What a service gets besides its image and command: `files` copied in
//! before it starts, bind `mounts`, and Compose's `working_dir`-like keys
//! (`workdir`, `user`, `hostname`, `network_aliases`). Host paths are
//! relative to the suite file and must exist when it loads.

use super::diag::{Ctx, SuiteError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// One `mounts` entry as written.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMount {
    pub source: Spanned<String>,
    pub target: Spanned<String>,
    #[serde(default)]
    pub read_only: bool,
}

/// A bind mount, its source resolved against the suite's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindMount {
    pub source: PathBuf,
    pub target: String,
    pub read_only: bool,
}

/// The container options of this file, resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerOptions {
    /// Container path → host path (a file or a folder), uploaded before start.
    pub files: BTreeMap<String, PathBuf>,
    pub mounts: Vec<BindMount>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    /// Extra names on the scenario's network (the service id always is one).
    pub network_aliases: Vec<String>,
    /// `name:address` entries for `/etc/hosts` (not a suite key: the engine
    /// points `otel_collector` services at the OTLP receiver this way).
    pub extra_hosts: Vec<String>,
}

/// The raw keys, borrowed from the service table.
pub struct Raw<'a> {
    pub files: &'a BTreeMap<String, Spanned<String>>,
    pub mounts: &'a [RawMount],
    pub workdir: Option<&'a Spanned<String>>,
    pub user: Option<&'a String>,
    pub hostname: Option<&'a Spanned<String>>,
    pub network_aliases: &'a [String],
}

pub fn check(cx: &Ctx, raw: Raw<'_>) -> Result<ContainerOptions, SuiteError> {
    let base = cx.path.parent().unwrap_or(Path::new(""));
    let mut files = BTreeMap::new();
    for (target, source) in raw.files {
        if !target.starts_with('/') {
            return Err(cx.err(
                source.span(),
                format!("`files`: container path `{target}` is not absolute"),
                Some("files = { \"/etc/app/config.toml\" = \"fixtures/config.toml\" }".into()),
            ));
        }
        files.insert(target.clone(), existing(cx, base, source, "files")?);
    }
    let mut mounts = Vec::new();
    for m in raw.mounts {
        if !m.target.get_ref().starts_with('/') {
            return Err(cx.err(
                m.target.span(),
                format!("`mounts`: target `{}` is not absolute", m.target.get_ref()),
                Some("the path inside the container, e.g. target = \"/data\"".into()),
            ));
        }
        mounts.push(BindMount {
            source: existing(cx, base, &m.source, "mounts")?,
            target: m.target.get_ref().clone(),
            read_only: m.read_only,
        });
    }
    if let Some(w) = raw.workdir {
        if !w.get_ref().starts_with('/') {
            return Err(cx.err(
                w.span(),
                format!("`workdir` `{}` is not absolute", w.get_ref()),
                Some("e.g. workdir = \"/app\"".into()),
            ));
        }
    }
    if let Some(h) = raw.hostname {
        let ok = !h.get_ref().is_empty()
            && h.get_ref().len() <= 63
            && h.get_ref()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !ok {
            return Err(cx.err(
                h.span(),
                format!("`hostname` `{}` is not a host name", h.get_ref()),
                Some("letters, digits, '-' and '.', at most 63 characters".into()),
            ));
        }
    }
    Ok(ContainerOptions {
        files,
        mounts,
        workdir: raw.workdir.map(|w| w.get_ref().clone()),
        user: raw.user.cloned(),
        hostname: raw.hostname.map(|h| h.get_ref().clone()),
        network_aliases: raw.network_aliases.to_vec(),
        extra_hosts: Vec::new(),
    })
}

/// A host path relative to the suite file, which must exist, made absolute.
fn existing(
    cx: &Ctx,
    base: &Path,
    source: &Spanned<String>,
    key: &str,
) -> Result<PathBuf, SuiteError> {
    let p = base.join(source.get_ref());
    match std::fs::canonicalize(&p) {
        Ok(abs) => Ok(abs),
        Err(e) => Err(cx.err(
            source.span(),
            format!("`{key}`: source `{}` cannot be used: {e}", p.display()),
            Some("host paths are relative to the suite file's folder".into()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::suite::testing::OK;
    use crate::suite::{load_str, SuiteError};

    /// Loads the suite from a real folder, so relative paths resolve.
    fn load_in(dir: &std::path::Path, keys: &str) -> Result<crate::suite::Suite, SuiteError> {
        let text = OK.replace(
            "image = \"clnrm-base:latest\"",
            &format!("image = \"clnrm-base:latest\"\n{keys}"),
        );
        let path = dir.join("s.clnrm.toml");
        std::fs::write(&path, &text).unwrap();
        load_str(&path, text)
    }

    #[test]
    fn files_and_mounts_resolve_against_the_suite_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("fixtures")).unwrap();
        std::fs::write(dir.path().join("fixtures/config.toml"), "x = 1").unwrap();
        let s = load_in(
            dir.path(),
            "files = { \"/etc/app/config.toml\" = \"fixtures/config.toml\" }\n\
             mounts = [{ source = \"fixtures\", target = \"/data\", read_only = true }]\n\
             workdir = \"/data\"\nuser = \"1000:1000\"\nhostname = \"app-1\"\n\
             network_aliases = [\"api\", \"api.local\"]",
        )
        .unwrap();
        let o = &s.services["app"].options;
        let root = dir.path().canonicalize().unwrap();
        assert_eq!(
            o.files["/etc/app/config.toml"],
            root.join("fixtures/config.toml")
        );
        assert_eq!(o.mounts[0].source, root.join("fixtures"));
        assert_eq!(
            (o.mounts[0].target.as_str(), o.mounts[0].read_only),
            ("/data", true)
        );
        assert_eq!(o.workdir.as_deref(), Some("/data"));
        assert_eq!(o.user.as_deref(), Some("1000:1000"));
        assert_eq!(o.hostname.as_deref(), Some("app-1"));
        assert_eq!(o.network_aliases, ["api", "api.local"]);
    }

    #[test]
    fn a_missing_source_is_an_error_at_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let e = load_in(dir.path(), "files = { \"/etc/a\" = \"nope.toml\" }").unwrap_err();
        assert_eq!((e.line, e.col), (6, 22), "{e}");
        assert!(
            e.message.contains("nope.toml") && e.message.contains("`files`"),
            "{e}"
        );
        assert!(e.help.unwrap().contains("relative to the suite file"));
        let e = load_in(
            dir.path(),
            "mounts = [\n  { source = \"data\", target = \"/data\" },\n]",
        )
        .unwrap_err();
        assert_eq!((e.line, e.col), (7, 14), "{e}");
        assert!(e.message.contains("`mounts`"), "{e}");
        let e = load_in(dir.path(), "files = { \"etc/a\" = \".\" }").unwrap_err();
        assert!(e.message.contains("not absolute"), "{e}");
        let e = load_in(
            dir.path(),
            "mounts = [{ source = \".\", target = \"data\" }]",
        )
        .unwrap_err();
        assert!(e.message.contains("not absolute"), "{e}");
        let e = load_in(dir.path(), "mounts = [{ source = \".\", targte = \"/d\" }]").unwrap_err();
        assert!(e.message.contains("unknown field `targte`"), "{e}");
        let e = load_in(dir.path(), "workdir = \"app\"").unwrap_err();
        assert!(e.message.contains("not absolute"), "{e}");
        let e = load_in(dir.path(), "hostname = \"a b\"").unwrap_err();
        assert!(e.message.contains("not a host name"), "{e}");
        let e = load_in(dir.path(), "network_aliases = \"api\"").unwrap_err();
        assert!(e.message.contains("invalid type"), "{e}");
        let e = load_in(dir.path(), "files = [\"a\"]").unwrap_err();
        assert!(e.message.contains("invalid type"), "{e}");
        let e = load_in(dir.path(), "user = 1000").unwrap_err();
        assert!(e.message.contains("invalid type"), "{e}");
    }
}
