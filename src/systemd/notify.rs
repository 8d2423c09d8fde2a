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

/// The container's end of `--sdnotify container`: a datagram socket mdrun binds in the
/// container's runtime directory and bind-mounts into it as its NOTIFY_SOCKET. systemd takes
/// notifications for a service only from processes in the service's own cgroup, and the
/// container runs in a scope of its own; so mdrun (the service's main process) relays what
/// the container sends, as podman's notify proxy does.
pub struct NotifyProxy {
    pub socket: std::os::unix::net::UnixDatagram,
    pub path: std::path::PathBuf,
}

impl NotifyProxy {
    /// Bind the proxy socket at `path`; None when we are not run by a notify unit.
    pub fn open(path: std::path::PathBuf) -> std::io::Result<Option<NotifyProxy>> {
        if std::env::var_os(NOTIFY_SOCKET).is_none() {
            return Ok(None);
        }
        let _ = std::fs::remove_file(&path);
        // A socket's path must fit in sun_path (108 bytes), and runtime directories can be
        // longer: bind through a descriptor of the directory instead.
        let dir = std::fs::File::open(path.parent().unwrap_or(std::path::Path::new("/")))?;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let short = format!(
            "/proc/self/fd/{}/{name}",
            std::os::fd::AsRawFd::as_raw_fd(&dir)
        );
        let socket = std::os::unix::net::UnixDatagram::bind(short)?;
        socket.set_nonblocking(true)?;
        Ok(Some(NotifyProxy { socket, path }))
    }

    /// Pass on every message waiting on the socket.
    pub fn relay(&self) {
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.socket.recv(&mut buf) {
            if let Ok(text) = std::str::from_utf8(&buf[..n]) {
                let states: Vec<NotifyState> = text
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(NotifyState::Custom)
                    .collect();
                let _ = send(&states);
            }
        }
    }
}
