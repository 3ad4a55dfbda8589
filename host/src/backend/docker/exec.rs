//! A command in a running container (`sh -c` line, or an argv as it is for
//! images without a shell): its exit code and the tail of its output.

use super::Docker;
use crate::backend::{BackendError, ExecOutcome};
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt;
use std::time::Duration;

/// How much of a step's stdout/stderr we keep (the tail).
const OUTPUT_CAP: usize = 64 * 1024;

impl Docker {
    /// Run `cmd` in the container; collect exit code and output.
    /// `timeout`: stop waiting (the caller kills the container).
    pub(super) async fn exec_cmd(
        &self,
        id: &str,
        cmd: Vec<&str>,
        timeout: Option<Duration>,
    ) -> Result<ExecOutcome, BackendError> {
        self.exec_cmd_env(id, cmd, &[], timeout).await
    }

    /// The same, with `KEY=value` entries added to the exec's environment.
    pub(super) async fn exec_cmd_env(
        &self,
        id: &str,
        cmd: Vec<&str>,
        env: &[String],
        timeout: Option<Duration>,
    ) -> Result<ExecOutcome, BackendError> {
        let exec = self
            .client
            .create_exec(
                id,
                CreateExecOptions {
                    cmd: Some(cmd),
                    env: (!env.is_empty()).then(|| env.iter().map(String::as_str).collect()),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..Default::default()
                },
            )
            .await?;
        let mut out = ExecOutcome::default();
        if let StartExecResults::Attached { mut output, .. } =
            self.client.start_exec(&exec.id, None).await?
        {
            let collect = async {
                while let Some(chunk) = output.next().await {
                    match chunk {
                        Ok(LogOutput::StdOut { message }) => push_capped(&mut out.stdout, &message),
                        Ok(LogOutput::StdErr { message }) => push_capped(&mut out.stderr, &message),
                        Ok(_) => {}
                        // The stream breaks when the container dies under it.
                        Err(_) => break,
                    }
                }
            };
            match timeout {
                Some(t) => out.timed_out = tokio::time::timeout(t, collect).await.is_err(),
                None => collect.await,
            }
        }
        if !out.timed_out {
            out.exit_code = self.exec_exit_code(&exec.id).await;
        }
        Ok(out)
    }

    /// The exec's exit code; Docker may need a moment to record it.
    async fn exec_exit_code(&self, exec_id: &str) -> Option<i64> {
        for _ in 0..20 {
            match self.client.inspect_exec(exec_id).await {
                Ok(i) if i.running != Some(true) => return i.exit_code,
                Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                Err(_) => return None,
            }
        }
        None
    }
}

fn push_capped(buf: &mut String, bytes: &[u8]) {
    buf.push_str(&String::from_utf8_lossy(bytes));
    if buf.len() > OUTPUT_CAP {
        let cut = buf.len() - OUTPUT_CAP;
        let cut = (cut..buf.len())
            .find(|i| buf.is_char_boundary(*i))
            .unwrap_or(buf.len());
        buf.drain(..cut);
    }
}
