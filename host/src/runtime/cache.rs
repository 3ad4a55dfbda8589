//! Precompiled plugin artifacts on disk, keyed by the component's content hash
//! and the engine's compatibility hash, so a second start does not recompile
//! (≈ 0.1 ms to load instead of ≈ 90 ms to compile).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::Engine;

pub struct Cache {
    dir: Option<PathBuf>,
}

impl Cache {
    /// `plugins/` under clnrm's cache dir; None disables caching.
    pub fn new() -> Cache {
        Cache {
            dir: crate::user_dirs::cache_dir().map(|d| d.join("plugins")),
        }
    }

    /// Load `bytes` as a component, from the cache when possible.
    /// Returns the component and whether it came from the cache.
    ///
    /// `sha256` is the digest of `bytes`, which the caller has (a plugin's
    /// digest is reported too: hashed once).
    pub fn component_with_digest(
        &self,
        engine: &Engine,
        bytes: &[u8],
        sha256: &[u8; 32],
    ) -> wasmtime::Result<(Component, bool)> {
        let Some(path) = self.dir.as_ref().map(|d| d.join(key(engine, sha256))) else {
            return Ok((Component::new(engine, bytes)?, false));
        };
        if path.exists() {
            // SAFETY: the file was written by `Component::serialize` of this
            // engine configuration (the key includes its compatibility hash),
            // in a directory only this user writes.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(c) => return Ok((c, true)),
                Err(e) => tracing::debug!("ignoring unusable cache entry {}: {e}", path.display()),
            }
        }
        let component = Component::new(engine, bytes)?;
        if let Err(e) = store(&path, &component) {
            tracing::debug!("could not cache compiled plugin at {}: {e}", path.display());
        }
        Ok((component, false))
    }
}

impl Cache {
    /// The fault types or tables the plugin file at `path` handled when it
    /// was last loaded, if that file is unchanged since (same path, size,
    /// mtime, ctime and inode). Start-up skips, on this hint, first-party
    /// plugins that handle none of a suite's faults: each load is a read, a
    /// hash, a deserialize and a `describe` (≈ 3 ms of a 10 ms `validate`).
    pub fn handles_hint(&self, path: &Path) -> Option<Vec<String>> {
        let text = std::fs::read_to_string(self.hint_path(path)?).ok()?;
        Some(text.lines().map(str::to_string).collect())
    }

    /// Remember what the plugin file at `path` handles (see [`Cache::handles_hint`]).
    pub fn remember_handles(&self, path: &Path, handles: &[String]) {
        let Some(file) = self.hint_path(path) else {
            return;
        };
        let text = handles.join("\n");
        if std::fs::read_to_string(&file).is_ok_and(|t| t == text) {
            return;
        }
        if let Err(e) = write_atomically(&file, text.as_bytes()) {
            tracing::debug!("could not remember {}'s handles: {e}", path.display());
        }
    }

    fn hint_path(&self, path: &Path) -> Option<PathBuf> {
        use std::os::unix::fs::MetadataExt;
        let dir = self.dir.as_ref()?;
        let path = path.canonicalize().ok()?;
        let m = std::fs::metadata(&path).ok()?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (
            path,
            m.len(),
            m.ino(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
        )
            .hash(&mut h);
        Some(dir.join(format!(
            "handles-{:016x}-{}",
            h.finish(),
            env!("CARGO_PKG_VERSION")
        )))
    }
}

fn key(engine: &Engine, sha256: &[u8; 32]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!(
        "{}-{:016x}-{}.cwasm",
        hex::encode(&sha256[..16]),
        h.finish(),
        env!("CARGO_PKG_VERSION")
    )
}

fn store(path: &Path, component: &Component) -> wasmtime::Result<()> {
    Ok(write_atomically(path, &component.serialize()?)?)
}

/// Write atomically: a concurrent run never reads half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("cache path has no parent"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}",
        std::process::id(),
        path.file_name().and_then(|f| f.to_str()).unwrap_or("tmp")
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
