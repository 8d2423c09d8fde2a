//! systemd integration: transient scopes over D-Bus, readiness notification.
//! (STUB: the hooks below are called by `run`; to be filled in.)

/// Tell a supervising systemd (Type=notify, NOTIFY_SOCKET set) that the container runs.
pub fn notify_ready(_main_pid: i32) {}

/// Tell a supervising systemd that we are stopping.
pub fn notify_stopping() {}
