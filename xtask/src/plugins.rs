//! Guest crates: found by scanning `plugins/*/Cargo.toml` and `tests/plugins/*/Cargo.toml`,
//! built for wasm32-wasip2 with the `plugin` profile, copied to `target/plugins/<package>.wasm`
//! (the first-party plugins, which `clnrm` finds next to its binary) or, for the test fixtures,
//! `target/test-plugins/<package>.wasm`, where only the tests look (issue 22: `clnrm plugins`
//! must not list `looper` or a second `chaos-container`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::proc::{step, Failure};
use crate::toolchain::WASM_TARGET;
use crate::workspace::Workspace;

/// Where guest crates live, relative to the workspace root, and where each kind is installed
/// (relative to the target dir).
const GUEST_DIRS: &[(&str, &str)] = &[("plugins", PLUGIN_OUT), ("tests/plugins", TEST_OUT)];
/// The test fixtures' directory: not a place the host searches.
const TEST_OUT: &str = "test-plugins";
/// Where the first-party plugins go; a fixture left there by an older xtask is removed.
const PLUGIN_OUT: &str = "plugins";
const PROFILE: &str = "plugin";

/// Variables that must not reach the nested wasm build: host RUSTFLAGS (e.g. target-cpu) break
/// or rebuild the guests, and a jobserver handed down by an outer cargo can stall it.
const STRIPPED_ENV: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "MFLAGS",
];

#[derive(Debug)]
pub struct Guest {
    /// Package name, with dashes (`chaos-container`): the name of the installed file.
    pub package: String,
    /// Library target name, with underscores: the name cargo gives the .wasm.
    pub lib: String,
    pub manifest: PathBuf,
    /// The directory under the target dir it is installed in (`plugins` or `test-plugins`).
    pub out: &'static str,
}

pub fn build(ws: &Workspace) -> Result<(), Failure> {
    let guests = discover(&ws.root)?;
    if guests.is_empty() {
        step("no guest crates found under plugins/ or tests/plugins/");
        return Ok(());
    }
    let names: Vec<&str> = guests.iter().map(|g| g.package.as_str()).collect();
    step(format_args!("building plugins ({}) ...", names.join(", ")));

    let mut cargo = ws
        .cargo()
        .args(["build", "--target", WASM_TARGET, "--profile", PROFILE]);
    for guest in &guests {
        cargo = cargo.args(["-p", &guest.package]);
    }
    for var in STRIPPED_ENV {
        cargo = cargo.env_remove(var);
    }
    cargo.run_checked().map_err(|f| {
        Failure::step(format!(
            "{}\n  (each guest under plugins/ and tests/plugins/ must be a [workspace] member)",
            f.message
        ))
    })?;

    let built_dir = ws.target_dir.join(WASM_TARGET).join(PROFILE);
    let out_dir = ws.target_dir.join(PLUGIN_OUT);
    let mut changed = 0;
    for guest in &guests {
        let dir = ws.target_dir.join(guest.out);
        fs::create_dir_all(&dir)
            .map_err(|e| Failure::step(format!("cannot create {}: {e}", ws.display(&dir))))?;
        if guest.out != PLUGIN_OUT {
            // A fixture installed among the real plugins by an older xtask would still be listed.
            let stale = out_dir.join(format!("{}.wasm", guest.package));
            if fs::remove_file(&stale).is_ok() {
                step(format_args!("removed stale {}", ws.display(&stale)));
            }
        }
        let built = built_dir.join(format!("{}.wasm", guest.lib));
        let installed = dir.join(format!("{}.wasm", guest.package));
        let updated = install(&built, &installed).map_err(|e| {
            Failure::step(format!(
                "cannot copy {} to {}: {e} (is `{}` a cdylib?)",
                ws.display(&built),
                ws.display(&installed),
                guest.package
            ))
        })?;
        if updated {
            changed += 1;
            step(format_args!("updated {}", ws.display(&installed)));
        }
    }
    step(format_args!(
        "plugins ready in {} (test fixtures in {}; {} updated, {} unchanged)",
        ws.display(&out_dir),
        ws.display(&ws.target_dir.join(TEST_OUT)),
        changed,
        guests.len() - changed
    ));
    Ok(())
}

