//! Timestamps as logs and images show them: RFC 3339 in UTC with nanoseconds, like docker's.

/// The wall clock as a Unix time in seconds, with the fraction (0 if the clock is before 1970).
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The wall clock as whole Unix seconds (image `created` fields, ages in tables).
pub fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `2026-11-23T17:48:01.123456789Z` for a Unix time in seconds.
pub fn rfc3339(unix: f64) -> String {
    let secs = unix.floor() as i64;
    let nanos = ((unix - secs as f64) * 1e9)
        .round()
        .clamp(0.0, 999_999_999.0) as u32;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_known_instants() {
        assert_eq!(super::rfc3339(0.0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            super::rfc3339(951_782_400.5),
            "2000-02-29T00:00:00.500000000Z"
        );
        assert_eq!(
            super::rfc3339(1_795_457_263.0),
            "2026-11-23T18:07:43.000000000Z"
        );
    }
}
