//! The fully validated description of one container: what `run` is asked to start.
//! Everything in here has been checked (sizes, paths, names) before anything is created.

use std::path::PathBuf;

/// Resource limits, in the units the kernel takes.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// memory.limit_in_bytes / memory.max, in bytes.
    pub memory: Option<u64>,
    /// Memory plus swap, in bytes; `Some(-1)` means unlimited swap (docker's `--memory-swap -1`).
    pub memory_swap: Option<i64>,
    /// CPU bandwidth: quota in microseconds per `cpu_period` (from `--cpus`).
    pub cpu_quota: Option<i64>,
    /// CFS period in microseconds (100000 unless the user says otherwise).
    pub cpu_period: Option<u64>,
    /// Relative weight, v1 cpu.shares scale (2..=262144); v2 converts it to cpu.weight.
    pub cpu_shares: Option<u64>,
    /// cpuset.cpus list, as given (`0`, `0-1`, `0,2`).
    pub cpuset_cpus: Option<String>,
    /// pids.max; `Some(-1)` or `None` means unlimited.
    pub pids_limit: Option<i64>,
    /// Only the standard device nodes may be used (the v1 devices controller's allow list,
    /// written before any process enters the cgroup).
    #[serde(default)]
    pub restrict_devices: bool,
}

impl Limits {
    pub fn is_empty(&self) -> bool {
        *self == Limits::default()
    }

    /// Every limit set in `over` replaces this one's (`mdrun update`).
    pub fn overlay(&mut self, over: &Limits) {
        macro_rules! take {
            ($($f:ident),*) => { $( if over.$f.is_some() { self.$f = over.$f.clone(); } )* };
        }
        take!(
            memory,
            memory_swap,
            cpu_quota,
            cpu_period,
            cpu_shares,
            cpuset_cpus,
            pids_limit
        );
    }
}

/// Where a volume's data lives on the host.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum VolumeSource {
    /// `-v /host/dir:/path`: an absolute host directory (created when missing).
    Host(PathBuf),
    /// `-v name:/path`: a named volume under `<root>/volumes/<name>`.
    Named(String),
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VolumeSpec {
    pub source: VolumeSource,
    /// Absolute, normalised path inside the container (no `.` or `..` components).
    pub target: PathBuf,
    pub read_only: bool,
}

/// Everything `run` needs, merged from the command line, `--config FILE` and defaults.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ContainerSpec {
    /// Image reference as the user wrote it (`busybox`, `busybox:latest`, an id prefix).
    pub image: String,
    /// Command and arguments; empty means the image's default command.
    pub command: Vec<String>,
    /// `KEY=VALUE` pairs in the order given; later ones win.
    pub env: Vec<(String, String)>,
    pub workdir: Option<PathBuf>,
    pub hostname: Option<String>,
    pub name: Option<String>,
    pub volumes: Vec<VolumeSpec>,
    pub limits: Limits,
    pub tty: bool,
    pub interactive: bool,
    pub remove: bool,
    pub detach: bool,
    /// Cgroup parent (relative to the hierarchy root); None means under mdrun's own cgroup.
    pub cgroup_parent: Option<String>,
    /// `--cgroup-manager`; None means the global config's choice.
    #[serde(skip)]
    pub cgroup_manager: Option<crate::config::CgroupManagerSetting>,
    /// `--log-driver`; None means the global config's choice.
    #[serde(skip)]
    pub log_driver: Option<crate::config::LogDriverSetting>,
    /// `--sdnotify container`: the container sends READY=1 itself (NOTIFY_SOCKET is passed
    /// in); otherwise mdrun sends it once the command runs.
    #[serde(default)]
    pub sdnotify_container: bool,
    /// `--stop-timeout`: seconds between a forwarded SIGTERM and SIGKILL (default 10).
    #[serde(default)]
    pub stop_timeout: Option<u64>,
    /// Capabilities, seccomp, no-new-privileges, read-only root, tmpfs, user.
    #[serde(default)]
    pub security: crate::security::SecuritySpec,
    /// `--entrypoint`: replaces the image's ENTRYPOINT (`""` clears it) and drops its CMD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<String>,
    /// What `stop` sends first: `--stop-signal`, else the image's STOPSIGNAL (filled in
    /// once the image is known), else SIGTERM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// `--restart` (or the file's `restart`).
    #[serde(default)]
    pub restart: crate::policy::RestartPolicy,
    /// The healthcheck, resolved from the image's HEALTHCHECK and `--health-*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<crate::policy::HealthConfig>,
    /// `--network`, `-p`, `--dns` ...: which network, and what the container gets on it.
    #[serde(default)]
    pub network: crate::network::NetworkSpec,
}
