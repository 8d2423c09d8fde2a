//! mdrun's own settings: `/etc/mdrun/mdrun.toml`, or the file named by `$MDRUN_CONFIG`.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use super::field::{Doc, Field};
use super::{limits, ConfigError, ValueProblem};
use crate::spec::Limits;

pub const ENV_VAR: &str = "MDRUN_CONFIG";
pub const DEFAULT_PATH: &str = "/etc/mdrun/mdrun.toml";

const KEYS: &[&str] = &[
    "root",
    "run_root",
    "cgroup_parent",
    "cgroup_manager",
    "log_driver",
    "slice",
    "defaults",
    "network",
];

/// How container cgroups are created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CgroupManagerSetting {
    /// systemd when it is PID 1 and reachable on D-Bus, else cgroupfs.
    #[default]
    Auto,
    /// A transient scope per container, through systemd's D-Bus API.
    Systemd,
    /// mkdir under /sys/fs/cgroup ourselves.
    Cgroupfs,
}

/// Where a container's output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogDriverSetting {
    /// journald when its socket exists, else a file.
    #[default]
    Auto,
    Journald,
    /// `<root>/containers/<id>/container.log`.
    File,
    None,
}

impl CgroupManagerSetting {
    pub const NAMES: &'static [&'static str] = &["auto", "systemd", "cgroupfs"];

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "auto" => Some(CgroupManagerSetting::Auto),
            "systemd" => Some(CgroupManagerSetting::Systemd),
            "cgroupfs" => Some(CgroupManagerSetting::Cgroupfs),
            _ => None,
        }
    }
}

impl LogDriverSetting {
    pub const NAMES: &'static [&'static str] = &["auto", "journald", "file", "none"];

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "auto" => Some(LogDriverSetting::Auto),
            "journald" => Some(LogDriverSetting::Journald),
            "file" => Some(LogDriverSetting::File),
            "none" => Some(LogDriverSetting::None),
            _ => None,
        }
    }
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
    pub cgroup_manager: CgroupManagerSetting,
    pub log_driver: LogDriverSetting,
    /// The systemd slice container scopes go in (default machine.slice).
    pub slice: String,
    /// `[defaults]`: limits for containers that do not set their own.
    pub default_limits: Limits,
    /// The network of a container without `--network`: `none` unless the file says
    /// otherwise (`bridge` is docker's default; see README, Networks).
    pub network: String,
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            root: PathBuf::from("/var/lib/mdrun"),
            run_root: PathBuf::from("/run/mdrun"),
            cgroup_parent: None,
            cgroup_manager: CgroupManagerSetting::Auto,
            log_driver: LogDriverSetting::Auto,
            slice: "machine.slice".to_string(),
            default_limits: Limits::default(),
            network: "none".to_string(),
        }
    }
}

impl GlobalConfig {
    /// Read `$MDRUN_CONFIG`, or `/etc/mdrun/mdrun.toml` when it is unset or empty.
    /// A missing default file means all defaults; a missing `$MDRUN_CONFIG` file is an error.
    pub fn load() -> Result<GlobalConfig, ConfigError> {
        let (path, required) = config_path(std::env::var_os(ENV_VAR));
        Self::load_file(&path, required)
    }

    /// Read `path`; when it does not exist, return the defaults unless `required`.
    pub fn load_file(path: &Path, required: bool) -> Result<GlobalConfig, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text, crate::parse::host_cpus()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                Ok(GlobalConfig::default())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ConfigError::Missing {
                path: path.to_path_buf(),
            }),
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Parse the text of `file`; `[defaults] cpus` is checked against `host_cpus`.
    pub fn parse(file: &Path, text: &str, host_cpus: usize) -> Result<GlobalConfig, ConfigError> {
        let doc = Doc::new(file, text);
        let table = doc.parse()?;
        let mut config = GlobalConfig::default();
        for f in doc.fields(&table, "", KEYS)? {
            match f.name {
                "root" => config.root = f.abs_path()?,
                "run_root" => config.run_root = f.abs_path()?,
                "cgroup_parent" => config.cgroup_parent = Some(cgroup_parent(&f)?),
                "cgroup_manager" => {
                    config.cgroup_manager =
                        f.choice(CgroupManagerSetting::NAMES, CgroupManagerSetting::from_name)?
                }
                "log_driver" => {
                    config.log_driver =
                        f.choice(LogDriverSetting::NAMES, LogDriverSetting::from_name)?
                }
                "slice" => config.slice = slice(&f)?,
                "network" => {
                    let n = f.text()?;
                    crate::network::Mode::parse(&n)
                        .map_err(|e| f.problem(ValueProblem::Network(e.to_string())))?;
                    config.network = n;
                }
                "defaults" => {
                    config.default_limits = limits::read(&doc, &f, limits::DEFAULT_KEYS, host_cpus)?
                }
                other => unreachable!("Doc::fields let through {other:?}"),
            }
        }
        Ok(config)
    }
}

