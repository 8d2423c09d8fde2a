//! Pseudo-terminals for `-t`: the pair, raw mode for mdrun's own terminal (restored on drop),
//! and window sizes.

use super::{sys, LaunchError};
use nix::fcntl::OFlag;
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt, Winsize};
use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
    SockFlag, SockType,
};
use nix::sys::stat::Mode;
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg, Termios};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};

/// Allocate the container's terminal from its own devpts instance (so that `tty` and
/// ttyname(3) inside find it under /dev/pts), and make it the init's controlling terminal
/// and stdio. Returns the master, which goes to mdrun over `sock`.
pub fn open_in_container() -> nix::Result<OwnedFd> {
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)?;
    grantpt(&master)?;
    unlockpt(&master)?;
    let name = ptsname_r(&master)?;
    let slave = nix::fcntl::open(
        name.as_str(),
        OFlag::O_RDWR | OFlag::O_NOCTTY,
        Mode::empty(),
    )?;
    // SAFETY: TIOCSCTTY on a terminal fd we own; makes it our controlling terminal.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(nix::Error::last());
    }
    for target in 0..3 {
        // SAFETY: dup2 onto a standard descriptor number; both are valid.
        if unsafe { libc::dup2(slave.as_raw_fd(), target) } < 0 {
            return Err(nix::Error::last());
        }
    }
    // SAFETY: PtyMaster owns a valid descriptor; we take it over.
    Ok(unsafe { OwnedFd::from_raw_fd(master.into_raw_fd()) })
}

/// A socket pair to hand the terminal's master from the init to mdrun (SCM_RIGHTS).
pub fn channel() -> Result<(OwnedFd, OwnedFd), LaunchError> {
    socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(sys("socketpair"))
}

pub fn send_fd(sock: &OwnedFd, fd: &OwnedFd) -> nix::Result<()> {
    let fds = [fd.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let iov = [std::io::IoSlice::new(b"t")];
    sendmsg::<()>(sock.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), None).map(|_| ())
}

/// None when the init closed the socket without sending (it failed; its status says why).
pub fn recv_fd(sock: &OwnedFd) -> Option<OwnedFd> {
    recv_with_fd(sock, 1).ok().and_then(|(_, fd)| fd)
}

/// One message of at most `len` bytes, and the descriptor that came with it, if one did.
pub fn recv_with_fd(sock: &OwnedFd, len: usize) -> nix::Result<(Vec<u8>, Option<OwnedFd>)> {
    let mut buf = vec![0u8; len];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    let n = msg.bytes;
    let mut fd = None;
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(&f) = fds.first() {
                // SAFETY: the kernel just installed this descriptor in our table for us.
                fd = Some(unsafe { OwnedFd::from_raw_fd(f) });
            }
        }
    }
    buf.truncate(n);
    Ok((buf, fd))
}

pub fn window_size(fd: i32) -> Option<Winsize> {
    // SAFETY: TIOCGWINSZ writes a winsize into the struct we pass.
    let mut ws: Winsize = unsafe { std::mem::zeroed() };
    // SAFETY: as above; fails harmlessly on a non-terminal.
    (unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0).then_some(ws)
}

pub fn set_window_size(fd: &OwnedFd, ws: &Winsize) {
    // SAFETY: TIOCSWINSZ reads the winsize we pass.
    unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, ws) };
}

/// mdrun's own terminal in raw mode while attached to a container's tty; restored on drop.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    pub fn enter() -> Option<RawMode> {
        // SAFETY: fd 0 stays open for the life of the process.
        let stdin = unsafe { BorrowedFd::borrow_raw(0) };
        let saved = tcgetattr(stdin).ok()?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(stdin, SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: fd 0 stays open for the life of the process.
        let stdin = unsafe { BorrowedFd::borrow_raw(0) };
        let _ = tcsetattr(stdin, SetArg::TCSADRAIN, &self.saved);
    }
}
