//! Networks of the fake, with Docker's rules (no removal with endpoints).

use super::*;

#[async_trait::async_trait]
impl NetworkBackend for Fake {
    async fn create_network(&self, run_id: &str, scenario: &str) -> Result<Network, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let name = network_name(run_id, scenario);
        if st.network_id(&name).is_some() {
            return Err(BackendError::Conflict(format!("network {name} exists")));
        }
        let id = st.new_id();
        let mut lbl = labels::for_run(run_id);
        lbl.insert(labels::SCENARIO.to_string(), scenario.to_string());
        st.networks.insert(
            id.clone(),
            Net {
                id: id.clone(),
                name: name.clone(),
                labels: lbl,
            },
        );
        st.log(format!("create_network {scenario}"));
        Ok(Network { id, name })
    }

    /// The fake's networks are on loopback: a scenario's OTLP receiver
    /// listens on 127.0.0.1 and accepts the rest of 127.0.0.0/8.
    async fn network_gateway(
        &self,
        _network: &str,
    ) -> Result<Option<(std::net::IpAddr, std::net::IpAddr, u8)>, BackendError> {
        self.reachable()?;
        Ok(Some((
            std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::Ipv4Addr::new(127, 0, 0, 0).into(),
            8,
        )))
    }

    async fn remove_network(&self, name: &str) -> Result<bool, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let Some(id) = st.network_id(name) else {
            return Ok(false);
        };
        if st.containers.values().any(|c| c.networks.contains(&id)) {
            return Err(BackendError::Conflict(format!(
                "network {name} has active endpoints"
            )));
        }
        st.networks.remove(&id);
        st.log("remove_network".into());
        Ok(true)
    }

    async fn network_connect(
        &self,
        network: &str,
        id: &str,
        _alias: &str,
    ) -> Result<(), BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let net = st
            .network_id(network)
            .ok_or_else(|| BackendError::NotFound(network.to_string()))?;
        let c = st.container(id)?;
        if !c.networks.insert(net) {
            return Err(BackendError::Conflict(format!(
                "{id} is already attached to {network}"
            )));
        }
        let svc = c.service.clone();
        st.log(format!("network_connect {svc}"));
        Ok(())
    }

    async fn network_disconnect(&self, network: &str, id: &str) -> Result<(), BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let net = st
            .network_id(network)
            .ok_or_else(|| BackendError::NotFound(network.to_string()))?;
        let c = st.container(id)?;
        if !c.networks.remove(&net) {
            return Err(BackendError::Conflict(format!(
                "{id} is not attached to {network}"
            )));
        }
        let svc = c.service.clone();
        st.log(format!("network_disconnect {svc}"));
        Ok(())
    }

    async fn network_attached(&self, network: &str, id: &str) -> Result<bool, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let net = st.network_id(network);
        let c = st.container(id)?;
        Ok(net.is_some_and(|n| c.networks.contains(&n)))
    }

    /// `lo`, and an `eth<n>` per network it is attached to.
    async fn interfaces(&self, id: &str) -> Result<Option<Vec<String>>, BackendError> {
        let st = self.lock();
        let c = st
            .containers
            .get(id)
            .ok_or_else(|| BackendError::NotFound(id.to_string()))?;
        let mut names: Vec<String> = (0..c.networks.len()).map(|n| format!("eth{n}")).collect();
        names.push("lo".into());
        names.sort();
        Ok(Some(names))
    }
}
