//! Loading one plugin: compile (or fetch from the cache), check its WIT
//! version and world, and describe it.

use super::*;

impl Registry {
    /// Load (compile or fetch from cache), check and describe one plugin.
    pub async fn load(&self, name: &str, path: &Path) -> Result<Arc<LoadedPlugin>, RegistryError> {
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(p) = self
            .loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(p.clone());
        }
        let fail = |message: String| RegistryError::Load {
            name: name.to_string(),
            path: path.display().to_string(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        let digest: [u8; 32] = sha2::Sha256::digest(&bytes).into();
        let (component, from_cache) = self
            .cache
            .component_with_digest(&self.engine, &bytes, &digest)
            .map_err(|e| fail(format!("not a valid WebAssembly component: {e:#}")))?;
        let (world, api, packed) = self.check_version(&component).map_err(fail)?;
        let not_world = |w: &'static str| {
            move |e: wasmtime::Error| format!("does not implement the {w} world: {e:#}")
        };
        let (pre, info) = match world {
            World::Chaos => {
                let pre = self
                    .chaos_linker
                    .instantiate_pre(&component)
                    .map_err(|e| fail(format!("cannot link: {e:#}")))?;
                let pre = match api {
                    Api::Current => ChaosPluginPre::new(pre).map(ChaosPre::Current),
                    Api::V0_2 => v0_2::chaos::ChaosPluginPre::new(pre).map(ChaosPre::V0_2),
                }
                .map_err(not_world("chaos-plugin"))
                .map_err(fail)?;
                let info = wasm::describe_chaos(&self.engine, &pre, name)
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                (Pre::Chaos(pre), info)
            }
            World::Validator => {
                let pre = self
                    .validator_linker
                    .instantiate_pre(&component)
                    .map_err(|e| fail(format!("cannot link: {e:#}")))?;
                let pre = match api {
                    Api::Current => CurrentValidator::new(pre, packed).map(ValidatorPre::Current),
                    Api::V0_2 => {
                        v0_2::validator::ValidatorPluginPre::new(pre).map(ValidatorPre::V0_2)
                    }
                }
                .map_err(not_world("validator-plugin"))
                .map_err(fail)?;
                let info = wasm::describe_validator(&self.engine, &pre, name)
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                (Pre::Validator(pre), info)
            }
        };
        let sha256 = hex::encode(digest);
        let info = PluginInfo {
            name: info.name,
            version: info.version,
            wit_version: info.wit_version,
            handles: info.handles,
            capabilities: info.capabilities,
            sha256,
        };
        match api_for(&info.wit_version) {
            None => {
                return Err(fail(format!(
                    "was built for {WIT_PACKAGE}@{}; this host accepts {}",
                    info.wit_version,
                    accepted()
                )))
            }
            Some(declared) if declared != api => {
                return Err(fail(format!(
                    "says it was built for {WIT_PACKAGE}@{} (plugin-info.wit-version), \
                     but its exports are from another version of the package",
                    info.wit_version
                )))
            }
            Some(_) => {}
        }
        let grants = Grants::from_declared(&info.capabilities).map_err(|e| fail(e.to_string()))?;
        if matches!(pre, Pre::Chaos(_)) {
            self.cache.remember_handles(path, &info.handles);
        }
        let loaded = Arc::new(LoadedPlugin {
            grants,
            info,
            path: path.to_path_buf(),
            from_cache,
            pre,
        });
        self.loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, loaded.clone());
        Ok(loaded)
    }

    /// Which world the component exports, which bindings drive it (by the WIT
    /// version its exports name) and whether it exports `packed-validator`
    /// (0.3.3); refuses incompatible WIT versions before linking, with a
    /// message that says which versions we accept.
    fn check_version(
        &self,
        component: &wasmtime::component::Component,
    ) -> Result<(World, Api, bool), String> {
        let ty = component.component_type();
        let imports = ty.imports(&self.engine).map(|(n, _)| n.to_string());
        let exports: Vec<String> = ty
            .exports(&self.engine)
            .map(|(n, _)| n.to_string())
            .collect();
        let (world, api) = classify_names(imports.chain(exports.iter().cloned()), &exports)?;
        Ok((world, api, exports_interface(&exports, "packed-validator")))
    }
}

