//! Where things are: the workspace root, the target dir, the cargo to call.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};

use crate::proc::{Cmd, Failure};

pub struct Workspace {
    pub root: PathBuf,
    pub target_dir: PathBuf,
    /// The cargo that runs us (`$CARGO`), so nested builds use the same toolchain.
    cargo: OsString,
}

impl Workspace {
    pub fn locate() -> Result<Self, Failure> {
        // xtask/ sits directly under the workspace root.
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf)
            .filter(|r| r.join("Cargo.toml").is_file())
            .ok_or_else(|| {
                Failure::step(format!(
                    "workspace root not found above {} (was the checkout moved? rebuild xtask)",
                    env!("CARGO_MANIFEST_DIR")
                ))
            })?;
        let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if !dir.is_empty() => {
                let dir = PathBuf::from(dir);
                if dir.is_absolute() {
                    dir
                } else {
                    std::env::current_dir()
                        .unwrap_or_else(|_| root.clone())
                        .join(dir)
                }
            }
            _ => root.join("target"),
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        Ok(Workspace {
            root,
            target_dir,
            cargo,
        })
    }

    /// `cargo` in the workspace root.
    pub fn cargo(&self) -> Cmd {
        Cmd::new(&self.cargo, "cargo").current_dir(&self.root)
    }

    /// Any program, run from the workspace root, shown relative to it.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Cmd {
        let program = program.as_ref();
        let shown = self.display(Path::new(program));
        Cmd::new(program, &shown).current_dir(&self.root)
    }

    /// A path as the user would type it from the workspace root.
    pub fn display(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }

    /// `tests/chaos/*.clnrm.toml`, sorted.
    pub fn chaos_suites(&self) -> Result<Vec<PathBuf>, Failure> {
        let dir = self.root.join("tests").join("chaos");
        let entries = fs::read_dir(&dir)
            .map_err(|e| Failure::step(format!("cannot read {}: {e}", self.display(&dir))))?;
        let mut suites: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .and_then(OsStr::to_str)
                        .is_some_and(|n| n.ends_with(".clnrm.toml"))
            })
            .collect();
        suites.sort();
        Ok(suites)
    }
}
