//! Ctrl-C and SIGTERM: stop what is running, still clean up, report
//! "interrupted", exit 130. The signal only flips a flag; the engine decides
//! where it is safe to stop (never inside cleanup).

use tokio::sync::watch;

#[derive(Clone)]
pub struct Interrupt {
    rx: watch::Receiver<bool>,
}

impl Interrupt {
    /// Listen for SIGINT and SIGTERM for the rest of the process.
    pub fn install() -> Interrupt {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                tracing::warn!("cannot install signal handlers; Ctrl-C will not clean up");
                return;
            };
            let mut first = true;
            loop {
                tokio::select! {
                    _ = int.recv() => {},
                    _ = term.recv() => {},
                }
                if first {
                    eprintln!("clnrm: interrupted; cleaning up (this takes a moment)...");
                    first = false;
                } else {
                    eprintln!("clnrm: still cleaning up; containers labelled clnrm are removed by `clnrm gc` if you kill this process");
                }
                let _ = tx.send(true);
            }
        });
        Interrupt { rx }
    }

    /// Never fires (the engine's tests).
    #[cfg(test)]
    pub fn never() -> Interrupt {
        let (tx, rx) = watch::channel(false);
        std::mem::forget(tx);
        Interrupt { rx }
    }

    /// An interrupt raised by calling the returned function (the engine's
    /// tests interrupting a step half-way).
    #[cfg(test)]
    pub fn manual() -> (Interrupt, impl Fn() + Send + Sync) {
        let (tx, rx) = watch::channel(false);
        (Interrupt { rx }, move || {
            let _ = tx.send(true);
        })
    }

    pub fn is_set(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves once an interrupt arrives.
    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        let _ = rx.wait_for(|v| *v).await;
    }
}
