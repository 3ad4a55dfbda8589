//! The few calls bollard cannot make on Podman: a plain HTTP/1.0 request on
//! the engine's socket, its JSON answer read loosely. Bollard's typed models
//! refuse states Docker does not have (`stopped`, `configured`, ...), and
//! libpod's own endpoints (`/libpod/...`) are not in its API at all.

use crate::backend::BackendError;
use std::io::{Read, Write};
use std::time::Duration;

/// A request's answer: status code, header lines and body.
#[derive(Debug)]
pub(super) struct Answer {
    pub status: u16,
    /// `Name: value` lines after the status line.
    pub head: String,
    pub body: Vec<u8>,
}

impl Answer {
    /// The value of header `name` (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.head, name)
    }

    pub fn json(&self) -> Result<serde_json::Value, BackendError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| BackendError::Unreachable(format!("engine answered bad JSON: {e}")))
    }

    /// The engine's own message of an error answer.
    pub fn message(&self) -> String {
        self.json()
            .ok()
            .and_then(|v| {
                v.get("message")
                    .or_else(|| v.get("cause"))
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body).trim().to_string())
    }
}

/// `method path` with an optional JSON body on `endpoint`
/// (`unix:///path` or `tcp://host:port` / `http://host:port`).
pub(super) async fn request(
    endpoint: &str,
    method: &'static str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<Answer, BackendError> {
    request_with(
        endpoint,
        method,
        path,
        Vec::new(),
        body,
        Duration::from_secs(60),
    )
    .await
}

/// [`request`] with extra headers and a longer wait (a pull).
pub(super) async fn request_with(
    endpoint: &str,
    method: &'static str,
    path: &str,
    headers: Vec<(&'static str, String)>,
    body: Option<serde_json::Value>,
    timeout: Duration,
) -> Result<Answer, BackendError> {
    let endpoint = endpoint.to_string();
    let path = path.to_string();
    tokio::task::spawn_blocking(move || blocking(&endpoint, method, &path, &headers, body, timeout))
        .await
        .map_err(|e| BackendError::Unreachable(e.to_string()))?
}

fn blocking(
    endpoint: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Option<serde_json::Value>,
    timeout: Duration,
) -> Result<Answer, BackendError> {
    let io = |e: std::io::Error| BackendError::Unreachable(format!("{endpoint}: {e}"));
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    // HTTP/1.0: the answer is never chunked and ends when the engine closes.
    let req = format!(
        "{method} {path} HTTP/1.0\r\nHost: engine\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let timeout = Some(timeout);
    let raw = if let Some(p) = endpoint.strip_prefix("unix://") {
        let mut s = std::os::unix::net::UnixStream::connect(p).map_err(io)?;
        s.set_read_timeout(timeout).map_err(io)?;
        s.write_all(req.as_bytes()).map_err(io)?;
        read_answer(&mut s).map_err(io)?
    } else {
        let addr = endpoint
            .trim_start_matches("tcp://")
            .trim_start_matches("http://")
            .trim_end_matches('/');
        // Bounded like the read: a host that never answers must not hold the
        // blocking thread (and the runtime's shutdown) for the OS's 2 minutes.
        use std::net::ToSocketAddrs;
        let sa = addr
            .to_socket_addrs()
            .map_err(io)?
            .next()
            .ok_or_else(|| BackendError::Unreachable(format!("{endpoint}: no address")))?;
        let mut s =
            std::net::TcpStream::connect_timeout(&sa, timeout.unwrap_or(Duration::from_secs(60)))
                .map_err(io)?;
        s.set_read_timeout(timeout).map_err(io)?;
        s.write_all(req.as_bytes()).map_err(io)?;
        read_answer(&mut s).map_err(io)?
    };
    parse(&raw).ok_or_else(|| BackendError::Unreachable(format!("{endpoint}: not an HTTP answer")))
}

/// The answer's bytes: up to its `Content-Length` when it has one, else until
/// the engine closes. A proxy in between (a TCP front for the socket) may keep
/// its side open after the engine closed, so the length is what ends it.
fn read_answer(s: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    // Once the head is in: the whole answer's length, if it says.
    let mut whole: Option<Option<usize>> = None;
    loop {
        if whole.is_none() {
            whole = head_end(&raw).map(|end| content_length(&raw[..end]).map(|n| end + n));
        }
        if let Some(Some(want)) = whole {
            if raw.len() >= want {
                raw.truncate(want);
                return Ok(raw);
            }
        }
        match s.read(&mut buf)? {
            0 => return Ok(raw),
            n => raw.extend_from_slice(&buf[..n]),
        }
    }
}

/// Where the head ends (after its blank line), once it is in.
fn head_end(raw: &[u8]) -> Option<usize> {
    raw.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// The head's `Content-Length`, if it says.
fn content_length(head: &[u8]) -> Option<usize> {
    header_in(std::str::from_utf8(head).ok()?, "content-length")?
        .parse()
        .ok()
}

/// The value of header `name` (case-insensitive), trimmed, in `Name: value`
/// lines (a status line has no `Name:` of that name, so it may be among them).
fn header_in<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Status line, headers and body of an HTTP/1.x answer.
fn parse(raw: &[u8]) -> Option<Answer> {
    let end = head_end(raw)?;
    let head = std::str::from_utf8(&raw[..end - 4]).ok()?;
    let (status_line, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    let status = status_line.split_whitespace().nth(1)?.parse().ok()?;
    Some(Answer {
        status,
        head: headers.replace("\r\n", "\n"),
        body: raw[end..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_its_status_and_body() {
        let a = parse(b"HTTP/1.0 404 Not Found\r\nContent-Type: application/json\r\n\r\n{\"cause\":\"no such container\",\"message\":\"no container with name or ID x found\"}").unwrap();
        assert_eq!(a.status, 404);
        assert_eq!(a.header("content-type"), Some("application/json"));
        assert_eq!(a.header("Server"), None);
        assert_eq!(a.message(), "no container with name or ID x found");
        assert!(parse(b"garbage").is_none());
    }

    #[test]
    fn an_answer_ends_at_its_length_even_when_the_peer_stays_open() {
        // A reader that would block (here: fail) past the answer, as a proxy
        // that keeps its side open does.
        struct Open(std::io::Cursor<Vec<u8>>);
        impl Read for Open {
            fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
                match self.0.read(b)? {
                    0 => Err(std::io::Error::other("would block: the peer never closed")),
                    n => Ok(n),
                }
            }
        }
        let answer = b"HTTP/1.0 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK";
        let got = read_answer(&mut Open(std::io::Cursor::new(answer.to_vec()))).unwrap();
        assert_eq!(got, answer);
        // Without a length: until the peer closes.
        let plain = b"HTTP/1.0 200 OK\r\n\r\n{}".to_vec();
        assert_eq!(
            read_answer(&mut std::io::Cursor::new(plain.clone())).unwrap(),
            plain
        );
    }
}
