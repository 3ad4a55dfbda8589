//! examples/shop's services, built for the suite's images: `cargo build --target
//! x86_64-unknown-linux-musl` in the example's own workspace (target dir `target/shop`), the
//! static binaries copied to `examples/shop/image/bin/`, where the Dockerfiles of
//! `shop.clnrm.toml` pick them up (clnrm-base has no libc, hence musl).
//!
//! Cached: when both binaries in `image/bin/` are newer than every source of the example
//! (its manifests, lock file and the services' folders), cargo is not even started. A binary
//! that comes out of cargo unchanged is not rewritten, only touched, so clnrm's build hash of
//! the image context stays the same and the images are not rebuilt.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use crate::proc::{step, Failure};
use crate::toolchain;
use crate::workspace::Workspace;

pub const TARGET: &str = "x86_64-unknown-linux-musl";
/// The example's services: each a member folder and a binary of the same name.
pub const SERVICES: &[&str] = &["api", "store"];
/// The example's library members (no binary, no image): what the services share.
pub const LIBS: &[&str] = &["telemetry"];

pub fn dir(ws: &Workspace) -> PathBuf {
    ws.root.join("examples").join("shop")
}

/// The suite that `cargo xtask chaos` runs with tests/chaos/*.
pub fn suite(ws: &Workspace) -> PathBuf {
    dir(ws).join("shop.clnrm.toml")
}

/// Build the binaries unless they are up to date; say which, and how long it took.
pub fn build(ws: &Workspace) -> Result<(), Failure> {
    let started = Instant::now();
    let shop = dir(ws);
    let bin = shop.join("image").join("bin");
    let newest_source = newest_source(&shop)
        .map_err(|e| Failure::step(format!("cannot read {}: {e}", ws.display(&shop))))?;
    let oldest_binary = SERVICES
        .iter()
        .map(|s| modified(&bin.join(s)).ok())
        .collect::<Option<Vec<_>>>()
        .and_then(|times| times.into_iter().min());
    if oldest_binary.is_some_and(|built| built >= newest_source) {
        step(format_args!(
            "shop: {} up to date in {} (build skipped, {} ms)",
            SERVICES.join(", "),
            ws.display(&bin),
            started.elapsed().as_millis()
        ));
        return Ok(());
    }

    toolchain::ensure_target(ws, TARGET)?;
    let target_dir = ws.target_dir.join("shop");
    step(format_args!(
        "shop: building {} for {TARGET} ...",
        SERVICES.join(", ")
    ));
    let compile = Instant::now();
    ws.cargo()
        .current_dir(&shop)
        .args(["build", "--locked", "--target", TARGET, "--target-dir"])
        .arg(&target_dir)
        .run_checked()?;
    let compiled = compile.elapsed();

    fs::create_dir_all(&bin)
        .map_err(|e| Failure::step(format!("cannot create {}: {e}", ws.display(&bin))))?;
    let mut copied = Vec::new();
    for service in SERVICES {
        let from = target_dir.join(TARGET).join("debug").join(service);
        let to = bin.join(service);
        if install(&from, &to).map_err(|e| {
            Failure::step(format!(
                "cannot copy {} to {}: {e}",
                ws.display(&from),
                ws.display(&to)
            ))
        })? {
            copied.push(*service);
        }
    }
    step(format_args!(
        "shop: cargo build took {:.1}s; {} in {} ({} changed)",
        compiled.as_secs_f64(),
        SERVICES.join(", "),
        ws.display(&bin),
        if copied.is_empty() {
            "none".to_string()
        } else {
            copied.join(", ")
        }
    ));
    Ok(())
}

/// The newest modification time of what the build reads: `Cargo.toml`, `Cargo.lock` and
/// every file under the members' folders (services and libraries).
fn newest_source(shop: &Path) -> io::Result<SystemTime> {
    let mut newest = SystemTime::UNIX_EPOCH;
    for file in ["Cargo.toml", "Cargo.lock"] {
        newest = newest.max(modified(&shop.join(file))?);
    }
    let mut stack: Vec<PathBuf> = SERVICES.iter().chain(LIBS).map(|s| shop.join(s)).collect();
    while let Some(path) = stack.pop() {
        let meta = fs::metadata(&path)?;
        newest = newest.max(meta.modified()?);
        if meta.is_dir() {
            for entry in fs::read_dir(&path)? {
                stack.push(entry?.path());
            }
        }
    }
    Ok(newest)
}

