//! The WIT package version has one source of truth: the `package` line of
//! `wit/clnrm.wit`. This passes it to the host as `CLNRM_WIT_VERSION`.

use std::path::Path;

fn main() {
    // Read at run time, as cargo sets it for this checkout: `env!` would bake in
    // the path of whichever checkout first compiled this script, and a target
    // dir shared by two checkouts then reads the other one's WIT (or none).
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let wit = Path::new(&manifest).join("../wit/clnrm.wit");
    println!("cargo:rerun-if-changed={}", wit.display());
    let text = std::fs::read_to_string(&wit)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", wit.display()));
    let version = text
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("package clnrm:chaos@"))
        .and_then(|v| v.strip_suffix(';'))
        .unwrap_or_else(|| {
            panic!(
                "{}: no `package clnrm:chaos@<version>;` line",
                wit.display()
            )
        });
    println!("cargo:rustc-env=CLNRM_WIT_VERSION={version}");
}
