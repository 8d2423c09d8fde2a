//! Signals for `kill` and `stop`: docker's signal names, and the container's init held by
//! a pidfd, so that a signal cannot reach another process that was given the init's pid
//! after it died (the pidfd is opened first, then the pid is checked to be the
//! container's; a signal through it goes to that process or fails with ESRCH).

use crate::error::{Error, Result};
use crate::state::{Record, StateError};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// `KILL`, `SIGKILL`, `kill`, `9`, `RTMIN+3`: the signal number.
pub fn parse_signal(text: &str) -> Result<i32> {
    let bad = || {
        Error::Usage(format!(
            "invalid signal {}: use a name like TERM or SIGKILL, or a number",
            crate::quote::quoted(text)
        ))
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

/// The running container's init, pinned by a pidfd.
pub struct Init {
    fd: OwnedFd,
    pub pid: i32,
    name: String,
}

impl Init {
    /// None when the init is gone (or its pid now belongs to a process outside the
    /// container).
    pub fn open(record: &Record) -> Option<Init> {
        let pid = record.pid.filter(|p| *p > 0)?;
        // SAFETY: pidfd_open(2) takes a pid and flags and returns a new fd or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            return None;
        }
        // SAFETY: the kernel just gave us this fd; nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        // Checked after opening: if the pid was reused before the open, this check sees
        // the stranger; if after, the pidfd still refers to the (dead) init.
        record.init_alive().then(|| Init {
            fd,
            pid,
            name: record.name.clone(),
        })
    }

    /// Send `signal`. Ok(false) when the init had already ended.
    pub fn signal(&self, signal: i32) -> Result<bool, StateError> {
        // SAFETY: pidfd_send_signal(2) with a pidfd we own, no siginfo, no flags.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.fd.as_raw_fd(),
                signal,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if rc == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ESRCH) {
            return Ok(false);
        }
        Err(StateError::Signal {
            step: "send signal to",
            name: self.name.clone(),
            pid: self.pid,
            source: err,
        })
    }

    /// Wait until the init has ended, at most `timeout` (None: forever). True if it has.
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let left = match deadline {
                None => PollTimeout::NONE,
                Some(d) => {
                    let ms = d
                        .saturating_duration_since(Instant::now())
                        .as_millis()
                        .min(60_000) as u16;
                    PollTimeout::from(ms)
                }
            };
            let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, left) {
                Ok(n) if n > 0 => return true,
                Ok(_) | Err(nix::Error::EINTR) => {}
                // A pidfd that cannot be polled: fall back on looking at the pid.
                Err(_) => return !std::path::Path::new(&format!("/proc/{}", self.pid)).exists(),
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_parse_by_name_with_or_without_sig_and_by_number() {
        assert_eq!(parse_signal("KILL").unwrap(), libc::SIGKILL);
        assert_eq!(parse_signal("SIGTERM").unwrap(), libc::SIGTERM);
        assert_eq!(parse_signal("term").unwrap(), libc::SIGTERM);
        assert_eq!(parse_signal("sigusr1").unwrap(), libc::SIGUSR1);
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert_eq!(parse_signal("HUP").unwrap(), libc::SIGHUP);
        assert_eq!(parse_signal("RTMIN").unwrap(), libc::SIGRTMIN());
        assert_eq!(parse_signal("SIGRTMIN+3").unwrap(), libc::SIGRTMIN() + 3);
        assert_eq!(parse_signal("RTMAX-1").unwrap(), libc::SIGRTMAX() - 1);
        assert_eq!(parse_signal("64").unwrap(), 64);
    }

    #[test]
    fn unknown_signals_are_usage_errors() {
        for bad in [
            "", "SIG", "FOO", "SIGFOO", "0", "65", "-9", "RTMIN+99", "RTMIN-1", "KILLX",
        ] {
            let err = parse_signal(bad).unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{bad:?}: {err}");
            assert_eq!(err.exit_code(), 125);
        }
    }
}