/// Which file to read, and whether it must exist (only when the user named it).
fn config_path(env: Option<OsString>) -> (PathBuf, bool) {
    match env {
        Some(path) if !path.is_empty() => (PathBuf::from(path), true),
        _ => (PathBuf::from(DEFAULT_PATH), false),
    }
}

/// A cgroup path relative to the hierarchy root; `..` could leave it.
fn cgroup_parent(f: &Field<'_, '_>) -> Result<String, ConfigError> {
    let parent = f.text()?;
    if Path::new(&parent)
        .components()
        .any(|c| c == Component::ParentDir)
    {
        return Err(f.problem(ValueProblem::DotDot));
    }
    Ok(parent)
}

/// A systemd slice unit name: `machine.slice`, `mdrun-web.slice`.
fn slice(f: &Field<'_, '_>) -> Result<String, ConfigError> {
    let slice = f.text()?;
    let stem = slice.strip_suffix(".slice").unwrap_or("");
    if stem.is_empty() || slice.contains('/') {
        return Err(f.problem(ValueProblem::NotASlice(slice)));
    }
    Ok(slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<GlobalConfig, ConfigError> {
        GlobalConfig::parse(Path::new("mdrun.toml"), text, 2)
    }

    fn message(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn empty_file_means_defaults() {
        let config = parse("").unwrap();
        assert_eq!(config.root, PathBuf::from("/var/lib/mdrun"));
        assert_eq!(config.run_root, PathBuf::from("/run/mdrun"));
        assert_eq!(config.cgroup_parent, None);
        assert_eq!(config.cgroup_manager, CgroupManagerSetting::Auto);
        assert_eq!(config.log_driver, LogDriverSetting::Auto);
        assert_eq!(config.slice, "machine.slice");
        assert!(config.default_limits.is_empty());
    }

    #[test]
    fn every_key_is_read() {
        let text = r#"
            root = "/srv/mdrun"
            run_root = "/run/mdrun-test"
            cgroup_parent = "mdrun/containers"
            cgroup_manager = "cgroupfs"
            log_driver = "journald"
            slice = "mdrun.slice"
            [defaults]
            memory = "256m"
            pids_limit = 512
            cpus = 1.5
        "#;
        let config = parse(text).unwrap();
        assert_eq!(config.root, PathBuf::from("/srv/mdrun"));
        assert_eq!(config.run_root, PathBuf::from("/run/mdrun-test"));
        assert_eq!(config.cgroup_parent.as_deref(), Some("mdrun/containers"));
        assert_eq!(config.cgroup_manager, CgroupManagerSetting::Cgroupfs);
        assert_eq!(config.log_driver, LogDriverSetting::Journald);
        assert_eq!(config.slice, "mdrun.slice");
        let limits = Limits {
            memory: Some(256 << 20),
            pids_limit: Some(512),
            cpu_quota: Some(150_000),
            cpu_period: Some(100_000),
            ..Limits::default()
        };
        assert_eq!(config.default_limits, limits);
    }

    #[test]
    fn mistakes_name_file_line_and_key() {
        assert_eq!(
            message("root = \"/x\"\nrot = \"/y\"\n"),
            "mdrun.toml:2: unknown key \"rot\" (expected one of root, run_root, cgroup_parent, \
             cgroup_manager, log_driver, slice, defaults, network)"
        );
        assert_eq!(
            message("\n\nroot = \"var/lib\"\n"),
            "mdrun.toml:3: root: \"var/lib\" is not an absolute path"
        );
        assert_eq!(
            message("cgroup_manager = \"cgroupv1\"\n"),
            "mdrun.toml:1: cgroup_manager: unknown value \"cgroupv1\" \
             (expected one of auto, systemd, cgroupfs)"
        );
        assert_eq!(
            message("log_driver = 1\n"),
            "mdrun.toml:1: log_driver: expected a string, found integer"
        );
        assert_eq!(
            message("slice = \"machine\"\n"),
            "mdrun.toml:1: slice: \"machine\" is not a slice name (it must end in \".slice\")"
        );
        assert_eq!(
            message("cgroup_parent = \"../escape\"\n"),
            "mdrun.toml:1: cgroup_parent: contains a '..' component"
        );
        assert_eq!(
            message("[defaults]\nmemory = \"1g\"\ncpus = 4\n"),
            "mdrun.toml:3: defaults.cpus: --cpus 4: the host has only 2 CPUs"
        );
        assert_eq!(
            message("[defaults]\ncpu_shares = 4\n"),
            "mdrun.toml:2: unknown key \"defaults.cpu_shares\" \
             (expected one of memory, pids_limit, cpus)"
        );
        assert_eq!(
            message("root = \n"),
            "mdrun.toml:1: string values must be quoted, expected literal string"
        );
    }

    #[test]
    fn only_a_named_file_must_exist() {
        assert_eq!(config_path(None), (PathBuf::from(DEFAULT_PATH), false));
        assert_eq!(
            config_path(Some("".into())),
            (PathBuf::from(DEFAULT_PATH), false)
        );
        assert_eq!(
            config_path(Some("/x.toml".into())),
            (PathBuf::from("/x.toml"), true)
        );

        let missing = Path::new("/nonexistent/mdrun.toml");
        let defaults = GlobalConfig::load_file(missing, false).unwrap();
        assert_eq!(defaults.root, GlobalConfig::default().root);
        let err = GlobalConfig::load_file(missing, true).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Missing { path } if path == missing),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "config file /nonexistent/mdrun.toml (from $MDRUN_CONFIG) does not exist"
        );
        // A directory exists but cannot be read as a file: that is an error, not defaults.
        let err = GlobalConfig::load_file(Path::new("/"), false).unwrap_err();
        assert!(err.to_string().starts_with("read /: "), "{err}");
    }

    #[test]
    fn shipped_example_is_the_defaults_with_dockers_network() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/mdrun.toml"));
        let config = GlobalConfig::load_file(path, true).unwrap();
        let defaults = GlobalConfig::default();
        assert_eq!(config.root, defaults.root);
        assert_eq!(config.run_root, defaults.run_root);
        assert_eq!(config.cgroup_parent, defaults.cgroup_parent);
        assert_eq!(config.cgroup_manager, defaults.cgroup_manager);
        assert_eq!(config.log_driver, defaults.log_driver);
        assert_eq!(config.slice, defaults.slice);
        assert_eq!(config.default_limits, defaults.default_limits);
        // The one setting a fresh install changes: docker's default network. Built in, it
        // is none, so that a mdrun without a config file leaves the machine's network alone.
        assert_eq!(config.network, "bridge");
        assert_eq!(defaults.network, "none");
    }

    /// The example settings left commented out in the shipped file (`# key = value`) must be
    /// valid too: uncomment them all and parse again.
    #[test]
    fn shipped_example_commented_settings_are_valid() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/mdrun.toml"));
        let text = std::fs::read_to_string(path).unwrap();
        let is_setting = |s: &str| {
            s.split_once(" = ")
                .is_some_and(|(k, _)| k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        };
        let mut uncommented = 0;
        let lines: Vec<&str> = text
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(setting) if is_setting(setting) => {
                    uncommented += 1;
                    setting
                }
                _ => line,
            })
            .collect();
        assert!(
            uncommented >= 4,
            "expected commented examples, found {uncommented}"
        );
        let config = GlobalConfig::parse(path, &lines.join("\n"), 2).unwrap();
        assert!(config.cgroup_parent.is_some());
        assert!(config.default_limits.memory.is_some());
        assert!(config.default_limits.pids_limit.is_some());
        assert!(config.default_limits.cpu_quota.is_some());
    }
}
