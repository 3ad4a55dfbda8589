//! What a service's container runs: the suite's `command`/`entrypoint`, the
//! image's own command, or the keep-alive (images whose command is absent or
//! a bare shell, which would exit at once; `keep_alive` overrides).

use crate::backend::ImageCommand;
use crate::suite::ServiceSpec;

/// The container command when a service keeps alive: stay alive, exit on
/// SIGTERM so a graceful stop is quick.
pub(super) const KEEP_ALIVE: [&str; 3] = [
    "sh",
    "-c",
    "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done",
];

/// What the create request says; None: the image's own.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Launch {
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
}

/// Whether the service gets the keep-alive; `image` is None when the image
/// could not be inspected (then absent is assumed, as before images ran
/// their own commands).
fn keeps_alive(spec: &ServiceSpec, image: Option<&ImageCommand>) -> bool {
    spec.keep_alive.unwrap_or_else(|| {
        spec.args.is_empty()
            && spec.entrypoint.is_none()
            && image.is_none_or(|i| crate::suite::is_absent_or_bare_shell(&i.entrypoint, &i.cmd))
    })
}

pub(super) fn launch(spec: &ServiceSpec, image: Option<&ImageCommand>) -> Launch {
    if keeps_alive(spec, image) {
        return Launch {
            // An image entrypoint would wrap the keep-alive: clear it ([] is
            // "none", absent is "the image's"). Untouched otherwise, so the
            // request for busybox-like images is what it always was.
            entrypoint: image
                .filter(|i| !i.entrypoint.is_empty())
                .map(|_| Vec::new()),
            cmd: Some(KEEP_ALIVE.iter().map(|s| s.to_string()).collect()),
        };
    }
    Launch {
        entrypoint: spec.entrypoint.clone(),
        cmd: (!spec.args.is_empty()).then(|| spec.args.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ServiceSpec {
        ServiceSpec {
            id: "app".into(),
            image: "img".into(),
            ..Default::default()
        }
    }

    fn img(ep: &[&str], cmd: &[&str]) -> ImageCommand {
        ImageCommand {
            entrypoint: ep.iter().map(|s| s.to_string()).collect(),
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn keep_alive_for_shells_and_absent_commands_only() {
        let s = spec();
        let keep = Some(KEEP_ALIVE.iter().map(|s| s.to_string()).collect());
        // busybox-like: no command, or `sh`: the keep-alive, entrypoint untouched.
        for i in [img(&[], &[]), img(&[], &["sh"])] {
            assert_eq!(
                launch(&s, Some(&i)),
                Launch {
                    entrypoint: None,
                    cmd: keep.clone()
                }
            );
        }
        assert_eq!(launch(&s, None).cmd, keep);
        // A real service runs its own command.
        let server = img(&["/app/server"], &["--port", "80"]);
        assert_eq!(
            launch(&s, Some(&server)),
            Launch {
                entrypoint: None,
                cmd: None
            }
        );
        // keep_alive = true overrides, clearing the image's entrypoint.
        let mut k = spec();
        k.keep_alive = Some(true);
        assert_eq!(
            launch(&k, Some(&server)),
            Launch {
                entrypoint: Some(vec![]),
                cmd: keep.clone()
            }
        );
        // keep_alive = false: a bare-shell image runs as it is.
        k.keep_alive = Some(false);
        assert_eq!(
            launch(&k, Some(&img(&[], &["sh"]))),
            Launch {
                entrypoint: None,
                cmd: None
            }
        );
        // command / entrypoint replace the image's.
        let mut c = spec();
        c.args = vec!["-n".into(), "5".into()];
        c.entrypoint = Some(vec!["/app/cli".into()]);
        assert_eq!(
            launch(&c, Some(&img(&[], &[]))),
            Launch {
                entrypoint: Some(vec!["/app/cli".into()]),
                cmd: Some(vec!["-n".into(), "5".into()])
            }
        );
    }
}

impl super::Docker {
    pub(super) fn remember_command(&self, image: &str, c: ImageCommand) {
        if let Ok(mut m) = self.commands.lock() {
            m.insert(image.to_string(), c);
        }
    }

    /// The image's own command: remembered from preparing images, else
    /// inspected now; None when it cannot be inspected.
    pub(super) async fn image_command(&self, image: &str) -> Option<ImageCommand> {
        let known = self.commands.lock().ok()?.get(image).cloned();
        match known {
            Some(c) => Some(c),
            None => crate::backend::ImageBackend::image_info(self, image)
                .await
                .ok()
                .flatten()
                .map(|i| i.command),
        }
    }
}
