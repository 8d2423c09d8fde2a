//! The signals mdrun handles while a container runs: SIGCHLD (it ended), SIGWINCH (pass the
//! window size on), and the ones docker's --sig-proxy forwards to the container.

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

pub const FORWARDED: &[Signal] = &[
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

pub fn set() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGCHLD);
    set.add(Signal::SIGWINCH);
    for s in FORWARDED {
        set.add(*s);
    }
    set
}

/// Block them (before clone, so none is lost); the child unblocks its copy.
pub fn block() -> nix::Result<()> {
    set().thread_block()
}

pub fn unblock() {
    let _ = set().thread_unblock();
}

pub fn signalfd() -> nix::Result<SignalFd> {
    SignalFd::with_flags(&set(), SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
}
