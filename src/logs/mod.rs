//! Container output: where a container's stdout and stderr go besides the terminal
//! (journald, a file, or nowhere), and how `mdrun logs` reads them back.
//! (STUB: the Sink trait and Context are the contract; drivers to be filled in.)

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Driver {
    Journald,
    File,
    None,
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
    Io { step: &'static str, path: std::path::PathBuf, source: std::io::Error },
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

pub fn open(driver: Driver, _ctx: &Context) -> Result<Box<dyn Sink>, LogError> {
    match driver {
        _ => Ok(Box::new(Discard)),
    }
}
