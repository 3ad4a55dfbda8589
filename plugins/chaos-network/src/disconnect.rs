//! network_disconnect: cut a container off the scenario's network, observe
//! that Docker no longer lists it there, optionally reconnect and observe
//! that too.

use crate::tables::Disconnect;
use clnrm_sdk::prelude::*;

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let cfg: Disconnect = injection_config(inj)?;
    let target = target(cfg.target.as_deref(), inj)?;
    let span = FaultSpan::start(
        "clnrm.chaos.network_disconnect",
        inj.parent,
        "network_disconnect",
        &target,
        cfg.delay_ms,
    );

    clock::sleep_ms(cfg.delay_ms);
    require_running(&span, &target)?;
    let network = match container::network_disconnect(&target) {
        Ok(n) => n,
        Err(e) => return span.fail(format!("disconnect `{target}`: {e}")),
    };
    span.str("network.name", &network);
    let Some(after) =
        wait_attached(&target, false, cfg.observe_timeout_ms).or_else(|e| span.fail(e))?
    else {
        return span.fail(format!(
            "`{target}` still attached to {network} {} ms after the disconnect",
            cfg.observe_timeout_ms
        ));
    };
    span.event("network.disconnected");
    span.int("observed.after_ms", after as i64);
    let mut summary = format!("cut {target} off {network} after {} ms", cfg.delay_ms);
    if let Some(d) = cfg.duration_ms {
        clock::sleep_ms(d);
        if let Err(e) = container::network_connect(&target) {
            return span.fail(format!("reconnect `{target}`: {e}"));
        }
        if wait_attached(&target, true, cfg.observe_timeout_ms)
            .or_else(|e| span.fail(e))?
            .is_none()
        {
            return span.fail(format!(
                "`{target}` not attached to {network} again within {} ms",
                cfg.observe_timeout_ms
            ));
        }
        span.event("network.reconnected");
        span.bool("reconnected", true);
        summary.push_str(&format!(", reconnected {d} ms later"));
    }
    span.observed();
    Ok(Outcome {
        observed: true,
        summary,
    })
}
