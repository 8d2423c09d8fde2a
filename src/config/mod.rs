//! TOML configuration: the global `mdrun.toml` and per-container files (`run --config`).
//! (STUB: to be filled in; signatures are the contract.)

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Todo(String),
}

/// The runtime's own settings: `/etc/mdrun/mdrun.toml`, or the file named by `$MDRUN_CONFIG`.
#[derive(Debug, Clone)]
pub struct GlobalConfig {
    /// Data: images, layers, write layers, volumes (default /var/lib/mdrun).
    pub root: PathBuf,
    /// Runtime state (default /run/mdrun).
    pub run_root: PathBuf,
    /// Where container cgroups go; None = under the cgroup of the process running mdrun.
    pub cgroup_parent: Option<String>,
}

impl GlobalConfig {
    pub fn load() -> Result<GlobalConfig, ConfigError> { todo!() }
}

/// A container described in TOML (`mdrun run --config web.toml`). Every field optional;
/// command-line flags override it. Values are already validated by `crate::parse`.
#[derive(Debug, Clone, Default)]
pub struct ContainerConfig {
    pub image: Option<String>,
    pub command: Option<Vec<String>>,
    pub env: Vec<(String, String)>,
    pub volumes: Vec<crate::spec::VolumeSpec>,
    pub limits: crate::spec::Limits,
    pub hostname: Option<String>,
    pub name: Option<String>,
    pub workdir: Option<PathBuf>,
}

pub fn load_container(_path: &std::path::Path) -> Result<ContainerConfig, ConfigError> { todo!() }
