//! systemd integration: a transient scope `md-<id>.scope` per container, created over
//! D-Bus (zbus, blocking API), a journal relay service for its output ([`relay`]),
//! readiness notification for `Type=notify` units, and the transient services of restart
//! policies and healthchecks ([`service`]).

pub mod bus;
pub mod control;
mod handshake;
mod job;
mod notify;
pub mod properties;
pub mod relay;
pub mod scope;
pub mod service;

pub use bus::connect;
pub use handshake::forget as forget_handshake;
pub use notify::{notify_main_pid, notify_ready, notify_stopping, NotifyProxy, NOTIFY_SOCKET};
pub use properties::ScopeSpec;
pub use scope::{stop_unit, Scope};

use std::path::Path;

/// zbus errors are large: boxed, so that every `Result` stays small.
#[derive(Debug, thiserror::Error)]
pub enum SystemdError {
    #[error("connect to the system bus: {source}")]
    Connect { source: Box<zbus::Error> },
    #[error("systemd: {step} {what}: {source}")]
    Call {
        step: &'static str,
        what: String,
        source: Box<zbus::Error>,
    },
    #[error("systemd unit {unit} already exists (another container, or a leftover that is still running)")]
    UnitExists { unit: String },
    #[error("systemd refused to start {unit}: {source}")]
    Rejected {
        unit: String,
        source: Box<zbus::Error>,
    },
    #[error("systemd slice {slice} does not exist (no unit file, not active); create it or set `slice` in mdrun.toml")]
    NoSuchSlice { slice: String },
    #[error("starting {unit}: systemd's job ended with {result:?}, not \"done\" (see journalctl -u {unit})")]
    JobFailed { unit: String, result: String },
    #[error("starting {unit}: systemd did not finish the job within {secs} s")]
    JobTimeout { unit: String, secs: u64 },
    #[error("starting {unit}: the system bus connection closed before systemd finished the start")]
    Disconnected { unit: String },
    #[error("systemd started {unit} but reports no cgroup for it")]
    NoCgroup { unit: String },
}

/// The name of a container's scope: `md-<id>.scope`, with the id as `mdrun ps` shows it.
pub fn scope_name(id: &str) -> String {
    format!("md-{}.scope", crate::ids::short(id))
}

/// Is systemd there to manage scopes: PID 1 is systemd (it made /run/systemd/system, as
/// sd_booted(3) checks) and something listens on the system bus socket. Connecting is left
/// to the caller, after the container's init is cloned (zbus starts threads).
pub fn available() -> bool {
    match bus_socket(Path::new("/")) {
        Some(stream) => {
            // Connected already: its handshake goes out now (see `handshake`).
            if let Some(stream) = stream {
                handshake::begin(stream);
            }
            true
        }
        None => false,
    }
}

#[cfg(test)]
fn available_at(root: &Path) -> bool {
    bus_socket(root).is_some()
}

/// None when systemd is not there; else the connected bus socket, unless the bus's
/// address is one mdrun does not connect to itself.
fn bus_socket(root: &Path) -> Option<Option<std::os::unix::net::UnixStream>> {
    if !root.join("run/systemd/system").is_dir() {
        return None;
    }
    let connect = |p: &Path| std::os::unix::net::UnixStream::connect(p).ok().map(Some);
    // An explicit address may point elsewhere (tests, containers).
    if let Some(addr) = std::env::var_os("DBUS_SYSTEM_BUS_ADDRESS") {
        let addr = addr.to_string_lossy().into_owned();
        return match addr.strip_prefix("unix:path=") {
            Some(p) => connect(Path::new(p.split(',').next().unwrap_or(p))),
            None => Some(None),
        };
    }
    connect(&root.join("run/dbus/system_bus_socket"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_names_use_the_short_id() {
        let id = "0123456789abcdef".repeat(4);
        assert_eq!(scope_name(&id), "md-0123456789ab.scope");
    }

    #[test]
    fn not_available_without_run_systemd_system_or_a_listening_socket() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!available_at(dir.path()));
        std::fs::create_dir_all(dir.path().join("run/systemd/system")).unwrap();
        std::fs::create_dir_all(dir.path().join("run/dbus")).unwrap();
        if std::env::var_os("DBUS_SYSTEM_BUS_ADDRESS").is_none() {
            assert!(!available_at(dir.path()), "no socket: not available");
            let _listener = std::os::unix::net::UnixListener::bind(
                dir.path().join("run/dbus/system_bus_socket"),
            )
            .unwrap();
            assert!(available_at(dir.path()));
        }
    }
}
