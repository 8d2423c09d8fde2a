//! Signals as `kill -s` takes them: docker's signal names, with or without `SIG`, or
//! numbers.

use super::ParseError;

/// `KILL`, `SIGKILL`, `kill`, `9`, `RTMIN+3`: the signal number.
pub fn signal(text: &str) -> Result<i32, ParseError> {
    let bad = || ParseError::Signal {
        input: text.to_string(),
    };
    let t = text.trim();
    if let Ok(n) = t.parse::<i32>() {
        return if (1..=rtmax()).contains(&n) {
            Ok(n)
        } else {
            Err(bad())
        };
    }
    let upper = t.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(rest) = name.strip_prefix("RTMIN") {
        return realtime(libc::SIGRTMIN(), rest, '+').ok_or_else(bad);
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        return realtime(rtmax(), rest, '-').ok_or_else(bad);
    }
    if name.is_empty() {
        return Err(bad());
    }
    format!("SIG{name}")
        .parse::<nix::sys::signal::Signal>()
        .map(|s| s as i32)
        .map_err(|_| bad())
}

/// `RTMIN`, `RTMIN+N`, `RTMAX`, `RTMAX-N` (what follows the name is `rest`).
fn realtime(base: i32, rest: &str, sign: char) -> Option<i32> {
    let n = if rest.is_empty() {
        base
    } else {
        let offset: i32 = rest.strip_prefix(sign)?.parse().ok()?;
        if sign == '+' {
            base + offset
        } else {
            base - offset
        }
    };
    (libc::SIGRTMIN()..=rtmax()).contains(&n).then_some(n)
}

fn rtmax() -> i32 {
    libc::SIGRTMAX()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_parse_by_name_with_or_without_sig_and_by_number() {
        assert_eq!(signal("KILL").unwrap(), libc::SIGKILL);
        assert_eq!(signal("SIGTERM").unwrap(), libc::SIGTERM);
        assert_eq!(signal("term").unwrap(), libc::SIGTERM);
        assert_eq!(signal("sigusr1").unwrap(), libc::SIGUSR1);
        assert_eq!(signal("9").unwrap(), 9);
        assert_eq!(signal("HUP").unwrap(), libc::SIGHUP);
        assert_eq!(signal("RTMIN").unwrap(), libc::SIGRTMIN());
        assert_eq!(signal("SIGRTMIN+3").unwrap(), libc::SIGRTMIN() + 3);
        assert_eq!(signal("RTMAX-1").unwrap(), libc::SIGRTMAX() - 1);
        assert_eq!(signal("64").unwrap(), 64);
    }

    #[test]
    fn unknown_signals_are_refused_naming_the_input() {
        for bad in [
            "", "SIG", "FOO", "SIGFOO", "0", "65", "-9", "RTMIN+99", "RTMIN-1", "KILLX",
        ] {
            let err = signal(bad).unwrap_err();
            assert!(matches!(err, ParseError::Signal { .. }), "{bad:?}: {err}");
            assert!(err.to_string().starts_with("invalid signal"), "{err}");
        }
    }
}
