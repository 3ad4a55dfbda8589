//! Calling loaded plugins: injections, composition, validators.

use super::*;

impl Registry {
    pub async fn inject(
        &self,
        plugin: &LoadedPlugin,
        injection: &Injection,
        call: ChaosCall,
    ) -> ChaosReturn {
        plugin.inject_with(&self.engine, injection, call).await
    }

    /// What a scenario's chaos calls compose with (`clnrm:chaos/compose`):
    /// None when no chaos plugin of the suite composes.
    pub fn composer(
        &self,
        plugins: &ResolvedPlugins,
        suite: &Suite,
        scenario: &crate::suite::ScenarioSpec,
        limits: crate::runtime::Limits,
        epoch_ns: u64,
    ) -> Option<Arc<dyn crate::runtime::compose::Compose>> {
        if !plugins.chaos.values().any(|p| p.composes()) {
            return None;
        }
        Some(Arc::new(crate::runtime::Composer {
            engine: self.engine.clone(),
            plugins: plugins.composable.clone(),
            scenario: scenario.name.clone(),
            services: scenario.services.clone(),
            dependents: suite.dependents(&scenario.services),
            limits,
            epoch_ns,
        }))
    }

    /// Judge `trace` with `plugin` (packed when the plugin takes it, else as records).
    pub async fn validate(
        &self,
        plugin: &LoadedPlugin,
        table: &str,
        config_json: &str,
        trace: &ValidatorTrace,
        call: ValidateCall,
    ) -> Result<Vec<Finding>, PluginError> {
        match &plugin.pre {
            Pre::Validator(pre) => {
                wasm::validate(
                    &self.engine,
                    pre,
                    &plugin.info.name,
                    table,
                    config_json,
                    trace,
                    call,
                )
                .await
            }
            Pre::Chaos(_) => Err(PluginError::Failed {
                plugin: plugin.info.name.clone(),
                message: "is a chaos plugin, not a validator".into(),
            }),
        }
    }
}

/// One validator call of [`Registry::validate_all`].
#[derive(Clone)]
pub struct ValidatorJob {
    pub plugin: Arc<LoadedPlugin>,
    pub table: String,
    pub config_json: String,
}
impl Registry {
    /// Every job on the same trace, at once: at most `width` calls run at a time (each is
    /// CPU-bound wasm, so more than the cores only interleave). Results in the jobs' order.
    pub async fn validate_all(
        self: &Arc<Self>,
        jobs: Vec<ValidatorJob>,
        trace: Arc<ValidatorTrace>,
        resource: Vec<(String, String)>,
        width: usize,
    ) -> Vec<Result<Vec<Finding>, PluginError>> {
        let permits = Arc::new(tokio::sync::Semaphore::new(width.max(1)));
        let calls: Vec<_> = jobs
            .into_iter()
            .map(|job| {
                let (registry, trace, permits) = (self.clone(), trace.clone(), permits.clone());
                let call = ValidateCall {
                    limits: crate::runtime::Limits::VALIDATOR,
                    resource: resource.clone(),
                };
                let plugin = job.plugin.info.name.clone();
                let task = tokio::spawn(async move {
                    // The semaphore is never closed: acquiring cannot fail.
                    let _permit = permits.acquire_owned().await;
                    registry
                        .validate(&job.plugin, &job.table, &job.config_json, &trace, call)
                        .await
                });
                (plugin, task)
            })
            .collect();
        let mut out = Vec::with_capacity(calls.len());
        for (plugin, task) in calls {
            out.push(task.await.unwrap_or_else(|e| {
                Err(PluginError::Trap {
                    plugin,
                    message: format!("the host task running it failed: {e}"),
                })
            }));
        }
        out
    }
}
