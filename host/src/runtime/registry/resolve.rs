//! Resolving a suite's plugins by name, and letting each check its own
//! tables before anything runs.

use super::*;

impl Registry {
    /// Resolve every plugin a suite names: its fault types and its
    /// `[expect.X]` tables. Unknown names are errors that point into the file.
    pub async fn resolve(&self, suite: &Suite) -> Result<ResolvedPlugins, RegistryError> {
        let mut third_party = Vec::new();
        for (name, path, span) in &suite.plugins {
            match self.load(name, path).await {
                Ok(p) => third_party.push(p),
                Err(RegistryError::Load { message, .. }) => {
                    return Err(Box::new(suite.error_at(
                        span.clone(),
                        format!(
                            "cannot load plugin `{name}` from {}: {message}",
                            path.display()
                        ),
                        Some("paths in [plugins] are relative to the suite file".into()),
                    ))
                    .into())
                }
                Err(e) => return Err(e),
            }
        }
        let mut out = ResolvedPlugins::default();
        let needs_chaos = suite.scenarios.iter().any(|s| !s.injections.is_empty());
        let mut chaos_candidates: Vec<Arc<LoadedPlugin>> = third_party
            .iter()
            .filter(|p| matches!(p.pre, Pre::Chaos(_)))
            .cloned()
            .collect();
        if needs_chaos {
            let wanted: Vec<&str> = suite
                .scenarios
                .iter()
                .flat_map(|s| &s.injections)
                .map(|i| i.fault_type.as_str())
                .collect();
            let first_party = self.first_party("chaos-")?;
            let base = chaos_candidates.clone();
            // In precedence order, so stopping early changes no choice: once
            // every fault type has its plugin (the first that handles it) and
            // none of those composes others (which needs every plugin,
            // `composable`), the rest are not loaded (start-up: each is a
            // read, a hash, a deserialize and a `describe`). Nor, on the first
            // pass, is one that, unchanged since an earlier load, handles none
            // of the wanted types (the cache's hint): it cannot be any type's
            // first. A type still unknown after it (its error lists every
            // known type) or a composing fault (it needs every plugin): a
            // second pass without the hints (those loaded are loaded once).
            for use_hints in [true, false] {
                chaos_candidates = base.clone();
                let mut skipped = false;
                for (name, path) in &first_party {
                    if all_chosen_without_compose(&chaos_candidates, &wanted) {
                        break;
                    }
                    let handles_none = use_hints
                        && self.cache.handles_hint(path).is_some_and(|handles| {
                            !handles.iter().any(|h| wanted.contains(&h.as_str()))
                        });
                    if handles_none {
                        skipped = true;
                        continue;
                    }
                    chaos_candidates.push(self.load(name, path).await?);
                }
                if !skipped || all_chosen_without_compose(&chaos_candidates, &wanted) {
                    break;
                }
            }
        }
        for p in &chaos_candidates {
            for t in &p.info.handles {
                out.composable.entry(t.clone()).or_insert_with(|| p.clone());
            }
        }
        for inj in suite.scenarios.iter().flat_map(|s| &s.injections) {
            if out.chaos.contains_key(&inj.fault_type) {
                continue;
            }
            match chaos_candidates
                .iter()
                .find(|p| p.info.handles.contains(&inj.fault_type))
            {
                Some(p) => {
                    out.chaos.insert(inj.fault_type.clone(), p.clone());
                }
                None => {
                    let known: Vec<&str> = chaos_candidates
                        .iter()
                        .flat_map(|p| p.info.handles.iter().map(String::as_str))
                        .collect();
                    let help = match nearest(&inj.fault_type, known.iter().copied()) {
                        Some(n) => format!("did you mean `{n}`? known fault types: {}", known.join(", ")),
                        None => format!("known fault types: {}; a third-party type needs its plugin in [plugins]", known.join(", ")),
                    };
                    return Err(Box::new(suite.error_at(
                        inj.span.clone(),
                        format!("unknown chaos type `{}`", inj.fault_type),
                        Some(help),
                    ))
                    .into());
                }
            }
        }
        for exp in &suite.expectations {
            if let Some(p) = third_party
                .iter()
                .find(|p| matches!(p.pre, Pre::Validator(_)) && p.info.handles.contains(&exp.table))
            {
                out.validators.insert(exp.table.clone(), p.clone());
                continue;
            }
            let path = self
                .first_party_dir()?
                .join(format!("validate-{}.wasm", exp.table));
            if path.is_file() {
                let p = self.load(&format!("validate-{}", exp.table), &path).await?;
                if matches!(p.pre, Pre::Validator(_)) && p.info.handles.contains(&exp.table) {
                    out.validators.insert(exp.table.clone(), p);
                    continue;
                }
            }
            let known: Vec<String> = self
                .first_party("validate-")?
                .into_iter()
                .map(|(n, _)| n.trim_start_matches("validate-").to_string())
                .collect();
            let help = match nearest(&exp.table, known.iter().map(String::as_str)) {
                Some(n) => format!(
                    "did you mean [expect.{n}]? validators available: {}",
                    known.join(", ")
                ),
                None => format!("validators available: {}", known.join(", ")),
            };
            return Err(Box::new(suite.error_at(
                exp.span.clone(),
                format!(
                    "unknown expectation table [expect.{}]: no validator plugin handles it",
                    exp.table
                ),
                Some(help),
            ))
            .into());
        }
        no_network_for_network_faults(suite, &out)?;
        self.check_configs(suite, &out).await?;
        Ok(out)
    }

