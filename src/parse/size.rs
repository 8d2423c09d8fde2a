//! Memory sizes (`--memory`, `--memory-swap`): docker's units, powers of 1024.

use super::ParseError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeProblem {
    #[error("empty")]
    Empty,
    #[error("no number before the unit")]
    NoNumber,
    #[error("not a number")]
    NotANumber,
    #[error("unknown unit {} (use b, k, m, g)", crate::quote::quoted(.0))]
    UnknownUnit(String),
    #[error("must not be negative")]
    Negative,
    #[error("must not be negative (except -1, for unlimited swap)")]
    NegativeSwap,
    #[error("must be greater than 0")]
    Zero,
    #[error("too large")]
    TooLarge,
}

/// `100m`, `1g`, `512k`, `1024` (bytes), `1.5g`; case-insensitive, optional `b`/`ib` suffix
/// (`100M`, `100mb`, `100MiB` are all 100 * 1024 * 1024, as with docker).
/// Rejects zero, negative, empty, unknown units and anything above `i64::MAX` (the kernel's
/// limit files hold a signed 64-bit number). Fractions of a byte are dropped.
pub fn size(s: &str) -> Result<u64, ParseError> {
    parse_size(s).map_err(|problem| ParseError::Size {
        input: s.to_string(),
        problem,
    })
}

/// The smallest memory limit a container may have, as docker's: below it the container
/// is OOM-killed as it starts, and would end silently with 137.
pub const MEMORY_MIN: u64 = 6 << 20;

/// `--memory`, `limits.memory`: a size of at least [`MEMORY_MIN`].
pub fn memory(s: &str) -> Result<u64, ParseError> {
    let bytes = size(s)?;
    if bytes < MEMORY_MIN {
        return Err(ParseError::MemoryBelowMinimum {
            input: s.to_string(),
        });
    }
    Ok(bytes)
}

/// `--memory-swap`: a size, or `-1` for unlimited.
pub fn memory_swap(s: &str) -> Result<i64, ParseError> {
    if s == "-1" {
        return Ok(-1);
    }
    match parse_size(s) {
        // parse_size caps sizes at i64::MAX, so the conversion cannot fail.
        Ok(n) => Ok(i64::try_from(n).unwrap_or(i64::MAX)),
        Err(SizeProblem::Negative) => Err(ParseError::Size {
            input: s.to_string(),
            problem: SizeProblem::NegativeSwap,
        }),
        Err(problem) => Err(ParseError::Size {
            input: s.to_string(),
            problem,
        }),
    }
}

