//! The wasm32-wasip2 target for the guests.

use std::path::PathBuf;
use std::time::Duration;

use crate::proc::{step, Cmd, Failure};
use crate::workspace::Workspace;

pub const WASM_TARGET: &str = "wasm32-wasip2";

pub fn ensure(ws: &Workspace) -> Result<(), Failure> {
    step(format_args!("checking the {WASM_TARGET} target ..."));
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
        Err(_) if sysroot_has_target(ws) => {
            step(format_args!("no rustup, but the sysroot has {WASM_TARGET}"));
            return Ok(());
        }
        Err(_) => {
            return Err(Failure::step(format!(
                "rustup not found and the toolchain has no {WASM_TARGET} target; install rustup \
                 or the target"
            )))
        }
    };
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        step(format_args!("{WASM_TARGET} is installed"));
        return Ok(());
    }
    step(format_args!("adding the {WASM_TARGET} target ..."));
    Cmd::new("rustup", "rustup")
        .current_dir(&ws.root)
        .args(["target", "add", WASM_TARGET])
        .run_checked()
}

fn sysroot_has_target(ws: &Workspace) -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    Cmd::new(&rustc, &rustc)
        .current_dir(&ws.root)
        .args(["--print", "sysroot"])
        .capture_checked(Duration::from_secs(60))
        .map(|sysroot| {
            PathBuf::from(sysroot.trim())
                .join("lib/rustlib")
                .join(WASM_TARGET)
                .is_dir()
        })
        .unwrap_or(false)
}