fn modified(path: &Path) -> io::Result<SystemTime> {
    fs::metadata(path)?.modified()
}

/// Copy `from` to `to` (through a temporary file and a rename) unless `to` already holds the
/// same bytes, in which case it is only touched. `true` when the content changed.
fn install(from: &Path, to: &Path) -> io::Result<bool> {
    let new = fs::read(from)?;
    if fs::read(to).is_ok_and(|old| old == new) {
        fs::File::options()
            .write(true)
            .open(to)?
            .set_modified(SystemTime::now())?;
        return Ok(false);
    }
    let tmp = to.with_extension("tmp");
    fs::copy(from, &tmp)?;
    fs::rename(&tmp, to)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-shop-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn install_copies_on_change_and_touches_otherwise() {
        let dir = scratch("install");
        let (a, b) = (dir.join("a"), dir.join("b"));
        fs::write(&a, b"one").unwrap();
        assert!(install(&a, &b).unwrap());
        let old = SystemTime::now() - Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(&b)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(!install(&a, &b).unwrap(), "same bytes: not copied");
        assert!(
            modified(&b).unwrap() > old + Duration::from_secs(60),
            "but touched"
        );
        fs::write(&a, b"two").unwrap();
        assert!(install(&a, &b).unwrap());
        assert_eq!(fs::read(&b).unwrap(), b"two");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn newest_source_sees_a_file_deep_in_a_service() {
        let dir = scratch("sources");
        let old = SystemTime::now() - Duration::from_secs(3600);
        let mut files = vec![dir.join("Cargo.toml"), dir.join("Cargo.lock")];
        for s in SERVICES {
            fs::create_dir_all(dir.join(s).join("src")).unwrap();
            files.push(dir.join(s).join("src").join("main.rs"));
        }
        for l in LIBS {
            fs::create_dir_all(dir.join(l).join("src")).unwrap();
            files.push(dir.join(l).join("src").join("lib.rs"));
        }
        for f in &files {
            fs::write(f, "").unwrap();
            fs::File::options()
                .write(true)
                .open(f)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        let before = newest_source(&dir).unwrap();
        let edited = dir.join(SERVICES[1]).join("src").join("main.rs");
        fs::write(&edited, "fn main() {}").unwrap();
        let after_service = newest_source(&dir).unwrap();
        assert!(after_service > before);
        // The shared library is a source of both binaries.
        std::thread::sleep(Duration::from_millis(20));
        fs::write(dir.join(LIBS[0]).join("src").join("lib.rs"), "// edited").unwrap();
        assert!(newest_source(&dir).unwrap() > after_service);
        fs::remove_dir_all(&dir).unwrap();
        assert!(
            newest_source(&dir).is_err(),
            "a missing example is an error, not up to date"
        );
    }

    /// SERVICES is the example's workspace, and each has a Dockerfile the suite builds.
    #[test]
    fn services_match_the_example() {
        let ws = Workspace::locate().unwrap();
        let shop = dir(&ws);
        let manifest = fs::read_to_string(shop.join("Cargo.toml")).unwrap();
        let members = SERVICES
            .iter()
            .chain(LIBS)
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ");
        assert!(
            manifest.contains(&format!("members = [{members}]")),
            "{manifest}"
        );
        for l in LIBS {
            assert!(shop.join(l).join("src/lib.rs").is_file(), "{l}");
        }
        let suite = fs::read_to_string(suite(&ws)).unwrap();
        for s in SERVICES {
            assert!(shop.join(s).join("src/main.rs").is_file(), "{s}");
            let dockerfile = format!("{s}.Dockerfile");
            assert!(
                shop.join("image").join(&dockerfile).is_file(),
                "{dockerfile}"
            );
            assert!(
                suite.contains(&format!("dockerfile = \"{dockerfile}\"")),
                "{s}"
            );
            let text = fs::read_to_string(shop.join("image").join(&dockerfile)).unwrap();
            assert!(text.contains(&format!("COPY bin/{s} /{s}")), "{dockerfile}");
        }
    }
}
