//! Container output: where a container's stdout and stderr go besides the terminal
//! (journald, a file, or nowhere), and how `mdrun logs` reads them back.
//!
//! Drivers: [`journald`] (one entry per line, native protocol, plus a local copy in the
//! file driver's format that `mdrun logs` reads: journald may rate-limit), [`file`] (JSON
//! lines beside the container's record), none. [`read`] reads either back for `mdrun logs`.

pub mod file;
pub mod journald;
mod lines;
pub mod read;

pub use crate::state::LogDriver;
pub use read::{Entry, ReadOptions, Source};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Who is logging: goes into every entry (CONTAINER_ID, CONTAINER_NAME, the scope).
#[derive(Debug, Clone)]
pub struct Context {
    pub id: String,
    pub name: String,
    /// `md-<id>.scope` with the systemd manager.
    pub unit: Option<String>,
    /// The container's init, as the host sees it.
    pub pid: i32,
    /// The container's data directory (`<root>/containers/<id>`), for the file driver.
    pub dir: std::path::PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{step} {path}: {source}")]
    Io {
        step: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("journald is not running (nothing listens on {path}); use --log-driver file")]
    NoJournald { path: std::path::PathBuf },
    #[error("parse {path}: {source}")]
    Parse {
        path: std::path::PathBuf,
        source: serde_json::Error,
    },
    #[error("container {id} was run with --log-driver none: it has no logs")]
    NoLogs { id: String },
}

/// Receives the container's output as it comes, in chunks (not necessarily whole lines).
pub trait Sink {
    fn write(&mut self, stream: Stream, data: &[u8]);
    /// The container ended: flush partial lines.
    fn close(&mut self) {}
}

/// A sink that keeps nothing (`--log-driver none`).
pub struct Discard;

impl Sink for Discard {
    fn write(&mut self, _stream: Stream, _data: &[u8]) {}
}

pub fn open(driver: LogDriver, ctx: &Context) -> Result<Box<dyn Sink>, LogError> {
    match driver {
        LogDriver::Journald => Ok(Box::new(journald::open(ctx)?)),
        LogDriver::File => Ok(Box::new(file::open(ctx)?)),
        LogDriver::None => Ok(Box::new(Discard)),
    }
}

/// Is journald there to take entries (its native socket answers)?
pub fn journald_available() -> bool {
    std::os::unix::net::UnixDatagram::unbound()
        .and_then(|s| s.connect(journald::SOCKET))
        .is_ok()
}

/// The driver to use: the one asked for on the command line, else the global config's;
/// `auto` means journald when it is there, a file otherwise.
pub fn choose(
    requested: Option<crate::config::LogDriverSetting>,
    global: &crate::config::GlobalConfig,
) -> LogDriver {
    choose_with(requested.unwrap_or(global.log_driver), journald_available)
}

fn choose_with(wanted: crate::config::LogDriverSetting, journald: impl Fn() -> bool) -> LogDriver {
    use crate::config::LogDriverSetting;
    match wanted {
        LogDriverSetting::Journald => LogDriver::Journald,
        LogDriverSetting::File => LogDriver::File,
        LogDriverSetting::None => LogDriver::None,
        LogDriverSetting::Auto if journald() => LogDriver::Journald,
        LogDriverSetting::Auto => LogDriver::File,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LogDriverSetting;

    #[test]
    fn auto_prefers_journald_when_it_is_there() {
        assert_eq!(
            choose_with(LogDriverSetting::Auto, || true),
            LogDriver::Journald
        );
        assert_eq!(
            choose_with(LogDriverSetting::Auto, || false),
            LogDriver::File
        );
        assert_eq!(
            choose_with(LogDriverSetting::None, || true),
            LogDriver::None
        );
        assert_eq!(
            choose_with(LogDriverSetting::Journald, || false),
            LogDriver::Journald
        );
    }
}
