//! Which service a fault acts on.

use crate::chaos::exports::clnrm::chaos::chaos::Injection;
use crate::host::rng;

/// The service to act on: `configured` (which must be one of the scenario's services),
/// one drawn from the seeded stream for `"random"` (reproducible from the suite's seed;
/// one `rng.next-u64` call), or, when nothing is configured, the scenario's main service
/// (the first of `injection.services`).
pub fn target(configured: Option<&str>, injection: &Injection) -> Result<String, String> {
    let services = &injection.services;
    if configured == Some("random") && !services.iter().any(|s| s == "random") {
        if services.is_empty() {
            return Err("the scenario has no service to act on".into());
        }
        let i = rng::next_u64() % services.len() as u64;
        return Ok(services[i as usize].clone());
    }
    let t = configured
        .map(str::to_owned)
        .or_else(|| services.first().cloned())
        .ok_or("the scenario has no service to act on")?;
    if !services.contains(&t) {
        return Err(format!(
            "target `{t}` is not a service of scenario `{}` (services: {})",
            injection.scenario,
            services.join(", ")
        ));
    }
    Ok(t)
}