    /// Let each plugin check its own tables before anything starts, so a bad
    /// key is an error with a file position, not a failure mid-run.
    async fn check_configs(
        &self,
        suite: &Suite,
        plugins: &ResolvedPlugins,
    ) -> Result<(), RegistryError> {
        let bad = |span: Range<usize>, what: String, message: String, help: Option<String>| {
            RegistryError::from(Box::new(suite.error_at(
                span,
                format!("invalid {what}: {message}"),
                help,
            )))
        };
        let collectors: Vec<&str> = suite
            .services
            .iter()
            .filter(|(_, s)| s.otel_collector)
            .map(|(id, _)| id.as_str())
            .collect();
        for (sc, inj) in suite
            .scenarios
            .iter()
            .flat_map(|s| s.injections.iter().map(move |i| (s, i)))
        {
            let Some(p) = plugins.chaos.get(&inj.fault_type) else {
                continue;
            };
            let Pre::Chaos(pre) = &p.pre else { continue };
            let what = format!("chaos_injection `{}`", inj.fault_type);
            match wasm::check_chaos(
                &self.engine,
                pre,
                &p.info.name,
                &inj.fault_type,
                &inj.config_json,
            )
            .await
            {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    let (span, message, help) =
                        config_error_report(&e, "chaos_injection", &inj.positions, &inj.span);
                    return Err(bad(span, what, message, help));
                }
                Err(e) => return Err(bad(inj.span.clone(), what, e.to_string(), None)),
            }
            if let Some(e) = collector_target(&inj.config_json, &collectors) {
                let (span, message, _) =
                    config_error_report(&e, "chaos_injection", &inj.positions, &inj.span);
                let help = "aim the fault at the service that sends the spans; its spans still arrive at the receiver".to_string();
                return Err(bad(span, what, message, Some(help)));
            }
            if let Some(e) = unknown_peer(&inj.config_json, &sc.services) {
                let (span, message, help) =
                    config_error_report(&e, "chaos_injection", &inj.positions, &inj.span);
                return Err(bad(span, what, message, help));
            }
            if p.composes() {
                if let Some((e, help)) = crate::runtime::compose_check::check(
                    &self.engine,
                    p,
                    &inj.config_json,
                    &plugins.composable,
                )
                .await
                {
                    let (span, message, h) =
                        config_error_report(&e, "chaos_injection", &inj.positions, &inj.span);
                    return Err(bad(span, what, message, help.or(h)));
                }
            }
        }
        for exp in &suite.expectations {
            let Some(p) = plugins.validators.get(&exp.table) else {
                continue;
            };
            let Pre::Validator(pre) = &p.pre else {
                continue;
            };
            let what = format!("[expect.{}]", exp.table);
            match wasm::check_validator(
                &self.engine,
                pre,
                &p.info.name,
                &exp.table,
                &exp.config_json,
            )
            .await
            {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    let root = format!("expect.{}", exp.table);
                    let (span, message, help) =
                        config_error_report(&e, &root, &exp.positions, &exp.span);
                    return Err(bad(span, what, message, help));
                }
                Err(e) => return Err(bad(exp.span.clone(), what, e.to_string(), None)),
            }
        }
        Ok(())
    }

    /// First-party plugins whose file name starts with `prefix`, sorted.
    pub(super) fn first_party(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, PathBuf)>, RegistryError> {
        let dir = self.first_party_dir()?;
        let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
            .map_err(|e| RegistryError::NoPluginDir(format!("{}: {e}", dir.display())))?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_str()?.strip_suffix(".wasm")?.to_string();
                name.starts_with(prefix).then(|| (name, e.path()))
            })
            .collect();
        found.sort();
        Ok(found)
    }
}

