//! The scenario's network on Docker, and what the kernel shows of a container's
//! interfaces.

use super::{network_name, Docker};
use crate::backend::{labels, BackendError, ContainerBackend, Network, NetworkBackend};
use crate::capability::net::{Kernel, NetFaults};
use bollard::models::{
    EndpointSettings, NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest,
};
use std::path::Path;

#[async_trait::async_trait]
impl NetworkBackend for Docker {
    /// Create the scenario's own bridge network, labelled for the run; its
    /// services find each other there by service id.
    async fn create_network(&self, run_id: &str, scenario: &str) -> Result<Network, BackendError> {
        let name = network_name(run_id, scenario);
        let mut lbl = labels::for_run(run_id);
        lbl.insert(labels::SCENARIO.to_string(), scenario.to_string());
        let req = NetworkCreateRequest {
            name: name.clone(),
            driver: Some("bridge".into()),
            labels: Some(lbl),
            ..Default::default()
        };
        let created = self.client.create_network(req).await?;
        Ok(Network {
            id: created.id,
            name,
        })
    }

    /// Remove a network; Ok(false) when it was already gone.
    async fn remove_network(&self, name: &str) -> Result<bool, BackendError> {
        match self.client.remove_network(name).await {
            Ok(()) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn network_connect(
        &self,
        network: &str,
        id: &str,
        alias: &str,
    ) -> Result<(), BackendError> {
        let req = NetworkConnectRequest {
            container: Some(id.to_string()),
            endpoint_config: Some(EndpointSettings {
                aliases: Some(vec![alias.to_string()]),
                ..Default::default()
            }),
        };
        Ok(self.client.connect_network(network, req).await?)
    }

    async fn network_disconnect(&self, network: &str, id: &str) -> Result<(), BackendError> {
        let req = NetworkDisconnectRequest {
            container: Some(id.to_string()),
            force: Some(true),
        };
        Ok(self.client.disconnect_network(network, req).await?)
    }

    /// Whether Docker lists the container as attached to `network`.
    async fn network_attached(&self, network: &str, id: &str) -> Result<bool, BackendError> {
        Ok(self
            .endpoints(id)
            .await?
            .is_some_and(|n| n.contains_key(network)))
    }

    async fn network_address(
        &self,
        network: &str,
        id: &str,
    ) -> Result<Option<String>, BackendError> {
        Ok(self
            .endpoints(id)
            .await?
            .and_then(|mut n| n.remove(network))
            .and_then(|e| e.ip_address)
            .filter(|a| !a.is_empty()))
    }

    /// From the network's IPAM configuration (its first IPv4 entry).
    async fn network_gateway(
        &self,
        network: &str,
    ) -> Result<Option<(std::net::IpAddr, std::net::IpAddr, u8)>, BackendError> {
        let info = self
            .client
            .inspect_network(
                network,
                None::<bollard::query_parameters::InspectNetworkOptions>,
            )
            .await?;
        let configs = info.ipam.and_then(|i| i.config).unwrap_or_default();
        Ok(configs
            .into_iter()
            .find_map(|c| {
                let gateway: std::net::IpAddr = c.gateway?.parse().ok()?;
                let (net, prefix) = c
                    .subnet?
                    .split_once('/')
                    .map(|(a, p)| (a.to_string(), p.to_string()))?;
                Some((gateway, net.parse().ok()?, prefix.parse().ok()?))
            })
            .filter(|(g, _, _)| g.is_ipv4()))
    }

    /// From the kernel: `/proc/<pid>/net/dev` of the container's init.
    async fn interfaces(&self, id: &str) -> Result<Option<Vec<String>>, BackendError> {
        let Some(pid) = self.inspect(id).await?.pid else {
            return Ok(None);
        };
        match crate::backend::isolated::interfaces(Path::new("/proc"), pid) {
            Ok(names) => Ok(Some(names)),
            // Not our kernel (a remote daemon), or it just exited.
            Err(_) => Ok(None),
        }
    }

    /// The kernel's: the daemon's containers are this machine's processes.
    fn net_faults(&self) -> &dyn NetFaults {
        &Kernel
    }
}

impl Docker {
    /// The networks Docker lists the container on, by name (None: none at all).
    async fn endpoints(
        &self,
        id: &str,
    ) -> Result<Option<std::collections::HashMap<String, EndpointSettings>>, BackendError> {
        let info = self
            .client
            .inspect_container(
                id,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await?;
        Ok(info.network_settings.and_then(|n| n.networks))
    }
}
