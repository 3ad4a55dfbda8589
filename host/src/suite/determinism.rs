//! `[determinism]`: the seed and `freeze_clock`.
//!
//! `freeze_clock` is an RFC 3339 instant, as a string or as a TOML datetime,
//! turned into Unix nanoseconds. Accepted: `2025-01-01T00:00:00Z`, a space
//! instead of `T`, fractional seconds, an offset (`+02:00`), or no offset at
//! all (read as UTC). Rejected: a date or a time alone, anything before 1970.

use super::diag::{Ctx, SuiteError};
use serde::Deserialize;
use toml::value::{Datetime, Offset};
use toml::Spanned;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Determinism {
    /// None lets the CLI pick (and report) one.
    pub seed: Option<u64>,
    /// RFC 3339 instant that span timestamps start from: a string or a TOML
    /// offset/local datetime.
    pub freeze_clock: Option<Spanned<toml::Value>>,
    /// Put application spans' structure (service, name, kind, status, place
    /// in the tree) into the digest; by default they are left out (they are
    /// not seeded).
    #[serde(default)]
    pub digest_app_spans: bool,
}

impl Determinism {
    /// `freeze_clock` as Unix nanoseconds.
    pub fn freeze_clock_unix_ns(&self, cx: &Ctx) -> Result<Option<u64>, SuiteError> {
        let Some(fc) = &self.freeze_clock else {
            return Ok(None);
        };
        parse(fc.get_ref()).map(Some).map_err(|m| {
            cx.err(
                fc.span(),
                m,
                Some("write e.g. freeze_clock = \"2025-01-01T00:00:00Z\"".into()),
            )
        })
    }
}

/// Unix nanoseconds of the instant, or why it is not one.
fn parse(value: &toml::Value) -> Result<u64, String> {
    let dt: Datetime = match value {
        toml::Value::Datetime(d) => *d,
        toml::Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not an RFC 3339 instant"))?,
        other => {
            return Err(format!(
                "`freeze_clock` must be an RFC 3339 instant, found {}",
                other.type_str()
            ))
        }
    };
    let (Some(date), Some(time)) = (dt.date, dt.time) else {
        return Err(format!(
            "`{dt}` is not an instant: freeze_clock needs a date and a time"
        ));
    };
    let days = days_from_civil(
        i64::from(date.year),
        i64::from(date.month),
        i64::from(date.day),
    );
    let offset_s = match dt.offset {
        None | Some(Offset::Z) => 0,
        Some(Offset::Custom { minutes }) => i64::from(minutes) * 60,
    };
    let secs = days * 86_400
        + i64::from(time.hour) * 3600
        + i64::from(time.minute) * 60
        + i64::from(time.second)
        - offset_s;
    if secs < 0 {
        return Err(format!("`{dt}` is before 1970-01-01T00:00:00Z"));
    }
    (secs as u64)
        .checked_mul(1_000_000_000)
        .and_then(|ns| ns.checked_add(u64::from(time.nanosecond)))
        .ok_or_else(|| format!("`{dt}` is too far in the future"))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::testing::{fails, load_text, OK};

    fn s(x: &str) -> Result<u64, String> {
        parse(&toml::Value::String(x.into()))
    }

    #[test]
    fn forms() {
        let base = 1_735_689_600_000_000_000;
        assert_eq!(s("2025-01-01T00:00:00Z"), Ok(base));
        assert_eq!(s("2025-01-01T00:00:00"), Ok(base));
        assert_eq!(s("2025-01-01 00:00:00Z"), Ok(base));
        assert_eq!(s("2025-01-01T02:00:00+02:00"), Ok(base));
        assert_eq!(s("2025-01-01T00:00:00.5Z"), Ok(base + 500_000_000));
        assert_eq!(s("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(s("2024-02-29T00:00:00Z"), Ok(1_709_164_800_000_000_000));
        let dt: toml::value::Datetime = "2025-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(parse(&toml::Value::Datetime(dt)), Ok(base));
    }

    #[test]
    fn rejects() {
        assert!(s("yesterday")
            .unwrap_err()
            .contains("not an RFC 3339 instant"));
        assert!(s("2025-01-01")
            .unwrap_err()
            .contains("needs a date and a time"));
        assert!(s("12:00:00")
            .unwrap_err()
            .contains("needs a date and a time"));
        assert!(s("2025-13-01T00:00:00Z").is_err());
        assert!(s("1969-12-31T23:59:59Z")
            .unwrap_err()
            .contains("before 1970"));
        assert!(parse(&toml::Value::Integer(5))
            .unwrap_err()
            .contains("found integer"));
    }

    #[test]
    fn freeze_clock_parses() {
        let s = load_text(&format!(
            "[determinism]\nseed = 7\nfreeze_clock = \"2025-01-01T00:00:00Z\"\n{OK}"
        ))
        .unwrap();
        assert_eq!(s.freeze_clock_unix_ns, Some(1_735_689_600_000_000_000));
        assert_eq!(s.seed, Some(7));
        // An unquoted TOML datetime is the same instant.
        let s = load_text(&format!(
            "[determinism]\nfreeze_clock = 2025-01-01T00:00:00Z\n{OK}"
        ))
        .unwrap();
        assert_eq!(s.freeze_clock_unix_ns, Some(1_735_689_600_000_000_000));
        let (l, c, m, _) = fails(&format!(
            "[determinism]\nfreeze_clock = \"2025-13-01T00:00:00Z\"\n{OK}"
        ));
        assert_eq!((l, c), (2, 16), "{m}");
        assert!(m.contains("not an RFC 3339 instant"), "{m}");
        let (l, c, m, _) = fails(&format!("[determinism]\nseed = -1\n{OK}"));
        assert_eq!((l, c), (2, 8), "{m}");
    }
}
