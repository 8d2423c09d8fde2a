//! Closing the nfnetlink socket a container's ports went through, without waiting for it.
//!
//! The release of a bound NETLINK_NETFILTER socket waits for nf_tables' pending transaction
//! clean-up (`nft_rcv_nl_event` flushes its destroy work, which calls `synchronize_rcu`), and
//! right after the removal of a container's ports there is always some pending: one RCU
//! grace period (5-21 ms here) at the end of every `run -p`, wherever the close happens. So
//! the socket's last reference is handed to a short-lived child that closes it and exits;
//! mdrun goes on, and returns, without waiting for it (the child outlives it by that grace
//! period at most, is reparented, and reaped by whoever reaps orphans).
//!
//! The child is a `clone(CLONE_VM)` on a small stack of its own (no copy of mdrun's page
//! tables, no copy-on-write faults after it), with a copy of the descriptor table (not
//! `CLONE_FILES`). It makes raw system calls only: it closes every descriptor but the socket
//! and its end of a pipe (so that it holds no pipe, lock or terminal of mdrun's a moment
//! longer), waits until mdrun has closed its own copy of the socket (mdrun closes the pipe's
//! other end after it), closes the socket, and exits. Without that order the child's close
//! could come first, and mdrun's would be the last one, the one that waits.

use netlink_sys::Socket;
use std::os::fd::{IntoRawFd, RawFd};

/// The child's stack: it calls nothing deeper than the libc system-call wrapper.
const STACK: usize = 16 * 1024;

/// Close `sock` in a short-lived child (see the module's text). Falls back to closing it
/// here, waiting, if the child cannot be made.
pub fn close_elsewhere(sock: Socket) {
    let sock = sock.into_raw_fd();
    let mut pipe = [-1; 2];
    // SAFETY: pipe2 writes two descriptors into the array we pass, which outlives the call.
    if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        close(sock);
        return;
    }
    let [wait, go] = pipe;
    // The child's stack, never freed: the child may still run on it after we return (16 KiB,
    // once per container's end).
    let stack: &'static mut [u8] = Box::leak(vec![0u8; STACK].into_boxed_slice());
    // Both descriptors travel in the argument itself: nothing of ours is read by the child
    // after we return.
    let arg = ((sock as u32 as usize) << 32 | wait as u32 as usize) as *mut libc::c_void;
    // SAFETY: the stack is ours, 16-byte aligned at its top, and never freed or reused;
    // with CLONE_VM the child shares our memory but touches only that stack (`child` makes
    // raw system calls and keeps no state); no exit signal: we never wait for it.
    let pid = unsafe {
        let top = stack.as_mut_ptr().add(STACK) as usize & !15;
        libc::clone(child, top as *mut libc::c_void, libc::CLONE_VM, arg)
    };
    // Ours first (the child holds its own reference, so this one does not wait), then the
    // pipe, which lets the child close the last one.
    close(sock);
    close(wait);
    close(go);
    // pid -1: no child, and the close of `sock` above was the last one (it waited).
    let _ = pid;
}

/// The child: close everything but the socket and the pipe's read end, wait for the pipe's
/// end of file, close the socket (this is what waits), exit.
extern "C" fn child(arg: *mut libc::c_void) -> libc::c_int {
    let arg = arg as usize;
    let (sock, wait) = ((arg >> 32) as u32, arg as u32);
    let (lo, hi) = (sock.min(wait), sock.max(wait));
    // Only well-formed ranges: a failing call would set errno, and errno is the parent's
    // (the child runs with the parent thread's TLS).
    let close_range = |first: u32, last: u32| {
        // SAFETY: close_range(2) on descriptors of this child's own table.
        unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) };
    };
    if lo > 0 {
        close_range(0, lo - 1);
    }
    if hi > lo + 1 {
        close_range(lo + 1, hi - 1);
    }
    close_range(hi + 1, u32::MAX);
    let mut byte = 0u8;
    // SAFETY: read(2) of at most one byte into a local; it returns at end of file, when the
    // parent has closed the pipe's write end (ours went above).
    unsafe { libc::syscall(libc::SYS_read, wait, &mut byte as *mut u8, 1usize) };
    // SAFETY: close(2) of the socket, the last reference to it now.
    unsafe { libc::syscall(libc::SYS_close, sock) };
    0
}

fn close(fd: RawFd) {
    // SAFETY: close(2) of a descriptor this module owns.
    unsafe { libc::close(fd) };
}
