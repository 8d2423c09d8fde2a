//! The container's init held by a pidfd, so that a signal cannot reach another process
//! that was given the init's pid after it died (the pidfd is opened first, then the pid is
//! checked to be the container's; a signal through it goes to that process or fails with
//! ESRCH). `stop`, `kill`, `rm -f` and the wait for an end go through it. A paused
//! container is thawed right after each signal sent to it (see `pause.rs`).

use crate::error::Result;
use crate::state::{Record, StateError};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// How long the init may take to die after SIGKILL (a process in uninterruptible sleep
/// finishes its system call first).
pub const KILL_WAIT: Duration = Duration::from_secs(10);

/// The running container's init, pinned by a pidfd.
pub struct InitHandle {
    fd: OwnedFd,
    pub pid: i32,
    name: String,
    /// The record of a container that was paused when this was opened: thawed after a
    /// signal (a frozen process does not act on it).
    paused: Option<Box<Record>>,
}

impl InitHandle {
    /// None when the init is gone (or its pid now belongs to a process outside the
    /// container).
    pub fn open(record: &Record) -> Option<InitHandle> {
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
        record.init_alive().then(|| InitHandle {
            fd,
            pid,
            name: record.name.clone(),
            paused: super::pause::is_paused(record).then(|| Box::new(record.clone())),
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
            if let Some(record) = self.paused.as_ref().filter(|_| signal != 0) {
                super::pause::thaw_after_signal(record);
            }
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

    /// SIGTERM, then SIGKILL after `timeout` (None: never); returns once the init has
    /// ended.
    /// `signal` (SIGTERM unless the image or `--stop-signal` says otherwise), then SIGKILL
    /// after `timeout`; returns once the init has ended.
    pub fn terminate(&self, timeout: Option<Duration>, signal: i32) -> Result<()> {
        if self.signal(signal)? && !self.wait(timeout) {
            self.kill()?;
        }
        Ok(())
    }

    /// SIGKILL, and wait for the init to end.
    pub fn kill(&self) -> Result<()> {
        if self.signal(libc::SIGKILL)? && !self.wait(Some(KILL_WAIT)) {
            return Err(StateError::StillRunning {
                name: self.name.clone(),
                pid: self.pid,
                secs: KILL_WAIT.as_secs(),
            }
            .into());
        }
        Ok(())
    }
}
