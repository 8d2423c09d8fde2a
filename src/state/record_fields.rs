//! The small types a record's fields hold, kept here beside [`super::Record`] so that the
//! rooms that fill them in (`launch` the exit status, `placement` the manager, `logs` the
//! driver) import them from `state`, and `state` imports none of those rooms.

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

/// Which cgroup manager placed the container: a cgroup mdrun made itself, or a systemd
/// scope (see `placement`). The setting it was chosen by, with its `auto`, is
/// [`crate::config::CgroupManagerSetting`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CgroupManager {
    Cgroupfs,
    Systemd,
}

/// Where the container's output goes besides the terminal (see `logs`). The setting it was
/// chosen by, with its `auto`, is [`crate::config::LogDriverSetting`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogDriver {
    Journald,
    File,
    None,
}