/// Every `<dir>/*/Cargo.toml` with a `[package] name`, sorted by package name.
pub fn discover(root: &Path) -> Result<Vec<Guest>, Failure> {
    let mut guests = Vec::new();
    for &(dir, out) in GUEST_DIRS {
        let dir = root.join(dir);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Failure::step(format!("cannot read {}: {e}", dir.display()))),
        };
        for entry in entries.filter_map(Result::ok) {
            let manifest = entry.path().join("Cargo.toml");
            let text = match fs::read_to_string(&manifest) {
                Ok(text) => text,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(Failure::step(format!(
                        "cannot read {}: {e}",
                        manifest.display()
                    )))
                }
            };
            let package = section_name(&text, "package").ok_or_else(|| {
                Failure::step(format!("{}: no `name` in [package]", manifest.display()))
            })?;
            let lib = section_name(&text, "lib")
                .unwrap_or_else(|| package.clone())
                .replace('-', "_");
            guests.push(Guest {
                package,
                lib,
                manifest,
                out,
            });
        }
    }
    guests.sort_by(|a, b| a.package.cmp(&b.package));
    if let Some(pair) = guests.windows(2).find(|w| w[0].package == w[1].package) {
        return Err(Failure::step(format!(
            "two guest crates are named `{}`: {} and {}",
            pair[0].package,
            pair[0].manifest.display(),
            pair[1].manifest.display()
        )));
    }
    Ok(guests)
}

/// The first-party plugins with native unit tests (a `src/tests.rs`, run on the SDK's fake
/// host by `cargo test -p <package>`), by package name.
pub fn unit_tested(root: &Path) -> Result<Vec<String>, Failure> {
    Ok(discover(root)?
        .into_iter()
        .filter(|g| g.out == PLUGIN_OUT)
        .filter(|g| g.manifest.with_file_name("src").join("tests.rs").is_file())
        .map(|g| g.package)
        .collect())
}

/// The `name = "..."` of a `[section]`: enough TOML for the manifests we write.
fn section_name(manifest: &str, section: &str) -> Option<String> {
    let header = format!("[{section}]");
    let mut inside = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line.split('#').next().is_some_and(|h| h.trim() == header);
            continue;
        }
        if !inside {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() != "name" {
            continue;
        }
        let value = value.trim();
        let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let rest = &value[1..];
        return rest.find(quote).map(|end| rest[..end].to_string());
    }
    None
}

/// Copy `from` to `to` only if the content differs (keeps mtimes stable for anything that
/// watches them). Writes through a temp file and a rename, so readers never see half a file.
/// Returns whether `to` changed.
fn install(from: &Path, to: &Path) -> io::Result<bool> {
    let new = fs::read(from)?;
    if fs::read(to).is_ok_and(|old| old == new) {
        return Ok(false);
    }
    let tmp = to.with_extension(format!("wasm.tmp{}", std::process::id()));
    fs::write(&tmp, &new)?;
    fs::rename(&tmp, to).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_package_and_lib_names() {
        let toml = r#"
[package]
name = "chaos-container"   # comment
version.workspace = true

[lib]
crate-type = ["cdylib"]

[dependencies]
name = "not-this"
"#;
        assert_eq!(
            section_name(toml, "package").as_deref(),
            Some("chaos-container")
        );
        assert_eq!(section_name(toml, "lib"), None);
        let with_lib = "[package]\nname='a-b'\n[lib]\nname = \"custom\"\n";
        assert_eq!(section_name(with_lib, "package").as_deref(), Some("a-b"));
        assert_eq!(section_name(with_lib, "lib").as_deref(), Some("custom"));
    }

    #[test]
    fn finds_the_workspace_guests() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let guests = discover(root).unwrap();
        let names: Vec<&str> = guests.iter().map(|g| g.package.as_str()).collect();
        for p in [
            "chaos-container",
            "chaos-network",
            "chaos-resource",
            "chaos-timeout",
        ] {
            assert!(names.contains(&p), "{p} not in {names:?}");
        }
        assert!(names.contains(&"looper"), "{names:?}");
        let cc = guests
            .iter()
            .find(|g| g.package == "chaos-container")
            .unwrap();
        assert_eq!(cc.lib, "chaos_container");
        assert_eq!(cc.out, PLUGIN_OUT);
        // Fixtures go where only the tests look.
        for fixture in ["looper", "kill-variant", "wit02-fixture", "wit02-validator"] {
            let g = guests.iter().find(|g| g.package == fixture).unwrap();
            assert_eq!(g.out, TEST_OUT, "{fixture}");
        }
    }

    #[test]
    fn every_chaos_plugin_has_unit_tests() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let tested = unit_tested(root).unwrap();
        for g in discover(root).unwrap() {
            if g.out == PLUGIN_OUT && g.package.starts_with("chaos-") {
                assert!(
                    tested.contains(&g.package),
                    "{} has no src/tests.rs",
                    g.package
                );
            }
        }
        assert!(tested.len() >= 5, "{tested:?}");
    }

    #[test]
    fn install_copies_only_on_change() {
        let dir = std::env::temp_dir().join(format!("xtask-install-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.wasm"), dir.join("b.wasm"));
        fs::write(&a, b"one").unwrap();
        assert!(install(&a, &b).unwrap());
        assert!(!install(&a, &b).unwrap());
        fs::write(&a, b"two").unwrap();
        assert!(install(&a, &b).unwrap());
        assert_eq!(fs::read(&b).unwrap(), b"two");
        fs::remove_dir_all(&dir).unwrap();
    }
}
