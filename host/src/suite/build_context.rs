//! What a `build` reads: the context's files less those `.dockerignore`
//! excludes (the Dockerfile and `.dockerignore` always go), the Dockerfile's
//! path, `args` and `target`. Hashing that names an unnamed build
//! (`clnrm-build:<hash>`) and decides whether a build is already done; the
//! same file list becomes the tar the engine builds from.

use super::image::BuildSpec;
use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};

/// The repository of images clnrm built for services that name no image.
const BUILD_REPO: &str = "clnrm-build";

/// `clnrm-build:<first 16 hex of the hash>`.
pub fn tag_for(hash: &str) -> String {
    format!("{BUILD_REPO}:{}", &hash[..hash.len().min(16)])
}

/// The files of one build, sorted by their path in the context.
pub struct BuildContext {
    /// (path inside the context, `/`-separated; path on disk)
    pub files: Vec<(String, PathBuf)>,
}

impl BuildContext {
    pub fn read(spec: &BuildSpec) -> io::Result<BuildContext> {
        let ignore = match std::fs::read_to_string(spec.context.join(".dockerignore")) {
            Ok(t) => Ignore::parse(&t),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ignore::default(),
            Err(e) => return Err(e),
        };
        let mut files = Vec::new();
        walk(&spec.context, "", &ignore, &spec.dockerfile, &mut files)?;
        files.sort();
        Ok(BuildContext { files })
    }

    /// The context as a tar archive (what the engine's build API takes).
    pub fn tar(&self) -> io::Result<Vec<u8>> {
        let mut b = tar::Builder::new(Vec::new());
        b.follow_symlinks(false);
        for (rel, abs) in &self.files {
            b.append_path_with_name(abs, rel)?;
        }
        b.into_inner()
    }
}

/// SHA-256 (hex) of everything the build reads.
pub fn hash(spec: &BuildSpec) -> io::Result<String> {
    let ctx = BuildContext::read(spec)?;
    let mut h = Sha256::new();
    let field = |h: &mut Sha256, b: &[u8]| {
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    };
    field(&mut h, spec.dockerfile.as_bytes());
    for (k, v) in &spec.args {
        field(&mut h, k.as_bytes());
        field(&mut h, v.as_bytes());
    }
    field(&mut h, spec.target.as_deref().unwrap_or("").as_bytes());
    for (rel, abs) in &ctx.files {
        field(&mut h, rel.as_bytes());
        let meta = std::fs::symlink_metadata(abs)?;
        if meta.file_type().is_symlink() {
            field(&mut h, b"L");
            field(
                &mut h,
                std::fs::read_link(abs)?.as_os_str().as_encoded_bytes(),
            );
        } else {
            use std::os::unix::fs::PermissionsExt;
            field(&mut h, &meta.permissions().mode().to_le_bytes());
            field(&mut h, &std::fs::read(abs)?);
        }
    }
    Ok(hex::encode(h.finalize()))
}

fn walk(
    dir: &Path,
    prefix: &str,
    ignore: &Ignore,
    dockerfile: &str,
    out: &mut Vec<(String, PathBuf)>,
) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let keep = rel == dockerfile || rel == ".dockerignore" || !ignore.excludes(&rel);
        let ft = e.file_type()?;
        if ft.is_dir() {
            // A directory is walked even when excluded: a `!` pattern may
            // bring back something inside it.
            walk(&e.path(), &rel, ignore, dockerfile, out)?;
        } else if keep {
            out.push((rel, e.path()));
        }
    }
    Ok(())
}

/// `.dockerignore`: one pattern per line (`#` comments), Go's
/// `filepath.Match` syntax plus `**`; `!` re-includes; the last match wins; a
/// pattern that matches a directory excludes everything under it.
#[derive(Default)]
struct Ignore {
    rules: Vec<(glob::Pattern, bool)>,
}

impl Ignore {
    fn parse(text: &str) -> Ignore {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (neg, pat) = match line.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, line),
            };
            let pat = pat.trim_start_matches('/').trim_end_matches('/');
            let pat = pat.strip_prefix("./").unwrap_or(pat);
            if let Ok(p) = glob::Pattern::new(pat) {
                rules.push((p, neg));
            }
        }
        Ignore { rules }
    }

    fn excludes(&self, rel: &str) -> bool {
        let opts = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        let mut excluded = false;
        for (p, neg) in &self.rules {
            // The path itself or one of its parent directories.
            let hit = p.matches_with(rel, opts)
                || rel
                    .match_indices('/')
                    .any(|(i, _)| p.matches_with(&rel[..i], opts));
            if hit {
                excluded = !neg;
            }
        }
        excluded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dir: &Path) -> BuildSpec {
        BuildSpec {
            context: dir.to_path_buf(),
            dockerfile: "Dockerfile".into(),
            args: Default::default(),
            target: None,
        }
    }

    #[test]
    fn dockerignore_rules() {
        let i = Ignore::parse("# c\n*.log\nbuild/\n!build/keep.txt\n**/secret\n/tmp\n");
        assert!(i.excludes("a.log"));
        assert!(!i.excludes("sub/a.log"), "`*` does not cross `/`");
        assert!(i.excludes("build/x"));
        assert!(!i.excludes("build/keep.txt"));
        assert!(i.excludes("a/b/secret"));
        assert!(i.excludes("secret"));
        assert!(i.excludes("tmp/x"));
        assert!(!i.excludes("src/main.rs"));
    }

    #[test]
    fn hash_follows_what_the_build_reads() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("Dockerfile"), "FROM x\n").unwrap();
        std::fs::write(d.path().join("app.txt"), "1").unwrap();
        std::fs::write(d.path().join(".dockerignore"), "*.log\n").unwrap();
        let h0 = hash(&spec(d.path())).unwrap();
        assert_eq!(h0, hash(&spec(d.path())).unwrap());
        // An ignored file changes nothing.
        std::fs::write(d.path().join("x.log"), "noise").unwrap();
        assert_eq!(h0, hash(&spec(d.path())).unwrap());
        // A context file, an arg, the target: each changes it.
        std::fs::write(d.path().join("app.txt"), "2").unwrap();
        let h1 = hash(&spec(d.path())).unwrap();
        assert_ne!(h0, h1);
        let mut s = spec(d.path());
        s.args.insert("V".into(), "1".into());
        assert_ne!(h1, hash(&s).unwrap());
        let mut s = spec(d.path());
        s.target = Some("test".into());
        assert_ne!(h1, hash(&s).unwrap());
        let files: Vec<String> = BuildContext::read(&spec(d.path()))
            .unwrap()
            .files
            .into_iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(files, [".dockerignore", "Dockerfile", "app.txt"]);
        assert!(tag_for(&h1).starts_with("clnrm-build:"));
        assert_eq!(tag_for(&h1).len(), "clnrm-build:".len() + 16);
    }
}
