//! The top-level error: every module's error converts into it, and it knows the exit code
//! docker users expect (125 runtime error, 126 cannot execute, 127 not found).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Parse(#[from] crate::parse::ParseError),
    #[error(transparent)]
    Image(#[from] crate::image::ImageError),
    #[error(transparent)]
    Cgroup(#[from] crate::cgroups::CgroupError),
    #[error(transparent)]
    Launch(#[from] crate::launch::LaunchError),
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error(transparent)]
    Rootfs(#[from] crate::rootfs::RootfsError),
    #[error(transparent)]
    Systemd(#[from] crate::systemd::SystemdError),
    #[error(transparent)]
    Log(#[from] crate::logs::LogError),
    #[error(transparent)]
    Security(#[from] crate::security::SecurityError),
    #[error("{step} {path}: {source}")]
    Io {
        step: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    /// `commit` could not pause the container (a task stuck in the kernel, say).
    #[error("container {name:?} did not freeze within {secs} s ({path}): try again, or commit with --pause=false")]
    FreezeTimeout {
        name: String,
        path: PathBuf,
        secs: u64,
    },
    /// The container's command could not be started; carries the exit code (126 or 127).
    #[error("{message}")]
    Exec { code: i32, message: String },
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Exec { code, .. } => *code,
            Error::Launch(crate::launch::LaunchError::Exec { code, .. }) => *code,
            _ => 125,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attach the path and the step to an I/O error: "mkdir /var/lib/mdrun/x: permission denied".
pub trait IoContext<T> {
    fn ctx(self, step: &'static str, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, step: &'static str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| Error::Io {
            step,
            path: path.into(),
            source,
        })
    }
}
