//! OpenTelemetry's span kind and status, as the span model and the packed trace format
//! ([`crate::packed`]) both carry them. Always built (the host packs traces with them too);
//! [`crate::expect`] re-exports them.

use std::fmt;

/// OpenTelemetry span kind. The discriminants are the packed format's codes (and the WIT
/// `span-kind` order): never reorder them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    Internal = 0,
    Server = 1,
    Client = 2,
    Producer = 3,
    Consumer = 4,
}

impl Kind {
    /// Every kind, in the order the error messages list them.
    pub const ALL: [Kind; 5] = [
        Kind::Internal,
        Kind::Server,
        Kind::Client,
        Kind::Producer,
        Kind::Consumer,
    ];

    /// The lowercase name used in TOML and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Internal => "internal",
            Kind::Server => "server",
            Kind::Client => "client",
            Kind::Producer => "producer",
            Kind::Consumer => "consumer",
        }
    }

    /// Parses a kind name, ignoring case (users write `SERVER` as often as `server`).
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// OpenTelemetry span status. The discriminants are the packed format's codes (and the
/// WIT `span-status` order): never reorder them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Status {
    Unset = 0,
    Ok = 1,
    Error = 2,
}

impl Status {
    /// Every status, in the order the error messages list them.
    pub const ALL: [Status; 3] = [Status::Unset, Status::Ok, Status::Error];

    /// The uppercase name OpenTelemetry and the seed suites use.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unset => "UNSET",
            Status::Ok => "OK",
            Status::Error => "ERROR",
        }
    }

    /// Parses a status name, ignoring case.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
