//! Event timestamps: ISO-8601 / RFC 3339 strings, epoch milliseconds as numbers or numeric strings.
//! Everything becomes nanoseconds since the Unix epoch.

use crate::value::Value;

/// A time in nanoseconds since the Unix epoch.
pub type Nanos = i64;

pub const NANOS_PER_MS: i64 = 1_000_000;

pub fn parse(v: &Value) -> Option<Nanos> {
    match v {
        Value::Int(ms) => ms.checked_mul(NANOS_PER_MS),
        Value::Float(ms) if ms.is_finite() && ms.abs() < 9.2e12 => Some((ms * NANOS_PER_MS as f64) as i64),
        Value::Str(s) => parse_str(s),
        _ => None,
    }
}

pub fn parse_str(s: &str) -> Option<Nanos> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'-') && !s[1..].contains('-') {
        return s.parse::<i64>().ok()?.checked_mul(NANOS_PER_MS);
    }
    iso8601(s)
}

fn digits(s: &[u8], n: usize) -> Option<i64> {
    if s.len() < n || !s[..n].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s[..n].iter().fold(0, |a, &d| a * 10 + (d - b'0') as i64))
}

/// `YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|±HH[:]MM]`; no offset means UTC.
fn iso8601(s: &str) -> Option<Nanos> {
    let b = s.as_bytes();
    let (y, m, d) = (digits(b, 4)?, digits(b.get(5..)?, 2)?, digits(b.get(8..)?, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut i = 10;
    let (mut hh, mut mm, mut ss, mut frac) = (0, 0, 0, 0i64);
    if matches!(b.get(i), Some(b'T' | b't' | b' ')) {
        hh = digits(&b[i + 1..], 2)?;
        if b.get(i + 3) != Some(&b':') {
            return None;
        }
        mm = digits(&b[i + 4..], 2)?;
        i += 6;
        if b.get(i) == Some(&b':') {
            ss = digits(&b[i + 1..], 2)?;
            i += 3;
            if matches!(b.get(i), Some(b'.' | b',')) {
                i += 1;
                let start = i;
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                let f = &s[start..i.min(start + 9)];
                if f.is_empty() {
                    return None;
                }
                frac = f.parse::<i64>().ok()? * 10i64.pow(9 - f.len() as u32);
            }
        }
    }
    let offset_s = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(&b[i + 1..], 2)?;
            let rest = &b[i + 3..];
            let om = match rest {
                [] => 0,
                [b':', ..] if rest.len() == 3 => digits(&rest[1..], 2)?,
                _ if rest.len() == 2 => digits(rest, 2)?,
                _ => return None,
            };
            (oh * 3600 + om * 60) * if sign == b'+' { 1 } else { -1 }
        }
        _ => return None,
    };
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let secs = days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss - offset_s;
    secs.checked_mul(1_000_000_000)?.checked_add(frac)
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

/// A duration such as `30s`, `5m`, `1h`, `500ms` or `0`, in milliseconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().map_err(|_| format!("`{s}` is not a duration such as 30s or 5m"))?;
    let f = match unit {
        "" | "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (ms, s, m, h, d)")),
    };
    n.checked_mul(f).ok_or_else(|| format!("`{s}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(parse_str("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_str("2022-05-04T12:00:00.001Z"), Some(1_651_665_600_001_000_000));
        assert_eq!(parse_str("2022-05-04T14:00:00.001+02:00"), parse_str("2022-05-04T12:00:00.001Z"));
        assert_eq!(parse_str("2024-02-29T23:59:59.123456789Z").map(|n| n % 1_000_000_000), Some(123_456_789));
        assert_eq!(parse_str("2024-02-29"), Some(1_709_164_800 * 1_000_000_000));
        assert_eq!(parse_str("12"), Some(12 * NANOS_PER_MS));
        assert_eq!(parse(&Value::Int(5)), Some(5 * NANOS_PER_MS));
        assert_eq!(parse_str("yesterday"), None);
        assert_eq!(parse_str("2024-13-01T00:00:00Z"), None);
    }
}

/// A time as RFC 3339 in UTC with milliseconds (`2026-12-01T10:00:00.000Z`), as Elasticsearch
/// writes dates.
pub fn rfc3339(t: Nanos) -> String {
    let ms = t.div_euclid(1_000_000);
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, min, s, milli) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60, ms_of_day / 1000 % 60, ms_of_day % 1000);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z")
}

#[cfg(test)]
mod rfc3339_tests {
    #[test]
    fn formats_what_parse_reads() {
        for s in [
            "1970-01-01T00:00:00.000Z",
            "2026-12-01T10:00:02.500Z",
            "2000-02-29T23:59:59.999Z",
            "1969-12-31T23:59:59.000Z",
        ] {
            assert_eq!(super::rfc3339(super::parse_str(s).unwrap()), s);
        }
    }
}
