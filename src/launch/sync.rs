//! The two pipes between mdrun and the container's init.
//!
//! - go: the parent writes one byte once the child is in its cgroup; EOF means "give up".
//! - status: the child reports a failure as `[exit code][message]`; the pipe is close-on-exec,
//!   so EOF with nothing read means the exec succeeded.

use super::{sys, LaunchError};
use nix::fcntl::OFlag;
use nix::unistd::{pipe2, read, write};
use std::os::fd::OwnedFd;

pub struct ParentEnd {
    go: Option<OwnedFd>,
    status: OwnedFd,
}

pub struct ChildEnd {
    go: OwnedFd,
    status: OwnedFd,
}

pub fn channel() -> Result<(ParentEnd, ChildEnd), LaunchError> {
    let (go_r, go_w) = pipe2(OFlag::O_CLOEXEC).map_err(sys("pipe"))?;
    let (st_r, st_w) = pipe2(OFlag::O_CLOEXEC).map_err(sys("pipe"))?;
    Ok((
        ParentEnd {
            go: Some(go_w),
            status: st_r,
        },
        ChildEnd {
            go: go_r,
            status: st_w,
        },
    ))
}

fn read_all(fd: &OwnedFd) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match read(fd, &mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(nix::Error::EINTR) => continue,
            Err(_) => return out,
        }
    }
}

impl ParentEnd {
    pub fn go_and_wait(&mut self) -> Result<(), LaunchError> {
        if let Some(go) = self.go.take() {
            // EPIPE here means the child already failed; its report is in the status pipe.
            let _ = write(&go, b"g");
        }
        let report = read_all(&self.status);
        match report.split_first() {
            None => Ok(()),
            Some((code, msg)) => Err(LaunchError::Exec {
                code: *code as i32,
                message: String::from_utf8_lossy(msg).into_owned(),
            }),
        }
    }
}

impl ChildEnd {
    /// Block until the parent says go. False when the parent went away instead.
    pub fn wait_for_go(&self) -> bool {
        let mut b = [0u8; 1];
        loop {
            match read(&self.go, &mut b) {
                Ok(1) => return true,
                Err(nix::Error::EINTR) => continue,
                _ => return false,
            }
        }
    }

    pub fn fail(&self, code: u8, message: &str) -> ! {
        let mut msg = Vec::with_capacity(message.len() + 1);
        msg.push(code);
        msg.extend_from_slice(message.as_bytes());
        let _ = write(&self.status, &msg);
        // SAFETY: _exit is always safe; we must not run the parent's atexit handlers or
        // destructors (they belong to mdrun's state in the parent).
        unsafe { libc::_exit(code as i32) }
    }
}
