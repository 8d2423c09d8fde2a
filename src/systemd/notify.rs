//! Readiness for `Type=notify` units (sd_notify(3)): mdrun tells systemd once the
//! container's command runs, and which process that is.
//!
//! With `--sdnotify=container` semantics (podman's), the container itself signals
//! readiness: mdrun then passes `NOTIFY_SOCKET` into it (bind-mounting the socket), sends
//! only MAINPID itself, and relays what the container may say: see [`NotifyProxy`].

use sd_notify::NotifyState;

pub const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";

/// Tell a supervising systemd that the container runs: READY=1 and MAINPID=`main_pid` (mdrun
/// itself, the supervisor that exits with the container's status). Without NOTIFY_SOCKET
/// (not run by systemd), nothing happens; a failed send is ignored, as a unit that is not
/// Type=notify simply never listens.
pub fn notify_ready(main_pid: i32) {
    let _ = send(&[NotifyState::MainPid(main_pid as u32), NotifyState::Ready]);
}

/// MAINPID only: the container will send READY=1 itself (`--sdnotify container`).
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

/// Is `line` (one `KEY=VALUE` of a notification) something a container may tell the
/// service's manager? Only what describes its own state (sd_notify(3)): readiness,
/// reloading, stopping, a status text, an error number, the watchdog and a longer timeout.
/// Never MAINPID= (mdrun is root: systemd would accept any host PID as the service's main
/// process, and follow or kill it), FDSTORE=/FDNAME= (file descriptors kept by the
/// manager), WATCHDOG_USEC= (the unit's timeout), NOTIFYACCESS= or anything unknown.
pub fn relayable(line: &str) -> bool {
    let Some((key, value)) = line.split_once('=') else {
        return false;
    };
    let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    match key {
        "READY" | "RELOADING" | "STOPPING" | "WATCHDOG" => value == "1",
        "STATUS" | "BUSERROR" => !value.contains('\n'),
        "ERRNO" | "EXTEND_TIMEOUT_USEC" => digits,
        _ => false,
    }
}

/// The container's end of `--sdnotify container`: a datagram socket mdrun binds in the
/// container's runtime directory and bind-mounts into it as its NOTIFY_SOCKET. systemd takes
/// notifications for a service only from processes in the service's own cgroup, and the
/// container runs in a scope of its own; so mdrun (the service's main process) relays what
/// the container sends, as podman's notify proxy does, keeping only what [`relayable`]
/// allows.
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

    /// Pass on the safe part ([`relayable`]) of every message waiting on the socket; the
    /// rest is dropped. Descriptors sent along (FDSTORE) are never received: `recv` takes
    /// no ancillary data, and the kernel closes them.
    pub fn relay(&self) {
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.socket.recv(&mut buf) {
            let Ok(text) = std::str::from_utf8(&buf[..n]) else {
                continue;
            };
            let states: Vec<NotifyState> = text
                .lines()
                .filter(|l| relayable(l))
                .map(NotifyState::Custom)
                .collect();
            if !states.is_empty() {
                let _ = send(&states);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::relayable;

    #[test]
    fn only_the_containers_own_state_is_relayed() {
        for ok in [
            "READY=1",
            "RELOADING=1",
            "STOPPING=1",
            "WATCHDOG=1",
            "STATUS=serving on :80",
            "STATUS=",
            "ERRNO=2",
            "BUSERROR=org.freedesktop.DBus.Error.Failed",
            "EXTEND_TIMEOUT_USEC=5000000",
        ] {
            assert!(relayable(ok), "{ok}");
        }
        for bad in [
            "MAINPID=1",
            "MAINPID=4242",
            "FDSTORE=1",
            "FDSTOREREMOVE=1",
            "FDNAME=x",
            "WATCHDOG_USEC=1",
            "NOTIFYACCESS=all",
            "READY=0",
            "READY",
            "ERRNO=x",
            "EXTEND_TIMEOUT_USEC=",
            "X_CUSTOM=1",
            "",
        ] {
            assert!(!relayable(bad), "{bad}");
        }
    }
}
