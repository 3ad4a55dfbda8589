//! `ready = "healthcheck"`: Compose's health check, run by clnrm itself
//! (first check at once, then every interval); ready at the first success,
//! unhealthy after `retries` failures in a row once the start period is over.

use super::Target;
use crate::suite::Healthcheck;
use tokio::time::Instant;

pub async fn wait(
    t: &Target<'_>,
    h: &Healthcheck,
    deadline: Instant,
    attempts: &mut u32,
) -> Result<(), String> {
    let started = Instant::now();
    let mut failures = 0u32;
    loop {
        *attempts += 1;
        let why = match super::exec(t, &h.command, h.timeout).await {
            Ok(()) => return Ok(()),
            Err(why) => why,
        };
        if started.elapsed() >= h.start_period {
            failures += 1;
            if failures >= h.retries {
                return Err(format!(
                    "unhealthy: {failures} failed checks in a row; last: {why}"
                ));
            }
        }
        if !super::running(t).await {
            return Err(format!("the container stopped; last check: {why}"));
        }
        if Instant::now() + h.interval > deadline {
            return Err(format!("last check: {why}"));
        }
        tokio::time::sleep(h.interval).await;
    }
}
