//! Directories the user named (`--report-dir`, the folder of a `--record`
//! file), held as capabilities. Every file the host writes or reads on a
//! suite's behalf goes through a [`ConfinedDir`]: names that come from a
//! suite (report names, scenario names, artifact paths) are resolved by
//! cap-std inside that directory, so `..`, an absolute path or a symlink
//! pointing out cannot reach anything outside it, by construction rather
//! than by string checks.

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use std::io;
use std::path::{Path, PathBuf};

/// A directory opened once on a path the user gave; files are named
/// relative to it.
#[derive(Debug)]
pub struct ConfinedDir {
    dir: Dir,
    /// Where it is, for messages and for the paths we print.
    path: PathBuf,
}

impl ConfinedDir {
    /// Open `path`, creating it (and its parents) first. This is the only
    /// place ambient authority is used: the user named this directory.
    pub fn create(path: &Path) -> io::Result<ConfinedDir> {
        std::fs::create_dir_all(path).map_err(|e| named(path, e))?;
        Self::open(path)
    }

    /// Open an existing directory.
    pub fn open(path: &Path) -> io::Result<ConfinedDir> {
        let dir = Dir::open_ambient_dir(path, ambient_authority()).map_err(|e| named(path, e))?;
        Ok(ConfinedDir {
            dir,
            path: path.to_path_buf(),
        })
    }

    /// The folder holding `file` (the current directory for a bare name),
    /// and the file's own name: how a user-named file such as `--record
    /// run.json` is reached.
    pub fn parent_of(file: &Path) -> io::Result<(ConfinedDir, String)> {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{}: not a file name", file.display()),
                )
            })?
            .to_string();
        let parent = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Ok((ConfinedDir::open(parent)?, name))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where `name` is, for messages (never used to open it).
    pub fn display_path(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// A subdirectory (created if missing), itself confined.
    pub fn subdir(&self, rel: &str) -> io::Result<ConfinedDir> {
        self.dir
            .create_dir_all(rel)
            .map_err(|e| named(&self.display_path(rel), e))?;
        let dir = self
            .dir
            .open_dir(rel)
            .map_err(|e| named(&self.display_path(rel), e))?;
        Ok(ConfinedDir {
            dir,
            path: self.display_path(rel),
        })
    }

    /// Write (create or truncate) `name`; returns its path for messages.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> io::Result<PathBuf> {
        let path = self.display_path(name);
        self.dir.write(name, bytes).map_err(|e| named(&path, e))?;
        Ok(path)
    }

    /// Write `name` through a temporary file and a rename, so a reader (or
    /// a run killed mid-write) never sees half a file.
    pub fn write_atomic(&self, name: &str, bytes: impl AsRef<[u8]>) -> io::Result<PathBuf> {
        let tmp = format!("{name}.tmp");
        self.write(&tmp, bytes)?;
        let path = self.display_path(name);
        self.dir
            .rename(&tmp, &self.dir, name)
            .map_err(|e| named(&path, e))?;
        Ok(path)
    }

    pub fn read_to_string(&self, name: &str) -> io::Result<String> {
        self.dir
            .read_to_string(name)
            .map_err(|e| named(&self.display_path(name), e))
    }
}

/// The error, with the path it concerns in its message.
fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape_the_directory() {
        let root = tempfile::tempdir().unwrap();
        let inner = root.path().join("reports");
        let d = ConfinedDir::create(&inner).unwrap();
        for bad in [
            "../escaped.json",
            "/tmp/clnrm-escaped.json",
            "a/../../escaped.json",
        ] {
            assert!(d.write(bad, "x").is_err(), "{bad} must be refused");
        }
        assert!(!root.path().join("escaped.json").exists());
        assert!(!Path::new("/tmp/clnrm-escaped.json").exists());
        // A symlink planted inside cannot lead out either.
        std::os::unix::fs::symlink(root.path(), inner.join("out")).unwrap();
        assert!(d.write("out/escaped.json", "x").is_err());
        assert!(!root.path().join("escaped.json").exists());
    }

    #[test]
    fn writes_reads_subdirs_and_atomic_renames_inside() {
        let root = tempfile::tempdir().unwrap();
        let d = ConfinedDir::create(&root.path().join("new/dir")).unwrap();
        let p = d.write("a.txt", "hello").unwrap();
        assert_eq!(p, root.path().join("new/dir/a.txt"));
        assert_eq!(d.read_to_string("a.txt").unwrap(), "hello");
        let sub = d.subdir("artifacts/s1").unwrap();
        sub.write_atomic("f.tar", b"tar").unwrap();
        assert_eq!(
            std::fs::read(root.path().join("new/dir/artifacts/s1/f.tar")).unwrap(),
            b"tar"
        );
        assert!(!root.path().join("new/dir/artifacts/s1/f.tar.tmp").exists());
        let (parent, name) = ConfinedDir::parent_of(&root.path().join("new/dir/a.txt")).unwrap();
        assert_eq!(name, "a.txt");
        assert_eq!(parent.read_to_string(&name).unwrap(), "hello");
    }
}
