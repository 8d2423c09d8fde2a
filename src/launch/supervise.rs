//! While the container runs attached: relay the terminal (with `-t`), pass window size
//! changes and forwarded signals on, and collect the exit status.

use super::{pty, signals, Running};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{read, write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// How the container's command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ExitStatus {
    Exited(i32),
    Signaled(i32),
}

impl ExitStatus {
    /// The shell's convention, as docker reports it: the code, or 128 + signal.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => c,
            ExitStatus::Signaled(s) => 128 + s,
        }
    }
}

/// Wait for the container to end, relaying its terminal if it has one.
/// `interactive`: copy our stdin to its terminal.
pub fn supervise(running: Running, interactive: bool) -> nix::Result<ExitStatus> {
    let sigfd = signals::signalfd()?;
    let master = running.pty_master;
    let _raw = match (&master, interactive) {
        (Some(_), true) => pty::RawMode::enter(),
        _ => None,
    };
    // SAFETY: fds 0 and 1 stay open for the life of the process.
    let (stdin, stdout) = unsafe { (BorrowedFd::borrow_raw(0), BorrowedFd::borrow_raw(1)) };
    let mut stdin_open = master.is_some() && interactive;
    let mut master_open = master.is_some();
    let mut status = None;
    let mut buf = [0u8; 16 * 1024];
    loop {
        if status.is_none() {
            status = reap(running.pid)?;
        }
        if status.is_some() && !master_open {
            break;
        }
        let mut fds = vec![PollFd::new(sigfd.as_fd(), PollFlags::POLLIN)];
        let master_idx = master_open.then(|| {
            fds.push(PollFd::new(master.as_ref().unwrap().as_fd(), PollFlags::POLLIN));
            fds.len() - 1
        });
        let stdin_idx = (stdin_open && status.is_none()).then(|| {
            fds.push(PollFd::new(stdin, PollFlags::POLLIN));
            fds.len() - 1
        });
        // Once the command has ended, only drain what its terminal still holds.
        let timeout = if status.is_some() { PollTimeout::ZERO } else { PollTimeout::NONE };
        match poll(&mut fds, timeout) {
            Ok(0) => break,
            Ok(_) => {}
            Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(e),
        }
        let ready = |i: usize| fds[i].revents().is_some_and(|r| !r.is_empty());
        let sig_ready = ready(0);
        let master_ready = master_idx.is_some_and(ready);
        let stdin_ready = stdin_idx.is_some_and(ready);
        drop(fds);
        if sig_ready {
            while let Ok(Some(info)) = sigfd.read_signal() {
                handle_signal(info.ssi_signo as i32, running.pid, master.as_ref());
            }
        }
        if master_ready {
            let m = master.as_ref().unwrap();
            match read(m, &mut buf) {
                Ok(0) | Err(nix::Error::EIO) => master_open = false,
                Ok(n) => write_all(stdout, &buf[..n]),
                Err(nix::Error::EINTR | nix::Error::EAGAIN) => {}
                Err(_) => master_open = false,
            }
        }
        if stdin_ready {
            match read(stdin, &mut buf) {
                Ok(0) | Err(_) => {
                    stdin_open = false;
                    // Input ended: a terminal's end-of-file is ^D.
                    if let Some(m) = &master {
                        write_all(m.as_fd(), &[4]);
                    }
                }
                Ok(n) => write_all(master.as_ref().unwrap().as_fd(), &buf[..n]),
            }
        }
    }
    match status {
        Some(s) => Ok(s),
        None => loop {
            if let Some(s) = reap(running.pid)? {
                break Ok(s);
            }
        },
    }
}

fn reap(pid: nix::unistd::Pid) -> nix::Result<Option<ExitStatus>> {
    match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::Exited(_, code)) => Ok(Some(ExitStatus::Exited(code))),
        Ok(WaitStatus::Signaled(_, sig, _)) => Ok(Some(ExitStatus::Signaled(sig as i32))),
        Ok(_) => Ok(None),
        Err(nix::Error::EINTR) => Ok(None),
        Err(e) => Err(e),
    }
}

fn handle_signal(signo: i32, pid: nix::unistd::Pid, master: Option<&OwnedFd>) {
    let Ok(sig) = Signal::try_from(signo) else { return };
    match sig {
        Signal::SIGCHLD => {}
        Signal::SIGWINCH => {
            if let (Some(m), Some(ws)) = (master, pty::window_size(0)) {
                pty::set_window_size(m, &ws);
            }
        }
        s => {
            let _ = kill(pid, s);
        }
    }
}

fn write_all(fd: BorrowedFd<'_>, mut data: &[u8]) {
    while !data.is_empty() {
        match write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(nix::Error::EINTR) => {}
            Err(nix::Error::EAGAIN) => {
                let mut p = [PollFd::new(fd, PollFlags::POLLOUT)];
                let _ = poll(&mut p, PollTimeout::NONE);
            }
            Err(_) => return,
        }
    }
}
