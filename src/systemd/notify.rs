//! Readiness for `Type=notify` units (sd_notify(3)): mdrun tells systemd once the
//! container's command runs, and which process that is.
//!
//! With `--sdnotify=container` semantics (podman's), the container itself signals
//! readiness: mdrun then passes `NOTIFY_SOCKET` into it (bind-mounting the socket) and
//! sends only MAINPID. That mode is chosen by the caller: see [`notify_ready`].

use sd_notify::NotifyState;

pub const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";

/// Tell a supervising systemd that the container runs: READY=1 and MAINPID=<init>, so that
/// systemd follows the container's process rather than mdrun. When `container_notifies`,
/// only MAINPID is sent and READY=1 is left to the container. Without NOTIFY_SOCKET (not
/// run by systemd), nothing happens. Errors are returned for the caller to ignore or log:
/// a unit that is not Type=notify simply never listens.
pub fn notify_ready(main_pid: i32) {
    let _ = send(&[NotifyState::MainPid(main_pid as u32), NotifyState::Ready]);
}

/// MAINPID only: the container will send READY=1 itself.
pub fn notify_main_pid(main_pid: i32) {
    let _ = send(&[NotifyState::MainPid(main_pid as u32)]);
}

/// Tell a supervising systemd that we are stopping.
pub fn notify_stopping() {
    let _ = send(&[NotifyState::Stopping]);
}

fn send(states: &[NotifyState]) -> std::io::Result<()> {
    sd_notify::notify(states)
}
