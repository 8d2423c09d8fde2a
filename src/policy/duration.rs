//! Go's time.ParseDuration, as docker parses `--health-interval 30s` (`1m30s`, `500ms`,
//! `1.5h`): a sequence of decimal numbers, each with a unit (ns, us, ms, s, m, h).

use std::time::Duration;

/// `input` as a duration; the error says what was wrong, for a message naming the flag.
pub fn duration(input: &str) -> Result<Duration, String> {
    let mut rest = input.trim();
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    let mut nanos: f64 = 0.0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("{input:?} has no unit (ns, us, ms, s, m, h)"))?;
        let (number, after) = rest.split_at(number_len);
        let value: f64 = number
            .parse()
            .map_err(|_| format!("{input:?} is not a duration (like 30s, 1m30s, 500ms)"))?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale = match unit {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => {
                return Err(format!(
                    "{input:?}: unknown unit {unit:?} (ns, us, ms, s, m, h)"
                ))
            }
        };
        nanos += value * scale;
        rest = next;
    }
    if !nanos.is_finite() || nanos > u64::MAX as f64 {
        return Err(format!("{input:?} is too long"));
    }
    Ok(Duration::from_nanos(nanos as u64))
}

#[cfg(test)]
mod tests {
    use super::duration;
    use std::time::Duration;

    #[test]
    fn go_durations_parse() {
        assert_eq!(duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(duration("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn bad_durations_say_why() {
        assert!(duration("30").unwrap_err().contains("no unit"));
        assert!(duration("3x").unwrap_err().contains("unknown unit"));
        assert!(duration("").is_err());
        assert!(duration("s").is_err());
    }
}
