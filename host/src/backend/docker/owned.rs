//! Everything labelled `clnrm` on this daemon, whichever run made it (for `clnrm gc`).

use super::Docker;
use crate::backend::{labels, BackendError};
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder,
};
use std::collections::HashMap;

/// A resource carrying the `clnrm` label.
#[derive(Clone, Debug)]
pub struct Owned {
    pub kind: ResourceKind,
    pub id: String,
    pub labels: HashMap<String, String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ResourceKind {
    Container,
    Network,
    Volume,
}

impl Docker {
    /// Every container, network and volume labelled `clnrm` (any run).
    pub async fn list_owned(&self) -> Result<Vec<Owned>, BackendError> {
        let filters = HashMap::from([("label".to_string(), vec![labels::RUN.to_string()])]);
        let mut out = Vec::new();
        for c in self
            .client
            .list_containers(Some(
                ListContainersOptionsBuilder::default()
                    .all(true)
                    .filters(&filters)
                    .build(),
            ))
            .await?
        {
            out.push(Owned {
                kind: ResourceKind::Container,
                id: c.id.unwrap_or_default(),
                labels: c.labels.unwrap_or_default(),
            });
        }
        for n in self
            .client
            .list_networks(Some(
                ListNetworksOptionsBuilder::default()
                    .filters(&filters)
                    .build(),
            ))
            .await?
        {
            out.push(Owned {
                kind: ResourceKind::Network,
                id: n.id.unwrap_or_default(),
                labels: n.labels.unwrap_or_default(),
            });
        }
        for v in self
            .client
            .list_volumes(Some(
                ListVolumesOptionsBuilder::default()
                    .filters(&filters)
                    .build(),
            ))
            .await?
            .volumes
            .unwrap_or_default()
        {
            out.push(Owned {
                kind: ResourceKind::Volume,
                id: v.name,
                labels: v.labels,
            });
        }
        Ok(out)
    }

    pub async fn remove_volume(&self, name: &str) -> Result<bool, BackendError> {
        match self
            .client
            .remove_volume(name, None::<bollard::query_parameters::RemoveVolumeOptions>)
            .await
        {
            Ok(()) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
