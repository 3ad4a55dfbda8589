//! `clnrm:chaos/trace-resource` (0.3.2): the resource of the run a validator
//! is judging. Validators only: a pure answer (the attributes the call was
//! given), never journaled, no capability needed.

use crate::runtime::bindings::chaos::clnrm::chaos::types::Attribute;
use crate::runtime::bindings::validator::clnrm::chaos::trace_resource;
use crate::runtime::host::PluginState;

impl trace_resource::Host for PluginState {
    async fn attributes(&mut self) -> wasmtime::Result<Vec<Attribute>> {
        Ok(self.resource.clone())
    }
}
