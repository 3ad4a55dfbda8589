//! `clnrm plugins` and `clnrm plugins describe NAME`: what plugins the host
//! finds (plugin dir, `$CLNRM_PLUGIN_DIR`, the `[plugins]` of `--suite`
//! files), and the configuration keys each fault type or table accepts.

use super::suites::load_all;
use super::{EXIT_BAD_INPUT, EXIT_PASS};
use crate::runtime::{ConfigKeys, Found, Registry};
use crate::suite::nearest;

/// List the plugins found (plugin dir or CLNRM_PLUGIN_DIR, and the
/// `[plugins]` of `--suite` files); `describe NAME` shows one's keys.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Also list the `[plugins]` entries of this suite (repeatable).
    #[arg(long = "suite", value_name = "FILE", global = true)]
    suites: Vec<String>,
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// A plugin's version, WIT version, capabilities, origin and the
    /// configuration keys of every fault type or table it handles.
    Describe { name: String },
}

impl Args {
    pub async fn exec(self) -> i32 {
        match self.action {
            None => list(&self.suites).await,
            Some(Action::Describe { name }) => describe(&name, &self.suites).await,
        }
    }
}

async fn found(suite_files: &[String]) -> Result<(Registry, Vec<Found>), i32> {
    let suites = if suite_files.is_empty() {
        Vec::new()
    } else {
        load_all(suite_files)?
    };
    let registry = Registry::for_checks().map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })?;
    let found = registry.catalog(&suites).await.map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })?;
    Ok((registry, found))
}

/// One line per plugin, columns aligned; plugins that do not load go to
/// stderr and make the exit code 2.
async fn list(suite_files: &[String]) -> i32 {
    let (_, found) = match found(suite_files).await {
        Ok(f) => f,
        Err(code) => return code,
    };
    let mut rows = vec![[
        "NAME",
        "VERSION",
        "WIT",
        "KIND",
        "HANDLES",
        "CAPABILITIES",
        "FOUND",
    ]
    .map(String::from)];
    let mut broken = 0;
    for f in &found {
        match &f.plugin {
            Ok(p) => rows.push([
                p.info.name.clone(),
                p.info.version.clone(),
                p.info.wit_version.clone(),
                p.kind().to_string(),
                p.info.handles.join(","),
                or_dash(p.info.capabilities.join(",")),
                format!("{} {}", f.origin, f.path.display()),
            ]),
            Err(e) => {
                eprintln!("error: {e}");
                broken += 1;
            }
        }
    }
    let widths: Vec<usize> = (0..7)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
    if broken > 0 {
        EXIT_BAD_INPUT
    } else {
        EXIT_PASS
    }
}

async fn describe(name: &str, suite_files: &[String]) -> i32 {
    let (registry, found) = match found(suite_files).await {
        Ok(f) => f,
        Err(code) => return code,
    };
    let Some(f) = found
        .iter()
        .find(|f| f.plugin.as_ref().is_ok_and(|p| p.info.name == name))
    else {
        let names: Vec<&str> = found
            .iter()
            .filter_map(|f| f.plugin.as_ref().ok().map(|p| p.info.name.as_str()))
            .collect();
        eprintln!("error: no plugin named `{name}`");
        match nearest(name, names.iter().copied()) {
            Some(n) => eprintln!(
                "  help: did you mean `{n}`? plugins found: {}",
                names.join(", ")
            ),
            None => eprintln!("  help: plugins found: {}", names.join(", ")),
        }
        return EXIT_BAD_INPUT;
    };
    let Ok(p) = &f.plugin else {
        return EXIT_BAD_INPUT;
    };
    println!("{} {} ({} plugin)", p.info.name, p.info.version, p.kind());
    println!("wit: clnrm:chaos@{}", p.info.wit_version);
    println!("capabilities: {}", or_dash(p.info.capabilities.join(", ")));
    println!("found: {} {}", f.origin, f.path.display());
    println!("sha256: {}", p.info.sha256);
    let what = if p.kind() == "chaos" {
        "type"
    } else {
        "[expect.X] table"
    };
    println!("config keys, per {what}:");
    let mut gaps = 0;
    for h in &p.info.handles {
        let shown = if p.kind() == "chaos" {
            h.clone()
        } else {
            format!("expect.{h}")
        };
        match registry.config_keys(p, h).await {
            ConfigKeys::Keys(keys) => println!("  {shown}: {}", or_dash(keys.join(", "))),
            ConfigKeys::NotExposed(why) => {
                gaps += 1;
                println!("  {shown}: keys not exposed ({why})");
            }
        }
    }
    println!(
        "note: keys are what the plugin's `check` names as valid; plugin-info carries no types, defaults or docs{}",
        if gaps > 0 { "; this plugin did not name its keys" } else { "" }
    );
    EXIT_PASS
}

fn or_dash(s: String) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        s
    }
}
