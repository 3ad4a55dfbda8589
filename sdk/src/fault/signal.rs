//! [`Signal`]: a Unix signal as a config value.

use std::fmt;

use serde::de::{Deserialize, Deserializer, Error};

/// A signal as the user wrote it (`"SIGKILL"`, `"KILL"` or `"9"`), with its Linux number.
/// As a config field it is checked while the config is parsed, so an unknown signal is
/// an invalid value at its path (`signal: unknown signal "SIGBOGUS" ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    name: String,
    number: i32,
}

impl Signal {
    /// Parses a signal name (with or without `SIG`) or number (1..=64).
    pub fn parse(s: &str) -> Result<Signal, String> {
        signal_number(s)
            .map(|number| Signal {
                name: s.to_owned(),
                number,
            })
            .ok_or_else(|| {
                format!("unknown signal `{s}` (use e.g. \"SIGKILL\", \"SIGTERM\" or a number)")
            })
    }

    /// `SIGKILL`.
    pub fn kill() -> Signal {
        Signal {
            name: "SIGKILL".into(),
            number: 9,
        }
    }

    /// `SIGTERM`.
    pub fn term() -> Signal {
        Signal {
            name: "SIGTERM".into(),
            number: 15,
        }
    }

    /// The name as written in the config (what is sent to Docker and shown in spans).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Linux signal number (9 for SIGKILL).
    pub fn number(&self) -> i32 {
        self.number
    }
}

/// The name as written.
impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl<'de> Deserialize<'de> for Signal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Signal::parse(&s).map_err(D::Error::custom)
    }
}

/// Linux signal numbers for the names Docker accepts (with or without "SIG"), or a
/// number in 1..=64.
pub fn signal_number(signal: &str) -> Option<i32> {
    if let Ok(n) = signal.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let name = signal.trim_start_matches("SIG");
    Some(match name {
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "ABRT" => 6,
        "KILL" => 9,
        "USR1" => 10,
        "USR2" => 12,
        "PIPE" => 13,
        "ALRM" => 14,
        "TERM" => 15,
        "CONT" => 18,
        "STOP" => 19,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, ConfigError};

    #[test]
    fn names_and_numbers() {
        assert_eq!(signal_number("SIGKILL"), Some(9));
        assert_eq!(signal_number("KILL"), Some(9));
        assert_eq!(signal_number("15"), Some(15));
        assert_eq!(signal_number("0"), None);
        assert_eq!(signal_number("65"), None);
        assert_eq!(signal_number("SIGBOGUS"), None);
        let s = Signal::parse("SIGTERM").unwrap();
        assert_eq!(
            (s.name(), s.number(), s.to_string()),
            ("SIGTERM", 15, "SIGTERM".into())
        );
        assert_eq!(Signal::kill().number(), 9);
        assert_eq!(Signal::term().name(), "SIGTERM");
    }

    #[test]
    fn a_config_field_is_checked_at_parse_time() {
        #[derive(serde::Deserialize, Debug)]
        struct C {
            signal: Signal,
        }
        let c: C = config::parse(r#"{"signal": "USR1"}"#).unwrap();
        assert_eq!(c.signal.number(), 10);
        assert_eq!(
            config::parse::<C>(r#"{"signal": "SIGBOGUS"}"#).unwrap_err(),
            ConfigError::InvalidValue {
                path: vec!["signal".into()],
                message:
                    "unknown signal `SIGBOGUS` (use e.g. \"SIGKILL\", \"SIGTERM\" or a number)"
                        .into(),
            }
        );
        assert_eq!(
            config::parse::<C>(r#"{"signal": 9}"#).unwrap_err(),
            ConfigError::WrongType {
                path: vec!["signal".into()],
                expected: "a string".into(),
                found: "integer 9".into(),
            }
        );
    }
}
