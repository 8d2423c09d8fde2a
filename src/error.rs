//! The top-level error: every module's error converts into it, and it knows the exit code
//! docker users expect (125 runtime error, 126 cannot execute, 127 not found).

use std::path::PathBuf;

/// Module errors are boxed: some (a D-Bus error, a TOML span) are large, and every
/// `Result` in the crate carries this type.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(Box<crate::config::ConfigError>),
    #[error(transparent)]
    Parse(Box<crate::parse::ParseError>),
    #[error(transparent)]
    Image(Box<crate::image::ImageError>),
    #[error(transparent)]
    Cgroup(Box<crate::cgroups::CgroupError>),
    #[error(transparent)]
    Launch(Box<crate::launch::LaunchError>),
    #[error(transparent)]
    State(Box<crate::state::StateError>),
    #[error(transparent)]
    Rootfs(Box<crate::rootfs::RootfsError>),
    #[error(transparent)]
    Systemd(Box<crate::systemd::SystemdError>),
    #[error(transparent)]
    Log(Box<crate::logs::LogError>),
    #[error(transparent)]
    Security(Box<crate::security::SecurityError>),
    #[error(transparent)]
    Seal(Box<crate::sealed_exe::SealError>),
    #[error(transparent)]
    Registry(Box<crate::registry::RegistryError>),
    #[error("{step} {path}: {source}")]
    Io {
        step: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    /// The container's command could not be started; carries the exit code (126 or 127).
    #[error("{message}")]
    Exec { code: i32, message: String },
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Exec { code, .. } => *code,
            Error::Launch(e) => match **e {
                crate::launch::LaunchError::Exec { code, .. } => code,
                _ => 125,
            },
            _ => 125,
        }
    }
}

impl From<crate::config::ConfigError> for Error {
    fn from(e: crate::config::ConfigError) -> Self {
        Error::Config(Box::new(e))
    }
}

impl From<crate::parse::ParseError> for Error {
    fn from(e: crate::parse::ParseError) -> Self {
        Error::Parse(Box::new(e))
    }
}

impl From<crate::image::ImageError> for Error {
    fn from(e: crate::image::ImageError) -> Self {
        Error::Image(Box::new(e))
    }
}

impl From<crate::cgroups::CgroupError> for Error {
    fn from(e: crate::cgroups::CgroupError) -> Self {
        Error::Cgroup(Box::new(e))
    }
}

impl From<crate::placement::PlacementError> for Error {
    fn from(e: crate::placement::PlacementError) -> Self {
        match e {
            crate::placement::PlacementError::Cgroup(e) => e.into(),
            crate::placement::PlacementError::Systemd(e) => e.into(),
        }
    }
}

impl From<crate::launch::LaunchError> for Error {
    fn from(e: crate::launch::LaunchError) -> Self {
        Error::Launch(Box::new(e))
    }
}

impl From<crate::state::StateError> for Error {
    fn from(e: crate::state::StateError) -> Self {
        Error::State(Box::new(e))
    }
}

impl From<crate::rootfs::RootfsError> for Error {
    fn from(e: crate::rootfs::RootfsError) -> Self {
        Error::Rootfs(Box::new(e))
    }
}

impl From<crate::systemd::SystemdError> for Error {
    fn from(e: crate::systemd::SystemdError) -> Self {
        Error::Systemd(Box::new(e))
    }
}

impl From<crate::logs::LogError> for Error {
    fn from(e: crate::logs::LogError) -> Self {
        Error::Log(Box::new(e))
    }
}

impl From<crate::security::SecurityError> for Error {
    fn from(e: crate::security::SecurityError) -> Self {
        Error::Security(Box::new(e))
    }
}

impl From<crate::sealed_exe::SealError> for Error {
    fn from(e: crate::sealed_exe::SealError) -> Self {
        Error::Seal(Box::new(e))
    }
}

impl From<crate::registry::RegistryError> for Error {
    fn from(e: crate::registry::RegistryError) -> Self {
        Error::Registry(Box::new(e))
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
