//! The static busybox the base image is made of (Debian's `busybox-static`).

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::proc::{step, Cmd, Failure};

pub const BUSYBOX: &str = "/bin/busybox";

pub struct Busybox {
    /// e.g. `v1.36.1_Debian_1:1.36.1-9`: safe inside a quoted Docker LABEL value.
    pub version: String,
    /// Applet names, without `busybox` itself.
    pub applets: Vec<String>,
}

/// Make sure a static `/bin/busybox` exists (installing `busybox-static` if not) and describe it.
pub fn ensure() -> Result<Busybox, Failure> {
    match is_static(Path::new(BUSYBOX)) {
        Ok(true) => {}
        state => {
            let why = match state {
                Ok(_) => "is dynamically linked".to_string(),
                Err(_) if !Path::new(BUSYBOX).exists() => "is missing".to_string(),
                Err(e) => format!("is unusable ({e})"),
            };
            step(format_args!(
                "{BUSYBOX} {why}; installing busybox-static ..."
            ));
            install()?;
            match is_static(Path::new(BUSYBOX)) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(Failure::step(format!(
                        "{BUSYBOX} is still not static after installing busybox-static"
                    )))
                }
                Err(e) => {
                    return Err(Failure::step(format!(
                        "{BUSYBOX} is still unusable after installing busybox-static: {e}"
                    )))
                }
            }
        }
    }
    let timeout = Duration::from_secs(10);
    // `busybox --help` exits 0 on Debian, but its first line is all we need either way.
    let help = Cmd::new(BUSYBOX, "busybox")
        .arg("--help")
        .capture(timeout)?;
    let banner = help
        .stdout
        .lines()
        .chain(help.stderr.lines())
        .next()
        .unwrap_or("");
    let version = parse_version(banner)
        .ok_or_else(|| Failure::step(format!("cannot read busybox's version from `{banner}`")))?;
    let list = Cmd::new(BUSYBOX, "busybox")
        .arg("--list")
        .capture_checked(timeout)?;
    let mut applets: Vec<String> = list
        .lines()
        .map(str::trim)
        .filter(|a| !a.is_empty() && *a != "busybox" && !a.contains('/') && *a != "." && *a != "..")
        .map(str::to_string)
        .collect();
    applets.sort();
    applets.dedup();
    if applets.is_empty() {
        return Err(Failure::step("`busybox --list` listed no applets"));
    }
    Ok(Busybox { version, applets })
}

fn install() -> Result<(), Failure> {
    let apt = |args: &[&str]| {
        Cmd::new("apt-get", "apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(args)
            .run_checked()
            .map_err(|f| {
                Failure::step(format!(
                    "{} (installing busybox-static needs root and Debian's apt)",
                    f.message
                ))
            })
    };
    apt(&["update", "-q"])?;
    apt(&[
        "install",
        "-y",
        "-q",
        "--no-install-recommends",
        "busybox-static",
    ])
}

/// `BusyBox v1.36.1 (Debian 1:1.36.1-9) multi-call binary.` -> `v1.36.1_Debian_1:1.36.1-9`.
fn parse_version(banner: &str) -> Option<String> {
    let rest = banner.trim().strip_prefix("BusyBox ")?;
    let raw = rest.split(" multi-call").next().unwrap_or(rest);
    let mut out = String::new();
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() || ".:+~-".contains(c) {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    (!out.is_empty()).then_some(out)
}

/// An ELF executable is static when it has no PT_INTERP (static-pie included).
pub fn is_static(path: &Path) -> Result<bool, String> {
    let bytes = fs::read(path).map_err(|e| e.to_string())?;
    elf_has_interp(&bytes).map(|has| !has)
}

fn elf_has_interp(b: &[u8]) -> Result<bool, String> {
    const PT_INTERP: u32 = 3;
    if b.len() < 0x34 || &b[..4] != b"\x7fELF" {
        return Err("not an ELF file".into());
    }
    let little = match b[5] {
        1 => true,
        2 => false,
        _ => return Err("unknown ELF byte order".into()),
    };
    let int = |at: usize, len: usize| -> Result<u64, String> {
        let bytes = b.get(at..at + len).ok_or("truncated ELF file")?;
        let fold = |acc: u64, byte: &u8| (acc << 8) | u64::from(*byte);
        Ok(if little {
            bytes.iter().rev().fold(0, fold)
        } else {
            bytes.iter().fold(0, fold)
        })
    };
    let (phoff, phentsize, phnum) = match b[4] {
        1 => (int(0x1c, 4)?, int(0x2a, 2)?, int(0x2c, 2)?),
        2 => (int(0x20, 8)?, int(0x36, 2)?, int(0x38, 2)?),
        _ => return Err("unknown ELF class".into()),
    };
    for i in 0..phnum {
        let at = usize::try_from(phoff + i * phentsize).map_err(|_| "bad ELF header")?;
        if int(at, 4)? == u64::from(PT_INTERP) {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_from_banner() {
        assert_eq!(
            parse_version("BusyBox v1.36.1 (Debian 1:1.36.1-9) multi-call binary.").as_deref(),
            Some("v1.36.1_Debian_1:1.36.1-9")
        );
        assert_eq!(
            parse_version("BusyBox v1.30.1 multi-call binary.").as_deref(),
            Some("v1.30.1")
        );
        assert_eq!(parse_version("usage: whatever"), None);
    }

    #[test]
    fn own_binary_is_dynamic_and_text_is_not_elf() {
        // Rust test binaries on linux-gnu are dynamically linked.
        let exe = std::env::current_exe().unwrap();
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            assert_eq!(is_static(&exe), Ok(false));
        }
        assert!(elf_has_interp(
            b"#!/bin/sh\necho not elf, but long enough to pass the size test\n"
        )
        .is_err());
    }
}
