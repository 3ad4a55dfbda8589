//! What the engine says about itself (`clnrm doctor`).

use super::{BackendError, Docker};

/// The engine's name, version and the drivers clnrm depends on.
#[derive(Debug, Clone, Default)]
pub struct EngineInfo {
    pub version: String,
    pub api_version: String,
    pub platform: String,
    pub storage_driver: String,
    pub cgroup_driver: String,
    pub cgroup_version: String,
    pub kernel: String,
}

impl Docker {
    pub async fn engine_info(&self) -> Result<EngineInfo, BackendError> {
        let (v, i) = tokio::try_join!(self.client.version(), self.client.info())?;
        let s = |o: Option<String>| o.unwrap_or_else(|| "?".into());
        Ok(EngineInfo {
            version: s(v.version),
            api_version: s(v.api_version),
            platform: v
                .platform
                .map(|p| p.name)
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| "Docker".into()),
            storage_driver: s(i.driver),
            cgroup_driver: i.cgroup_driver.map_or("?".into(), |d| d.to_string()),
            cgroup_version: i.cgroup_version.map_or("?".into(), |d| d.to_string()),
            kernel: s(i.kernel_version),
        })
    }
}
