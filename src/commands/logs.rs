//! `mdrun logs [-f] [--tail N] [--since T] [-t] CONTAINER`: a container's stdout and stderr,
//! in order, from whichever driver it used (its log file, or journald); stdout lines go to
//! our stdout and stderr lines to our stderr, as docker does.

use crate::cli::LogsArgs;
use crate::config::GlobalConfig;
use crate::error::{Error, Result};
use crate::logs::{self, read::ReadOptions, Stream};
use crate::paths::Paths;
use crate::state::{self, Record, Status};
use std::io::Write;

pub fn run(args: &LogsArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    let record = state::resolve(&paths, &args.container)?;
    let opts = ReadOptions {
        follow: args.follow,
        tail: parse_tail(&args.tail)?,
        since: args
            .since
            .as_deref()
            .map(|s| parse_since(s, state::now()))
            .transpose()?,
    };
    let dir = paths.container(&record.id);
    let src = logs::read::Source {
        driver: record.log_driver,
        id: &record.id,
        dir: &dir,
    };
    // Until the supervisor has recorded the end (not merely the init's death), so that once
    // `logs -f` returns, `ps`, `wait` and `rm` see the container exited.
    let running = || {
        Record::load(&dir)
            .map(|r| r.status != Status::Exited && (r.init_alive() || r.supervisor_alive()))
            .unwrap_or(false)
    };
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    logs::read::read(&src, &opts, &running, &mut |e| {
        let line = e.format(args.timestamps);
        let w: &mut dyn Write = if e.stream == Stream::Stderr {
            &mut err
        } else {
            &mut out
        };
        // A closed pipe (`mdrun logs x | head`) ends the read quietly.
        w.write_all(line.as_bytes()).is_ok() && (!args.follow || w.flush().is_ok())
    })
    .map_err(|e| Error::Usage(e.to_string()))?;
    Ok(0)
}

fn parse_tail(s: &str) -> Result<Option<usize>> {
    if s == "all" {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|_| {
        Error::Usage(format!(
            "--tail {}: a number of lines, or \"all\"",
            crate::quote::quoted(s)
        ))
    })
}

/// `10s`, `42m`, `2h`, `1d` ago; Unix seconds; or RFC 3339 (`2026-11-23T18:00:00Z`).
pub(super) fn parse_since(s: &str, now: f64) -> Result<f64> {
    let bad = || {
        Error::Usage(format!(
            "--since {s:?}: use a duration (10m, 2h), Unix seconds or RFC 3339"
        ))
    };
    if let Some((num, unit)) = s.char_indices().last().map(|(i, c)| (&s[..i], c)) {
        if let (Ok(n), Some(mult)) = (
            num.parse::<f64>(),
            match unit {
                's' => Some(1.0),
                'm' => Some(60.0),
                'h' => Some(3600.0),
                'd' => Some(86400.0),
                _ => None,
            },
        ) {
            return Ok(now - n * mult);
        }
    }
    if let Ok(t) = s.parse::<f64>() {
        return Ok(t);
    }
    parse_rfc3339(s).ok_or_else(bad)
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` to Unix seconds.
fn parse_rfc3339(s: &str) -> Option<f64> {
    let (date, time) = s.split_once(['T', ' '])?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (clock, offset) = if let Some(c) = time.strip_suffix('Z') {
        (c, 0)
    } else {
        let i = time.rfind(['+', '-'])?;
        let (h, mi) = time[i + 1..].split_once(':')?;
        let sign = if &time[i..i + 1] == "-" { -1 } else { 1 };
        (
            &time[..i],
            sign * (h.parse::<i64>().ok()? * 3600 + mi.parse::<i64>().ok()? * 60),
        )
    };
    let mut c = clock.splitn(3, ':');
    let (h, mi, sec) = (
        c.next()?.parse::<i64>().ok()?,
        c.next()?.parse::<i64>().ok()?,
        c.next()?.parse::<f64>().ok()?,
    );
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some((days * 86400 + h * 3600 + mi * 60 - offset) as f64 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_durations_unix_seconds_and_rfc3339() {
        assert_eq!(parse_since("10s", 1000.0).unwrap(), 990.0);
        assert_eq!(parse_since("2m", 1000.0).unwrap(), 880.0);
        assert_eq!(parse_since("1500", 1000.0).unwrap(), 1500.0);
        assert_eq!(parse_since("1970-01-01T00:01:00Z", 0.0).unwrap(), 60.0);
        assert!(parse_since("yesterday", 0.0).is_err());
    }

    #[test]
    fn tail_is_a_number_or_all() {
        assert_eq!(parse_tail("all").unwrap(), None);
        assert_eq!(parse_tail("5").unwrap(), Some(5));
        assert!(parse_tail("-1").is_err());
    }
}
