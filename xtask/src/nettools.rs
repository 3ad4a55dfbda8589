//! The kernel tools the host runs inside containers' network namespaces for
//! network faults (`nft`, `iptables`, `tc`, `ip`): installed from Debian's
//! apt when one is missing, as busybox-static is. Also the registry the image
//! tests and the pull benchmark start (`docker-registry`, `htpasswd` for its auth).

use crate::proc::{step, Cmd, Failure};
use std::path::Path;

/// (binary, Debian package that provides it).
const TOOLS: [(&str, &str); 6] = [
    ("nft", "nftables"),
    ("iptables", "iptables"),
    ("tc", "iproute2"),
    ("ip", "iproute2"),
    ("docker-registry", "docker-registry"),
    ("htpasswd", "apache2-utils"),
];

fn present(bin: &str) -> bool {
    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(bin).is_file())
}

/// Make sure every tool is there (installing the packages of the missing ones).
pub fn ensure() -> Result<(), Failure> {
    let mut missing: Vec<&str> = TOOLS
        .iter()
        .filter(|(bin, _)| !present(bin))
        .map(|(_, pkg)| *pkg)
        .collect();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    step(format_args!(
        "network fault tools missing; installing {} ...",
        missing.join(" ")
    ));
    let apt = |args: &[&str]| {
        Cmd::new("apt-get", "apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(args)
            .run_checked()
            .map_err(|f| {
                Failure::step(format!(
                    "{} (installing {} needs root and Debian's apt)",
                    f.message,
                    missing.join(" ")
                ))
            })
    };
    apt(&["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(missing.iter().copied());
    apt(&args)?;
    match TOOLS.iter().find(|(bin, _)| !present(bin)) {
        Some((bin, pkg)) => Err(Failure::step(format!(
            "`{bin}` is still missing after installing {pkg}"
        ))),
        None => Ok(()),
    }
}
