//! While the container runs: relay its terminal (with `-t`) or its output pipes to our own
//! stdio (attached) and to the log sink, pass window size changes and forwarded signals on,
//! and collect the exit status.

use super::{pty, signals, Running};
use crate::logs::{Sink, Stream};
use crate::state::ExitStatus;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{read, write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

static STOP_REQUESTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Did mdrun itself get a SIGTERM (a `systemctl stop` of its service, a `kill`) while it
/// supervised the container?
pub fn stop_requested() -> bool {
    STOP_REQUESTED.load(std::sync::atomic::Ordering::Relaxed)
}

/// How the supervisor is connected to the user.
pub struct Attach<'a> {
    /// Copy our stdin to the container's terminal (`-it`).
    pub stdin: bool,
    /// After a SIGTERM to us (forwarded to the container), SIGKILL the container when it
    /// is still there this much later, as `docker stop` does: a PID 1 without a SIGTERM
    /// handler ignores the forwarded signal. None: forward only.
    pub stop_timeout: Option<std::time::Duration>,
    /// `--sdnotify container`: relay what the container sends to systemd.
    pub notify: Option<&'a crate::systemd::NotifyProxy>,
    /// Echo the container's output on our stdout/stderr (attached), or only log it (detached).
    pub echo: bool,
    pub sink: &'a mut dyn Sink,
}

/// A source of container output: the terminal's master, or one of the two pipes.
struct Source {
    fd: OwnedFd,
    stream: Stream,
    open: bool,
}

/// Wait for the container to end, relaying its output. Returns when the command has ended
/// and all of its output has been read.
pub fn supervise(running: Running, attach: Attach<'_>) -> nix::Result<ExitStatus> {
    let sigfd = signals::signalfd()?;
    let master_for_resize = running
        .pty_master
        .as_ref()
        .map(|m| m.as_fd().try_clone_to_owned())
        .transpose()
        .ok()
        .flatten();
    let mut sources: Vec<Source> = Vec::new();
    if let Some(m) = running.pty_master {
        sources.push(Source {
            fd: m,
            stream: Stream::Stdout,
            open: true,
        });
    }
    if let Some([out, err]) = running.output {
        sources.push(Source {
            fd: out,
            stream: Stream::Stdout,
            open: true,
        });
        sources.push(Source {
            fd: err,
            stream: Stream::Stderr,
            open: true,
        });
    }
    let _raw = match (&master_for_resize, attach.stdin) {
        (Some(_), true) => pty::RawMode::enter(),
        _ => None,
    };
    // SAFETY: fds 0, 1 and 2 stay open for the life of the process.
    let (stdin, stdout, stderr) = unsafe {
        (
            BorrowedFd::borrow_raw(0),
            BorrowedFd::borrow_raw(1),
            BorrowedFd::borrow_raw(2),
        )
    };
    let mut stdin_open = master_for_resize.is_some() && attach.stdin;
    let mut status = None;
    let mut kill_at: Option<std::time::Instant> = None;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if status.is_none() {
            status = reap(running.pid)?;
        }
        let any_open = sources.iter().any(|s| s.open);
        if status.is_some() && !any_open {
            break;
        }
        let mut fds = vec![PollFd::new(sigfd.as_fd(), PollFlags::POLLIN)];
        let mut idx = Vec::new();
        for (i, s) in sources.iter().enumerate().filter(|(_, s)| s.open) {
            fds.push(PollFd::new(s.fd.as_fd(), PollFlags::POLLIN));
            idx.push(i);
        }
        let notify_slot = attach.notify.filter(|_| status.is_none()).map(|n| {
            fds.push(PollFd::new(n.socket.as_fd(), PollFlags::POLLIN));
            fds.len() - 1
        });
        let stdin_slot = (stdin_open && status.is_none()).then(|| {
            fds.push(PollFd::new(stdin, PollFlags::POLLIN));
            fds.len() - 1
        });
        // Once the command has ended, only drain what is still buffered.
        let timeout = match (status, kill_at) {
            (Some(_), _) => PollTimeout::from(100u16),
            (None, Some(at)) => {
                let left = at.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    let _ = kill(running.pid, Signal::SIGKILL);
                    kill_at = None;
                    continue;
                }
                PollTimeout::try_from(left.as_millis().clamp(1, 60_000) as i32)
                    .unwrap_or(PollTimeout::from(1000u16))
            }
            (None, None) => PollTimeout::NONE,
        };
        match poll(&mut fds, timeout) {
            Ok(0) if status.is_some() => break,
            Ok(_) => {}
            Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(e),
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        if ready[0] {
            while let Ok(Some(info)) = sigfd.read_signal() {
                let signo = info.ssi_signo as i32;
                handle_signal(signo, running.pid, master_for_resize.as_ref());
                if signo == Signal::SIGTERM as i32 && kill_at.is_none() {
                    STOP_REQUESTED.store(true, std::sync::atomic::Ordering::Relaxed);
                    crate::systemd::notify_stopping();
                    kill_at = attach.stop_timeout.map(|t| std::time::Instant::now() + t);
                }
            }
        }
        for (slot, &i) in idx.iter().enumerate() {
            if !ready[slot + 1] {
                continue;
            }
            let src = &mut sources[i];
            match read(&src.fd, &mut buf) {
                // EIO: a terminal whose every slave is closed.
                Ok(0) | Err(nix::Error::EIO) => src.open = false,
                Ok(n) => {
                    attach.sink.write(src.stream, &buf[..n]);
                    if attach.echo {
                        let out = if src.stream == Stream::Stderr {
                            stderr
                        } else {
                            stdout
                        };
                        write_all(out, &buf[..n]);
                    }
                }
                Err(nix::Error::EINTR | nix::Error::EAGAIN) => {}
                Err(_) => src.open = false,
            }
        }
        if let (Some(slot), Some(n)) = (notify_slot, attach.notify) {
            if ready[slot] {
                n.relay();
            }
        }
        if let Some(slot) = stdin_slot {
            if ready[slot] {
                let master = master_for_resize.as_ref().unwrap();
                match read(stdin, &mut buf) {
                    Ok(0) | Err(_) => {
                        stdin_open = false;
                        // Input ended: a terminal's end-of-file is ^D.
                        write_all(master.as_fd(), &[4]);
                    }
                    Ok(n) => write_all(master.as_fd(), &buf[..n]),
                }
            }
        }
    }
    attach.sink.close();
    match status {
        Some(s) => Ok(s),
        None => loop {
            match waitpid(running.pid, None) {
                Ok(WaitStatus::Exited(_, c)) => break Ok(ExitStatus::Exited(c)),
                Ok(WaitStatus::Signaled(_, s, _)) => break Ok(ExitStatus::Signaled(s as i32)),
                Ok(_) | Err(nix::Error::EINTR) => continue,
                Err(e) => break Err(e),
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
    let Ok(sig) = Signal::try_from(signo) else {
        return;
    };
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