/// `network = "none"` and a fault that acts on the network cannot go together.
pub(super) fn no_network_for_network_faults(
    suite: &Suite,
    plugins: &ResolvedPlugins,
) -> Result<(), RegistryError> {
    for sc in suite
        .scenarios
        .iter()
        .filter(|s| s.network == crate::suite::NetworkMode::None)
    {
        for inj in &sc.injections {
            if let Some(p) = plugins
                .chaos
                .get(&inj.fault_type)
                .filter(|p| p.uses_network())
            {
                return Err(Box::new(suite.error_at(
                    inj.span.clone(),
                    format!(
                        "scenario `{}` has network = \"none\", but `{}` (plugin {}) acts on the network",
                        sc.name, inj.fault_type, p.info.name
                    ),
                    Some("drop `network = \"none\"` (the default, \"auto\", gives the scenario a network of its own for this fault) or set network = \"own\"".into()),
                ))
                .into());
            }
        }
    }
    Ok(())
}
/// Where and how to report a plugin's `check` error: the span (the key, the
/// value, or the whole table, by what the error names; `positions` gives the
/// nearest known enclosing span, `whole` when it knows nothing), the message
/// and a hint. `root` names the table in messages (`expect.span`).
/// `peers = [...]` and `groups = [[...], ...]` of a `chaos_injection` name
/// services of its scenario (the network dialect's keys; a plugin's `check`
/// cannot know the services): the first entry that is none, as an invalid
/// value at its position.
pub(super) fn unknown_peer(config_json: &str, services: &[String]) -> Option<ConfigError> {
    let v: serde_json::Value = serde_json::from_str(config_json).ok()?;
    let (path, name) = service_refs(&v)
        .into_iter()
        .filter(|(path, _)| path[0] != "target")
        .find(|(_, name)| !services.iter().any(|s| s == name))?;
    Some(ConfigError::InvalidValue(
        crate::runtime::bindings::chaos::clnrm::chaos::types::InvalidValue {
            path,
            message: format!(
                "`{name}` is not a service of this scenario (its services: {})",
                services.join(", ")
            ),
        },
    ))
}

/// A fault aimed at an `otel_collector` service (`target`, `peers`,
/// `targets`, `root`, `groups`): there is no container to fault, the OTLP
/// receiver serves it.
pub(super) fn collector_target(config_json: &str, collectors: &[&str]) -> Option<ConfigError> {
    let v: serde_json::Value = serde_json::from_str(config_json).ok()?;
    let (path, name) = service_refs(&v)
        .into_iter()
        .find(|(_, name)| collectors.contains(name))?;
    Some(ConfigError::InvalidValue(
        crate::runtime::bindings::chaos::clnrm::chaos::types::InvalidValue {
            path,
            message: format!(
                "`{name}` is an otel_collector service: clnrm's OTLP receiver serves it and no container is started, so there is nothing to fault"
            ),
        },
    ))
}

