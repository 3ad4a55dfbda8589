//! What an engine says of itself in the headers of `GET /_ping`: which engine
//! it is, its version and its API version. Both engines answer `_ping` in
//! under a millisecond, while Podman 4.3 takes 0.4–0.7 s for each of
//! `/version` and `/info` (it sums up its storage): asking those at every
//! start made a Podman run 1.3 s slower than a Docker one.

use super::super::engine::Kind;
use super::raw::Answer;

/// The engine, as its `_ping` headers name it.
#[derive(Debug)]
pub(super) struct Said {
    pub kind: Kind,
    pub version: String,
    /// `Api-Version`: the Docker API version it serves.
    pub api: bollard::ClientVersion,
}

/// `Server: Docker/20.10.24+dfsg1 (linux)` or `Server: Libpod/4.3.1 (linux)`
/// (Podman also sends `Libpod-Api-Version: 4.3.1`), with `Api-Version: 1.41`.
/// None when a header is missing or unknown (a proxy in between, another
/// engine): the caller then asks `/version` as before.
pub(super) fn said(a: &Answer) -> Option<Said> {
    if a.status != 200 {
        return None;
    }
    let (name, rest) = a.header("Server")?.split_once('/')?;
    let version = rest.split_whitespace().next()?.to_string();
    let kind = match name {
        "Docker" => Kind::Docker,
        "Libpod" => Kind::Podman,
        _ if a.header("Libpod-Api-Version").is_some() => Kind::Podman,
        _ => return None,
    };
    let (major, minor) = a.header("Api-Version")?.split_once('.')?;
    let api = bollard::ClientVersion {
        major_version: major.parse().ok()?,
        minor_version: minor.parse().ok()?,
    };
    Some(Said { kind, version, api })
}

/// The API version to speak: the engine's, or bollard's own if that is older
/// (what bollard's `negotiate_version` picks, without its `/version` call).
pub(super) fn agreed(api: &bollard::ClientVersion) -> bollard::ClientVersion {
    let ours = *bollard::API_DEFAULT_VERSION;
    if *api < ours {
        *api
    } else {
        ours
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, head: &str) -> Answer {
        Answer {
            status,
            head: head.into(),
            body: b"OK".to_vec(),
        }
    }

    #[test]
    fn docker_and_podman_name_themselves_in_their_ping() {
        // Captured on this machine: Docker 20.10.24 and Podman 4.3.1 (`curl -i .../_ping`).
        let docker = answer(
            200,
            "Api-Version: 1.41\nCache-Control: no-cache, no-store, must-revalidate\nDocker-Experimental: false\nOstype: linux\nPragma: no-cache\nServer: Docker/20.10.24+dfsg1 (linux)\nDate: Mon, 07 Dec 2026 03:43:07 GMT\nContent-Length: 2\nContent-Type: text/plain; charset=utf-8",
        );
        let d = said(&docker).unwrap();
        assert_eq!(
            (d.kind, d.version.as_str()),
            (Kind::Docker, "20.10.24+dfsg1")
        );
        assert_eq!(d.api.to_string(), "1.41");
        let podman = answer(
            200,
            "Api-Version: 1.41\nBuilder-Version: \nBuildkit-Version: \nCache-Control: no-cache\nDocker-Experimental: true\nLibpod-Api-Version: 4.3.1\nLibpod-Buildah-Version: 1.28.2\nPragma: no-cache\nServer: Libpod/4.3.1 (linux)\nX-Reference-Id: 0xc0000141b8\nDate: Mon, 07 Dec 2026 03:55:51 GMT\nContent-Length: 2\nContent-Type: text/plain; charset=utf-8",
        );
        let p = said(&podman).unwrap();
        assert_eq!((p.kind, p.version.as_str()), (Kind::Podman, "4.3.1"));
        assert_eq!(agreed(&p.api).to_string(), "1.41");
    }

    #[test]
    fn an_unknown_or_partial_ping_falls_back_to_asking_version() {
        assert!(said(&answer(200, "Api-Version: 1.41\nServer: nginx/1.22")).is_none());
        assert!(said(&answer(200, "Server: Docker/27.0.1 (linux)")).is_none());
        assert!(said(&answer(
            200,
            "Api-Version: x.y\nServer: Docker/27.0.1 (linux)"
        ))
        .is_none());
        assert!(said(&answer(
            404,
            "Api-Version: 1.41\nServer: Docker/27.0.1 (linux)"
        ))
        .is_none());
        // A newer engine than bollard knows: bollard's version is spoken.
        let new = said(&answer(
            200,
            "Api-Version: 1.99\nServer: Docker/99.0 (linux)",
        ))
        .unwrap();
        assert_eq!(agreed(&new.api), *bollard::API_DEFAULT_VERSION);
    }
}
