//! The tcp and http probes: one attempt each, made from a host thread inside
//! the container's network namespace, so images without curl or nc work and
//! `localhost` is the container's own loopback.

use crate::capability::net::netns::Netns;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One attempt may take this long (a loopback connect is refused at once;
/// a service that accepted but does not answer HTTP is given a moment).
const ATTEMPT_BOUND: Duration = Duration::from_millis(1000);

/// Connect to 127.0.0.1:`port` in the namespace.
pub async fn tcp(ns: Netns, port: u16) -> Result<(), String> {
    ns.run(move || connect(port).map(drop)).await
}

/// GET `path` on 127.0.0.1:`port`; Ok when the status is `want` (None: any 2xx).
pub async fn http(ns: Netns, port: u16, path: String, want: Option<u16>) -> Result<(), String> {
    ns.run(move || {
        let mut s = connect(port)?;
        s.set_read_timeout(Some(ATTEMPT_BOUND))
            .and_then(|()| s.set_write_timeout(Some(ATTEMPT_BOUND)))
            .map_err(|e| e.to_string())?;
        let req =
            format!("GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nUser-Agent: clnrm\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).map_err(|e| format!("sending the request: {e}"))?;
        let code = read_status(&mut s)?;
        match want {
            Some(w) if w == code => Ok(()),
            None if (200..300).contains(&code) => Ok(()),
            Some(w) => Err(format!("status {code}, waiting for {w}")),
            None => Err(format!("status {code}, waiting for a 2xx")),
        }
    })
    .await
}

fn connect(port: u16) -> Result<TcpStream, String> {
    TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), ATTEMPT_BOUND)
        .map_err(|e| format!("127.0.0.1:{port}: {e}"))
}

/// The status code of the response's first line (`HTTP/1.1 200 OK`).
fn read_status(s: &mut impl Read) -> Result<u16, String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 256];
    while !head.contains(&b'\n') && head.len() < 4096 {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("reading the response: {e}")),
        }
    }
    parse_status(&head)
}

fn parse_status(head: &[u8]) -> Result<u16, String> {
    let line = String::from_utf8_lossy(head);
    let line = line.lines().next().unwrap_or("");
    let mut words = line.split_whitespace();
    match (
        words.next(),
        words.next().and_then(|c| c.parse::<u16>().ok()),
    ) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") => Ok(code),
        _ => Err(format!(
            "not an HTTP response: `{}`",
            line.chars().take(80).collect::<String>()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(parse_status(b"HTTP/1.1 204 No Content\r\n"), Ok(204));
        assert_eq!(parse_status(b"HTTP/1.0 503\r\n"), Ok(503));
        assert!(parse_status(b"SSH-2.0-OpenSSH\r\n")
            .unwrap_err()
            .contains("not an HTTP"));
        assert!(parse_status(b"").is_err());
    }

    /// Against a listener in a namespace of our own (root only, as the
    /// network faults' tests).
    #[tokio::test]
    async fn probes_reach_the_namespace_loopback_not_the_hosts() {
        use crate::capability::net::netns::tests::{root, TestNs};
        if !root() {
            return;
        }
        let Some(t) = TestNs::new() else { return };
        let netns = t.ns;
        assert!(tcp(netns, 18080).await.is_err(), "nothing listens yet");
        // A listener inside the namespace, answering one HTTP request.
        let (tx, rx) = std::sync::mpsc::channel();
        let server = netns.run(move || {
            let l = std::net::TcpListener::bind("127.0.0.1:18080").map_err(|e| e.to_string())?;
            tx.send(()).ok();
            for _ in 0..2 {
                let (mut c, _) = l.accept().map_err(|e| e.to_string())?;
                let mut b = [0u8; 512];
                let _ = c.read(&mut b);
                let _ = c.write_all(b"HTTP/1.1 503 Busy\r\n\r\n");
            }
            Ok(())
        });
        let server = tokio::spawn(server);
        tokio::task::spawn_blocking(move || rx.recv())
            .await
            .unwrap()
            .unwrap();
        // The host's own loopback has no such listener.
        assert!(connect(18080).is_err());
        assert_eq!(http(netns, 18080, "/".into(), Some(503)).await, Ok(()));
        let e = http(netns, 18080, "/".into(), None).await.unwrap_err();
        assert!(e.contains("status 503, waiting for a 2xx"), "{e}");
        server.await.unwrap().unwrap();
    }
}