/// The services a fault's config names, each with its path in the table:
/// `target` (or `target.name`), `peers`, and the composition dialect's
/// `targets`, `root` and `groups`.
fn service_refs(v: &serde_json::Value) -> Vec<(Vec<String>, &str)> {
    let mut refs: Vec<(Vec<String>, &str)> = Vec::new();
    match v.get("target") {
        Some(serde_json::Value::String(name)) => refs.push((vec!["target".into()], name)),
        Some(t) => {
            if let Some(name) = t.get("name").and_then(|n| n.as_str()) {
                refs.push((vec!["target".into(), "name".into()], name));
            }
        }
        None => {}
    }
    if let Some(peers) = v.get("peers").and_then(|p| p.as_array()) {
        for (i, p) in peers.iter().enumerate() {
            if let Some(name) = p.as_str() {
                refs.push((vec!["peers".into(), i.to_string()], name));
            }
        }
    }
    // The composition dialect: `targets = [...]` and `root = "..."`.
    if let Some(targets) = v.get("targets").and_then(|p| p.as_array()) {
        for (i, p) in targets.iter().enumerate() {
            if let Some(name) = p.as_str() {
                refs.push((vec!["targets".into(), i.to_string()], name));
            }
        }
    }
    if let Some(name) = v.get("root").and_then(|r| r.as_str()) {
        refs.push((vec!["root".into()], name));
    }
    if let Some(groups) = v.get("groups").and_then(|g| g.as_array()) {
        for (i, g) in groups.iter().enumerate() {
            for (j, m) in g.as_array().into_iter().flatten().enumerate() {
                if let Some(name) = m.as_str() {
                    refs.push((vec!["groups".into(), i.to_string(), j.to_string()], name));
                }
            }
        }
    }
    refs
}
pub(super) fn config_error_report(
    e: &ConfigError,
    root: &str,
    positions: &Positions,
    whole: &Range<usize>,
) -> (Range<usize>, String, Option<String>) {
    let at = |span: Option<Range<usize>>| span.unwrap_or_else(|| whole.clone());
    // Keys are quoted as TOML writes them, the way the plugins' own messages do.
    let quoted = |keys: &[String]| keys.join(", ");
    match e {
        ConfigError::UnknownKey(u) => {
            let key = u.path.last().map(String::as_str).unwrap_or_default();
            let mut help = nearest(key, u.expected.iter().map(String::as_str))
                .map(|n| format!("did you mean \"{n}\"? "))
                .unwrap_or_default();
            help.push_str(&format!("valid keys here: {}", quoted(&u.expected)));
            (
                at(positions.key(&u.path)),
                format!(
                    "unknown key \"{key}\" in {}",
                    show_path(root, &u.path[..u.path.len().saturating_sub(1)])
                ),
                Some(help),
            )
        }
        ConfigError::MissingKey(m) => (
            at(positions.value(&m.path)),
            format!("{} needs the key \"{}\"", show_path(root, &m.path), m.key),
            Some(format!("add {} = ...", m.key)),
        ),
        ConfigError::WrongType(w) => (
            at(positions.value(&w.path)),
            format!(
                "{}: expected {}, found {}",
                show_path(root, &w.path),
                w.expected,
                w.found
            ),
            None,
        ),
        ConfigError::InvalidValue(v) => (
            at(positions.value(&v.path)),
            format!("{}: {}", show_path(root, &v.path), v.message),
            None,
        ),
        ConfigError::Other(m) => (whole.clone(), m.clone(), None),
    }
}
/// `expect.span[2].attrs.nmae`: keys dotted, array indices bracketed.
pub(super) fn show_path(root: &str, path: &[String]) -> String {
    let mut out = root.to_string();
    for seg in path {
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            out.push('.');
            out.push_str(seg);
        }
    }
    out
}

/// Whether every fault type in `wanted` is handled by some candidate and the
/// first candidate handling each does not compose other plugins.
fn all_chosen_without_compose(candidates: &[Arc<LoadedPlugin>], wanted: &[&str]) -> bool {
    wanted.iter().all(|t| {
        candidates
            .iter()
            .find(|p| p.info.handles.iter().any(|h| h == t))
            .is_some_and(|p| !p.composes())
    })
}