/// The world a component exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum World {
    Chaos,
    Validator,
}
/// From a component's import and export names: its world and the bindings
/// for the WIT version its exports name. Every `clnrm:chaos/...@v` name must
/// be of one accepted track (a plugin cannot mix 0.2 and 0.3 interfaces).
pub(super) fn classify_names(
    all: impl Iterator<Item = String>,
    exports: &[String],
) -> Result<(World, Api), String> {
    let prefix = format!("{WIT_PACKAGE}/");
    let mut api = None;
    for n in all {
        let Some(rest) = n.strip_prefix(&prefix) else {
            continue;
        };
        let version = rest.split('@').nth(1).unwrap_or("");
        match (api_for(version), &api) {
            (None, _) => {
                return Err(format!(
                    "was built for {WIT_PACKAGE}@{version} (uses {n}); this host accepts {}",
                    accepted()
                ))
            }
            (Some(a), Some((b, first))) if a != *b => {
                return Err(format!(
                    "mixes versions of {WIT_PACKAGE}: {first} and {n}; build it against one WIT"
                ))
            }
            (Some(a), None) => api = Some((a, n)),
            (Some(_), Some(_)) => {}
        }
    }
    let export = |iface: &str| {
        exports
            .iter()
            .find(|n| n.starts_with(&format!("{prefix}{iface}@")))
            .map(|n| api_for(n.split('@').nth(1).unwrap_or("")))
    };
    match (export("chaos"), export("validator")) {
        (Some(Some(a)), _) => Ok((World::Chaos, a)),
        (None, Some(Some(a))) => Ok((World::Validator, a)),
        _ => Err(format!(
            "exports neither {WIT_PACKAGE}/chaos nor {WIT_PACKAGE}/validator"
        )),
    }
}
/// Whether `exports` has `clnrm:chaos/<iface>@<any version>`.
pub(super) fn exports_interface(exports: &[String], iface: &str) -> bool {
    let prefix = format!("{WIT_PACKAGE}/{iface}@");
    exports.iter().any(|n| n.starts_with(&prefix))
}
/// Which bindings serve a plugin built for `version`, if any: the current
/// track or a frozen older one.
pub(super) fn api_for(version: &str) -> Option<Api> {
    if same_track(version, WIT_VERSION) {
        Some(Api::Current)
    } else if COMPAT_VERSIONS.iter().any(|c| same_track(version, c)) {
        Some(Api::V0_2)
    } else {
        None
    }
}
/// Semver compatibility as wasmtime's linker applies it: 0.x: same minor;
/// 1.x and later: same major.
pub(super) fn same_track(a: &str, b: &str) -> bool {
    match (parse_major_minor(a), parse_major_minor(b)) {
        (Some((0, a)), Some((0, b))) => a == b,
        (Some((a, _)), Some((b, _))) => a == b,
        _ => false,
    }
}
pub(super) fn track(version: &str) -> String {
    match parse_major_minor(version) {
        Some((0, m)) => format!("{WIT_PACKAGE}@0.{m}.x"),
        Some((major, _)) => format!("{WIT_PACKAGE}@{major}.x"),
        None => format!("{WIT_PACKAGE}@{version}"),
    }
}
/// "clnrm:chaos@0.2.x or clnrm:chaos@0.3.x": every accepted track, oldest first.
pub(super) fn accepted() -> String {
    let mut v: Vec<&str> = COMPAT_VERSIONS.to_vec();
    v.push(WIT_VERSION);
    v.iter().map(|v| track(v)).collect::<Vec<_>>().join(" or ")
}
pub(super) fn parse_major_minor(v: &str) -> Option<(u64, u64)> {
    let mut it = v.split('.');
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}
