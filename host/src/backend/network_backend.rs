//! The network half of the seam: the scenario's own network, attaching and detaching
//! containers, and what the kernel shows of a container's interfaces. Network
//! *faults* (inside a container's namespace) go through
//! [`crate::capability::net::NetFaults`] instead.

use super::{BackendError, Network, Refuse};
use crate::capability::net::{NetFaults, NoNetFaults};

/// Networks of a container runtime. Every method has a default that refuses.
#[async_trait::async_trait]
pub trait NetworkBackend: Refuse {
    /// Create the scenario's own network, labelled for the run.
    async fn create_network(
        &self,
        _run_id: &str,
        _scenario: &str,
    ) -> Result<Network, BackendError> {
        Err(self.refusal("create_network"))
    }

    /// Remove a network; Ok(false) when it was already gone.
    async fn remove_network(&self, _name: &str) -> Result<bool, BackendError> {
        Err(self.refusal("remove_network"))
    }

    async fn network_connect(
        &self,
        _network: &str,
        _id: &str,
        _alias: &str,
    ) -> Result<(), BackendError> {
        Err(self.refusal("network_connect"))
    }

    async fn network_disconnect(&self, _network: &str, _id: &str) -> Result<(), BackendError> {
        Err(self.refusal("network_disconnect"))
    }

    /// Whether the container is attached to `network`.
    async fn network_attached(&self, _network: &str, _id: &str) -> Result<bool, BackendError> {
        Err(self.refusal("network_attached"))
    }

    /// The container's IPv4 address on `network`; none when it is not
    /// attached (network faults address peers by it).
    async fn network_address(
        &self,
        _network: &str,
        _id: &str,
    ) -> Result<Option<String>, BackendError> {
        Ok(None)
    }

    /// The network's gateway address and its subnet (address, prefix
    /// length): where the OTLP receiver listens, and whom it accepts.
    async fn network_gateway(
        &self,
        _network: &str,
    ) -> Result<Option<(std::net::IpAddr, std::net::IpAddr, u8)>, BackendError> {
        Ok(None)
    }

    /// The network interfaces the kernel shows in the container's network
    /// namespace, sorted (`["lo"]` for a container without a network); None
    /// when that cannot be read here (not running, a remote daemon).
    async fn interfaces(&self, _id: &str) -> Result<Option<Vec<String>>, BackendError> {
        Ok(None)
    }

    /// The network faults this backend can inject into its containers'
    /// namespaces: none unless it says so.
    fn net_faults(&self) -> &dyn NetFaults {
        &NoNetFaults
    }
}