fn parse_size(s: &str) -> Result<u64, SizeProblem> {
    if s.is_empty() {
        return Err(SizeProblem::Empty);
    }
    if s.starts_with('-') {
        return Err(SizeProblem::Negative);
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    if number.is_empty() {
        return Err(if s.starts_with('+') {
            SizeProblem::NotANumber
        } else {
            SizeProblem::NoNumber
        });
    }
    let multiplier = unit_multiplier(unit)?;
    let max = i64::MAX as u64;
    let bytes = if number.contains('.') {
        let value: f64 = number.parse().map_err(|_| SizeProblem::NotANumber)?;
        let bytes = value * multiplier as f64;
        // i64::MAX is not representable in f64; 2^63 is the first value that is too large.
        if !bytes.is_finite() || bytes >= 9_223_372_036_854_775_808.0 {
            return Err(SizeProblem::TooLarge);
        }
        bytes as u64
    } else {
        let value: u64 = number.parse().map_err(|_| SizeProblem::TooLarge)?;
        value
            .checked_mul(multiplier)
            .filter(|b| *b <= max)
            .ok_or(SizeProblem::TooLarge)?
    };
    if bytes == 0 {
        return Err(SizeProblem::Zero);
    }
    Ok(bytes)
}

fn unit_multiplier(unit: &str) -> Result<u64, SizeProblem> {
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(SizeProblem::UnknownUnit(unit.to_string())),
    };
    Ok(1u64 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(s: &str) -> SizeProblem {
        match size(s) {
            Err(ParseError::Size { input, problem }) if input == s => problem,
            other => panic!("{s:?}: expected a size error, got {other:?}"),
        }
    }

    #[test]
    fn units_are_powers_of_1024_in_any_case() {
        assert_eq!(size("1024").unwrap(), 1024);
        assert_eq!(size("10b").unwrap(), 10);
        assert_eq!(size("512k").unwrap(), 512 * 1024);
        assert_eq!(size("100m").unwrap(), 100 << 20);
        assert_eq!(size("100M").unwrap(), 100 << 20);
        assert_eq!(size("100mb").unwrap(), 100 << 20);
        assert_eq!(size("100MiB").unwrap(), 100 << 20);
        assert_eq!(size("1g").unwrap(), 1 << 30);
        assert_eq!(size("1.5g").unwrap(), 3 << 29);
        assert_eq!(size("0.5k").unwrap(), 512);
    }

    #[test]
    fn bad_sizes_say_why() {
        assert_eq!(problem("12q"), SizeProblem::UnknownUnit("q".into()));
        assert_eq!(problem("5ib"), SizeProblem::UnknownUnit("ib".into()));
        assert_eq!(problem("5 m"), SizeProblem::UnknownUnit(" m".into()));
        assert_eq!(problem("-5m"), SizeProblem::Negative);
        assert_eq!(problem("0"), SizeProblem::Zero);
        assert_eq!(problem("0.0001k"), SizeProblem::Zero);
        assert_eq!(problem(""), SizeProblem::Empty);
        assert_eq!(problem("m"), SizeProblem::NoNumber);
        assert_eq!(problem("+5m"), SizeProblem::NotANumber);
        assert_eq!(problem("1.2.3m"), SizeProblem::NotANumber);
        assert_eq!(problem("99999999999999999999"), SizeProblem::TooLarge);
        assert_eq!(problem("9000000000g"), SizeProblem::TooLarge);
        assert_eq!(problem("9000000000.5g"), SizeProblem::TooLarge);
        assert_eq!(problem("9223372036854775808"), SizeProblem::TooLarge);
        assert_eq!(size("9223372036854775807").unwrap(), i64::MAX as u64);
    }

    #[test]
    fn size_error_message_is_one_line_naming_the_input() {
        assert_eq!(
            size("12q").unwrap_err().to_string(),
            r#"invalid memory size "12q": unknown unit "q" (use b, k, m, g)"#
        );
    }

    #[test]
    fn memory_limits_start_at_6mb() {
        assert_eq!(memory("6m").unwrap(), 6 << 20);
        assert_eq!(memory("6291456").unwrap(), 6 << 20);
        for small in ["1k", "5", "6291455", "5.9m"] {
            assert_eq!(
                memory(small).unwrap_err().to_string(),
                format!("memory limit {small:?} is below the minimum allowed, 6MB")
            );
        }
        assert!(matches!(memory("12q"), Err(ParseError::Size { .. })));
    }

    #[test]
    fn memory_swap_takes_a_size_or_minus_one() {
        assert_eq!(memory_swap("-1").unwrap(), -1);
        assert_eq!(memory_swap("1g").unwrap(), 1 << 30);
        let err = memory_swap("-5m").unwrap_err();
        assert!(matches!(
            err,
            ParseError::Size {
                problem: SizeProblem::NegativeSwap,
                ..
            }
        ));
        assert!(matches!(
            memory_swap("-1m").unwrap_err(),
            ParseError::Size {
                problem: SizeProblem::NegativeSwap,
                ..
            }
        ));
        assert!(matches!(
            memory_swap("0").unwrap_err(),
            ParseError::Size {
                problem: SizeProblem::Zero,
                ..
            }
        ));
    }
}
