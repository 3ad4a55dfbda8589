//! Rust targets: wasm32-wasip2 for the guests, x86_64-unknown-linux-musl for examples/shop.

use std::path::PathBuf;
use std::time::Duration;

use crate::proc::{step, Cmd, Failure};
use crate::workspace::Workspace;

pub const WASM_TARGET: &str = "wasm32-wasip2";

pub fn ensure(ws: &Workspace) -> Result<(), Failure> {
    ensure_target(ws, WASM_TARGET)
}

/// `rustup target add TARGET` unless it is installed (or the sysroot has it, without rustup).
pub fn ensure_target(ws: &Workspace, target: &str) -> Result<(), Failure> {
    step(format_args!("checking the {target} target ..."));
    let listed = Cmd::new("rustup", "rustup")
        .current_dir(&ws.root)
        .args(["target", "list", "--installed"])
        .capture(Duration::from_secs(60));
    let installed = match listed {
        Ok(out) if out.code == 0 => out.stdout,
        Ok(out) => {
            return Err(Failure::step(format!(
                "`rustup target list --installed` failed: {}",
                out.first_error_line()
            )))
        }
        // No rustup: accept a toolchain that ships the target in its sysroot.
        Err(_) if sysroot_has_target(ws, target) => {
            step(format_args!("no rustup, but the sysroot has {target}"));
            return Ok(());
        }
        Err(_) => {
            return Err(Failure::step(format!(
                "rustup not found and the toolchain has no {target} target; install rustup \
                 or the target"
            )))
        }
    };
    if installed.lines().any(|l| l.trim() == target) {
        step(format_args!("{target} is installed"));
        return Ok(());
    }
    step(format_args!("adding the {target} target ..."));
    Cmd::new("rustup", "rustup")
        .current_dir(&ws.root)
        .args(["target", "add", target])
        .run_checked()
}

fn sysroot_has_target(ws: &Workspace, target: &str) -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    Cmd::new(&rustc, &rustc)
        .current_dir(&ws.root)
        .args(["--print", "sysroot"])
        .capture_checked(Duration::from_secs(60))
        .map(|sysroot| {
            PathBuf::from(sysroot.trim())
                .join("lib/rustlib")
                .join(target)
                .is_dir()
        })
        .unwrap_or(false)
}
